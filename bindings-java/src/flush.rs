//! The Flush natives of `spread.Native` (`fl*`), one per `FlushMailbox`
//! operation, as `exports` maps `Mailbox`: a `long` handle from their own
//! table ([`sessions::get_flush`]), every body in [`bridge::run`], every
//! `FlushError` thrown with its fl.h code.

use crate::bridge::{self, Failure, Result};
use crate::exports::{read_bytes, SCRATCH};
use crate::message;
use crate::sessions;
use jni::objects::{JByteArray, JClass, JIntArray, JString};
use jni::sys::{jbyteArray, jint, jlong, jshort, jstring};
use jni::JNIEnv;
use spread_core::client::ConnectOptions;
use spread_core::consts::{ILLEGAL_GROUP, ILLEGAL_MESSAGE, MAX_GROUP_NAME, SP_BUG};
use spread_core::flush::FlushMailbox;
use spread_core::name::GroupName;
use std::time::Duration;

/// Connects like `FL_connect` (membership messages are always on).
#[no_mangle]
pub extern "system" fn Java_spread_Native_flConnect<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    daemon: JString<'l>,
    private_name: JString<'l>,
    priority: jint,
    timeout_millis: jlong,
) -> jlong {
    bridge::run(&mut env, 0, |env| {
        let daemon = bridge::string(env, &daemon, "the daemon name")?;
        let private_name = bridge::opt_string(env, &private_name)?.unwrap_or_default();
        let opts = ConnectOptions {
            private_name,
            priority,
            timeout: (timeout_millis > 0).then(|| Duration::from_millis(timeout_millis as u64)),
            ..ConnectOptions::default()
        };
        let session = FlushMailbox::connect_with(&daemon, &opts)?;
        Ok(sessions::insert_flush(session))
    })
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_flPrivateGroup<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jstring {
    bridge::run(&mut env, std::ptr::null_mut(), |env| {
        let session = sessions::get_flush(handle)?;
        let name = session.private_group().to_string_lossy();
        Ok(env.new_string(name)?.into_raw())
    })
}

/// `FL_join`, `FL_leave` or `FL_flush` of one group.
fn group_call<'l>(
    env: &mut JNIEnv<'l>,
    handle: jlong,
    group: &JString<'l>,
    call: fn(&FlushMailbox, &str) -> spread_core::flush::FlushResult<()>,
) {
    bridge::run(env, (), |env| {
        let group = bridge::string(env, group, "the group name")?;
        let session = sessions::get_flush(handle)?;
        call(&session, &group)?;
        Ok(())
    })
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_flJoin<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    group: JString<'l>,
) {
    group_call(&mut env, handle, &group, FlushMailbox::join);
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_flLeave<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    group: JString<'l>,
) {
    group_call(&mut env, handle, &group, FlushMailbox::leave);
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_flFlush<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    group: JString<'l>,
) {
    group_call(&mut env, handle, &group, FlushMailbox::flush);
}

/// The receivers of a subgroupcast: Spread's 32-byte name fields, one
/// after another (Java cut and padded them).
fn receivers(env: &JNIEnv<'_>, fields: &JByteArray<'_>) -> Result<Vec<GroupName>> {
    let mut all = Vec::new();
    read_bytes(env, fields, &mut all)?;
    if !all.len().is_multiple_of(MAX_GROUP_NAME) {
        return Err(Failure::Argument(
            ILLEGAL_GROUP,
            format!(
                "{} bytes of receiver names is not a whole number of fields",
                all.len()
            ),
        ));
    }
    Ok(all
        .chunks(MAX_GROUP_NAME)
        .map(GroupName::from_field)
        .collect())
}

