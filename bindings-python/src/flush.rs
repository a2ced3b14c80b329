//! `spread.FlushSession`: Flush Spread (view synchrony, 5.0.1's `fl.h`)
//! over `spread_core::flush::FlushMailbox`, in the modern API's style: `str`
//! names, dataclass messages, a context manager and an iterator.
//! `spread.aio.FlushSession` is built on it (`_try_receive` and the
//! descriptor).

use crate::conn::timeout_arg;
use crate::errors::{closed_mbox, data_arg, name_arg, spread_error, Data};
use crate::messages;
use pyo3::exceptions::{PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};
use spread_core::client::ConnectOptions;
use spread_core::consts::*;
use spread_core::flush::{FlushError, FlushMailbox, Received};
use spread_core::{Error, GroupName};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a blocking receive sleeps before it looks for a pending signal
/// (Ctrl-C) with the GIL held, as `Session`'s does.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// A Flush Spread connection: closed groups whose members agree on each
/// view (`flush`) before it is installed. Thread-safe like `Session`.
#[pyclass(module = "spread", name = "FlushSession", frozen, subclass)]
pub struct FlushSession {
    core: FlushMailbox,
    disconnected: AtomicBool,
    #[pyo3(get)]
    private_group: Py<PyString>,
}

fn raise(py: Python<'_>, e: FlushError) -> PyErr {
    spread_error(py, e.code(), e.to_string())
}

impl FlushSession {
    fn open(&self, py: Python<'_>, method: &str) -> PyResult<&FlushMailbox> {
        if self.disconnected.load(Ordering::Acquire) {
            return Err(closed_mbox(py, method));
        }
        Ok(&self.core)
    }

    /// Raises `e`; a lost session counts as closed.
    fn fail(&self, py: Python<'_>, e: FlushError) -> PyErr {
        if matches!(
            e,
            FlushError::Spread(Error::ConnectionClosed(_) | Error::IllegalSession)
        ) {
            self.disconnected.store(true, Ordering::Release);
        }
        raise(py, e)
    }

    fn message(&self, py: Python<'_>, r: Received) -> PyResult<Py<PyAny>> {
        messages::flush(py, r)
    }

    /// Receives with the GIL released, in slices so that Ctrl-C is seen;
    /// `None` once `timeout` has passed.
    fn receive_for(&self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Option<Received>> {
        let core = self.open(py, "receive")?;
        match core.try_receive() {
            Ok(Some(r)) => return Ok(Some(r)),
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
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) => {}
                Err(e) => return Err(self.fail(py, e)),
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// One send: `receivers` None for a multicast.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &self,
        py: Python<'_>,
        method: &str,
        group: &Bound<'_, PyAny>,
        receivers: Option<Vec<GroupName>>,
        data: &Bound<'_, PyAny>,
        service: u32,
        msg_type: i32,
        self_discard: bool,
    ) -> PyResult<usize> {
        let core = self.open(py, method)?;
        let group = name_arg(group, "group")?;
        let parts = parts_arg(data)?;
        let msg_type = i16::try_from(msg_type)
            .map_err(|_| PyValueError::new_err(format!("msg_type {msg_type} is not an int16")))?;
        let st = if self_discard {
            service | SELF_DISCARD
        } else {
            service
        };
        let slices: Vec<&[u8]> = parts.iter().map(Data::as_slice).collect();
        py.detach(|| match &receivers {
            None => core.scat_multicast(st, &group, msg_type, &slices),
            Some(rs) => core.scat_subgroupcast(st, &group, rs, msg_type, &slices),
        })
        .map_err(|e| self.fail(py, e))
    }
}

/// Message data: one bytes-like object or `str`, or a list or tuple of
/// them (sent as one message, as `FL_scat_multicast` sends its elements).
fn parts_arg<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Vec<Data<'py>>> {
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.try_iter()?.map(|p| data_arg(&p?)).collect()
    } else {
        Ok(vec![data_arg(obj)?])
    }
}

fn names_arg(receivers: &Bound<'_, PyAny>) -> PyResult<Vec<GroupName>> {
    if receivers.is_instance_of::<PyString>() {
        return Err(PyValueError::new_err(
            "receivers must be an iterable of names, not one name (use unicast)",
        ));
    }
    receivers
        .try_iter()?
        .map(|r| Ok(GroupName::from(name_arg(&r?, "receiver")?.as_str())))
        .collect()
}

