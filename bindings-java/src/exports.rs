//! The native methods of `spread.Native`, one per `Mailbox` operation.
//!
//! Every method takes the session's `long` handle and runs in
//! [`bridge::run`]; none keeps a JNI reference beyond its own call except
//! the authentication object, which lives as long as the connect.

use crate::bridge::{self, Failure, Result};
use crate::classes;
use crate::message;
use crate::sessions;
use jni::objects::{GlobalRef, JByteArray, JClass, JIntArray, JObject, JString};
use jni::sys::{jboolean, jbyteArray, jint, jlong, jshort, jstring, JNI_TRUE};
use jni::JNIEnv;
use spread_core::client::{AuthMethod, ConnectOptions, Mailbox, TlsOptions};
use spread_core::consts::*;
use spread_core::name::GroupName;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

/// A Java authentication object as a core auth method: its exchange is a
/// call of its `authenticate()` on the connecting thread; a throw refuses.
fn java_auth(name: String, object: GlobalRef) -> AuthMethod {
    AuthMethod {
        name,
        authenticate: Arc::new(move |_fd| {
            let vm = &classes::get().vm;
            // The connecting thread is a Java thread, so this only borrows
            // its existing attachment.
            let Ok(mut env) = vm.attach_current_thread() else {
                return false;
            };
            match env.call_method(object.as_obj(), "authenticate", "()V", &[]) {
                Ok(_) => true,
                Err(_) => {
                    let _ = env.exception_clear();
                    false
                }
            }
        }),
    }
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_connect<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    daemon: JString<'l>,
    private_name: JString<'l>,
    priority: jint,
    membership: jboolean,
    auth_name: JString<'l>,
    auth_object: JObject<'l>,
    secret_identity: JString<'l>,
    secret: JByteArray<'l>,
    secret_file: JString<'l>,
    tls_ca_file: JString<'l>,
    tls_cert_file: JString<'l>,
    tls_key_file: JString<'l>,
    timeout_millis: jlong,
) -> jlong {
    bridge::run(&mut env, 0, |env| {
        let daemon = bridge::string(env, &daemon, "the daemon name")?;
        let private_name = bridge::opt_string(env, &private_name)?.unwrap_or_default();
        let mut opts = ConnectOptions {
            private_name,
            priority,
            membership: membership == JNI_TRUE,
            timeout: (timeout_millis > 0).then(|| Duration::from_millis(timeout_millis as u64)),
            ..ConnectOptions::default()
        };
        if let Some(identity) = bridge::opt_string(env, &secret_identity)? {
            // SECRET (ours): the core runs the exchange on the socket.
            let method = match bridge::opt_string(env, &secret_file)? {
                Some(file) => AuthMethod::secret_file(&identity, std::path::Path::new(&file))?,
                None if secret.is_null() => return Err(Failure::null("the secret")),
                None => AuthMethod::secret(&identity, env.convert_byte_array(&secret)?)?,
            };
            opts.auth_methods = vec![method];
        } else if let Some(name) = bridge::opt_string(env, &auth_name)? {
            opts.auth_methods = if auth_object.is_null() {
                vec![AuthMethod::trivial(&name)]
            } else {
                vec![java_auth(name, env.new_global_ref(&auth_object)?)]
            };
        }
        if let Some(ca) = bridge::opt_string(env, &tls_ca_file)? {
            let cert = bridge::opt_string(env, &tls_cert_file)?.map(std::path::PathBuf::from);
            let key = bridge::opt_string(env, &tls_key_file)?.map(std::path::PathBuf::from);
            opts.tls = Some(TlsOptions::from_files(
                std::path::Path::new(&ca),
                cert.as_deref(),
                key.as_deref(),
            )?);
        }
        let mailbox = Mailbox::connect_with(&daemon, &opts)?;
        Ok(sessions::insert(mailbox))
    })
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_privateGroup<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jstring {
    bridge::run(&mut env, std::ptr::null_mut(), |env| {
        let mailbox = sessions::get(handle)?;
        let name = mailbox.private_group().to_string_lossy();
        Ok(env.new_string(name)?.into_raw())
    })
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_join<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    group: JString<'l>,
) {
    bridge::run(&mut env, (), |env| {
        let group = bridge::string(env, &group, "the group name")?;
        sessions::get(handle)?.join(&group)?;
        Ok(())
    })
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_leave<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    group: JString<'l>,
) {
    bridge::run(&mut env, (), |env| {
        let group = bridge::string(env, &group, "the group name")?;
        sessions::get(handle)?.leave(&group)?;
        Ok(())
    })
}

thread_local! {
    /// Each thread's copy of the body it sends or receives: no allocation
    /// per message once it has grown.
    pub(crate) static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Copies a Java byte array into `buf` (replacing its contents).
pub(crate) fn read_bytes(
    env: &JNIEnv<'_>,
    array: &JByteArray<'_>,
    buf: &mut Vec<u8>,
) -> Result<()> {
    let len = env.get_array_length(array)? as usize;
    buf.clear();
    buf.resize(len, 0);
    // SAFETY: i8 and u8 have the same size and alignment.
    let as_jbytes = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<i8>(), len) };
    env.get_byte_array_region(array, 0, as_jbytes)?;
    Ok(())
}

