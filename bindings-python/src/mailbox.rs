//! SpreadModule's `Mailbox`, plus the few underscored methods that the
//! modern `spread.Session` and `spread.aio.Session` are built on.

use crate::errors::{closed_mbox, data_arg, name_arg, raise, spread_error};
use crate::messages;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use spread_core::client::Mailbox as Core;
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_core::{Error, GroupName};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a blocking receive sleeps in the kernel before it looks for a
/// pending signal (Ctrl-C) with the GIL held.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// The service bits SpreadModule lets a caller send.
const SENDABLE: u32 = REGULAR_MESS | SELF_DISCARD;

#[pyclass(module = "spread", name = "Mailbox", frozen)]
pub struct Mailbox {
    core: Core,
    #[pyo3(get)]
    private_group: Py<PyBytes>,
    disconnected: AtomicBool,
}

impl Mailbox {
    pub fn new(py: Python<'_>, core: Core) -> Mailbox {
        let private_group = PyBytes::new(py, core.private_group().as_bytes()).unbind();
        Mailbox {
            core,
            private_group,
            disconnected: AtomicBool::new(false),
        }
    }

    fn open(&self, py: Python<'_>, method: &str) -> PyResult<&Core> {
        if self.disconnected.load(Ordering::Acquire) {
            return Err(closed_mbox(py, method));
        }
        Ok(&self.core)
    }

    /// Raises `e`; a lost session counts as disconnected, as in SpreadModule.
    fn fail(&self, py: Python<'_>, e: Error) -> PyErr {
        if matches!(e, Error::ConnectionClosed(_) | Error::IllegalSession) {
            self.disconnected.store(true, Ordering::Release);
        }
        raise(py, e)
    }

    /// Receives with the GIL released; `None` once `timeout` has passed.
    /// The wait is cut into slices so that Ctrl-C is seen promptly.
    fn receive_blocking(
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

    fn send(
        &self,
        py: Python<'_>,
        method: &str,
        service_type: u32,
        groups: &[GroupName],
        message: &Bound<'_, PyAny>,
        msg_type: i32,
    ) -> PyResult<usize> {
        let core = self.open(py, method)?;
        let data = data_arg(message)?;
        let msg_type = i16::try_from(msg_type)
            .map_err(|_| PyValueError::new_err(format!("msg_type {msg_type} is not an int16")))?;
        let body = data.as_slice();
        py.detach(|| core.multigroup_scat_multicast(service_type, groups, msg_type, &[body]))
            .map_err(|e| self.fail(py, e))
    }
}

fn check_sendable(service_type: i64) -> PyResult<u32> {
    u32::try_from(service_type)
        .ok()
        .filter(|st| st & SENDABLE == *st)
        .ok_or_else(|| PyValueError::new_err("invalid service type"))
}

fn group_list(groups: &Bound<'_, PyAny>) -> PyResult<Vec<GroupName>> {
    let mut out = Vec::new();
    for g in groups.try_iter()? {
        out.push(GroupName::from(name_arg(&g?, "group")?.as_str()));
    }
    Ok(out)
}

#[pymethods]
impl Mailbox {
    /// Leaves every group and closes; later calls raise spread.error.
    fn disconnect(&self, py: Python<'_>) -> PyResult<()> {
        if self.disconnected.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        py.detach(|| self.core.disconnect())
            .map_err(|e| raise(py, e))
    }

    fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        Ok(self.open(py, "fileno")?.raw_fd())
    }

    fn join(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        let core = self.open(py, "join")?;
        let group = name_arg(group, "group")?;
        py.detach(|| core.join(&group))
            .map_err(|e| self.fail(py, e))
    }

    fn leave(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        let core = self.open(py, "leave")?;
        let group = name_arg(group, "group")?;
        py.detach(|| core.leave(&group))
            .map_err(|e| self.fail(py, e))
    }

