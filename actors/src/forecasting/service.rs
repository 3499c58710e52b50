//! The forecasting actor: answers forecasts and safe-to-spend for a user from the user's model,
//! cached per user through the cache actor.
//!
//! The model is the newest forecaster job's when it is current for the user's data (see
//! [`store`]), else one fitted on request from the stored ledger on the blocking pool within
//! [`FIT_BUDGET`] (past it the request fails with [`ForecastError::TimedOut`]; nothing hangs).
//! Either is cached under `fc:{user}` ([`keys::forecast`]) with the user's zone and its origin,
//! for [`MODEL_TTL`], under the data version the cache read saw: an import, edit or delete
//! (which invalidate the user's cache in every process) drops it, and a model computed across
//! such a change is never stored. A completed job of the user, heard on the job bus from any
//! process, invalidates the user's cache too, so the next request reads the new model. Answers
//! are computed from the cached model on the blocking pool (1,000 simulated paths).
//!
//! An uploaded statement ([`PredictEntries`]) is fitted the same way and never cached or stored.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use scale_schema::PgPool;
use scale_supervision::{spawn_then, Handle, Handles, Reply, Request, Service, ServiceContext};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::answer::{self, Origin, Prediction, Source, Sourced};
use super::daily_series::flows;
use super::model::{fit, ForecastModel};
use super::safe_to_spend::{Horizon, SafeToSpend};
use super::store::{self, Snapshot};
use crate::cache::keys;
use crate::cache::service::{CacheService, Get, Invalidate, Lookup, Set, Version};
use crate::error::{core_error, CoreError};
use crate::events::{EventBus, JobEvent};
use crate::jobs::JobStatus;
use crate::training::fitting::{JobControl, Ledger, LedgerEntry, Loadable, TrainError};
use crate::training::loader::{seed, today_in};
use crate::training::TrainingError;

/// Longest a fit on request may take.
pub const FIT_BUDGET: Duration = Duration::from_secs(3);
/// How long a user's model stays cached without a change notice.
pub const MODEL_TTL: Duration = Duration::from_secs(600);
/// The zone of a user without a profile (who has stored nothing).
const DEFAULT_TIMEZONE: &str = "Asia/Kolkata";

/// Why a forecast failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForecastError {
    /// A failure every domain shares (validation, database).
    #[error(transparent)]
    Core(CoreError),
    /// Fitting on request took longer than [`FIT_BUDGET`].
    #[error("the forecast could not be fitted within {} s; retry later", FIT_BUDGET.as_secs())]
    TimedOut,
    /// The fit failed.
    #[error("the forecast failed: {0}")]
    Failed(String),
}

core_error!(ForecastError);

impl From<TrainingError> for ForecastError {
    fn from(err: TrainingError) -> Self {
        match err {
            TrainingError::Core(core) => Self::Core(core),
            other => Self::Failed(other.to_string()),
        }
    }
}

/// Safe-to-spend (§6.5 v2) of a user's stored transactions.
pub struct SafeToSpendOf {
    /// Whose.
    pub user: Uuid,
    /// Days ahead.
    pub horizon: Horizon,
}

impl Request for SafeToSpendOf {
    type Output = Result<Sourced<SafeToSpend>, ForecastError>;
}

/// The spend forecast of a user's stored transactions.
pub struct PredictStored {
    /// Whose.
    pub user: Uuid,
    /// Days ahead (checked by [`answer::predict_horizon`]).
    pub horizon_days: u32,
}

impl Request for PredictStored {
    type Output = Result<Sourced<Prediction>, ForecastError>;
}

/// The spend forecast of transactions that are not stored (an uploaded statement), from the
/// day after the last of them.
pub struct PredictEntries {
    /// Whose (the simulation's seed).
    pub user: Uuid,
    /// The transactions.
    pub entries: Vec<LedgerEntry>,
    /// Days ahead (checked by [`answer::predict_horizon`]).
    pub horizon_days: u32,
}

impl Request for PredictEntries {
    type Output = Result<Sourced<Prediction>, ForecastError>;
}

/// What is cached per user: the model answers are computed from, its origin, and the user's
/// zone (what "today" is).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UserModel {
    timezone: String,
    origin: Option<Origin>,
    model: Option<ForecastModel>,
}

impl UserModel {
    fn today(&self) -> NaiveDate {
        today_in(&self.timezone, Utc::now())
    }
}

/// The forecasting actor's state.
pub struct ForecastService {
    pool: PgPool,
    cache: Handle<CacheService>,
    jobs: EventBus,
}

impl ForecastService {
    /// A service reading users' data from `pool`, caching through `cache` and hearing of new
    /// models on `jobs`.
    pub fn new(pool: PgPool, cache: Handle<CacheService>, jobs: EventBus) -> Self {
        Self { pool, cache, jobs }
    }

    /// Answers with `answer` of `user`'s model, computed on the blocking pool.
    fn answer_from_model<T: Send + 'static>(
        &self,
        user: Uuid,
        answer: impl FnOnce(UserModel) -> T + Send + 'static,
    ) -> Reply<Result<T, ForecastError>> {
        let (pool, cache) = (self.pool.clone(), self.cache.clone());
        Reply::later(async move {
            let model = user_model(&pool, &cache, user).await?;
            Ok(blocking(move || answer(model)).await)
        })
    }
}

/// Invalidates the cache of each user whose job completes, until the bus closes.
async fn follow(mut events: broadcast::Receiver<Arc<JobEvent>>, cache: Handle<CacheService>) {
    loop {
        match events.recv().await {
            Ok(event) if event.status == JobStatus::Completed => {
                if let Err(error) = cache
                    .ask(Invalidate {
                        user: event.user_id,
                    })
                    .await
                {
                    tracing::warn!(%error, user = %event.user_id, "forecast cache not invalidated");
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "job events missed: cached forecasts expire with their TTL"
                );
            }
            Err(RecvError::Closed) => return,
        }
    }
}

