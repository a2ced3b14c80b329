//! What the natives need from the JVM, resolved once at load time.
//!
//! `FindClass` from a native method uses the loader of the Java caller,
//! but from `JNI_OnLoad` it uses the loader that loaded this library: the
//! one that loaded `spread.Native`. Resolving here is what makes the lookup
//! correct under containers with their own class loaders, and cheap later.

use jni::objects::{GlobalRef, JClass};
use jni::JavaVM;
use std::sync::OnceLock;

pub struct Classes {
    /// For the authentication callback, which runs inside the core's
    /// handshake and has no `JNIEnv` of its own.
    pub vm: JavaVM,
    spread_exception: GlobalRef,
}

impl Classes {
    pub fn spread_exception(&self) -> &JClass<'static> {
        self.spread_exception.as_obj().into()
    }
}

static CLASSES: OnceLock<Classes> = OnceLock::new();

pub fn init(vm: JavaVM) -> jni::errors::Result<()> {
    if CLASSES.get().is_some() {
        return Ok(());
    }
    let mut env = vm.get_env()?;
    let local = env.find_class("spread/SpreadException")?;
    let spread_exception = env.new_global_ref(&local)?;
    env.delete_local_ref(local)?;
    let _ = CLASSES.set(Classes {
        vm,
        spread_exception,
    });
    Ok(())
}

/// The cache; `JNI_OnLoad` fills it before any native method can run.
pub fn get() -> &'static Classes {
    CLASSES
        .get()
        .expect("JNI_OnLoad resolves the classes before any native call")
}
