//! SP_poll, SP_equal_group_ids, SP_error, SP_strerror.

use crate::guard::{guard, guard_code};
use crate::table;
use crate::types::{self, GroupIdC};
use libc::{c_char, c_int};
use spread_core::consts::ILLEGAL_SESSION;
use spread_core::error::strerror;
use std::ffi::CStr;
use std::io::Write;

/// Bytes waiting on the mailbox (0 = nothing to read).
#[no_mangle]
pub extern "C" fn SP_poll(mbox: types::Mailbox) -> c_int {
    guard_code(|| match table::get(mbox) {
        Some(m) => m
            .poll()
            .map_or_else(|e| e.code(), |n| n.min(c_int::MAX as usize) as c_int),
        None => ILLEGAL_SESSION,
    })
}

#[no_mangle]
pub extern "C" fn SP_equal_group_ids(g1: GroupIdC, g2: GroupIdC) -> c_int {
    c_int::from(g1 == g2)
}

/// The texts as NUL-terminated statics, so SP_strerror can return them.
fn c_text(code: c_int) -> &'static CStr {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static TEXTS: OnceLock<HashMap<&'static str, std::ffi::CString>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        (-25..=0)
            .map(strerror)
            .map(|t| (t, std::ffi::CString::new(t).expect("no NUL in texts")))
            .collect()
    });
    texts
        .get(strerror(code))
        .map(|c| c.as_c_str())
        .unwrap_or(c"Unrecognized error.")
}

#[no_mangle]
pub extern "C" fn SP_strerror(error: c_int) -> *const c_char {
    guard(c"Unrecognized error.".as_ptr(), || c_text(error).as_ptr())
}

/// Prints the error's text to stdout, as 5.0.1 does.
#[no_mangle]
pub extern "C" fn SP_error(error: c_int) {
    guard((), || {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "SP_error: ({error}) {}", strerror(error));
        let _ = out.flush();
    })
}
