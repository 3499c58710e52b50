//! Categorization: the per-user model that labels transactions. [`features`] turns a
//! transaction's text into a hashed sparse vector, [`model`] fits and applies the per-label
//! prototypes, and [`fitter`] runs that fit as a training job. The categorization rules and a
//! classifier actor serving predictions come next and will live here too.

pub mod features;
pub mod fitter;
pub mod model;
