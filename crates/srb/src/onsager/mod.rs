//! The whole Onsager matrix of a data set, vacancy included, with standard errors
//! (`gcnet onsager`), and the kinosons, its per-state terms.
//!
//! With one relaxation vector y_a per atom label, each variational for its own `L_aa`,
//! `L_ab = (1/6N) sum_n W_n (dx_a + dy_a).(dx_b + dy_b)`: second order in the errors of the
//! y's because each is stationary. The vacancy's y is minus the sum of the atoms' (site
//! conservation), so its row is minus the sum of theirs (checked against the data's own
//! vacancy displacements).
//!
//! Layers: [`matrix`] (per-sample terms -> matrix, errors, checks) -> [`kinosons`]
//! (per-state terms, summaries, plot) -> [`run`] (the network trained or continued, the
//! vectors, the files) -> [`temperatures`] (runs at several temperatures read back: L(T),
//! the Arrhenius fit, one plot).

pub mod frame;
pub mod kinosons;
pub mod matrix;
pub mod run;
pub mod temperatures;

pub use frame::kinoson_frame;
pub use kinosons::{JumpingShare, KinosonSummary, summarize};
pub use matrix::{OnsagerEstimate, SampleTerms, add_relaxation};
pub use run::{Model, Moves, OnsagerReport, OnsagerRun, SrbCoefficients, VceModel};
pub use temperatures::{Arrhenius, KinosonRun, TemperatureSeries, arrhenius, temperature_chart};
