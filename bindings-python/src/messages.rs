//! Received messages as Python objects: SpreadModule's `RegularMsg`,
//! `MembershipMsg` and group id, the modern API's dataclasses and the Flush
//! API's.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};
use spread_core::consts::*;
use spread_core::wire::{GroupId as CoreGroupId, Message};
use spread_core::GroupName;
use std::collections::HashMap;
use std::sync::Mutex;

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

fn text_names<'py>(py: Python<'py>, names: &[GroupName]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, names.iter().map(text))
}

/// The `str` objects of names and destination lists seen lately. A sender
/// and its groups repeat from message to message, and `str` and `tuple`
/// are immutable, so one object serves every message that names them.
struct Recent {
    names: HashMap<GroupName, Py<PyString>>,
    lists: HashMap<Vec<GroupName>, Py<PyTuple>>,
}

/// Entries kept before the cache starts afresh.
const RECENT_MAX: usize = 4096;

static RECENT: Mutex<Option<Recent>> = Mutex::new(None);

fn recent() -> std::sync::MutexGuard<'static, Option<Recent>> {
    RECENT.lock().unwrap_or_else(|p| p.into_inner())
}

fn cached_name<'py>(py: Python<'py>, n: &GroupName) -> Bound<'py, PyAny> {
    let mut guard = recent();
    let r = guard.get_or_insert_with(|| Recent {
        names: HashMap::new(),
        lists: HashMap::new(),
    });
    if let Some(s) = r.names.get(n) {
        return s.bind(py).clone().into_any();
    }
    if r.names.len() >= RECENT_MAX {
        r.names.clear();
    }
    let s = PyString::new(py, &text(n));
    r.names.insert(*n, s.clone().unbind());
    s.into_any()
}

fn cached_list<'py>(py: Python<'py>, names: &[GroupName]) -> PyResult<Bound<'py, PyAny>> {
    if let Some(t) = recent().as_ref().and_then(|r| r.lists.get(names)) {
        return Ok(t.bind(py).clone().into_any());
    }
    let t = PyTuple::new(py, names.iter().map(|n| cached_name(py, n)))?;
    let mut guard = recent();
    if let Some(r) = guard.as_mut() {
        if r.lists.len() >= RECENT_MAX {
            r.lists.clear();
        }
        r.lists.insert(names.to_vec(), t.clone().unbind());
    }
    Ok(t.into_any())
}

/// The modern API's message classes (dataclasses defined in
/// `spread._messages`) and its enum members, handed over once at import.
pub struct Modern {
    data: Py<PyType>,
    membership: Py<PyType>,
    transitional: Py<PyType>,
    self_leave: Py<PyType>,
    reject: Py<PyType>,
    /// Service level bit -> `Service` member; cause bit -> `Cause` member.
    services: Py<PyDict>,
    causes: Py<PyDict>,
}

static MODERN: PyOnceLock<Modern> = PyOnceLock::new();

/// The five message classes, in the order `_bind_types` takes them.
type Classes = (Py<PyType>, Py<PyType>, Py<PyType>, Py<PyType>, Py<PyType>);

/// Called by `spread._messages` with its classes (data, membership,
/// transitional, self-leave, reject) and enum tables; the first call wins.
#[pyfunction]
pub fn _bind_types(
    py: Python<'_>,
    classes: Classes,
    services: Py<PyDict>,
    causes: Py<PyDict>,
) -> PyResult<()> {
    let (data, membership, transitional, self_leave, reject) = classes;
    let _ = MODERN.set(
        py,
        Modern {
            data,
            membership,
            transitional,
            self_leave,
            reject,
            services,
            causes,
        },
    );
    Ok(())
}

/// A new, empty instance of the heap type `cls` (what `object.__new__`
/// does, without the trip through a Python call).
fn alloc<'py>(py: Python<'py>, cls: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
    let tp = cls.as_type_ptr();
    // SAFETY: `cls` is a live heap type (a dataclass), whose tp_alloc slot
    // is readable through PyType_GetSlot in the stable ABI; the slot
    // returns a new reference or NULL with an exception set.
    unsafe {
        let slot = pyo3::ffi::PyType_GetSlot(tp, pyo3::ffi::Py_tp_alloc);
        if slot.is_null() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "type has no tp_alloc",
            ));
        }
        let alloc: pyo3::ffi::allocfunc = std::mem::transmute(slot);
        Bound::from_owned_ptr_or_err(py, alloc(tp, 0))
    }
}

