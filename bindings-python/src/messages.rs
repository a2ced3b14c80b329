//! Received messages as Python objects: SpreadModule's `RegularMsg`,
//! `MembershipMsg` and group id, and the plain tuples the modern API turns
//! into its dataclasses.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use spread_core::consts::*;
use spread_core::wire::{GroupId as CoreGroupId, Message};
use spread_core::GroupName;

/// A group id: equal ids name the same view of a group.
#[pyclass(module = "spread", name = "GroupId", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId {
    #[pyo3(get)]
    pub proc_id: u32,
    #[pyo3(get)]
    pub time: i32,
    #[pyo3(get)]
    pub index: i32,
}

impl From<CoreGroupId> for GroupId {
    fn from(g: CoreGroupId) -> GroupId {
        GroupId {
            proc_id: g.proc_id,
            time: g.time,
            index: g.index,
        }
    }
}

#[pymethods]
impl GroupId {
    #[new]
    fn new(proc_id: u32, time: i32, index: i32) -> GroupId {
        GroupId {
            proc_id,
            time,
            index,
        }
    }

    fn __repr__(&self) -> String {
        // SpreadModule's form: the three words in hex.
        format!(
            "<group_id {:08X}:{:08X}:{:08X}>",
            self.proc_id, self.time as u32, self.index as u32
        )
    }

    fn __reduce__(&self, py: Python<'_>) -> PyResult<(Py<PyAny>, (u32, i32, i32))> {
        Ok((
            py.get_type::<GroupId>().into_any().unbind(),
            (self.proc_id, self.time, self.index),
        ))
    }
}

/// A data message (SpreadModule's `RegularMsg`).
#[pyclass(module = "spread", name = "RegularMsg", frozen, get_all)]
pub struct RegularMsg {
    pub sender: Py<PyBytes>,
    pub groups: Py<PyTuple>,
    pub message: Py<PyBytes>,
    pub msg_type: i32,
    pub endian: i32,
    /// The whole service type (REJECT_MESS marks a message sent back).
    pub service_type: u32,
}

#[pymethods]
impl RegularMsg {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<RegularMsg sender={} groups={} msg_type={} len={}>",
            self.sender.bind(py).repr()?,
            self.groups.bind(py).repr()?,
            self.msg_type,
            self.message.bind(py).as_bytes().len()
        ))
    }
}

/// A membership message (SpreadModule's `MembershipMsg`).
#[pyclass(module = "spread", name = "MembershipMsg", frozen, get_all)]
pub struct MembershipMsg {
    /// The CAUSED_BY_* bit (0 for a transitional signal).
    pub reason: u32,
    pub group: Py<PyBytes>,
    /// None for a transitional signal and a self-leave.
    pub group_id: Option<GroupId>,
    pub members: Py<PyTuple>,
    /// The vs-sets that came together in this view (None when not a view).
    pub orig_members: Option<Py<PyTuple>>,
    /// Who joined, left or was disconnected; for a network change, the
    /// members that came along with this receiver (its vs-set).
    pub extra: Py<PyTuple>,
    /// REG_MEMB_MESS, TRANSITION_MESS, or 0 for a self-leave.
    pub msg_subtype: u32,
    pub changed_member: Option<Py<PyBytes>>,
    pub service_type: u32,
}

#[pymethods]
impl MembershipMsg {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<MembershipMsg group={} reason={:#x} subtype={:#x} members={}>",
            self.group.bind(py).repr()?,
            self.reason,
            self.msg_subtype,
            self.members.bind(py).repr()?
        ))
    }
}

fn name_bytes(py: Python<'_>, n: &GroupName) -> Py<PyBytes> {
    PyBytes::new(py, n.as_bytes()).unbind()
}

fn byte_names<'a>(
    py: Python<'_>,
    names: impl IntoIterator<Item = &'a GroupName>,
) -> PyResult<Py<PyTuple>> {
    let items: Vec<_> = names
        .into_iter()
        .map(|n| PyBytes::new(py, n.as_bytes()))
        .collect();
    Ok(PyTuple::new(py, items)?.unbind())
}

fn empty(py: Python<'_>) -> Py<PyTuple> {
    PyTuple::empty(py).unbind()
}

