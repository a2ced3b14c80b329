//! The E_ event loop (being written).
