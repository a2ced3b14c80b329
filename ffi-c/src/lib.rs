//! libspread: Spread 5's C client API (`include/sp.h`) and Flush Spread's
//! (`include/fl.h`), implemented over `spread-core`. Every exported
//! function checks its pointers, returns Spread's negative codes, and never
//! lets a panic cross into C.

#![deny(unsafe_op_in_unsafe_fn)]

mod auth;
mod connect;
pub mod events;
mod flush;
mod guard;
mod membership;
mod misc;
mod receive;
mod send;
mod table;
mod tls;
pub mod types;
