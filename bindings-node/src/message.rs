//! Messages as plain JavaScript objects, one shape per kind.

use napi::bindgen_prelude::{sys, Buffer, Result, ToNapiValue, TypeName, ValueType};
use napi_derive::napi;
use spread_core::consts::*;
use spread_core::wire;
use spread_core::GroupName;

/// Bodies up to this size are copied into a Node buffer; larger ones are
/// handed over without a copy.
const COPY_LIMIT: usize = 64 * 1024;

/// A message body as a Node `Buffer`. A copy into memory V8 owns is
/// cheaper for the common small body than an external buffer, which costs
/// a finalizer and a weak reference per message.
pub struct Bytes(pub(crate) Vec<u8>);

impl TypeName for Bytes {
    fn type_name() -> &'static str {
        "Buffer"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Bytes {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        if val.0.len() > COPY_LIMIT {
            return unsafe { Buffer::to_napi_value(env, val.0.into()) };
        }
        let mut data = std::ptr::null_mut();
        let mut ret = std::ptr::null_mut();
        // SAFETY: the source is a live slice of the given length, and napi
        // copies it before returning.
        let status = unsafe {
            sys::napi_create_buffer_copy(
                env,
                val.0.len(),
                val.0.as_ptr().cast(),
                &mut data,
                &mut ret,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::from_reason(format!(
                "could not copy a {}-byte message body into a Buffer (napi status {status})",
                val.0.len()
            )));
        }
        Ok(ret)
    }
}

/// The group id of a view; a transitional signal carries the id of the view
/// it ends, so the two compare equal field by field.
#[napi(object)]
pub struct GroupId {
    pub proc_id: u32,
    pub time: i32,
    pub index: i32,
}

impl From<wire::GroupId> for GroupId {
    fn from(g: wire::GroupId) -> Self {
        GroupId {
            proc_id: g.proc_id,
            time: g.time,
            index: g.index,
        }
    }
}

/// One message from the daemon, told apart by `kind`.
#[napi(
    discriminant = "kind",
    discriminant_case = "camelCase",
    object_from_js = false
)]
pub enum Message {
    /// An application message.
    Data {
        /// The sender's private group (`#name#daemon`).
        sender: String,
        /// The sender's whole destination list.
        groups: Vec<String>,
        /// The application's 16-bit message type.
        #[napi(js_name = "type")]
        mess_type: i32,
        /// 'unreliable' | 'reliable' | 'fifo' | 'causal' | 'agreed' | 'safe'.
        #[napi(
            ts_type = "'unreliable' | 'reliable' | 'fifo' | 'causal' | 'agreed' | 'safe' | 'unknown'"
        )]
        service: &'static str,
        /// The raw service type as sent (service bit, SELF_DISCARD, ...).
        service_type: u32,
        /// The sender wrote `type` in the other byte order.
        endian_mismatch: bool,
        #[napi(ts_type = "Buffer")]
        data: Bytes,
    },
    /// A regular membership message: the group's new view.
    Membership {
        group: String,
        /// The members now in the group, in daemon then name order.
        members: Vec<String>,
        group_id: GroupId,
        #[napi(ts_type = "'join' | 'leave' | 'disconnect' | 'network'")]
        cause: &'static str,
        /// For join, leave and disconnect: the member that changed.
        changed_member: Option<String>,
        /// The virtual-synchrony sets that merged into this view.
        vs_sets: Vec<Vec<String>>,
        /// Index into `vsSets` of the set this receiver came with.
        local_vs_set: u32,
        service_type: u32,
    },
    /// A transitional signal: the view with `groupId` is ending.
    Transition { group: String, group_id: GroupId },
    /// This mailbox's own leave of `group` took effect.
    SelfLeave { group: String },
    /// A message the daemon refused, returned to its sender.
    Reject {
        /// The refused message's service type.
        old_type: u32,
        sender: String,
        groups: Vec<String>,
        #[napi(js_name = "type")]
        mess_type: i32,
        endian_mismatch: bool,
        #[napi(ts_type = "Buffer")]
        data: Bytes,
    },
}

pub(crate) fn name(g: &GroupName) -> String {
    g.to_string_lossy()
}

pub(crate) fn names(gs: &[GroupName]) -> Vec<String> {
    gs.iter().map(name).collect()
}

