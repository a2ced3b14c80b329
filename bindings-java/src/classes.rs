//! Classes and method ids the natives call, resolved once at load time.
//!
//! `FindClass` from a native method uses the loader of the Java caller,
//! but from `JNI_OnLoad` it uses the loader that loaded this library: the
//! one that loaded `spread.Native`. Caching here is what makes the lookups
//! correct in containers with their own class loaders, and cheap per call.

use jni::objects::{GlobalRef, JClass, JStaticMethodID};
use jni::JavaVM;
use std::sync::OnceLock;

pub struct Class(GlobalRef);

impl Class {
    pub fn as_class(&self) -> &JClass<'static> {
        self.0.as_obj().into()
    }
}

pub struct Classes {
    pub vm: JavaVM,
    pub spread_exception: Class,
    pub string: Class,
    pub string_array: Class,
    pub native: Class,
    /// `spread.Native.makeMessage`: builds a received `SpreadMessage`.
    pub make_message: JStaticMethodID,
}

pub const MAKE_MESSAGE_SIG: &str =
    "(ILjava/lang/String;[Ljava/lang/String;SZ[B[I[[Ljava/lang/String;I)Lspread/SpreadMessage;";

static CLASSES: OnceLock<Classes> = OnceLock::new();

pub fn init(vm: JavaVM) -> jni::errors::Result<()> {
    if CLASSES.get().is_some() {
        return Ok(());
    }
    let mut env = vm.get_env()?;
    let mut global = |name: &str| -> jni::errors::Result<Class> {
        let local = env.find_class(name)?;
        let class = Class(env.new_global_ref(&local)?);
        env.delete_local_ref(local)?;
        Ok(class)
    };
    let spread_exception = global("spread/SpreadException")?;
    let string = global("java/lang/String")?;
    let string_array = global("[Ljava/lang/String;")?;
    let native = global("spread/Native")?;
    let make_message =
        env.get_static_method_id(native.as_class(), "makeMessage", MAKE_MESSAGE_SIG)?;
    let _ = CLASSES.set(Classes {
        vm,
        spread_exception,
        string,
        string_array,
        native,
        make_message,
    });
    Ok(())
}

/// The cache; `JNI_OnLoad` fills it before any native method can run.
pub fn get() -> &'static Classes {
    CLASSES
        .get()
        .expect("JNI_OnLoad resolves the classes before any native call")
}