/// `group_fields` holds the destinations as Spread's 32-byte name fields,
/// one after another (Java cut and padded them).
#[no_mangle]
pub extern "system" fn Java_spread_Native_multicast<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    service_type: jint,
    group_fields: JByteArray<'l>,
    mess_type: jshort,
    data: JByteArray<'l>,
) -> jint {
    bridge::run(&mut env, 0, |env| {
        if group_fields.is_null() {
            return Err(Failure::null("the group list"));
        }
        if data.is_null() {
            return Err(Failure::Argument(
                ILLEGAL_MESSAGE,
                "the message data is null".into(),
            ));
        }
        let mut fields = [0u8; MAX_GROUP_NAME * MAX_GROUPS_PER_MESSAGE];
        let fields_len = env.get_array_length(&group_fields)? as usize;
        if !fields_len.is_multiple_of(MAX_GROUP_NAME) {
            return Err(Failure::Argument(
                ILLEGAL_GROUP,
                format!("{fields_len} bytes of group names is not a whole number of fields"),
            ));
        }
        let mailbox = sessions::get(handle)?;
        let groups: Vec<GroupName> = if fields_len <= fields.len() {
            let window = &mut fields[..fields_len];
            // SAFETY: i8 and u8 have the same size and alignment.
            let as_jbytes = unsafe {
                std::slice::from_raw_parts_mut(window.as_mut_ptr().cast::<i8>(), fields_len)
            };
            env.get_byte_array_region(&group_fields, 0, as_jbytes)?;
            window
                .chunks(MAX_GROUP_NAME)
                .map(GroupName::from_field)
                .collect()
        } else {
            // More than a message may name: the core refuses it by count.
            let mut all = Vec::new();
            read_bytes(env, &group_fields, &mut all)?;
            all.chunks(MAX_GROUP_NAME)
                .map(GroupName::from_field)
                .collect()
        };
        SCRATCH.with(|scratch| {
            let mut body = scratch.borrow_mut();
            read_bytes(env, &data, &mut body)?;
            let sent = mailbox.multigroup_scat_multicast(
                service_type as u32,
                &groups,
                mess_type,
                &[&body],
            )?;
            Ok(sent as jint)
        })
    })
}

