//! The training actor: answers the API's job requests with [`Reply::later`], so no query blocks
//! its mailbox. Every change is published on the [`EventBus`] after its transaction committed.

use scale_schema::PgPool;
use uuid::Uuid;

use super::listing::JobQuery;
use super::store::{self, JobPage, JobView, ModelView};
use super::TrainingError;
use crate::events::{EventBus, JobEvent};
use crate::jobs::JobKind;
use scale_supervision::{Handles, Reply, Request, Service, ServiceContext};

/// One of the caller's jobs.
pub struct GetJob {
    /// Whose job.
    pub user: Uuid,
    /// Its id.
    pub id: Uuid,
}

/// Queue a new job; [`TrainingError::Conflict`] when one of the same kind is active.
pub struct CreateJob {
    /// Whose job.
    pub user: Uuid,
    /// The role stored if the user's row is created now (`user` or `admin`).
    pub role: &'static str,
    /// What it fits.
    pub kind: JobKind,
    /// Attempts allowed (the table's default when `None`).
    pub max_attempts: Option<i32>,
}

/// One page of the caller's jobs.
pub struct ListJobs {
    /// Whose jobs.
    pub user: Uuid,
    /// Filters, page size and cursor.
    pub query: JobQuery,
}

/// Cancel one of the caller's jobs; [`TrainingError::Finished`] when it already finished.
pub struct CancelJob {
    /// Whose job.
    pub user: Uuid,
    /// Its id.
    pub id: Uuid,
}

/// The logged events of one of the caller's jobs after `after_seq`, oldest first (at most
/// [`store::EVENTS_PAGE`]).
pub struct Events {
    /// Whose job.
    pub user: Uuid,
    /// The job.
    pub job: Uuid,
    /// Only events with a larger sequence number.
    pub after_seq: i64,
}

/// The caller's newest job, if any.
pub struct Latest {
    /// Whose job.
    pub user: Uuid,
}

/// The caller's newest models (at most [`store::MODELS_LISTED`]), newest first.
pub struct ListModels {
    /// Whose models.
    pub user: Uuid,
}

impl Request for GetJob {
    type Output = Result<JobView, TrainingError>;
}
impl Request for CreateJob {
    type Output = Result<JobView, TrainingError>;
}
impl Request for ListJobs {
    type Output = Result<JobPage, TrainingError>;
}
impl Request for CancelJob {
    type Output = Result<JobView, TrainingError>;
}
impl Request for Events {
    type Output = Result<Vec<JobEvent>, TrainingError>;
}
impl Request for Latest {
    type Output = Result<Option<JobView>, TrainingError>;
}
impl Request for ListModels {
    type Output = Result<Vec<ModelView>, TrainingError>;
}

/// The training actor's state.
pub struct TrainingService {
    pool: PgPool,
    events: EventBus,
}

impl TrainingService {
    /// A service querying through `pool` and publishing on `events`.
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// The bus this service publishes job events on.
    pub fn events(&self) -> &EventBus {
        &self.events
    }
}

impl Service for TrainingService {
    const NAME: &'static str = "training";
}

/// Implements [`Handles`] for a request by running `$body` (an async expression over `pool`,
/// `events` and `msg`) off the mailbox.
macro_rules! handle_later {
    ($msg:ty, |$pool:ident, $events:ident, $m:ident| $body:expr) => {
        impl Handles<$msg> for TrainingService {
            fn handle(
                &mut self,
                $m: $msg,
                _: &mut ServiceContext<Self>,
            ) -> Reply<<$msg as Request>::Output> {
                let $pool = self.pool.clone();
                #[allow(unused_variables)]
                let $events = self.events.clone();
                Reply::later(async move { $body })
            }
        }
    };
}

/// Publishes the changed job's event (after the commit) and hands the job back.
async fn published(events: &EventBus, job: JobView) -> JobView {
    events.publish(job.event()).await;
    job
}

handle_later!(GetJob, |pool, events, msg| store::get(
    &pool, msg.user, msg.id
)
.await);
handle_later!(CreateJob, |pool, events, msg| {
    let job = store::create(&pool, msg.user, msg.role, msg.kind, msg.max_attempts).await?;
    Ok(published(&events, job).await)
});
handle_later!(ListJobs, |pool, events, msg| store::list(
    &pool, msg.user, &msg.query
)
.await);
handle_later!(CancelJob, |pool, events, msg| {
    let job = store::cancel(&pool, msg.user, msg.id).await?;
    Ok(published(&events, job).await)
});
handle_later!(Events, |pool, events, msg| store::events(
    &pool,
    msg.user,
    msg.job,
    msg.after_seq
)
.await);
handle_later!(Latest, |pool, events, msg| store::latest(&pool, msg.user)
    .await);
handle_later!(ListModels, |pool, events, msg| store::models(
    &pool, msg.user
)
.await);
