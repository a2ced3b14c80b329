//! `spread.Tls`: TLS to a daemon's TlsAddress, as the Rust client's
//! `TlsOptions` (the TLS itself is the core's, never Python's).

use crate::errors::raise;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use spread_core::client::TlsOptions;
use std::path::PathBuf;

/// TLS to a daemon's ``TlsAddress`` (a daemon of ours): ``ca_file`` (PEM)
/// holds the CAs trusted to sign the daemon's certificate, which must
/// carry ``server_name`` (default: the host of the daemon name,
/// ``"4813@spread.example.org"``); ``cert_file`` and ``key_file`` (PEM,
/// both or neither) are shown to a daemon that asks for a client
/// certificate. The files are read here. Give it as ``tls=`` to
/// ``connect``, ``Session`` or ``aio.Session``.
#[pyclass(module = "spread", name = "Tls", frozen)]
#[derive(Clone)]
pub struct Tls {
    pub options: TlsOptions,
}

#[pymethods]
impl Tls {
    #[new]
    #[pyo3(signature = (ca_file, *, cert_file=None, key_file=None, server_name=None))]
    fn new(
        py: Python<'_>,
        ca_file: PathBuf,
        cert_file: Option<PathBuf>,
        key_file: Option<PathBuf>,
        server_name: Option<String>,
    ) -> PyResult<Tls> {
        let mut options =
            TlsOptions::from_files(&ca_file, cert_file.as_deref(), key_file.as_deref())
                .map_err(|e| raise(py, e))?;
        options.server_name = server_name;
        Ok(Tls { options })
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.options)
    }
}

/// `tls=`: None (plain) or a `Tls`.
pub fn options(tls: Option<&Bound<'_, PyAny>>) -> PyResult<Option<TlsOptions>> {
    match tls.filter(|t| !t.is_none()) {
        None => Ok(None),
        Some(t) => t
            .cast::<Tls>()
            .map(|t| Some(t.get().options.clone()))
            .map_err(|_| PyTypeError::new_err("tls takes a spread.Tls")),
    }
}
