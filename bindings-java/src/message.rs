//! A received `spread_core::wire::Message` as a Java `SpreadMessage`.
//!
//! Java sees what Spread 5.0.1's Java client gave: the service type as the
//! daemon sent it (a reject carries its old type), the sender (for
//! membership kinds: the group), the group list (for a view: its members),
//! the message type (for a view: this member's index in it, otherwise -1
//! for membership kinds), the body (for a view: its raw body), and for a
//! view the group id and the vs-sets.

use crate::bridge::Result;
use crate::classes;
use jni::objects::{JObject, JObjectArray, JValue};
use jni::signature::ReturnType;
use jni::sys::jvalue;
use jni::JNIEnv;
use spread_core::consts::{CAUSED_BY_LEAVE, TRANSITION_MESS};
use spread_core::name::GroupName;
use spread_core::wire::{ByteOrder, Message};

/// The group lists of one message: each name is a local reference only
/// until it is stored, so a list of 100 groups needs no more than the
/// frame's guaranteed capacity.
fn names<'l>(env: &mut JNIEnv<'l>, list: &[GroupName]) -> Result<JObjectArray<'l>> {
    let c = classes::get();
    let array = env.new_object_array(list.len() as i32, c.string.as_class(), JObject::null())?;
    for (i, name) in list.iter().enumerate() {
        let s = env.new_string(name.to_string_lossy())?;
        let s = env.auto_local(s);
        env.set_object_array_element(&array, i as i32, &s)?;
    }
    Ok(array)
}

struct Parts<'a> {
    service_type: u32,
    sender: &'a GroupName,
    groups: &'a [GroupName],
    mess_type: i16,
    endian_mismatch: bool,
    data: &'a [u8],
    group_id: Option<[i32; 3]>,
    vs_sets: Option<(&'a [Vec<GroupName>], usize)>,
}

/// Builds the Java object; the caller's frame holds only the result.
pub fn to_java<'l>(
    env: &mut JNIEnv<'l>,
    msg: &Message,
    private_group: &GroupName,
) -> Result<JObject<'l>> {
    let no_groups: [GroupName; 0] = [];
    let transition_id;
    let parts = match msg {
        Message::Data(m) => Parts {
            service_type: m.service_type,
            sender: &m.sender,
            groups: &m.groups,
            mess_type: m.mess_type,
            endian_mismatch: m.endian_mismatch,
            data: &m.data,
            group_id: None,
            vs_sets: None,
        },
        Message::Reject(m) => Parts {
            service_type: msg.service_type(),
            sender: &m.sender,
            groups: &m.groups,
            mess_type: m.mess_type,
            endian_mismatch: m.endian_mismatch,
            data: &m.data,
            group_id: None,
            vs_sets: None,
        },
        Message::Membership(m) => Parts {
            service_type: m.service_type,
            sender: &m.group,
            groups: &m.members,
            mess_type: m.index_of(private_group).map_or(-1, |i| i as i16),
            endian_mismatch: false,
            data: &m.raw_body,
            group_id: Some([m.group_id.proc_id as i32, m.group_id.time, m.group_id.index]),
            vs_sets: Some((&m.vs_sets, m.local_vs_set)),
        },
        Message::Transition(t) => {
            // 5.0.1 hands the body through: the group id before the change.
            transition_id = t.group_id.encode(ByteOrder::NATIVE);
            Parts {
                service_type: TRANSITION_MESS,
                sender: &t.group,
                groups: &no_groups,
                mess_type: -1,
                endian_mismatch: false,
                data: &transition_id,
                group_id: None,
                vs_sets: None,
            }
        }
        Message::SelfLeave { group } => Parts {
            service_type: CAUSED_BY_LEAVE,
            sender: group,
            groups: &no_groups,
            mess_type: -1,
            endian_mismatch: false,
            data: &[],
            group_id: None,
            vs_sets: None,
        },
    };
    // Sender, groups, data, group id, vs-set array and one vs-set at a time.
    let capacity = 16;
    env.with_local_frame_returning_local(capacity, |env| build(env, &parts))
}

fn build<'l>(env: &mut JNIEnv<'l>, p: &Parts<'_>) -> Result<JObject<'l>> {
    let c = classes::get();
    let sender = env.new_string(p.sender.to_string_lossy())?;
    let groups = names(env, p.groups)?;
    let data = env.byte_array_from_slice(p.data)?;
    let group_id = match p.group_id {
        Some(id) => {
            let a = env.new_int_array(3)?;
            env.set_int_array_region(&a, 0, &id)?;
            JObject::from(a)
        }
        None => JObject::null(),
    };
    let (vs_sets, local_vs_set) = match p.vs_sets {
        Some((sets, local)) => {
            let outer = env.new_object_array(
                sets.len() as i32,
                c.string_array.as_class(),
                JObject::null(),
            )?;
            for (i, set) in sets.iter().enumerate() {
                let inner = names(env, set)?;
                let inner = env.auto_local(inner);
                env.set_object_array_element(&outer, i as i32, &inner)?;
            }
            (JObject::from(outer), local as i32)
        }
        None => (JObject::null(), -1),
    };
    let args: [jvalue; 9] = [
        JValue::Int(p.service_type as i32).as_jni(),
        JValue::Object(&sender).as_jni(),
        JValue::Object(&groups).as_jni(),
        JValue::Short(p.mess_type).as_jni(),
        JValue::Bool(u8::from(p.endian_mismatch)).as_jni(),
        JValue::Object(&data).as_jni(),
        JValue::Object(&group_id).as_jni(),
        JValue::Object(&vs_sets).as_jni(),
        JValue::Int(local_vs_set).as_jni(),
    ];
    // SAFETY: the id was resolved from `classes::MAKE_MESSAGE_SIG`, and the
    // arguments above follow that signature one for one.
    let made = unsafe {
        env.call_static_method_unchecked(
            c.native.as_class(),
            c.make_message,
            ReturnType::Object,
            &args,
        )
    }?;
    Ok(made.l()?)
}