pub fn service_name(service_type: u32) -> &'static str {
    match single_service_bit(service_type) {
        Some(UNRELIABLE_MESS) => "unreliable",
        Some(RELIABLE_MESS) => "reliable",
        Some(FIFO_MESS) => "fifo",
        Some(CAUSAL_MESS) => "causal",
        Some(AGREED_MESS) => "agreed",
        Some(SAFE_MESS) => "safe",
        // A daemon never delivers a data message without exactly one
        // service bit; say so rather than guess one.
        _ => "unknown",
    }
}

pub(crate) fn cause_name(cause: u32) -> &'static str {
    match cause {
        CAUSED_BY_JOIN => "join",
        CAUSED_BY_LEAVE => "leave",
        CAUSED_BY_DISCONNECT => "disconnect",
        _ => "network",
    }
}

impl From<wire::Message> for Message {
    fn from(m: wire::Message) -> Self {
        match m {
            wire::Message::Data(d) => Message::Data {
                sender: name(&d.sender),
                groups: names(&d.groups),
                mess_type: i32::from(d.mess_type),
                service: service_name(d.service_type),
                service_type: d.service_type,
                endian_mismatch: d.endian_mismatch,
                data: Bytes(d.data),
            },
            wire::Message::Membership(m) => Message::Membership {
                group: name(&m.group),
                changed_member: m.changed_member().map(name),
                cause: cause_name(m.cause()),
                members: names(&m.members),
                group_id: m.group_id.into(),
                vs_sets: m.vs_sets.iter().map(|s| names(s)).collect(),
                local_vs_set: m.local_vs_set as u32,
                service_type: m.service_type,
            },
            wire::Message::Transition(t) => Message::Transition {
                group: name(&t.group),
                group_id: t.group_id.into(),
            },
            wire::Message::SelfLeave { group } => Message::SelfLeave {
                group: name(&group),
            },
            wire::Message::Reject(r) => Message::Reject {
                old_type: r.old_type,
                sender: name(&r.sender),
                groups: names(&r.groups),
                mess_type: i32::from(r.mess_type),
                endian_mismatch: r.endian_mismatch,
                data: Bytes(r.data),
            },
        }
    }
}

/// Data messages with bodies up to this size are packed; larger ones come
/// as objects with a buffer of their own.
const PACKED_BODY_LIMIT: usize = 16 * 1024;

/// The messages of one read. Data messages are packed into one buffer that
/// index.js unpacks into the same plain objects `Message` describes:
/// building them in JavaScript from one buffer is several times cheaper
/// than napi creating every object and string. Each record starts with a
/// tag: 1 means "the next of `others`"; 0 a packed data message: service
/// type u32, message type i16, endian mismatch u8, then the sender and each
/// of a u8 count of groups as a u8 length and UTF-8 bytes, then the body as
/// a u32 length and its bytes (little-endian numbers).
#[napi(object, object_from_js = false)]
pub struct Batch {
    #[napi(ts_type = "Buffer")]
    pub packed: Bytes,
    pub others: Vec<Message>,
}

/// Builds a `Batch` message by message.
#[derive(Default)]
pub struct BatchBuilder {
    packed: Vec<u8>,
    others: Vec<Message>,
    count: usize,
}

fn put_name(out: &mut Vec<u8>, g: &GroupName) {
    let text = g.to_string_lossy();
    // A 31-byte name is at most 93 bytes of UTF-8 even when every byte is
    // replaced, so the length always fits.
    out.push(text.len() as u8);
    out.extend_from_slice(text.as_bytes());
}

impl BatchBuilder {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn push(&mut self, m: wire::Message) {
        self.count += 1;
        match m {
            wire::Message::Data(d)
                if d.data.len() <= PACKED_BODY_LIMIT && d.groups.len() <= usize::from(u8::MAX) =>
            {
                let out = &mut self.packed;
                out.push(0);
                out.extend_from_slice(&d.service_type.to_le_bytes());
                out.extend_from_slice(&d.mess_type.to_le_bytes());
                out.push(u8::from(d.endian_mismatch));
                put_name(out, &d.sender);
                out.push(d.groups.len() as u8);
                for g in &d.groups {
                    put_name(out, g);
                }
                out.extend_from_slice(&(d.data.len() as u32).to_le_bytes());
                out.extend_from_slice(&d.data);
            }
            other => {
                self.packed.push(1);
                self.others.push(other.into());
            }
        }
    }

    pub fn finish(self) -> Batch {
        Batch {
            packed: Bytes(self.packed),
            others: self.others,
        }
    }
}
