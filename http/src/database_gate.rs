//! Refuses database work at once while the health actor reports Postgres down: every `/api/v1`
//! route except health, ops and the OpenAPI document answers 503 `database_unavailable` with `Retry-After` instead of
//! waiting for a pool checkout that cannot succeed.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::problem::ApiError;
use crate::AppState;

/// Routes that answer without Postgres (readiness must tell operators what is down; the
/// OpenAPI document is built in memory).
pub(crate) fn exempt(path: &str) -> bool {
    let route = path.strip_prefix("/api/v1").unwrap_or(path);
    ["/health", "/ops", "/openapi.json"].iter().any(|prefix| {
        route
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The middleware (`from_fn`).
pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let down = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.postgres.is_down());
    if down && !exempt(req.path()) {
        let res = req.error_response(ApiError::database_unavailable());
        return Ok(res.map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::exempt;

    #[test]
    fn only_health_and_ops_are_exempt() {
        for path in [
            "/api/v1/health",
            "/api/v1/health/ready",
            "/api/v1/ops/actors",
        ] {
            assert!(exempt(path), "{path}");
        }
        for path in [
            "/api/v1/healthy",
            "/api/v1/accounts/transactions",
            "/api/v1/opsx",
        ] {
            assert!(!exempt(path), "{path}");
        }
    }
}
