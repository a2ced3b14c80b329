//! Java (JNI) binding of the Spread client: the natives of `spread.Native`,
//! over `Mailbox` ([`exports`]) and Flush Spread's `FlushMailbox` ([`flush`]).
//!
//! Java holds each session as a `long` handle ([`sessions`]); every entry
//! point runs through [`bridge::run`], which catches panics and turns every
//! failure into a `spread.SpreadException` at one place. A received message
//! crosses as numbers and one byte array ([`message`]); Java builds the
//! objects. The one class the natives make, `SpreadException`, is looked
//! up when the library is loaded ([`classes`]).

mod bridge;
mod classes;
mod exports;
mod flush;
mod message;
mod sessions;

use jni::sys::{jint, JNI_ERR, JNI_VERSION_1_8};
use jni::JavaVM;
use std::ffi::c_void;

/// Runs when `System.load` loads this library: resolves the exception
/// class through the loader of `spread.Native`, and quiets panic output.
///
/// # Safety
/// Called by the JVM with its own valid `JavaVM` pointer.
#[no_mangle]
pub unsafe extern "system" fn JNI_OnLoad(
    vm: *mut jni::sys::JavaVM,
    _reserved: *mut c_void,
) -> jint {
    let vm = match JavaVM::from_raw(vm) {
        Ok(vm) => vm,
        Err(_) => return JNI_ERR,
    };
    quiet_panics();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| classes::init(vm)));
    match result {
        Ok(Ok(())) => JNI_VERSION_1_8,
        _ => JNI_ERR,
    }
}

/// A panic in one of our native methods becomes a `SpreadException` that
/// carries its message; the default hook would also print a backtrace into
/// the host program's stderr. One line saying where is kept for whoever
/// reads the logs. Panics elsewhere (other Rust code in the same JVM) go
/// to the hook that was there before.
fn quiet_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !bridge::in_native_method() {
            return previous(info);
        }
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("spread-jni: panic at {at} (thrown to Java as SpreadException)");
    }));
}