/// `timeout_nanos` < 0: block; 0: only what is there now; > 0: wait that
/// long. Returns null when nothing arrived; otherwise the bytes of
/// [`message::encode`], its numbers written into `meta`.
#[no_mangle]
pub extern "system" fn Java_spread_Native_receive<'l>(
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
        let mailbox = sessions::get(handle)?;
        let received = match timeout_nanos {
            t if t < 0 => Some(mailbox.receive()?),
            0 => mailbox.try_receive()?,
            t => mailbox.receive_timeout(Duration::from_nanos(t as u64))?,
        };
        let Some(msg) = received else {
            return Ok(std::ptr::null_mut());
        };
        SCRATCH.with(|scratch| {
            let mut bytes = scratch.borrow_mut();
            let numbers = message::encode(&msg, mailbox.private_group(), &mut bytes);
            env.set_int_array_region(&meta, 0, &numbers)?;
            Ok(env.byte_array_from_slice(&bytes)?.into_raw())
        })
    })
}

#[no_mangle]
pub extern "system" fn Java_spread_Native_poll<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jint {
    bridge::run(&mut env, 0, |_| {
        let n = sessions::get(handle)?.poll()?;
        Ok(n.min(i32::MAX as usize) as jint)
    })
}

/// Forgets the handle, then says goodbye to the daemon; a receive blocked
/// on this session in another thread wakes up with an error.
#[no_mangle]
pub extern "system" fn Java_spread_Native_disconnect<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    bridge::run(&mut env, (), |_| {
        // A session that already lost its connection is closed all the
        // same (the core says no goodbye to nobody).
        Ok(sessions::remove(handle)?.disconnect()?)
    })
}

/// Like disconnect without the goodbye, and quiet about a handle already
/// gone: what runs when Java drops a connection it never disconnected.
#[no_mangle]
pub extern "system" fn Java_spread_Native_kill<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    bridge::run(&mut env, (), |_| {
        if let Ok(mailbox) = sessions::remove(handle) {
            mailbox.kill();
        }
        Ok(())
    })
}