/// `FL_multicast` to the group's view, or with `receiver_fields` (not
/// null) `FL_subgroupcast` to those members of it. Returns the data's
/// length.
#[no_mangle]
pub extern "system" fn Java_spread_Native_flSend<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    service_type: jint,
    group: JString<'l>,
    receiver_fields: JByteArray<'l>,
    mess_type: jshort,
    data: JByteArray<'l>,
) -> jint {
    bridge::run(&mut env, 0, |env| {
        let group = bridge::string(env, &group, "the group name")?;
        if data.is_null() {
            return Err(Failure::Argument(
                ILLEGAL_MESSAGE,
                "the message data is null".into(),
            ));
        }
        let to = if receiver_fields.is_null() {
            None
        } else {
            Some(receivers(env, &receiver_fields)?)
        };
        let session = sessions::get_flush(handle)?;
        SCRATCH.with(|scratch| {
            let mut body = scratch.borrow_mut();
            read_bytes(env, &data, &mut body)?;
            let parts: [&[u8]; 1] = [&body];
            let sent = match &to {
                None => session.scat_multicast(service_type as u32, &group, mess_type, &parts)?,
                Some(to) => {
                    session.scat_subgroupcast(service_type as u32, &group, to, mess_type, &parts)?
                }
            };
            Ok(sent.min(i32::MAX as usize) as jint)
        })
    })
}

/// As `Native.receive`: `timeout_nanos` < 0 blocks, 0 takes only what is
/// there now, > 0 waits that long; null when nothing arrived, otherwise
/// the bytes of [`message::encode_flush`], its numbers written into `meta`.
#[no_mangle]
pub extern "system" fn Java_spread_Native_flReceive<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    timeout_nanos: jlong,
    meta: JIntArray<'l>,
) -> jbyteArray {
    bridge::run(&mut env, std::ptr::null_mut(), |env| {
        if meta.is_null() || (env.get_array_length(&meta)? as usize) < message::meta::LEN {
            return Err(Failure::Argument(
                SP_BUG,
                "the receive's number array is missing or short".into(),
            ));
        }
        let session = sessions::get_flush(handle)?;
        let received = match timeout_nanos {
            t if t < 0 => Some(session.receive()?),
            0 => session.try_receive()?,
            t => session.receive_timeout(Duration::from_nanos(t as u64))?,
        };
        let Some(received) = received else {
            return Ok(std::ptr::null_mut());
        };
        SCRATCH.with(|scratch| {
            let mut bytes = scratch.borrow_mut();
            let numbers = message::encode_flush(&received.message, &mut bytes);
            env.set_int_array_region(&meta, 0, &numbers)?;
            Ok(env.byte_array_from_slice(&bytes)?.into_raw())
        })
    })
}

/// `FL_poll`: bytes queued by the flush layer and waiting on the socket.
#[no_mangle]
pub extern "system" fn Java_spread_Native_flPoll<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jint {
    bridge::run(&mut env, 0, |_| {
        let n = sessions::get_flush(handle)?.poll()?;
        Ok(n.min(i32::MAX as usize) as jint)
    })
}

/// `FL_more_msgs`: messages the flush layer has queued for the program.
#[no_mangle]
pub extern "system" fn Java_spread_Native_flMoreMessages<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jint {
    bridge::run(&mut env, 0, |_| {
        let n = sessions::get_flush(handle)?.more_msgs();
        Ok(n.min(i32::MAX as usize) as jint)
    })
}

/// Forgets the handle, then says goodbye; a receive blocked on this
/// session in another thread wakes up with an error.
#[no_mangle]
pub extern "system" fn Java_spread_Native_flDisconnect<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    bridge::run(&mut env, (), |_| {
        Ok(sessions::remove_flush(handle)?.disconnect()?)
    })
}

/// Closes without the goodbye, quiet about a handle already gone: what
/// runs when Java drops a connection it never disconnected.
#[no_mangle]
pub extern "system" fn Java_spread_Native_flKill<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    bridge::run(&mut env, (), |_| {
        if let Ok(session) = sessions::remove_flush(handle) {
            session.kill();
        }
        Ok(())
    })
}
