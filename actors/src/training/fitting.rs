//! The seam between the job runtime and the domains' model fitting. A domain implements
//! [`Fitter`] for its job kind; [`Fitters`] maps each registered kind to its fitter and timeout
//! (built by `crate::fitters::registered`). Fitting gets its input from the loader (a
//! [`Loadable`] type), reports through [`JobControl`] and returns the [`TrainingOutput`] stored
//! with the completed job. Fitting is pure, synchronous and CPU-bound; the runner calls it on a
//! blocking thread.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use futures_util::future::LocalBoxFuture;
use rust_decimal::Decimal;
use scale_schema::PgPool;
use uuid::Uuid;

use super::store::JobView;
use super::TrainingError;
use crate::jobs::JobKind;

/// Why fitting stopped without a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// The job was cancelled or timed out; the runner knows which.
    #[error("stopped")]
    Stopped,
    /// The data cannot give a model (too little, no labels); retrying will not help.
    #[error("{0}")]
    Unusable(String),
    /// Anything else; the job may be retried.
    #[error("{0}")]
    Failed(String),
}

/// Progress reporting and cancellation, as seen from inside fitting.
pub trait JobControl {
    /// Reports that `step` of `total` steps is done; returns [`TrainError::Stopped`] when the
    /// job must stop now (fitting returns that error at once).
    fn step(&mut self, step: u32, total: u32, message: &str) -> Result<(), TrainError>;

    /// Returns [`TrainError::Stopped`] when the job must stop now; cheap, publishes nothing.
    /// Long loops call it often (at least every ~50 ms of work).
    fn check(&self) -> Result<(), TrainError>;
}

/// Where a labelled example comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelSource {
    /// The user corrected the category (strongest signal).
    Correction,
    /// A stored transaction's category (imported or edited).
    Labelled,
}

/// One labelled text for the categorizer.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledExample {
    /// The statement's description.
    pub description: String,
    /// The extracted merchant ('' when none).
    pub merchant: String,
    /// Signed amount when known (corrections from free-text feedback have none).
    pub amount: Option<Decimal>,
    /// The category, verbatim.
    pub category: String,
    /// Where the label comes from.
    pub source: LabelSource,
}

/// One stored transaction for the forecaster.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// The statement-local date.
    pub date: NaiveDate,
    /// Signed amount (negative = spend).
    pub amount: Decimal,
    /// The extracted merchant ('' when none).
    pub merchant: String,
    /// The transaction's status (`completed`, `pending`, `refunded`, `cancelled`, `failed`).
    pub status: String,
}

/// The user's transactions and today's date in the user's timezone.
#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    /// Every transaction of the user.
    pub entries: Vec<LedgerEntry>,
    /// Today in the user's timezone.
    pub today: NaiveDate,
    /// Seed of the interval simulation (derived from the user's id), so a refit of the same
    /// data gives the same model.
    pub seed: u64,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingOutput {
    /// Quality figures shown to the user (`training_jobs.metrics`).
    pub metrics: serde_json::Value,
    /// The serialised model, stored in Postgres and never shown to clients.
    pub artefact: Vec<u8>,
    /// The artefact's format and version, e.g. `categorizer-prototypes-v1+json`.
    pub format: &'static str,
}

/// What a fitter fits from, read for one user by the training loader.
pub trait Loadable: Sized + Send + 'static {
    /// Reads `user`'s data in one transaction as that user.
    fn read(pool: &PgPool, user: Uuid) -> impl Future<Output = Result<Self, TrainingError>>;
}

/// Fits the model of one job kind.
pub trait Fitter: Send + Sync + 'static {
    /// The job kind it fits.
    const KIND: JobKind;
    /// What it fits from.
    type Input: Loadable;

    /// Fits the model from `input`, reporting through `control`.
    fn fit(
        &self,
        input: Self::Input,
        control: &mut dyn JobControl,
    ) -> Result<TrainingOutput, TrainError>;

    /// Puts the model of `job`, just completed and stored, to work (in the process that ran
    /// it); returns the job as this changed it, to be published. Nothing by default.
    fn completed(&self, _pool: PgPool, _job: JobView) -> LocalBoxFuture<'static, Option<JobView>> {
        Box::pin(async { None })
    }
}

/// A job's fitting with its input loaded, ready to run on a blocking thread.
pub type Fit = Box<dyn FnOnce(&mut dyn JobControl) -> Result<TrainingOutput, TrainError> + Send>;

/// Loads a user's input and binds it to the kind's fitter.
type Load =
    dyn Fn(PgPool, Uuid) -> LocalBoxFuture<'static, Result<Fit, TrainingError>> + Send + Sync;

/// [`Fitter::completed`] of the kind's fitter.
type Completed = dyn Fn(PgPool, JobView) -> LocalBoxFuture<'static, Option<JobView>> + Send + Sync;

/// A registered job kind: how to load and fit it, how long one attempt may run, and what
/// follows its completion.
#[derive(Clone)]
pub struct Registered {
    timeout: Duration,
    load: Arc<Load>,
    completed: Arc<Completed>,
}

impl Registered {
    /// The longest one attempt of this kind may run.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Reads `user`'s input for this kind, ready to fit.
    pub async fn load(&self, pool: &PgPool, user: Uuid) -> Result<Fit, TrainingError> {
        (self.load)(pool.clone(), user).await
    }

    /// Runs [`Fitter::completed`] for `job`.
    pub async fn completed(&self, pool: &PgPool, job: JobView) -> Option<JobView> {
        (self.completed)(pool.clone(), job).await
    }
}

/// The fitter and timeout of every registered job kind.
#[derive(Clone, Default)]
pub struct Fitters {
    kinds: HashMap<JobKind, Registered>,
}

impl Fitters {
    /// Registers `fitter` for its kind, whose attempts may run `timeout` each.
    ///
    /// # Panics
    ///
    /// When the kind already has a fitter.
    pub fn register<F: Fitter>(mut self, fitter: F, timeout: Duration) -> Self {
        let fitter = Arc::new(fitter);
        let completed = {
            let fitter = fitter.clone();
            move |pool: PgPool, job: JobView| fitter.completed(pool, job)
        };
        let load = move |pool: PgPool, user: Uuid| -> LocalBoxFuture<'static, _> {
            let fitter = fitter.clone();
            Box::pin(async move {
                let input = F::Input::read(&pool, user).await?;
                Ok(Box::new(move |control: &mut dyn JobControl| fitter.fit(input, control)) as Fit)
            })
        };
        let registered = Registered {
            timeout,
            load: Arc::new(load),
            completed: Arc::new(completed),
        };
        let previous = self.kinds.insert(F::KIND, registered);
        assert!(previous.is_none(), "two fitters for {}", F::KIND.as_str());
        self
    }

    /// The registration of `kind`, if any.
    pub fn get(&self, kind: JobKind) -> Option<&Registered> {
        self.kinds.get(&kind)
    }
}