/// The numbers of `spread_core::consts` by name, so the Java constants can
/// be checked against the one definition.
#[no_mangle]
pub extern "system" fn Java_spread_Native_constant<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    name: JString<'l>,
) -> jint {
    bridge::run(&mut env, 0, |env| {
        let name = bridge::string(env, &name, "the constant name")?;
        let value = match name.as_str() {
            "UNRELIABLE_MESS" => UNRELIABLE_MESS as i32,
            "RELIABLE_MESS" => RELIABLE_MESS as i32,
            "FIFO_MESS" => FIFO_MESS as i32,
            "CAUSAL_MESS" => CAUSAL_MESS as i32,
            "AGREED_MESS" => AGREED_MESS as i32,
            "SAFE_MESS" => SAFE_MESS as i32,
            "REGULAR_MESS" => REGULAR_MESS as i32,
            "SELF_DISCARD" => SELF_DISCARD as i32,
            "REG_MEMB_MESS" => REG_MEMB_MESS as i32,
            "TRANSITION_MESS" => TRANSITION_MESS as i32,
            "CAUSED_BY_JOIN" => CAUSED_BY_JOIN as i32,
            "CAUSED_BY_LEAVE" => CAUSED_BY_LEAVE as i32,
            "CAUSED_BY_DISCONNECT" => CAUSED_BY_DISCONNECT as i32,
            "CAUSED_BY_NETWORK" => CAUSED_BY_NETWORK as i32,
            "MEMBERSHIP_MESS" => MEMBERSHIP_MESS as i32,
            "REJECT_MESS" => REJECT_MESS as i32,
            "JOIN_MESS" => JOIN_MESS as i32,
            "LEAVE_MESS" => LEAVE_MESS as i32,
            "KILL_MESS" => KILL_MESS as i32,
            "GROUPS_MESS" => GROUPS_MESS as i32,
            "ILLEGAL_SPREAD" => ILLEGAL_SPREAD,
            "COULD_NOT_CONNECT" => COULD_NOT_CONNECT,
            "REJECT_QUOTA" => REJECT_QUOTA,
            "REJECT_NO_NAME" => REJECT_NO_NAME,
            "REJECT_ILLEGAL_NAME" => REJECT_ILLEGAL_NAME,
            "REJECT_NOT_UNIQUE" => REJECT_NOT_UNIQUE,
            "REJECT_VERSION" => REJECT_VERSION,
            "CONNECTION_CLOSED" => CONNECTION_CLOSED,
            "REJECT_AUTH" => REJECT_AUTH,
            "ILLEGAL_SESSION" => ILLEGAL_SESSION,
            "ILLEGAL_SERVICE" => ILLEGAL_SERVICE,
            "ILLEGAL_MESSAGE" => ILLEGAL_MESSAGE,
            "ILLEGAL_GROUP" => ILLEGAL_GROUP,
            "BUFFER_TOO_SHORT" => BUFFER_TOO_SHORT,
            "GROUPS_TOO_SHORT" => GROUPS_TOO_SHORT,
            "MESSAGE_TOO_LONG" => MESSAGE_TOO_LONG,
            "NET_ERROR_ON_SESSION" => NET_ERROR_ON_SESSION,
            "SP_BUG" => SP_BUG,
            "ILLEGAL_TIME" => ILLEGAL_TIME,
            "ILLEGAL_PARAM" => ILLEGAL_PARAM,
            "WOULD_BLOCK" => WOULD_BLOCK,
            "ILLEGAL_MESSAGE_TYPE" => ILLEGAL_MESSAGE_TYPE,
            "ILLEGAL_STATE" => ILLEGAL_STATE,
            "ILLEGAL_RECEIVERS" => ILLEGAL_RECEIVERS,
            "FLUSH_REQ_MESS" => FLUSH_REQ_MESS as i32,
            "SUBGROUP_CAST" => SUBGROUP_CAST as i32,
            "FL_MIN_LEGAL_MESS_TYPE" => i32::from(FL_MIN_LEGAL_MESS_TYPE),
            "SP_MAJOR_VERSION" => i32::from(SP_MAJOR_VERSION),
            "SP_MINOR_VERSION" => i32::from(SP_MINOR_VERSION),
            "SP_PATCH_VERSION" => i32::from(SP_PATCH_VERSION),
            "DEFAULT_SPREAD_PORT" => i32::from(DEFAULT_SPREAD_PORT),
            "MAX_GROUP_NAME" => MAX_GROUP_NAME as i32,
            "MAX_GROUPS_PER_MESSAGE" => MAX_GROUPS_PER_MESSAGE as i32,
            "META_LEN" => message::meta::LEN as i32,
            "META_SERVICE_TYPE" => message::meta::SERVICE_TYPE as i32,
            "META_MESS_TYPE" => message::meta::MESS_TYPE as i32,
            "META_ENDIAN_MISMATCH" => message::meta::ENDIAN_MISMATCH as i32,
            "META_NUM_GROUPS" => message::meta::NUM_GROUPS as i32,
            "META_DATA_LEN" => message::meta::DATA_LEN as i32,
            "META_GROUP_ID" => message::meta::GROUP_ID as i32,
            "META_NUM_VS_SETS" => message::meta::NUM_VS_SETS as i32,
            "META_LOCAL_VS_SET" => message::meta::LOCAL_VS_SET as i32,
            "MAX_PRIVATE_NAME" => MAX_PRIVATE_NAME as i32,
            "MAX_AUTH_NAME" => MAX_AUTH_NAME as i32,
            other => {
                return Err(Failure::Argument(
                    ILLEGAL_MESSAGE,
                    format!("no Spread constant named {other}"),
                ))
            }
        };
        Ok(value)
    })
}

/// Panics inside a native method, to prove that no panic reaches the JVM.
#[no_mangle]
pub extern "system" fn Java_spread_Native_panicForTest<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) {
    bridge::run(&mut env, (), |_| -> Result<()> {
        panic!("a panic raised on purpose by the test suite")
    })
}
