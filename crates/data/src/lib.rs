//! Single-step kinetic Monte Carlo data sets (SPEC section 3).

mod dataset;
mod error;

pub use dataset::Dataset;
pub use error::{Error, Result};
