//! TLS to a daemon's TlsAddress (SP_set_tls, ours), used by every later
//! SP_connect, as the authentication methods are.

use crate::guard::{c_bytes, guard};
use libc::{c_char, c_int};
use spread_core::client::TlsOptions;
use std::path::PathBuf;
use std::sync::Mutex;

/// None: SP_connect speaks plain, as 5.0.1.
static TLS: Mutex<Option<TlsOptions>> = Mutex::new(None);

/// Paths are read up to this many bytes.
const MAX_PATH: usize = 4096;

/// The TLS options SP_connect uses.
pub fn options() -> Option<TlsOptions> {
    TLS.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// # Safety
/// `p` is NULL or a C string.
unsafe fn path(p: *const c_char) -> Result<Option<PathBuf>, ()> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: the caller guarantees `p` is NULL or a C string.
    match unsafe { c_bytes(p, MAX_PATH + 1) } {
        None => Ok(None),
        Some(b) if b.is_empty() || b.len() > MAX_PATH => Err(()),
        Some(b) => Ok(Some(std::ffi::OsStr::from_bytes(b).into())),
    }
}

/// Makes every later SP_connect speak TLS: `ca_file` holds the PEM
/// certificates of the CAs trusted to sign the daemon's certificate, which
/// must carry the host of the daemon name (`4813@spread.example.org`);
/// `cert_file` and `key_file` (PEM), both or neither, are the certificate
/// shown to a daemon with TlsClientCAFile. A NULL `ca_file` turns TLS off
/// again. The files are read now. Returns 1, or 0 (and changes nothing)
/// for a file that does not read or a certificate without its key.
///
/// # Safety
/// Each argument is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn SP_set_tls(
    ca_file: *const c_char,
    cert_file: *const c_char,
    key_file: *const c_char,
) -> c_int {
    guard(0, || {
        // SAFETY: the caller guarantees each is NULL or a C string.
        let paths = unsafe { (path(ca_file), path(cert_file), path(key_file)) };
        let (Ok(ca), Ok(cert), Ok(key)) = paths else {
            return 0;
        };
        let options = match ca {
            None if cert.is_none() && key.is_none() => None,
            None => return 0,
            Some(ca) => match TlsOptions::from_files(&ca, cert.as_deref(), key.as_deref()) {
                Ok(o) => Some(o),
                Err(_) => return 0,
            },
        };
        *TLS.lock().unwrap_or_else(|p| p.into_inner()) = options;
        1
    })
}
