//! `spread.Auth`: the authentication methods a connect runs, as the Rust
//! client's `AuthMethod`s (the exchanges are the core's, never Python's).

use crate::errors::raise;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use spread_core::client::AuthMethod;

/// One authentication method: ``Auth.null()`` (the default),
/// ``Auth.peercred()``, ``Auth.secret(identity, secret)``,
/// ``Auth.secret_file(identity, path)``. Give one, or a list run in order,
/// as ``auth=`` to ``connect``, ``Session`` or ``aio.Session``.
#[pyclass(module = "spread", name = "Auth", frozen)]
#[derive(Clone)]
pub struct Auth {
    pub method: AuthMethod,
}

#[pymethods]
impl Auth {
    /// NULL: no check (5.0.1's default).
    #[staticmethod]
    fn null() -> Auth {
        Auth {
            method: AuthMethod::null(),
        }
    }

    /// PEERCRED (a daemon of ours): on the Unix socket the daemon checks
    /// this process's user and group with the kernel; no bytes are sent.
    #[staticmethod]
    fn peercred() -> Auth {
        Auth {
            method: AuthMethod::peercred(),
        }
    }

    /// SECRET (a daemon of ours): proves ``secret`` (bytes or str), known
    /// to the daemon under ``identity``, without sending it.
    #[staticmethod]
    fn secret(py: Python<'_>, identity: &str, secret: &Bound<'_, PyAny>) -> PyResult<Auth> {
        let bytes: Vec<u8> = if let Ok(b) = secret.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(s) = secret.extract::<String>() {
            s.into_bytes()
        } else {
            return Err(PyTypeError::new_err("secret must be bytes or str"));
        };
        let method = AuthMethod::secret(identity, bytes).map_err(|e| raise(py, e))?;
        Ok(Auth { method })
    }

    /// SECRET with the secret read from a file (mode 0600 or 0400).
    #[staticmethod]
    fn secret_file(py: Python<'_>, identity: &str, path: std::path::PathBuf) -> PyResult<Auth> {
        let method = AuthMethod::secret_file(identity, &path).map_err(|e| raise(py, e))?;
        Ok(Auth { method })
    }

    /// The method's name, as the daemon lists it.
    #[getter]
    fn name(&self) -> &str {
        &self.method.name
    }

    fn __repr__(&self) -> String {
        format!("Auth({:?})", self.method.name)
    }
}

/// `auth=`: None (NULL), an `Auth`, or a sequence of them.
pub fn methods(auth: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<AuthMethod>> {
    let Some(auth) = auth.filter(|a| !a.is_none()) else {
        return Ok(vec![AuthMethod::null()]);
    };
    if let Ok(a) = auth.cast::<Auth>() {
        return Ok(vec![a.get().method.clone()]);
    }
    let mut out = Vec::new();
    for item in auth.try_iter()? {
        let item = item?;
        let a = item
            .cast::<Auth>()
            .map_err(|_| PyTypeError::new_err("auth takes spread.Auth methods"))?;
        out.push(a.get().method.clone());
    }
    if out.is_empty() {
        return Err(PyTypeError::new_err("auth names no method"));
    }
    Ok(out)
}
