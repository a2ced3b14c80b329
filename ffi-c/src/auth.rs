//! The client's authentication methods (SP_set_auth_method(s)), used by
//! every later SP_connect.

use crate::guard::{c_bytes, guard};
use crate::types::SecretC;
use libc::{c_char, c_int, c_void};
use spread_core::client::{secret_exchange, AuthMethod};
use spread_core::consts::{MAX_AUTH_METHODS, MAX_AUTH_NAME};
use spread_core::wire::secret::{is_valid_identity, MAX_IDENTITY};
use std::sync::{Arc, Mutex};

/// An authentication callback; NULL is None.
pub type AuthFn = Option<unsafe extern "C" fn(c_int, *mut c_void) -> c_int>;

/// The caller's `auth_data` pointer: opaque to us, handed back to its
/// callback on the connecting thread.
#[derive(Clone, Copy)]
struct Opaque(*mut c_void);
// SAFETY: we never dereference it; the application owns what it points to
// and registered it for use from whichever thread calls SP_connect.
unsafe impl Send for Opaque {}
// SAFETY: shared references only copy the pointer out, never dereference
// it, so sharing an Opaque between threads is as sound as sending it.
unsafe impl Sync for Opaque {}

/// None until the application registers methods.
static METHODS: Mutex<Option<Vec<AuthMethod>>> = Mutex::new(None);

/// The methods SP_connect runs: the registered ones (possibly none), else
/// NULL.
pub fn methods() -> Vec<AuthMethod> {
    let m = METHODS.lock().unwrap_or_else(|p| p.into_inner());
    m.clone().unwrap_or_else(|| vec![AuthMethod::null()])
}

fn method(
    name: &[u8],
    f: unsafe extern "C" fn(c_int, *mut c_void) -> c_int,
    data: *mut c_void,
) -> AuthMethod {
    let data = Opaque(data);
    AuthMethod {
        name: String::from_utf8_lossy(name).into_owned(),
        authenticate: Arc::new(move |fd| {
            let d = data;
            // SAFETY: the application registered `f` (not NULL) to be called
            // during SP_connect with the connection's descriptor and the
            // data pointer it registered alongside, as SP_set_auth_method's
            // contract says.
            unsafe { f(fd, d.0) != 0 }
        }),
    }
}

/// Reads one method's name; None if NULL or too long (≥ 30 bytes).
///
/// # Safety
/// `name` is NULL or a C string (or has MAX_AUTH_NAME readable bytes).
unsafe fn name_of<'a>(name: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: the caller guarantees `name` is NULL or a C string; c_bytes
    // reads at most MAX_AUTH_NAME bytes of it.
    unsafe { c_bytes(name, MAX_AUTH_NAME) }.filter(|n| n.len() < MAX_AUTH_NAME)
}

/// Registers a single method. Returns 1, or 0 for a bad name or callback.
///
/// # Safety
/// `auth_name` is NULL or a C string; `auth_function`, if not NULL, is a
/// function that may be called with `auth_data` during any later
/// SP_connect, from whichever thread calls it.
#[no_mangle]
pub unsafe extern "C" fn SP_set_auth_method(
    auth_name: *const c_char,
    auth_function: AuthFn,
    auth_data: *mut c_void,
) -> c_int {
    guard(0, || {
        // SAFETY: the caller guarantees `auth_name` is NULL or a C string.
        let name = unsafe { name_of(auth_name) };
        let (Some(name), Some(f)) = (name, auth_function) else {
            return 0;
        };
        *METHODS.lock().unwrap_or_else(|p| p.into_inner()) = Some(vec![method(name, f, auth_data)]);
        1
    })
}

/// Registers up to three methods, run in order. Returns 1, or 0 (and
/// changes nothing) if any entry is bad.
///
/// # Safety
/// Unless `num_methods` is 0 or out of range, the three arrays are NULL or
/// hold `num_methods` entries each, and each entry is as for
/// SP_set_auth_method: a NULL or C-string name, a NULL or callable
/// function, and the data that function may be called with during
/// SP_connect, from whichever thread calls it.
#[no_mangle]
pub unsafe extern "C" fn SP_set_auth_methods(
    num_methods: c_int,
    auth_name: *mut *const c_char,
    auth_function: *mut AuthFn,
    auth_data: *mut *mut c_void,
) -> c_int {
    guard(0, || {
        if !(0..=MAX_AUTH_METHODS as c_int).contains(&num_methods) {
            return 0;
        }
        let n = num_methods as usize;
        if n > 0 && (auth_name.is_null() || auth_function.is_null() || auth_data.is_null()) {
            return 0;
        }
        let mut list = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: the three arrays are not NULL (checked above) and the
            // caller guarantees each holds `num_methods` > `i` entries.
            let (name_ptr, f, data) =
                unsafe { (*auth_name.add(i), *auth_function.add(i), *auth_data.add(i)) };
            // SAFETY: each name entry is NULL or a C string, as for
            // SP_set_auth_method.
            let name = unsafe { name_of(name_ptr) };
            let (Some(name), Some(f)) = (name, f) else {
                return 0;
            };
            list.push(method(name, f, data));
        }
        *METHODS.lock().unwrap_or_else(|p| p.into_inner()) = Some(list);
        1
    })
}

/// An exchange with no bytes, for the methods that need none (NULL, IP,
/// PEERCRED): `SP_set_auth_method("PEERCRED", SP_auth_no_exchange, NULL)`.
/// Always 1. Ours (5.0.1 has no such function).
#[no_mangle]
pub extern "C" fn SP_auth_no_exchange(_fd: c_int, _auth_data: *mut c_void) -> c_int {
    1
}

/// The SECRET method's exchange (a daemon of ours with `AuthSecretFile`):
/// `auth_data` points to an `sp_secret` (identity, secret, its length),
/// which must stay valid while SP_connect runs. 1 when the answer was
/// sent (the daemon judges it), 0 on a bad `sp_secret` or a failed
/// exchange. Ours: `SP_set_auth_method("SECRET", SP_auth_secret, &s)`.
///
/// # Safety
/// `auth_data` is NULL or points to an `sp_secret` whose `identity` is
/// NULL or a C string and whose `secret` has `secret_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn SP_auth_secret(fd: c_int, auth_data: *mut c_void) -> c_int {
    guard(0, || {
        if auth_data.is_null() {
            return 0;
        }
        // SAFETY: the caller guarantees auth_data points to an sp_secret.
        let s = unsafe { *(auth_data as *const SecretC) };
        if s.secret.is_null() || s.secret_len <= 0 {
            return 0;
        }
        // SAFETY: identity is NULL or a C string; at most 65 bytes read.
        let Some(identity) = (unsafe { c_bytes(s.identity, MAX_IDENTITY + 1) }) else {
            return 0;
        };
        if !is_valid_identity(identity) {
            return 0;
        }
        // SAFETY: the caller guarantees `secret_len` readable bytes.
        let secret =
            unsafe { std::slice::from_raw_parts(s.secret as *const u8, s.secret_len as usize) };
        c_int::from(secret_exchange(fd, identity, secret).is_ok())
    })
}