impl Service for ForecastService {
    const NAME: &'static str = "forecaster";

    fn started(&mut self, ctx: &mut ServiceContext<Self>) {
        let listener = follow(self.jobs.subscribe(), self.cache.clone());
        spawn_then(ctx, listener, |_, (), _| {});
    }
}

impl Handles<SafeToSpendOf> for ForecastService {
    fn handle(
        &mut self,
        msg: SafeToSpendOf,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<Sourced<SafeToSpend>, ForecastError>> {
        self.answer_from_model(msg.user, move |user| {
            answer::safe_to_spend(user.model.as_ref(), user.origin, user.today(), msg.horizon)
        })
    }
}

impl Handles<PredictStored> for ForecastService {
    fn handle(
        &mut self,
        msg: PredictStored,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<Sourced<Prediction>, ForecastError>> {
        self.answer_from_model(msg.user, move |user| {
            let today = user.today();
            answer::predict(user.model.as_ref(), user.origin, today, msg.horizon_days)
        })
    }
}

impl Handles<PredictEntries> for ForecastService {
    fn handle(
        &mut self,
        msg: PredictEntries,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<Sourced<Prediction>, ForecastError>> {
        Reply::later(async move {
            let Some(last) = msg.entries.iter().map(|e| e.date).max() else {
                return Err(CoreError::invalid("the file holds no transactions").into());
            };
            let model = fit_bounded(msg.entries, last, seed(msg.user)).await?;
            let origin = Origin {
                source: Source::UploadedFile,
                model_job_id: None,
            };
            Ok(blocking(move || {
                answer::predict(model.as_ref(), Some(origin), last, msg.horizon_days)
            })
            .await)
        })
    }
}

/// The user's model from the cache, else read (or fitted) and cached under the version the
/// cache read saw. A failing cache only costs the lookup.
async fn user_model(
    pool: &PgPool,
    cache: &Handle<CacheService>,
    user: Uuid,
) -> Result<UserModel, ForecastError> {
    let key = keys::forecast(user);
    let version = match cache.ask(Get { key: key.clone() }).await {
        Ok(Lookup {
            value: Some(value),
            version,
        }) => match serde_json::from_str(&value) {
            Ok(cached) => return Ok(cached),
            Err(error) => {
                tracing::warn!(%error, %user, "unreadable cached forecast model ignored");
                version
            }
        },
        Ok(Lookup { version, .. }) => version,
        Err(_) => Version::default(),
    };
    let model = load(pool, user).await?;
    match serde_json::to_string(&model) {
        Ok(value) => {
            let set = Set {
                key,
                value,
                ttl: MODEL_TTL,
                version,
            };
            if let Err(error) = cache.ask(set).await {
                tracing::warn!(%error, %user, "forecast model not cached");
            }
        }
        Err(error) => tracing::error!(%error, "cannot serialise a forecast model"),
    }
    Ok(model)
}

/// The user's current trained model, else one fitted from the stored ledger.
async fn load(pool: &PgPool, user: Uuid) -> Result<UserModel, ForecastError> {
    let Some(Snapshot { timezone, current }) = store::snapshot(pool, user).await? else {
        return Ok(UserModel {
            timezone: DEFAULT_TIMEZONE.into(),
            origin: None,
            model: None,
        });
    };
    if let Some(stored) = current {
        return Ok(UserModel {
            timezone,
            origin: Some(Origin {
                source: Source::TrainedModel,
                model_job_id: Some(stored.job_id),
            }),
            model: Some(stored.model),
        });
    }
    let ledger = Ledger::read(pool, user).await?;
    let model = fit_bounded(ledger.entries, ledger.today, ledger.seed).await?;
    Ok(UserModel {
        timezone,
        origin: model.as_ref().map(|_| Origin {
            source: Source::FittedOnRequest,
            model_job_id: None,
        }),
        model,
    })
}

/// Fits `entries` as of `today` on the blocking pool within [`FIT_BUDGET`]; `None` when no
/// transaction is usable.
async fn fit_bounded(
    entries: Vec<LedgerEntry>,
    today: NaiveDate,
    seed: u64,
) -> Result<Option<ForecastModel>, ForecastError> {
    let deadline = Deadline(Instant::now() + FIT_BUDGET);
    blocking(move || {
        let flows = flows(&entries, today);
        if flows.is_empty() {
            return Ok(None);
        }
        match fit(&flows, today, seed, &deadline) {
            Ok(fitted) => Ok(Some(fitted.model)),
            Err(TrainError::Unusable(_)) => Ok(None),
            Err(TrainError::Stopped) => Err(ForecastError::TimedOut),
            Err(TrainError::Failed(reason)) => Err(ForecastError::Failed(reason)),
        }
    })
    .await
}

/// Runs CPU work on the blocking pool; a panic there resumes here (and restarts the actor).
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()))
}

/// Stops a fit on request at its deadline.
struct Deadline(Instant);

impl JobControl for Deadline {
    fn step(&mut self, _: u32, _: u32, _: &str) -> Result<(), TrainError> {
        self.check()
    }

    fn check(&self) -> Result<(), TrainError> {
        if Instant::now() < self.0 {
            Ok(())
        } else {
            Err(TrainError::Stopped)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_stops_once_passed() {
        let now = Instant::now();
        assert_eq!(Deadline(now + Duration::from_secs(60)).check(), Ok(()));
        assert_eq!(Deadline(now).step(1, 2, "x"), Err(TrainError::Stopped));
    }
}
