//! spread.conf (being written).