/// A message as SpreadModule's `receive()` returns it.
pub fn classic(py: Python<'_>, m: Message) -> PyResult<Py<PyAny>> {
    let service_type = m.service_type();
    let obj = match m {
        Message::Data(d) => Bound::new(
            py,
            RegularMsg {
                sender: name_bytes(py, &d.sender),
                groups: byte_names(py, &d.groups)?,
                message: PyBytes::new(py, &d.data).unbind(),
                msg_type: i32::from(d.mess_type),
                endian: i32::from(d.endian_mismatch),
                service_type,
            },
        )?
        .into_any(),
        Message::Reject(r) => Bound::new(
            py,
            RegularMsg {
                sender: name_bytes(py, &r.sender),
                groups: byte_names(py, &r.groups)?,
                message: PyBytes::new(py, &r.data).unbind(),
                msg_type: i32::from(r.mess_type),
                endian: i32::from(r.endian_mismatch),
                service_type,
            },
        )?
        .into_any(),
        Message::Membership(v) => {
            let changed = v.changed_member().copied();
            let extra = match changed {
                Some(c) => byte_names(py, [&c])?,
                None => byte_names(py, v.vs_sets.get(v.local_vs_set).into_iter().flatten())?,
            };
            let sets = PyTuple::new(
                py,
                v.vs_sets
                    .iter()
                    .map(|s| byte_names(py, s))
                    .collect::<PyResult<Vec<_>>>()?,
            )?;
            Bound::new(
                py,
                MembershipMsg {
                    reason: v.cause(),
                    group: name_bytes(py, &v.group),
                    group_id: Some(v.group_id.into()),
                    members: byte_names(py, &v.members)?,
                    orig_members: Some(sets.unbind()),
                    extra,
                    msg_subtype: REG_MEMB_MESS,
                    changed_member: changed.map(|c| name_bytes(py, &c)),
                    service_type,
                },
            )?
            .into_any()
        }
        Message::Transition(t) => Bound::new(
            py,
            MembershipMsg {
                reason: 0,
                group: name_bytes(py, &t.group),
                group_id: None,
                members: empty(py),
                orig_members: None,
                extra: empty(py),
                msg_subtype: TRANSITION_MESS,
                changed_member: None,
                service_type,
            },
        )?
        .into_any(),
        Message::SelfLeave { group } => Bound::new(
            py,
            MembershipMsg {
                reason: CAUSED_BY_LEAVE,
                group: name_bytes(py, &group),
                group_id: None,
                members: empty(py),
                orig_members: None,
                extra: empty(py),
                msg_subtype: 0,
                changed_member: None,
                service_type,
            },
        )?
        .into_any(),
    };
    Ok(obj.unbind())
}

fn text(n: &GroupName) -> String {
    // Names are ASCII (0x24..0x7e) from a well-behaved daemon; Latin-1
    // keeps any other byte visible instead of failing.
    n.as_bytes().iter().map(|&b| b as char).collect()
}

fn text_names(names: &[GroupName]) -> Vec<String> {
    names.iter().map(text).collect()
}

/// Kinds of the raw tuples the modern API receives.
pub const KIND_DATA: u8 = 0;
pub const KIND_MEMBERSHIP: u8 = 1;
pub const KIND_TRANSITION: u8 = 2;
pub const KIND_SELF_LEAVE: u8 = 3;
pub const KIND_REJECT: u8 = 4;

/// A message as a plain tuple `(kind, ...)` with `str` names, which
/// `spread._messages` turns into its dataclasses.
pub fn raw(py: Python<'_>, m: Message) -> PyResult<Py<PyAny>> {
    let t = match m {
        Message::Data(d) => (
            KIND_DATA,
            d.service_type,
            text(&d.sender),
            PyTuple::new(py, text_names(&d.groups))?,
            PyBytes::new(py, &d.data),
            d.mess_type,
            d.endian_mismatch,
        )
            .into_pyobject(py)?,
        Message::Reject(r) => (
            KIND_REJECT,
            r.old_type,
            text(&r.sender),
            PyTuple::new(py, text_names(&r.groups))?,
            PyBytes::new(py, &r.data),
            r.mess_type,
            r.endian_mismatch,
        )
            .into_pyobject(py)?,
        Message::Membership(v) => {
            let sets = PyTuple::new(
                py,
                v.vs_sets
                    .iter()
                    .map(|s| PyTuple::new(py, text_names(s)))
                    .collect::<PyResult<Vec<_>>>()?,
            )?;
            (
                KIND_MEMBERSHIP,
                v.cause(),
                text(&v.group),
                PyTuple::new(py, text_names(&v.members))?,
                GroupId::from(v.group_id),
                sets,
                v.local_vs_set,
                v.changed_member().map(text),
            )
                .into_pyobject(py)?
        }
        Message::Transition(t) => {
            (KIND_TRANSITION, text(&t.group), GroupId::from(t.group_id)).into_pyobject(py)?
        }
        Message::SelfLeave { group } => (KIND_SELF_LEAVE, text(&group)).into_pyobject(py)?,
    };
    Ok(t.into_any().unbind())
}
