//! Python binding of the Spread client.
use pyo3::prelude::*;

#[pymodule]
fn _spread(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