/// An instance of a frozen dataclass, built without running its
/// `__init__`: its fields go straight into the instance dict. This is the
/// receive path of every modern message, and the generated frozen
/// `__init__` (one `object.__setattr__` per field) costs more than the
/// rest of the receive.
fn frozen<'py>(
    py: Python<'py>,
    cls: &Py<PyType>,
    fields: &[(&Bound<'py, PyString>, Bound<'py, PyAny>)],
) -> PyResult<Bound<'py, PyAny>> {
    let obj = alloc(py, cls.bind(py))?;
    let dict = PyDict::new(py);
    for (k, v) in fields {
        dict.set_item(k, v)?;
    }
    // SAFETY: both pointers are live objects we hold; the generic setter
    // installs a new instance dict (the class has no __slots__), bypassing
    // the frozen class's own __setattr__.
    let rc = unsafe {
        pyo3::ffi::PyObject_GenericSetAttr(
            obj.as_ptr(),
            intern!(py, "__dict__").as_ptr(),
            dict.as_ptr(),
        )
    };
    if rc != 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(obj)
}

/// The fields of a data message's dataclass (plain or Flush).
fn data_fields<'py>(
    py: Python<'py>,
    d: &spread_core::wire::DataMessage,
    services: &Py<PyDict>,
) -> PyResult<Vec<(&'py Bound<'py, PyString>, Bound<'py, PyAny>)>> {
    Ok(vec![
        (intern!(py, "sender"), cached_name(py, &d.sender)),
        (intern!(py, "groups"), cached_list(py, &d.groups)?),
        (intern!(py, "data"), PyBytes::new(py, &d.data).into_any()),
        (
            intern!(py, "msg_type"),
            d.mess_type.into_pyobject(py)?.into_any(),
        ),
        (
            intern!(py, "service"),
            lookup(py, services, d.service_type & REGULAR_MESS)?,
        ),
        (
            intern!(py, "endian_mismatch"),
            pyo3::types::PyBool::new(py, d.endian_mismatch)
                .to_owned()
                .into_any(),
        ),
    ])
}

fn lookup<'py>(py: Python<'py>, table: &Py<PyDict>, key: u32) -> PyResult<Bound<'py, PyAny>> {
    match table.bind(py).get_item(key)? {
        Some(v) => Ok(v),
        None => Ok(key.into_pyobject(py)?.into_any()),
    }
}

/// A message as the modern API's dataclass.
pub fn modern(py: Python<'_>, m: Message) -> PyResult<Py<PyAny>> {
    let Some(t) = MODERN.get(py) else {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "spread._messages was not imported",
        ));
    };
    let obj = match m {
        Message::Data(d) => frozen(py, &t.data, &data_fields(py, &d, &t.services)?)?,
        Message::Reject(r) => frozen(
            py,
            &t.reject,
            &[
                (
                    intern!(py, "sender"),
                    text(&r.sender).into_pyobject(py)?.into_any(),
                ),
                (intern!(py, "groups"), text_names(py, &r.groups)?.into_any()),
                (intern!(py, "data"), PyBytes::new(py, &r.data).into_any()),
                (
                    intern!(py, "msg_type"),
                    r.mess_type.into_pyobject(py)?.into_any(),
                ),
                (
                    intern!(py, "service"),
                    r.old_type.into_pyobject(py)?.into_any(),
                ),
                (
                    intern!(py, "endian_mismatch"),
                    pyo3::types::PyBool::new(py, r.endian_mismatch)
                        .to_owned()
                        .into_any(),
                ),
            ],
        )?,
        Message::Membership(v) => {
            let sets = PyTuple::new(
                py,
                v.vs_sets
                    .iter()
                    .map(|s| text_names(py, s))
                    .collect::<PyResult<Vec<_>>>()?,
            )?;
            let vs_set = match sets.get_item(v.local_vs_set) {
                Ok(s) => s,
                Err(_) => PyTuple::empty(py).into_any(),
            };
            frozen(
                py,
                &t.membership,
                &[
                    (
                        intern!(py, "group"),
                        text(&v.group).into_pyobject(py)?.into_any(),
                    ),
                    (intern!(py, "cause"), lookup(py, &t.causes, v.cause())?),
                    (
                        intern!(py, "members"),
                        text_names(py, &v.members)?.into_any(),
                    ),
                    (
                        intern!(py, "group_id"),
                        Bound::new(py, GroupId::from(v.group_id))?.into_any(),
                    ),
                    (intern!(py, "vs_set"), vs_set),
                    (intern!(py, "vs_sets"), sets.into_any()),
                    (
                        intern!(py, "changed_member"),
                        v.changed_member().map(text).into_pyobject(py)?.into_any(),
                    ),
                ],
            )?
        }
        Message::Transition(tr) => frozen(
            py,
            &t.transitional,
            &[
                (
                    intern!(py, "group"),
                    text(&tr.group).into_pyobject(py)?.into_any(),
                ),
                (
                    intern!(py, "group_id"),
                    Bound::new(py, GroupId::from(tr.group_id))?.into_any(),
                ),
            ],
        )?,
        Message::SelfLeave { group } => frozen(
            py,
            &t.self_leave,
            &[(
                intern!(py, "group"),
                text(&group).into_pyobject(py)?.into_any(),
            )],
        )?,
    };
    Ok(obj.unbind())
}

