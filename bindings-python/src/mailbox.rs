//! SpreadModule's `Mailbox`.

use crate::conn::{group_list, Conn};
use crate::errors::{name_arg, spread_error};
use crate::messages;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use spread_core::consts::*;
use spread_core::GroupName;

/// The service bits SpreadModule lets a caller send.
const SENDABLE: u32 = REGULAR_MESS | SELF_DISCARD;

#[pyclass(module = "spread", name = "Mailbox", frozen)]
pub struct Mailbox {
    conn: Conn,
    #[pyo3(get)]
    private_group: Py<PyBytes>,
}

impl Mailbox {
    pub fn new(py: Python<'_>, conn: Conn) -> Mailbox {
        let private_group = PyBytes::new(py, conn.core.private_group().as_bytes()).unbind();
        Mailbox {
            conn,
            private_group,
        }
    }
}

fn check_sendable(service_type: i64) -> PyResult<u32> {
    u32::try_from(service_type)
        .ok()
        .filter(|st| st & SENDABLE == *st)
        .ok_or_else(|| PyValueError::new_err("invalid service type"))
}

#[pymethods]
impl Mailbox {
    /// Leaves every group and closes; later calls raise spread.error.
    fn disconnect(&self, py: Python<'_>) -> PyResult<()> {
        self.conn.disconnect(py)
    }

    fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        self.conn.fileno(py)
    }

    fn join(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        self.conn.join(py, group)
    }

    fn leave(&self, py: Python<'_>, group: &Bound<'_, PyAny>) -> PyResult<()> {
        self.conn.leave(py, group)
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
        self.conn.open(py, "multicast")?;
        let st = check_sendable(service_type)?;
        let group = GroupName::from(name_arg(group, "group")?.as_str());
        self.conn
            .send(py, "multicast", st, &[group], message, message_type)
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
        self.conn.open(py, "multigroup_multicast")?;
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
        self.conn.send(
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
        match self.conn.receive(py, "receive", None)? {
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
        self.conn.poll(py)
    }
}
