//! The analytics actor: owns the Postgres pool and answers every request with
//! [`Reply::later`], so no query blocks its mailbox. Requests carry validated input and an
//! explicit `today` (the caller resolves the time zone).

use chrono::NaiveDate;
use scale_schema::PgPool;
use uuid::Uuid;

use super::period::Timeframe;
use super::report::{Overview, Summary};
use super::store;
use crate::error::CoreError;
use scale_supervision::{Handles, Reply, Request, Service, ServiceContext};

/// The caller's stored time zone (`None` without a profile row).
pub struct UserTimezone {
    /// Whose zone.
    pub user: Uuid,
}

/// The caller's overview of a week or month.
pub struct GetOverview {
    /// Whose transactions.
    pub user: Uuid,
    /// Week or month.
    pub timeframe: Timeframe,
    /// The caller's current date.
    pub today: NaiveDate,
}

/// The caller's all-history summary.
pub struct GetSummary {
    /// Whose transactions.
    pub user: Uuid,
    /// The caller's current date (decides the current month).
    pub today: NaiveDate,
}

impl Request for UserTimezone {
    type Output = Result<Option<String>, CoreError>;
}
impl Request for GetOverview {
    type Output = Result<Overview, CoreError>;
}
impl Request for GetSummary {
    type Output = Result<Summary, CoreError>;
}

/// The analytics actor's state.
pub struct AnalyticsService {
    pool: PgPool,
}

impl AnalyticsService {
    /// A service querying through `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl Service for AnalyticsService {
    const NAME: &'static str = "analytics";
}

impl Handles<UserTimezone> for AnalyticsService {
    fn handle(
        &mut self,
        msg: UserTimezone,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<UserTimezone as Request>::Output> {
        let pool = self.pool.clone();
        Reply::later(async move { store::timezone(&pool, msg.user).await })
    }
}

impl Handles<GetOverview> for AnalyticsService {
    fn handle(
        &mut self,
        msg: GetOverview,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<GetOverview as Request>::Output> {
        let pool = self.pool.clone();
        Reply::later(
            async move { store::overview(&pool, msg.user, msg.timeframe, msg.today).await },
        )
    }
}

impl Handles<GetSummary> for AnalyticsService {
    fn handle(
        &mut self,
        msg: GetSummary,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<GetSummary as Request>::Output> {
        let pool = self.pool.clone();
        Reply::later(async move { store::summary(&pool, msg.user, msg.today).await })
    }
}
