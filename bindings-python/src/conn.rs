//! What both Python connection classes (SpreadModule's `Mailbox` and the
//! modern `Session`) do with the Rust client: the open/closed state, the
//! GIL-free blocking receive that still sees Ctrl-C, and sends.

use crate::errors::{closed_mbox, data_arg, name_arg, raise};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spread_core::client::{ConnectOptions, Mailbox as Core};
use spread_core::consts::{HEADER_LEN, MAX_GROUP_NAME};
use spread_core::wire::Message;
use spread_core::{Error, GroupName};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a blocking receive sleeps in the kernel before it looks for a
/// pending signal (Ctrl-C) with the GIL held.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

pub struct Conn {
    pub core: Core,
    disconnected: AtomicBool,
}

impl Conn {
    /// Connects with the GIL released.
    pub fn connect(py: Python<'_>, daemon: &str, opts: &ConnectOptions) -> PyResult<Conn> {
        let core = py
            .detach(|| Core::connect_with(daemon, opts))
            .map_err(|e| raise(py, e))?;
        Ok(Conn {
            core,
            disconnected: AtomicBool::new(false),
        })
    }

    pub fn is_closed(&self) -> bool {
        self.disconnected.load(Ordering::Acquire)
    }

    pub fn open(&self, py: Python<'_>, method: &str) -> PyResult<&Core> {
        if self.is_closed() {
            return Err(closed_mbox(py, method));
        }
        Ok(&self.core)
    }

    /// Raises `e`; a lost session counts as disconnected, as in SpreadModule.
    pub fn fail(&self, py: Python<'_>, e: Error) -> PyErr {
        if matches!(e, Error::ConnectionClosed(_) | Error::IllegalSession) {
            self.disconnected.store(true, Ordering::Release);
        }
        raise(py, e)
    }

    /// Disconnects once; later calls do nothing. A session that lost its
    /// connection is closed here too.
    pub fn disconnect(&self, py: Python<'_>) -> PyResult<()> {
        if self.disconnected.swap(true, Ordering::AcqRel) {
            self.core.kill();
            return Ok(());
        }
        py.detach(|| self.core.disconnect())
            .map_err(|e| raise(py, e))
    }

    /// Receives with the GIL released; `None` once `timeout` has passed.
    /// The wait is cut into slices so that Ctrl-C is seen promptly.
    pub fn receive(
        &self,
        py: Python<'_>,
        method: &str,
        timeout: Option<Duration>,
    ) -> PyResult<Option<Message>> {
        let core = self.open(py, method)?;
        // The common case (a message is there) costs no GIL release.
        match core.try_receive() {
            Ok(Some(m)) => return Ok(Some(m)),
            Ok(None) => {}
            Err(e) => return Err(self.fail(py, e)),
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let slice = deadline.map_or(SIGNAL_CHECK, |d| {
                d.saturating_duration_since(Instant::now())
                    .min(SIGNAL_CHECK)
            });
            match py.detach(|| core.receive_timeout(slice)) {
                Ok(Some(m)) => return Ok(Some(m)),
                Ok(None) => {}
                Err(e) => return Err(self.fail(py, e)),
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// The next message if it can be had without blocking.
    pub fn try_receive(&self, py: Python<'_>) -> PyResult<Option<Message>> {
        let core = self.open(py, "receive")?;
        core.try_receive().map_err(|e| self.fail(py, e))
    }

    pub fn join(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        let core = self.open(py, "join")?;
        let group = name_arg(group, "group")?;
        py.detach(|| core.join(&group))
            .map_err(|e| self.fail(py, e))
    }

    pub fn leave(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        let core = self.open(py, "leave")?;
        let group = name_arg(group, "group")?;
        py.detach(|| core.leave(&group))
            .map_err(|e| self.fail(py, e))
    }

    pub fn send(
        &self,
        py: Python<'_>,
        method: &str,
        service_type: u32,
        groups: &[GroupName],
        message: &Bound<'_, PyAny>,
        msg_type: i32,
    ) -> PyResult<usize> {
        self.send_if(py, method, service_type, groups, message, msg_type, false)
            .map(|n| n.unwrap_or(0))
    }

    /// Sends, or with `only_if_room` sends only when the write cannot block
    /// (the socket has room for it) and says None otherwise: nothing sent.
    #[allow(clippy::too_many_arguments)]
    pub fn send_if(
        &self,
        py: Python<'_>,
        method: &str,
        service_type: u32,
        groups: &[GroupName],
        message: &Bound<'_, PyAny>,
        msg_type: i32,
        only_if_room: bool,
    ) -> PyResult<Option<usize>> {
        let core = self.open(py, method)?;
        let data = data_arg(message)?;
        let msg_type = i16::try_from(msg_type)
            .map_err(|_| PyValueError::new_err(format!("msg_type {msg_type} is not an int16")))?;
        let body = data.as_slice();
        if only_if_room {
            let frame = HEADER_LEN + groups.len() * MAX_GROUP_NAME + body.len();
            if core.send_room() < Core::send_cost(frame) {
                return Ok(None);
            }
        }
        py.detach(|| core.multigroup_scat_multicast(service_type, groups, msg_type, &[body]))
            .map(Some)
            .map_err(|e| self.fail(py, e))
    }

    pub fn poll(&self, py: Python<'_>) -> PyResult<usize> {
        let core = self.open(py, "poll")?;
        core.poll().map_err(|e| self.fail(py, e))
    }

    pub fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        Ok(self.open(py, "fileno")?.raw_fd())
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SpreadModule disconnects a mailbox that is collected while open.
        if !self.disconnected.swap(true, Ordering::AcqRel) {
            let _ = self.core.disconnect();
        }
    }
}

/// One group name, or every name of an iterable.
pub fn group_list(groups: &Bound<'_, PyAny>) -> PyResult<Vec<GroupName>> {
    let mut out = Vec::new();
    for g in groups.try_iter()? {
        out.push(GroupName::from(name_arg(&g?, "group")?.as_str()));
    }
    Ok(out)
}

/// Seconds as a duration; None waits for ever.
pub fn timeout_arg(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    match timeout {
        None => Ok(None),
        Some(t) if t.is_finite() && t >= 0.0 => Ok(Some(Duration::from_secs_f64(t.min(1e9)))),
        Some(t) => Err(PyValueError::new_err(format!("timeout {t} is not >= 0"))),
    }
}