/// The Flush API's message classes (dataclasses defined in
/// `spread._messages`), handed over once at import.
pub struct Flush {
    data: Py<PyType>,
    flush_request: Py<PyType>,
    view: Py<PyType>,
    transitional: Py<PyType>,
    self_leave: Py<PyType>,
    reject: Py<PyType>,
}

static FLUSH: PyOnceLock<Flush> = PyOnceLock::new();

/// The six Flush message classes, in the order `_bind_flush_types` takes
/// them.
type FlushClasses = (
    Py<PyType>,
    Py<PyType>,
    Py<PyType>,
    Py<PyType>,
    Py<PyType>,
    Py<PyType>,
);

/// Called by `spread._messages` with its Flush classes (data, flush
/// request, view, transitional, self-leave, reject); the first call wins.
#[pyfunction]
pub fn _bind_flush_types(py: Python<'_>, classes: FlushClasses) -> PyResult<()> {
    let (data, flush_request, view, transitional, self_leave, reject) = classes;
    let _ = FLUSH.set(
        py,
        Flush {
            data,
            flush_request,
            view,
            transitional,
            self_leave,
            reject,
        },
    );
    Ok(())
}

/// A Flush message as its dataclass, `more` (messages queued behind it)
/// included.
pub fn flush(py: Python<'_>, r: spread_core::flush::Received) -> PyResult<Py<PyAny>> {
    use spread_core::flush::FlushMessage;
    let (Some(t), Some(m)) = (FLUSH.get(py), MODERN.get(py)) else {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "spread._messages was not imported",
        ));
    };
    let more = (intern!(py, "more"), r.more.into_pyobject(py)?.into_any());
    let group_only = |cls: &Py<PyType>, group: &GroupName| {
        frozen(
            py,
            cls,
            &[
                (
                    intern!(py, "group"),
                    text(group).into_pyobject(py)?.into_any(),
                ),
                more.clone(),
            ],
        )
    };
    let obj = match r.message {
        FlushMessage::Data(d) => frozen(
            py,
            &t.data,
            &[
                data_fields(py, &d, &m.services)?.as_slice(),
                std::slice::from_ref(&more),
            ]
            .concat(),
        )?,
        FlushMessage::FlushRequest { group } => group_only(&t.flush_request, &group)?,
        FlushMessage::View(v) => frozen(
            py,
            &t.view,
            &[
                (
                    intern!(py, "group"),
                    text(&v.group).into_pyobject(py)?.into_any(),
                ),
                (intern!(py, "cause"), lookup(py, &m.causes, v.cause())?),
                (
                    intern!(py, "members"),
                    text_names(py, &v.members)?.into_any(),
                ),
                (
                    intern!(py, "my_index"),
                    v.my_index.into_pyobject(py)?.into_any(),
                ),
                (
                    intern!(py, "group_id"),
                    Bound::new(py, GroupId::from(v.group_id))?.into_any(),
                ),
                (intern!(py, "vs_set"), text_names(py, &v.vs_set)?.into_any()),
                more.clone(),
            ],
        )?,
        FlushMessage::Transition { group } => group_only(&t.transitional, &group)?,
        FlushMessage::SelfLeave { group } => group_only(&t.self_leave, &group)?,
        FlushMessage::Reject(rj) => frozen(
            py,
            &t.reject,
            &[
                (
                    intern!(py, "sender"),
                    text(&rj.sender).into_pyobject(py)?.into_any(),
                ),
                (
                    intern!(py, "groups"),
                    text_names(py, &rj.groups)?.into_any(),
                ),
                (intern!(py, "data"), PyBytes::new(py, &rj.data).into_any()),
                (
                    intern!(py, "msg_type"),
                    rj.mess_type.into_pyobject(py)?.into_any(),
                ),
                (
                    intern!(py, "service"),
                    rj.old_type.into_pyobject(py)?.into_any(),
                ),
                (
                    intern!(py, "endian_mismatch"),
                    pyo3::types::PyBool::new(py, rj.endian_mismatch)
                        .to_owned()
                        .into_any(),
                ),
                more.clone(),
            ],
        )?,
    };
    Ok(obj.unbind())
}
