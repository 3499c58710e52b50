//! The training actor: answers job requests from HTTP handlers with [`Reply::later`], so no
//! query blocks its mailbox.

use scale_schema::PgPool;
use uuid::Uuid;

use super::events::EventBus;
use super::store::{self, JobView};
use super::TrainingError;
use crate::supervision::{Handles, Reply, Request, Service, ServiceContext};

/// One of the caller's jobs.
pub struct GetJob {
    /// Whose job.
    pub user: Uuid,
    /// Its id.
    pub id: Uuid,
}

impl Request for GetJob {
    type Output = Result<JobView, TrainingError>;
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

impl Handles<GetJob> for TrainingService {
    fn handle(
        &mut self,
        msg: GetJob,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<GetJob as Request>::Output> {
        let pool = self.pool.clone();
        Reply::later(async move { store::get(&pool, msg.user, msg.id).await })
    }
}
