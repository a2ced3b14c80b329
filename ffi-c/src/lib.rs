//! libspread: Spread 5's C client API (`include/sp.h`), implemented over
//! `spread-core`. Every exported function checks its pointers and never
//! lets a panic cross into C.

pub mod events;
pub mod types;
