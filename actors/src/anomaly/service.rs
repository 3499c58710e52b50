//! The anomaly actor: scans a user's ledger (after an import, for the rows it added, or on
//! demand, for the recent history), stores what the detectors raise and publishes every alert
//! stored now as an [`AlertRaised`] on its bus, so the user's WebSockets and SSE streams in
//! every process hear of it; it also lists the user's alerts, marks them seen or dismissed and
//! keeps the user's thresholds. Every answer is a [`Reply::later`] (no query blocks the
//! mailbox) and the detectors run on the blocking pool, never on the arbiter.

use std::sync::Arc;

use chrono::Utc;
use scale_schema::PgPool;
use scale_supervision::{Handles, Reply, Request, Service, ServiceContext};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::alert::Alert;
use super::detectors::Thresholds;
use super::query::{AlertQuery, AlertStatus};
use super::scan::scan;
use super::store::{self, AlertPage, Judged, StoredAlerts};
use crate::error::CoreError;
use crate::events::{Bus, Topic};

/// A new alert of a user, as subscribers receive it: the alert's fields with its owner,
/// status and currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRaised {
    /// The owner: only this user's connections receive it.
    pub user_id: Uuid,
    /// Always `new`.
    pub status: AlertStatus,
    /// ISO 4217 code of the amount.
    pub currency: String,
    /// The alert.
    #[serde(flatten)]
    pub alert: Alert,
}

impl Topic for AlertRaised {
    const CHANNEL: &'static str = "anomaly:alerts";
}

/// Scan a user's ledger; answers the alerts stored now (already published).
pub struct Scan {
    /// Whose ledger.
    pub user: Uuid,
    /// Which rows are judged.
    pub judged: Judged,
}

/// One page of a user's alerts.
pub struct ListAlerts {
    /// Whose alerts.
    pub user: Uuid,
    /// The validated query.
    pub query: AlertQuery,
}

/// Mark a user's alert seen or dismissed.
pub struct MarkAlert {
    /// Whose alert.
    pub user: Uuid,
    /// The alert's id (as sent: anything but a 64-digit hex id of the user's is not found).
    pub id: String,
    /// `Seen` or `Dismissed`.
    pub status: AlertStatus,
}

/// A user's thresholds.
pub struct GetThresholds {
    /// Whose.
    pub user: Uuid,
}

/// Replace a user's thresholds (validated); answers them.
pub struct PutThresholds {
    /// Whose.
    pub user: Uuid,
    /// The new thresholds.
    pub thresholds: Thresholds,
}

impl Request for Scan {
    type Output = Result<Vec<AlertRaised>, CoreError>;
}
impl Request for ListAlerts {
    type Output = Result<AlertPage, CoreError>;
}
impl Request for MarkAlert {
    type Output = Result<(), CoreError>;
}
impl Request for GetThresholds {
    type Output = Result<Thresholds, CoreError>;
}
impl Request for PutThresholds {
    type Output = Result<Thresholds, CoreError>;
}

/// The anomaly actor's state: the pool and the bus new alerts go out on.
pub struct AnomalyService {
    pool: PgPool,
    alerts: Bus<AlertRaised>,
}

impl AnomalyService {
    /// A service storing through `pool` and publishing new alerts on `alerts`.
    pub fn new(pool: PgPool, alerts: Bus<AlertRaised>) -> Self {
        Self { pool, alerts }
    }
}

impl Service for AnomalyService {
    const NAME: &'static str = "anomaly";
}

/// Scans `user`'s ledger as `judged` says, stores the alerts and publishes those stored now.
async fn scan_user(
    pool: &PgPool,
    bus: &Bus<AlertRaised>,
    user: Uuid,
    judged: Judged,
) -> Result<Vec<AlertRaised>, CoreError> {
    let Some(input) = store::scan_input(pool, user, judged, Utc::now()).await? else {
        return Ok(Vec::new());
    };
    let input = Arc::new(input);
    let alerts = tokio::task::spawn_blocking(move || {
        scan(&input.rows, &input.new_ids, input.today, &input.thresholds)
    })
    .await
    .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()));
    let StoredAlerts { currency, alerts } = store::store(pool, user, alerts).await?;
    let mut raised = Vec::with_capacity(alerts.len());
    for alert in alerts {
        let event = AlertRaised {
            user_id: user,
            status: AlertStatus::New,
            currency: currency.clone(),
            alert,
        };
        bus.publish(event.clone()).await;
        raised.push(event);
    }
    Ok(raised)
}

impl Handles<Scan> for AnomalyService {
    fn handle(
        &mut self,
        msg: Scan,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<Scan as Request>::Output> {
        let (pool, bus) = (self.pool.clone(), self.alerts.clone());
        Reply::later(async move { scan_user(&pool, &bus, msg.user, msg.judged).await })
    }
}

impl Handles<ListAlerts> for AnomalyService {
    fn handle(
        &mut self,
        msg: ListAlerts,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<ListAlerts as Request>::Output> {
        let pool = self.pool.clone();
        Reply::later(async move { store::list(&pool, msg.user, msg.query).await })
    }
}

impl Handles<MarkAlert> for AnomalyService {
    fn handle(
        &mut self,
        msg: MarkAlert,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<MarkAlert as Request>::Output> {
        let pool = self.pool.clone();
        Reply::later(async move { store::mark(&pool, msg.user, &msg.id, msg.status).await })
    }
}

impl Handles<GetThresholds> for AnomalyService {
    fn handle(
        &mut self,
        msg: GetThresholds,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<GetThresholds as Request>::Output> {
        let pool = self.pool.clone();
        Reply::later(async move { store::thresholds(&pool, msg.user).await })
    }
}

impl Handles<PutThresholds> for AnomalyService {
    fn handle(
        &mut self,
        msg: PutThresholds,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<PutThresholds as Request>::Output> {
        let pool = self.pool.clone();
        Reply::later(async move {
            store::put_thresholds(&pool, msg.user, &msg.thresholds).await?;
            Ok(msg.thresholds)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::alert::AlertKind;

    #[test]
    fn raised_alerts_travel_flat_and_round_trip() {
        let alert = Alert::new(
            AlertKind::DuplicateCharge,
            vec![Uuid::from_u128(1), Uuid::from_u128(2)],
            "2026-02-13".into(),
        );
        let event = AlertRaised {
            user_id: Uuid::from_u128(9),
            status: AlertStatus::New,
            currency: "INR".into(),
            alert,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "duplicate_charge");
        assert_eq!(json["status"], "new");
        assert_eq!(json["id"], event.alert.id.as_str());
        assert_eq!(serde_json::from_value::<AlertRaised>(json).unwrap(), event);
    }
}
