//! `FlushMailbox`: a Flush connection over a [`Mailbox`].

use super::engine::{FlushEngine, FlushMessage, JoinState, ViewState};
use super::error::{FlushError, FlushResult};
use crate::client::{ConnectOptions, Mailbox};
use crate::name::{check_group_name, GroupName};
use crate::wire::{GroupId, Message};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A message as `FL_receive` returns it, with `more_msgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The message.
    pub message: FlushMessage,
    /// Messages already queued behind it (`more_msgs`).
    pub more: usize,
}

/// A Flush Spread connection: view synchrony and closed groups over one
/// Spread session. Thread-safe: one thread may receive while others send;
/// receives are serialized.
pub struct FlushMailbox {
    mailbox: Mailbox,
    /// The protocol state; held across each send so that the state a send
    /// was checked in is the state it goes out in.
    engine: Mutex<FlushEngine>,
    /// Serializes receivers: a receiver blocked in the Spread layer must be
    /// the one to see what the engine queues.
    recv: Mutex<()>,
}

impl std::fmt::Debug for FlushMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushMailbox")
            .field("private_group", self.mailbox.private_group())
            .finish()
    }
}

impl FlushMailbox {
    /// Connects like `FL_connect`: as [`Mailbox::connect`] with membership
    /// messages on (Flush needs them).
    ///
    /// # Errors
    ///
    /// As [`Mailbox::connect_with`].
    pub fn connect(
        daemon: &str,
        private_name: Option<&str>,
        priority: i32,
    ) -> FlushResult<FlushMailbox> {
        let opts = ConnectOptions {
            private_name: private_name.unwrap_or("").to_string(),
            priority,
            ..ConnectOptions::default()
        };
        FlushMailbox::connect_with(daemon, &opts)
    }

    /// Connects with every option of [`ConnectOptions`]; `membership` is
    /// forced on.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::connect_with`].
    pub fn connect_with(daemon: &str, opts: &ConnectOptions) -> FlushResult<FlushMailbox> {
        let mut opts = opts.clone();
        opts.membership = true;
        let mailbox = Mailbox::connect_with(daemon, &opts)?;
        let engine = FlushEngine::new(*mailbox.private_group());
        Ok(FlushMailbox {
            mailbox,
            engine: Mutex::new(engine),
            recv: Mutex::new(()),
        })
    }

    /// This connection's private group.
    pub fn private_group(&self) -> &GroupName {
        self.mailbox.private_group()
    }

    /// Joins `group` (`FL_join`). The view that includes this connection
    /// arrives once every member has flushed.
    ///
    /// # Errors
    ///
    /// `ILLEGAL_GROUP` for a bad name or a group already joined, joining
    /// or being left; the Spread layer's errors.
    pub fn join(&self, group: &str) -> FlushResult<()> {
        check_group_name(group.as_bytes())?;
        let engine = lock(&self.engine);
        engine.check_join(&GroupName::from(group))?;
        self.mailbox.join(group)?;
        Ok(())
    }

    /// Leaves `group` (`FL_leave`); a [`FlushMessage::SelfLeave`] follows.
    ///
    /// # Errors
    ///
    /// `ILLEGAL_GROUP` unless a joined member (not already leaving).
    pub fn leave(&self, group: &str) -> FlushResult<()> {
        check_group_name(group.as_bytes())?;
        let mut engine = lock(&self.engine);
        engine.leave(&GroupName::from(group))?;
        self.mailbox.leave(group)?;
        Ok(())
    }

    /// Consents to the next view of `group` (`FL_flush`), once per flush
    /// request; no sends to the group until the new view arrives.
    ///
    /// # Errors
    ///
    /// `ILLEGAL_GROUP` for a group not joined or being left,
    /// `ILLEGAL_STATE` without a pending flush request; the Spread layer's
    /// errors.
    pub fn flush(&self, group: &str) -> FlushResult<()> {
        let mut engine = lock(&self.engine);
        engine.flush(&GroupName::from(group))?;
        self.transmit(&mut engine)
    }

    fn transmit(&self, engine: &mut FlushEngine) -> FlushResult<()> {
        while let Some(t) = engine.poll_transmit() {
            self.mailbox.multigroup_scat_multicast(
                t.service_type,
                &[t.group],
                t.mess_type,
                &[&t.body],
            )?;
        }
        Ok(())
    }

    fn send(
        &self,
        service_type: u32,
        group: &str,
        receivers: Option<&[GroupName]>,
        mess_type: i16,
        parts: &[&[u8]],
    ) -> FlushResult<usize> {
        let engine = lock(&self.engine);
        let out = engine.prepare_send(
            service_type,
            &GroupName::from(group),
            receivers,
            mess_type,
            parts.len(),
        )?;
        let mut all: Vec<&[u8]> = parts.to_vec();
        all.push(&out.trailer);
        let n = self.mailbox.multigroup_scat_multicast(
            out.service_type,
            &out.groups,
            out.mess_type,
            &all,
        )?;
        Ok(n - out.trailer.len())
    }

    /// Sends the concatenation of `parts` to every member of `group`'s view
    /// (`FL_scat_multicast`; [`crate::consts::SUBGROUP_CAST`] is cleared).
    /// Returns the data's length.
    ///
    /// # Errors
    ///
    /// As [`FlushEngine::prepare_send`], then the Spread layer's.
    pub fn scat_multicast(
        &self,
        service_type: u32,
        group: &str,
        mess_type: i16,
        parts: &[&[u8]],
    ) -> FlushResult<usize> {
        self.send(service_type, group, None, mess_type, parts)
    }

    /// `FL_multicast`: [`FlushMailbox::scat_multicast`] of one part.
    ///
    /// # Errors
    ///
    /// As [`FlushMailbox::scat_multicast`].
    pub fn multicast(
        &self,
        service_type: u32,
        group: &str,
        mess_type: i16,
        data: &[u8],
    ) -> FlushResult<usize> {
        self.send(service_type, group, None, mess_type, &[data])
    }

    /// Sends to some members of `group`'s view (`FL_scat_subgroupcast`):
    /// each receiver must be in the view.
    ///
    /// # Errors
    ///
    /// As [`FlushMailbox::scat_multicast`], and `ILLEGAL_RECEIVERS`.
    pub fn scat_subgroupcast(
        &self,
        service_type: u32,
        group: &str,
        receivers: &[GroupName],
        mess_type: i16,
        parts: &[&[u8]],
    ) -> FlushResult<usize> {
        self.send(service_type, group, Some(receivers), mess_type, parts)
    }

    /// `FL_subgroupcast`: one part, receivers by name.
    ///
    /// # Errors
    ///
    /// As [`FlushMailbox::scat_subgroupcast`].
    pub fn subgroupcast(
        &self,
        service_type: u32,
        group: &str,
        receivers: &[&str],
        mess_type: i16,
        data: &[u8],
    ) -> FlushResult<usize> {
        let rs: Vec<GroupName> = receivers.iter().map(|r| GroupName::from(*r)).collect();
        self.send(service_type, group, Some(&rs), mess_type, &[data])
    }

    /// `FL_unicast`: a subgroupcast to one receiver.
    ///
    /// # Errors
    ///
    /// As [`FlushMailbox::scat_subgroupcast`].
    pub fn unicast(
        &self,
        service_type: u32,
        group: &str,
        receiver: &str,
        mess_type: i16,
        data: &[u8],
    ) -> FlushResult<usize> {
        self.subgroupcast(service_type, group, &[receiver], mess_type, data)
    }

    /// `FL_scat_unicast`.
    ///
    /// # Errors
    ///
    /// As [`FlushMailbox::scat_subgroupcast`].
    pub fn scat_unicast(
        &self,
        service_type: u32,
        group: &str,
        receiver: &str,
        mess_type: i16,
        parts: &[&[u8]],
    ) -> FlushResult<usize> {
        self.send(
            service_type,
            group,
            Some(&[GroupName::from(receiver)]),
            mess_type,
            parts,
        )
    }

    /// Receives the next message, blocking (`FL_receive`).
    ///
    /// # Errors
    ///
    /// The Spread layer's receive and send errors (the connection is then
    /// lost).
    pub fn receive(&self) -> FlushResult<Received> {
        self.receive_until(Wait::Forever)
            .map(|r| r.expect("a blocking receive returns a message"))
    }

    /// Receives the next message if one is ready within `timeout`.
    ///
    /// # Errors
    ///
    /// As [`FlushMailbox::receive`].
    pub fn receive_timeout(&self, timeout: Duration) -> FlushResult<Option<Received>> {
        self.receive_until(Wait::Until(Instant::now() + timeout))
    }

    /// The next message if it can be had without blocking (`FL_receive`
    /// with `DONT_BLOCK`: the C ABI turns `None` into `WOULD_BLOCK`). Also
    /// `None` while another thread is receiving.
    ///
    /// # Errors
    ///
    /// As [`FlushMailbox::receive`].
    pub fn try_receive(&self) -> FlushResult<Option<Received>> {
        self.receive_until(Wait::Never)
    }

    fn receive_until(&self, wait: Wait) -> FlushResult<Option<Received>> {
        let _rx = match wait {
            Wait::Never => match self.recv.try_lock() {
                Ok(g) => g,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
            },
            _ => lock(&self.recv),
        };
        loop {
            {
                let mut engine = lock(&self.engine);
                if let Some(message) = engine.poll_delivery() {
                    return Ok(Some(Received {
                        message,
                        more: engine.queued(),
                    }));
                }
            }
            // The engine is not held while waiting: sends go on.
            let msg: Message = match wait {
                Wait::Forever => self.mailbox.receive()?,
                Wait::Never => match self.mailbox.try_receive()? {
                    Some(m) => m,
                    None => return Ok(None),
                },
                Wait::Until(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.mailbox.receive_timeout(left)? {
                        Some(m) => m,
                        None => return Ok(None),
                    }
                }
            };
            let mut engine = lock(&self.engine);
            engine.handle(msg);
            self.transmit(&mut engine)?;
        }
    }

    /// Messages queued for the application (`FL_more_msgs`).
    pub fn more_msgs(&self) -> usize {
        lock(&self.engine).queued()
    }

    /// Bytes available (`FL_poll`): those queued by the flush layer plus
    /// those waiting on the socket; 0 means a receive may block.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::poll`].
    pub fn poll(&self) -> FlushResult<usize> {
        let queued = lock(&self.engine).queued_bytes();
        Ok(queued + self.mailbox.poll()?)
    }

    /// The descriptor to wait on for readiness; check
    /// [`FlushMailbox::more_msgs`] first, as messages may already be queued.
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.mailbox.raw_fd()
    }

    /// The group's join and view state (for applications and tests).
    pub fn group_state(&self, group: &str) -> Option<(JoinState, ViewState)> {
        lock(&self.engine).group_state(&GroupName::from(group))
    }

    /// The id and members of the group's installed view.
    pub fn view_of(&self, group: &str) -> Option<(GroupId, Vec<GroupName>)> {
        lock(&self.engine).view_of(&GroupName::from(group))
    }

    /// Disconnects (`FL_disconnect`); a receive blocked in another thread
    /// returns an error.
    ///
    /// # Errors
    ///
    /// `ILLEGAL_SESSION` when already disconnected.
    pub fn disconnect(&self) -> FlushResult<()> {
        self.mailbox.disconnect().map_err(FlushError::from)
    }

    /// Closes the connection without a goodbye to the daemon, as
    /// [`Mailbox::kill`]: what a binding does with a connection its program
    /// dropped while another thread may still be blocked in it. That
    /// receive returns an error; the members see this connection
    /// disconnect. Does nothing when already closed.
    pub fn kill(&self) {
        self.mailbox.kill();
    }
}

#[derive(Clone, Copy)]
enum Wait {
    Forever,
    Never,
    Until(Instant),
}
