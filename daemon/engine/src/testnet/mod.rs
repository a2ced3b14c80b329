//! A simulated network in virtual time (loss, duplication, delay,
//! partitions; one seed decides everything) and the wiring of engines to
//! it: the rings of the unit tests and the daemon's simulator run on it.

pub mod memberships;
pub mod net;
pub mod wiring;
