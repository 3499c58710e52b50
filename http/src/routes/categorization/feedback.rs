//! `POST /categorization/feedback`: free-text corrections (§5.4), in either shape or both mixed:
//! `{description: category}` pairs, or `{category: [descriptions]}` lists (the value's type
//! decides). They are stored and the caller's layer is rebuilt before the answer, so the very
//! next classification of one of those texts answers `source: "user"`.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use scale_actors::categorization::service::Feedback;
use scale_actors::text;
use scale_statements::rows::UNCATEGORIZED;
use scale_statements::text::{CATEGORY, DESCRIPTION};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::learn_from_corrections;
use crate::auth::AuthUser;
use crate::problem::{ApiError, Code};
use crate::AppState;

/// Most corrections one request may carry.
pub const MAX_CORRECTIONS: usize = 5_000;

/// Registers the route.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/categorization/feedback").post(feedback));
}

/// The body: corrections as `{description: category}` or `{category: [descriptions]}`.
#[derive(Deserialize, ToSchema)]
struct FeedbackBody {
    /// The corrections.
    #[schema(value_type = Object)]
    corrections: Map<String, Value>,
}

/// Stores the corrections → `{status: "ok", updated_categories: [sorted, unique],
/// training_job_id}` (the categorizer job queued when enough corrections piled up, else null).
#[utoipa::path(
    post,
    path = "/api/v1/categorization/feedback",
    tag = "categorization",
    request_body = FeedbackBody,
    responses((status = 200, description = "`{status: \"ok\", updated_categories, training_job_id}`.", body = Object))
)]
async fn feedback(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<FeedbackBody>,
) -> Result<HttpResponse, ApiError> {
    let pairs = pairs(body.into_inner().corrections)?;
    let categories: BTreeSet<String> = pairs.iter().map(|(_, c)| c.clone()).collect();
    let msg = Feedback {
        user: user.id,
        role: user.role.as_str(),
        pairs,
    };
    let pending = state.classifier.ask(msg).await??;
    let job = learn_from_corrections(&state, &user, pending).await;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ok",
        "updated_categories": categories,
        "training_job_id": job,
    })))
}

/// The `(description, category)` pairs of both shapes, trimmed; blank ones and
/// `Uncategorized` teach nothing and are dropped.
fn pairs(corrections: Map<String, Value>) -> Result<Vec<(String, String)>, ApiError> {
    if corrections.is_empty() {
        return Err(ApiError::bad_request(
            Code::BadRequest,
            "No corrections provided",
        ));
    }
    let mut pairs = Vec::new();
    for (key, value) in corrections {
        match value {
            Value::String(category) => pairs.push((key, category)),
            Value::Array(descriptions) => {
                for (index, description) in descriptions.into_iter().enumerate() {
                    let Value::String(description) = description else {
                        return Err(ApiError::validation(format!(
                            "corrections[{key:?}][{index}] must be a string"
                        )));
                    };
                    pairs.push((description, key.clone()));
                }
            }
            _ => {
                return Err(ApiError::validation(format!(
                    "corrections[{key:?}] must be a category or a list of descriptions"
                )))
            }
        }
        if pairs.len() > MAX_CORRECTIONS {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                format!("At most {MAX_CORRECTIONS} corrections per request"),
            ));
        }
    }
    let mut valid = Vec::with_capacity(pairs.len());
    for (description, category) in pairs {
        let description = text::trimmed("description", &description, DESCRIPTION)?;
        let category = text::trimmed("category", &category, CATEGORY)?;
        if !description.is_empty()
            && !category.is_empty()
            && !category.eq_ignore_ascii_case(UNCATEGORIZED)
        {
            valid.push((description, category));
        }
    }
    if valid.is_empty() {
        return Err(ApiError::bad_request(
            Code::BadRequest,
            "No valid corrections provided",
        ));
    }
    Ok(valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Value) -> Result<Vec<(String, String)>, ApiError> {
        pairs(serde_json::from_value(value).unwrap())
    }

    #[test]
    fn both_shapes_mix() {
        let got = parse(json!({
            "SWIGGY ORDER": "Food",
            "Transport": [" UBER TRIP ", "OLA RIDE"],
        }))
        .unwrap();
        assert_eq!(
            got,
            [
                ("SWIGGY ORDER".into(), "Food".into()),
                ("UBER TRIP".into(), "Transport".into()),
                ("OLA RIDE".into(), "Transport".into()),
            ]
        );
    }

    #[test]
    fn empty_and_useless_corrections_are_refused() {
        assert_eq!(
            parse(json!({})).unwrap_err().detail,
            "No corrections provided"
        );
        for useless in [
            json!({"x": " "}),
            json!({" ": "Food"}),
            json!({"x": "uncategorized"}),
        ] {
            assert_eq!(
                parse(useless).unwrap_err().detail,
                "No valid corrections provided"
            );
        }
        assert!(parse(json!({"x": 3})).is_err());
        assert!(parse(json!({"Food": ["a", 3]})).is_err());
        assert!(parse(json!({"a\u{0}b": "Food"})).is_err());
    }
}
