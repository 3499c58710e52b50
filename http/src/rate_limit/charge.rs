//! A rate-limit charge its handler makes, for a route where only the body tells whether a
//! request counts: `POST /ingest/import` counts a chunked upload once, when a chunk opens it,
//! and a chunk stored into an upload already open not at all. The middleware leaves the charge
//! in the request's extensions instead of counting the request, and adds the headers of the
//! decision the handler reached (none when it never charged).

use std::sync::{Arc, Mutex};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{ready, Ready};

use super::{lock, rate_limited, Decision, Tier};
use crate::problem::ApiError;
use crate::AppState;

/// One request's charge in `tier`, made at most once however often it is asked for.
#[derive(Clone)]
pub struct Charge {
    state: web::Data<AppState>,
    tier: Tier,
    subject: String,
    decision: Arc<Mutex<Option<Decision>>>,
}

impl Charge {
    /// The charge of a request by `subject` in `tier`, not made yet.
    pub(super) fn new(state: web::Data<AppState>, tier: Tier, subject: String) -> Self {
        Self {
            state,
            tier,
            subject,
            decision: Arc::default(),
        }
    }

    /// Counts the request (the first time) and says whether it may proceed.
    pub async fn admit(&self) -> bool {
        self.decide().await.allowed
    }

    /// [`Charge::admit`], answering 429 `rate_limited` (with `Retry-After`) over the limit.
    pub async fn require(&self) -> Result<(), ApiError> {
        let decision = self.decide().await;
        if decision.allowed {
            Ok(())
        } else {
            Err(rate_limited(self.tier, &decision))
        }
    }

    /// The decision: made now the first time, remembered after.
    async fn decide(&self) -> Decision {
        if let Some(decision) = self.decision() {
            return decision;
        }
        let decision = self
            .state
            .rate_limiter
            .check(self.tier, &self.subject)
            .await;
        *lock(&self.decision) = Some(decision);
        decision
    }

    /// The decision, once the charge was made.
    pub(super) fn decision(&self) -> Option<Decision> {
        *lock(&self.decision)
    }
}

/// The charge the middleware left for this request; a route the middleware does not leave one
/// for is a wiring mistake (500).
impl FromRequest for Charge {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<Charge>().cloned().ok_or_else(|| {
            tracing::error!("no rate-limit charge left for a route that charges itself");
            ApiError::internal()
        }))
    }
}
