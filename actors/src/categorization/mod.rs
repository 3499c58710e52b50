//! Categorization: labelling transactions.
//!
//! The shipped brain: [`rules`] (rules v2 from `data/categorization/rules.toml`), the
//! [`global`] model (logistic regression from `data/categorization/global.bin`) over the text
//! [`features`] and the raw narration's [`signals`], the [`guardrail`]s (Salary, People) and
//! the [`resolve`] order that combines them with the user's overrides, keyed by
//! [`normalize`]d description. The global model is built by [`trainer`] ([`logistic`]
//! regression) from the [`synthetic`] corpus, and [`evaluation`] measures a classifier on a
//! labelled CSV. A [`brain`] is the rules and model in use (the shipped ones, or a directory's,
//! hot-swapped on change); the [`service`] actor serves classifications, and [`discovery`]
//! finds groups among the narrations nothing categorised (spherical k-means).
//!
//! The per-user layer: [`personal`] turns a user's corrections and latest trained model into
//! overrides and prototype boosts; [`model`] fits per-label prototypes from a user's labelled
//! rows and corrections, and [`fitter`] runs that fit as a training job, after which
//! [`recategorize`] applies the new model to the user's transactions; [`corrections`] reads
//! and stores what users teach. [`telemetry`] counts what is decided and corrected.

pub mod brain;
pub mod corrections;
pub mod discovery;
pub mod evaluation;
pub mod features;
pub mod fitter;
pub mod global;
pub mod guardrail;
pub mod logistic;
pub mod model;
pub mod normalize;
pub mod personal;
pub mod recategorize;
pub mod resolve;
pub mod rules;
pub mod service;
pub mod signals;
pub mod synthetic;
pub mod telemetry;
pub mod trainer;
