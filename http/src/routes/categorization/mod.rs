//! Categorization routes (`/api/v1/categorization/*`): `classify` (one narration, a batch, the
//! web client's map; the classify rate-limit tier) and `discover` (groups among narrations
//! nothing categorised; the same tier), answered by the classifier actor, and `models` (the
//! caller's trained models), answered by the training actor.

mod classify;
mod discover;
mod models;

use actix_web::http::StatusCode;
use actix_web::web;
use scale_statements::text;

use crate::problem::{ApiError, Code};

/// Registers the categorization routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(classify::configure)
        .configure(discover::configure)
        .configure(models::configure);
}

/// Checks a list of narrations sent by a client (not empty, at most `max`, each free of NUL
/// characters and within the description limit, one amount or null per description when
/// amounts are sent) and pairs each with its amount.
fn narrations(
    descriptions: Vec<String>,
    amounts: Option<Vec<Option<f64>>>,
    max: usize,
) -> Result<Vec<(String, Option<f64>)>, ApiError> {
    if descriptions.is_empty() {
        return Err(ApiError::bad_request(
            Code::BadRequest,
            "No descriptions provided",
        ));
    }
    if descriptions.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            format!("At most {max} descriptions per request"),
        ));
    }
    for (index, description) in descriptions.iter().enumerate() {
        text::check(
            format_args!("descriptions[{index}]"),
            description,
            text::DESCRIPTION,
        )?;
    }
    let amounts = match amounts {
        Some(amounts) if amounts.len() != descriptions.len() => {
            return Err(ApiError::validation(
                "`amounts` must hold one value (or null) per description",
            ))
        }
        Some(amounts) => amounts,
        None => vec![None; descriptions.len()],
    };
    Ok(descriptions.into_iter().zip(amounts).collect())
}
