//! The modern blocking API, `spread.Session`: `str` names, dataclass
//! messages, a context manager and an iterator. `spread.aio.Session` is
//! built on it (`_try_receive` and the descriptor).

use crate::conn::{group_list, timeout_arg, Conn};
use crate::errors::name_arg;
use crate::messages;
use pyo3::exceptions::{PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use spread_core::client::ConnectOptions;
use spread_core::consts::*;
use spread_core::GroupName;

/// A connection to a Spread daemon. One thread may block in `receive`
/// while others send; blocking calls release the GIL and Ctrl-C
/// interrupts them.
#[pyclass(module = "spread", name = "Session", frozen, subclass)]
pub struct Session {
    conn: Conn,
    #[pyo3(get)]
    private_group: Py<PyString>,
}

#[pymethods]
impl Session {
    #[new]
    #[pyo3(
        signature = (daemon=None, name=None, *, membership=true, priority=0, auth=None, tls=None),
        text_signature = "(daemon='4803', name=None, *, membership=True, priority=0, auth=None, tls=None)"
    )]
    fn new(
        py: Python<'_>,
        daemon: Option<&Bound<'_, PyAny>>,
        name: Option<&Bound<'_, PyAny>>,
        membership: bool,
        priority: i32,
        auth: Option<&Bound<'_, PyAny>>,
        tls: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Session> {
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
            membership,
            auth_methods: crate::auth::methods(auth)?,
            tls: crate::tls::options(tls)?,
            ..ConnectOptions::default()
        };
        let conn = Conn::connect(py, &daemon, &opts)?;
        let private_group = PyString::new(py, &conn.core.private_group().to_string()).unbind();
        Ok(Session {
            conn,
            private_group,
        })
    }

    fn join(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        self.conn.join(py, group)
    }

    fn leave(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        self.conn.leave(py, group)
    }

    /// Sends `data` to one group (a name) or several (an iterable of
    /// names); returns the bytes sent.
    #[pyo3(
        signature = (groups, data, *, service=AGREED_MESS, msg_type=0, self_discard=false),
        text_signature = "(self, groups, data, *, service=16, msg_type=0, self_discard=False)"
    )]
    fn send(
        &self,
        py: Python<'_>,
        groups: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        service: u32,
        msg_type: i32,
        self_discard: bool,
    ) -> PyResult<usize> {
        let (st, groups) = send_args(groups, service, self_discard)?;
        self.conn.send(py, "send", st, &groups, data, msg_type)
    }

    /// As `send`, but only if the write cannot block (for event loops):
    /// None, and nothing sent, when the socket has no room for it now.
    #[pyo3(
        signature = (groups, data, *, service=AGREED_MESS, msg_type=0, self_discard=false),
        text_signature = "(self, groups, data, *, service=16, msg_type=0, self_discard=False)"
    )]
    fn _try_send(
        &self,
        py: Python<'_>,
        groups: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        service: u32,
        msg_type: i32,
        self_discard: bool,
    ) -> PyResult<Option<usize>> {
        let (st, groups) = send_args(groups, service, self_discard)?;
        self.conn
            .send_if(py, "send", st, &groups, data, msg_type, true)
    }

    /// The next message; with a `timeout` in seconds, None when none
    /// arrives in time.
    #[pyo3(signature = (timeout=None))]
    fn receive(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        self.conn
            .receive(py, "receive", timeout_arg(timeout)?)?
            .map(|m| messages::modern(py, m))
            .transpose()
    }

    /// The next message if it can be had without blocking (for event loops).
    fn _try_receive(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.conn
            .try_receive(py)?
            .map(|m| messages::modern(py, m))
            .transpose()
    }

    fn poll(&self, py: Python<'_>) -> PyResult<usize> {
        self.conn.poll(py)
    }

    fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        self.conn.fileno(py)
    }

    /// True once closed (by the caller or by a lost connection).
    #[getter]
    fn closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Disconnects; idempotent. A receive blocked in another thread raises
    /// IllegalSessionError.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.conn.disconnect(py)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        self.conn.disconnect(py)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next message; the iteration ends when the session is closed by
    /// this process (also from another thread).
    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.conn.is_closed() {
            return Err(PyStopIteration::new_err(()));
        }
        match self.conn.receive(py, "receive", None) {
            Ok(Some(m)) => messages::modern(py, m),
            Ok(None) => Err(PyStopIteration::new_err(())),
            Err(e) if closed_by_us(py, &e) => Err(PyStopIteration::new_err(())),
            Err(e) => Err(e),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = if self.conn.is_closed() {
            "closed"
        } else {
            "open"
        };
        format!(
            "<spread.Session {} {state}>",
            self.private_group.bind(py).to_cow().unwrap_or_default()
        )
    }
}

/// The service type and destinations of a send: one name, or an iterable.
fn send_args(
    groups: &Bound<'_, PyAny>,
    service: u32,
    self_discard: bool,
) -> PyResult<(u32, Vec<GroupName>)> {
    let groups = if groups.is_instance_of::<PyString>() || groups.is_instance_of::<PyBytes>() {
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
    Ok((st, groups))
}

fn closed_by_us(py: Python<'_>, e: &PyErr) -> bool {
    e.value(py)
        .getattr("code")
        .and_then(|c| c.extract::<i32>())
        .is_ok_and(|c| c == ILLEGAL_SESSION)
}