#[pymethods]
impl FlushSession {
    #[new]
    #[pyo3(
        signature = (daemon=None, name=None, *, priority=0),
        text_signature = "(daemon='4803', name=None, *, priority=0)"
    )]
    fn new(
        py: Python<'_>,
        daemon: Option<&Bound<'_, PyAny>>,
        name: Option<&Bound<'_, PyAny>>,
        priority: i32,
    ) -> PyResult<FlushSession> {
        let daemon = match daemon {
            Some(d) => name_arg(d, "daemon")?,
            None => DEFAULT_SPREAD_PORT.to_string(),
        };
        let opts = ConnectOptions {
            private_name: match name {
                Some(n) => name_arg(n, "name")?,
                None => String::new(),
            },
            priority,
            ..ConnectOptions::default()
        };
        let core = py
            .detach(|| FlushMailbox::connect_with(&daemon, &opts))
            .map_err(|e| raise(py, e))?;
        let private_group = PyString::new(py, &core.private_group().to_string()).unbind();
        Ok(FlushSession {
            core,
            disconnected: AtomicBool::new(false),
            private_group,
        })
    }

    /// Joins `group`; the view that includes this session comes once every
    /// member has flushed.
    fn join(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        let core = self.open(py, "join")?;
        let group = name_arg(group, "group")?;
        py.detach(|| core.join(&group))
            .map_err(|e| self.fail(py, e))
    }

    /// Leaves `group`; a FlushSelfLeaveMessage follows.
    fn leave(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        let core = self.open(py, "leave")?;
        let group = name_arg(group, "group")?;
        py.detach(|| core.leave(&group))
            .map_err(|e| self.fail(py, e))
    }

    /// Consents to the next view of `group`, once per flush request; no
    /// sends to it until that view arrives.
    fn flush(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        let core = self.open(py, "flush")?;
        let group = name_arg(group, "group")?;
        py.detach(|| core.flush(&group))
            .map_err(|e| self.fail(py, e))
    }

    /// Sends `data` to every member of `group`'s view; returns the bytes
    /// sent.
    #[pyo3(
        signature = (group, data, *, service=AGREED_MESS, msg_type=0, self_discard=false),
        text_signature = "(self, group, data, *, service=16, msg_type=0, self_discard=False)"
    )]
    fn multicast(
        &self,
        py: Python<'_>,
        group: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        service: u32,
        msg_type: i32,
        self_discard: bool,
    ) -> PyResult<usize> {
        self.send(
            py,
            "multicast",
            group,
            None,
            data,
            service,
            msg_type,
            self_discard,
        )
    }

    /// Sends `data` to the `receivers` (members of `group`'s view) only.
    #[pyo3(
        signature = (group, receivers, data, *, service=AGREED_MESS, msg_type=0, self_discard=false),
        text_signature = "(self, group, receivers, data, *, service=16, msg_type=0, self_discard=False)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn subgroupcast(
        &self,
        py: Python<'_>,
        group: &Bound<'_, PyAny>,
        receivers: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        service: u32,
        msg_type: i32,
        self_discard: bool,
    ) -> PyResult<usize> {
        let rs = names_arg(receivers)?;
        self.send(
            py,
            "subgroupcast",
            group,
            Some(rs),
            data,
            service,
            msg_type,
            self_discard,
        )
    }

    /// Sends `data` to one member of `group`'s view.
    #[pyo3(
        signature = (group, receiver, data, *, service=AGREED_MESS, msg_type=0, self_discard=false),
        text_signature = "(self, group, receiver, data, *, service=16, msg_type=0, self_discard=False)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn unicast(
        &self,
        py: Python<'_>,
        group: &Bound<'_, PyAny>,
        receiver: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        service: u32,
        msg_type: i32,
        self_discard: bool,
    ) -> PyResult<usize> {
        let r = GroupName::from(name_arg(receiver, "receiver")?.as_str());
        self.send(
            py,
            "unicast",
            group,
            Some(vec![r]),
            data,
            service,
            msg_type,
            self_discard,
        )
    }

    /// The next message; with a `timeout` in seconds, None when none
    /// arrives in time.
    #[pyo3(signature = (timeout=None))]
    fn receive(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        self.receive_for(py, timeout_arg(timeout)?)?
            .map(|r| self.message(py, r))
            .transpose()
    }

    /// The next message if it can be had without blocking (for event loops).
    fn _try_receive(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let core = self.open(py, "receive")?;
        core.try_receive()
            .map_err(|e| self.fail(py, e))?
            .map(|r| self.message(py, r))
            .transpose()
    }

    /// Messages already queued for this session (`FL_more_msgs`).
    fn more_msgs(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.open(py, "more_msgs")?.more_msgs())
    }

    /// Bytes ready to be received (`FL_poll`); 0: a receive may block.
    fn poll(&self, py: Python<'_>) -> PyResult<usize> {
        let core = self.open(py, "poll")?;
        core.poll().map_err(|e| self.fail(py, e))
    }

    /// The descriptor to wait on; check `more_msgs()` first, as messages
    /// may be queued already.
    fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        Ok(self.open(py, "fileno")?.raw_fd())
    }

    /// True once closed (by the caller or by a lost connection).
    #[getter]
    fn closed(&self) -> bool {
        self.disconnected.load(Ordering::Acquire)
    }

    /// Disconnects; idempotent. A receive blocked in another thread raises
    /// IllegalSessionError.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.disconnected.swap(true, Ordering::AcqRel) {
            // Lost (or closed) before: the socket goes now, not at collection.
            self.core.kill();
            return Ok(());
        }
        match py.detach(|| self.core.disconnect()) {
            // Lost before: closed all the same.
            Err(FlushError::Spread(Error::IllegalSession)) => Ok(()),
            r => r.map_err(|e| raise(py, e)),
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.close(py)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next message; the iteration ends when the session is closed by
    /// this process (also from another thread).
    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.closed() {
            return Err(PyStopIteration::new_err(()));
        }
        match self.receive_for(py, None) {
            Ok(Some(r)) => self.message(py, r),
            Ok(None) => Err(PyStopIteration::new_err(())),
            Err(e) if self.closed() && is_illegal_session(py, &e) => {
                Err(PyStopIteration::new_err(()))
            }
            Err(e) => Err(e),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = if self.closed() { "closed" } else { "open" };
        format!(
            "<spread.FlushSession {} {state}>",
            self.private_group.bind(py).to_cow().unwrap_or_default()
        )
    }
}

impl Drop for FlushSession {
    fn drop(&mut self) {
        // As a Session: one collected while open says goodbye.
        if !self.disconnected.swap(true, Ordering::AcqRel) {
            let _ = self.core.disconnect();
        }
    }
}

fn is_illegal_session(py: Python<'_>, e: &PyErr) -> bool {
    e.value(py)
        .getattr("code")
        .and_then(|c| c.extract::<i32>())
        .is_ok_and(|c| c == ILLEGAL_SESSION)
}