    /// Sends `message` to `group`; returns the number of bytes sent.
    #[pyo3(signature = (service_type, group, message, message_type=0))]
    fn multicast(
        &self,
        py: Python<'_>,
        service_type: i64,
        group: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
        message_type: i32,
    ) -> PyResult<usize> {
        self.open(py, "multicast")?;
        let st = check_sendable(service_type)?;
        let group = GroupName::from(name_arg(group, "group")?.as_str());
        self.send(py, "multicast", st, &[group], message, message_type)
    }

    /// Sends `message` to every group of the tuple `groups`.
    #[pyo3(signature = (service_type, groups, message, message_type=0))]
    fn multigroup_multicast(
        &self,
        py: Python<'_>,
        service_type: i64,
        groups: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
        message_type: i32,
    ) -> PyResult<usize> {
        self.open(py, "multigroup_multicast")?;
        let groups = groups
            .cast::<PyTuple>()
            .map_err(|_| PyTypeError::new_err("only tuples are allowed for groups"))?;
        if groups.is_empty() {
            return Err(PyValueError::new_err(
                "there must be at least one group in the tuple",
            ));
        }
        let st = check_sendable(service_type)?;
        let groups = group_list(groups.as_any())?;
        self.send(
            py,
            "multigroup_multicast",
            st,
            &groups,
            message,
            message_type,
        )
    }

    /// The next message (RegularMsg or MembershipMsg), blocking.
    fn receive(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.receive_blocking(py, "receive", None)? {
            Some(m) => messages::classic(py, m),
            None => Err(spread_error(
                py,
                SP_BUG,
                "receive returned no message".into(),
            )),
        }
    }

    /// Bytes waiting to be read (0: a receive would block).
    fn poll(&self, py: Python<'_>) -> PyResult<usize> {
        let core = self.open(py, "poll")?;
        core.poll().map_err(|e| self.fail(py, e))
    }

    // ---- for spread.Session and spread.aio.Session ----

    /// The next message as a modern dataclass; None when `timeout` seconds pass.
    #[pyo3(signature = (timeout=None))]
    fn _receive(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        let timeout = match timeout {
            None => None,
            Some(t) if t.is_finite() && t >= 0.0 => Some(Duration::from_secs_f64(t.min(1e9))),
            Some(t) => return Err(PyValueError::new_err(format!("timeout {t} is not >= 0"))),
        };
        self.receive_blocking(py, "receive", timeout)?
            .map(|m| messages::modern(py, m))
            .transpose()
    }

    /// The next message as a modern dataclass if it can be had without blocking.
    fn _try_receive(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let core = self.open(py, "receive")?;
        match core.try_receive() {
            Ok(m) => m.map(|m| messages::modern(py, m)).transpose(),
            Err(e) => Err(self.fail(py, e)),
        }
    }

    /// Sends to one group (a name) or several (an iterable of names).
    #[pyo3(signature = (service, groups, message, msg_type=0, self_discard=false))]
    fn _send(
        &self,
        py: Python<'_>,
        service: u32,
        groups: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
        msg_type: i32,
        self_discard: bool,
    ) -> PyResult<usize> {
        self.open(py, "send")?;
        let groups = if groups.is_instance_of::<pyo3::types::PyString>()
            || groups.is_instance_of::<PyBytes>()
        {
            vec![GroupName::from(name_arg(groups, "group")?.as_str())]
        } else {
            group_list(groups)?
        };
        if groups.is_empty() {
            return Err(PyValueError::new_err("no group to send to"));
        }
        let st = if self_discard {
            service | SELF_DISCARD
        } else {
            service
        };
        self.send(py, "send", st, &groups, message, msg_type)
    }

    /// True once disconnected (by the caller or by a lost connection).
    #[getter]
    fn _closed(&self) -> bool {
        self.disconnected.load(Ordering::Acquire)
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        // SpreadModule disconnects a mailbox that is collected while open.
        if !self.disconnected.swap(true, Ordering::AcqRel) {
            let _ = self.core.disconnect();
        }
    }
}
