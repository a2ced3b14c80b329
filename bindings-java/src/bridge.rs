//! The one place where Rust results become Java results: panics are caught
//! and every failure is thrown as a `spread.SpreadException` carrying
//! Spread's error code.

use crate::classes;
use jni::objects::{JThrowable, JValue};
use jni::JNIEnv;
use spread_core::consts::{ILLEGAL_GROUP, SP_BUG};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why a native call failed.
#[derive(Debug)]
pub enum Failure {
    Spread(spread_core::Error),
    /// A Flush call's error: a Spread one or one of fl.h's five codes.
    Flush(spread_core::flush::FlushError),
    /// A JNI call failed; when it left a Java exception pending, that
    /// exception is what the caller sees.
    Jni(jni::errors::Error),
    /// An argument Java must not pass (null); a Spread code and a message.
    Argument(i32, String),
    Panic(String),
}

impl From<spread_core::Error> for Failure {
    fn from(e: spread_core::Error) -> Self {
        Failure::Spread(e)
    }
}

impl From<spread_core::flush::FlushError> for Failure {
    fn from(e: spread_core::flush::FlushError) -> Self {
        Failure::Flush(e)
    }
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Self {
        Failure::Jni(e)
    }
}

impl Failure {
    pub fn null(what: &str) -> Failure {
        Failure::Argument(ILLEGAL_GROUP, format!("{what} is null"))
    }

    fn code_and_message(&self) -> (i32, String) {
        match self {
            Failure::Spread(e) => (e.code(), e.to_string()),
            Failure::Flush(e) => (e.code(), e.to_string()),
            Failure::Jni(e) => (SP_BUG, format!("JNI call failed: {e}")),
            Failure::Argument(code, m) => (*code, m.clone()),
            Failure::Panic(m) => (SP_BUG, format!("panic in the native Spread client: {m}")),
        }
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

thread_local! {
    /// Depth of `run` on this thread: a panic inside it becomes a Java
    /// exception, one outside it (other Rust code in the JVM) is not ours.
    static IN_NATIVE_METHOD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// True while this thread runs the body of one of our native methods.
pub fn in_native_method() -> bool {
    IN_NATIVE_METHOD.with(|n| n.get() > 0)
}

/// Runs the body of a native method: its value on success; otherwise a
/// pending exception and `fallback` (which Java never sees).
pub fn run<'local, T>(
    env: &mut JNIEnv<'local>,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<T>,
) -> T {
    IN_NATIVE_METHOD.with(|n| n.set(n.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(|| body(env)));
    IN_NATIVE_METHOD.with(|n| n.set(n.get() - 1));
    let failure = match outcome {
        Ok(Ok(v)) => return v,
        Ok(Err(f)) => f,
        Err(payload) => Failure::Panic(panic_text(payload.as_ref())),
    };
    throw(env, &failure);
    fallback
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

fn throw(env: &mut JNIEnv<'_>, failure: &Failure) {
    // An exception raised by Java code we called (a listener, a
    // constructor, an OutOfMemoryError) says more than any wrapper would.
    if env.exception_check().unwrap_or(false) {
        return;
    }
    let (code, message) = failure.code_and_message();
    let thrown = catch_unwind(AssertUnwindSafe(|| -> jni::errors::Result<()> {
        let text = env.new_string(&message)?;
        let exception = env.new_object(
            classes::get().spread_exception(),
            "(Ljava/lang/String;I)V",
            &[JValue::Object(&text), JValue::Int(code)],
        )?;
        env.throw(JThrowable::from(exception))
    }));
    if !matches!(thrown, Ok(Ok(()))) && !env.exception_check().unwrap_or(false) {
        let _ = env.throw_new("java/lang/Error", &message);
    }
}

/// Reads a Java string argument that must not be null.
pub fn string(env: &mut JNIEnv<'_>, s: &jni::objects::JString<'_>, what: &str) -> Result<String> {
    opt_string(env, s)?.ok_or_else(|| Failure::null(what))
}

/// Reads an optional Java string argument.
///
/// `JNIEnv::get_string` checks the type with `FindClass` and
/// `GetObjectClass`, whose local references it never frees: a loop over a
/// group list would fill the frame. The natives' Java signatures already
/// guarantee a `String`.
pub fn opt_string(env: &mut JNIEnv<'_>, s: &jni::objects::JString<'_>) -> Result<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    // SAFETY: `s` is a non-null reference typed `String` by the native
    // method's Java declaration (or an element of a `String[]`).
    let text = unsafe { env.get_string_unchecked(s) }?;
    Ok(Some(text.into()))
}
