//! Spread errors as Python exceptions, and the argument conversions that
//! raise them.
//!
//! The exception classes live in `spread._errors` (plain Python, so they
//! can carry `.code` and be subclassed); the extension looks them up there
//! the first time it raises one.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use spread_core::consts::ILLEGAL_SESSION;
use spread_core::Error;

static FROM_CODE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The `spread.error` subclass for `code`, carrying `(code, message)`.
pub fn spread_error(py: Python<'_>, code: i32, message: String) -> PyErr {
    let make = FROM_CODE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("spread._errors")?.getattr("_from_code")?.unbind())
    });
    match make.and_then(|f| f.bind(py).call1((code, message))) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

pub fn raise(py: Python<'_>, e: Error) -> PyErr {
    spread_error(py, e.code(), e.to_string())
}

/// What SpreadModule raises for a call on a disconnected mailbox.
pub fn closed_mbox(py: Python<'_>, method: &str) -> PyErr {
    spread_error(
        py,
        ILLEGAL_SESSION,
        format!("{method}() called on closed mbox"),
    )
}

/// A name given as `bytes` or `str` (SpreadModule takes bytes; text is
/// accepted too). Names are ASCII on the wire, and a NUL would end one in
/// C: anything else is refused here, with the code the daemon or the
/// library would give it, rather than sent altered.
pub fn name_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let bytes: Vec<u8> = if let Ok(b) = obj.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(s) = obj.cast::<PyString>() {
        s.to_cow()?.as_bytes().to_vec()
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be bytes or str, not {}",
            obj.get_type().name()?
        )));
    };
    match String::from_utf8(bytes) {
        Ok(text) if text.is_ascii() && !text.contains('\0') => Ok(text),
        Ok(text) => Err(bad_name(obj.py(), what, &text)),
        Err(e) => Err(bad_name(
            obj.py(),
            what,
            &String::from_utf8_lossy(e.as_bytes()),
        )),
    }
}

fn bad_name(py: Python<'_>, what: &str, text: &str) -> PyErr {
    let code = match what {
        "daemon" => spread_core::consts::ILLEGAL_SPREAD,
        "name" => spread_core::consts::REJECT_ILLEGAL_NAME,
        _ => spread_core::consts::ILLEGAL_GROUP,
    };
    spread_error(
        py,
        code,
        format!("{what} {text:?} is not ASCII without NUL bytes"),
    )
}

/// Message data: any bytes-like object, or `str` (sent as UTF-8).
pub enum Data<'py> {
    Bytes(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Data<'_> {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Data::Bytes(b) => b.as_bytes(),
            Data::Owned(v) => v,
        }
    }
}

pub fn data_arg<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Data::Bytes(b.clone()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Data::Owned(s.to_cow()?.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Data::Owned(b.to_vec()));
    }
    // memoryview and other buffer objects, without the buffer API (not in
    // the stable ABI before 3.11).
    match obj.py().get_type::<PyBytes>().call1((obj,)) {
        Ok(b) if !obj.is_instance_of::<pyo3::types::PyInt>() => {
            Ok(Data::Bytes(b.cast_into::<PyBytes>()?))
        }
        _ => Err(PyTypeError::new_err(format!(
            "message must be bytes-like or str, not {}",
            obj.get_type().name()?
        ))),
    }
}
