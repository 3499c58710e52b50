//! The answers the forecasting routes give (categorization spec §6.3 shapes with the §6.5
//! additions), as pure functions of a fitted model: `POST /forecast/predict`'s [`Prediction`]
//! and `GET /forecast/safe-to-spend`'s [`SafeToSpend`], each [`Sourced`] with where the model
//! came from.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{forecast_after, ForecastModel, ModelKind, MAX_HORIZON, PATHS};
use super::safe_to_spend::{self, Horizon, SafeToSpend};
use super::stats::money;
use crate::error::CoreError;

/// The forecast horizon when `POST /forecast/predict` names none.
pub const DEFAULT_PREDICT_DAYS: u32 = 7;
/// The note of an answer without any usable transaction (§6.3).
const NO_DATA_NOTE: &str = "No transactions found in the last 90 days.";

/// `horizon_days` of a prediction, checked: 1..=[`MAX_HORIZON`].
pub fn predict_horizon(days: i64) -> Result<u32, CoreError> {
    u32::try_from(days)
        .ok()
        .filter(|d| (1..=MAX_HORIZON).contains(d))
        .ok_or_else(|| {
            CoreError::invalid(format!(
                "`horizon_days` must be between 1 and {MAX_HORIZON}"
            ))
        })
}

/// Where the model behind an answer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The user's newest forecaster job, current for the data (see [`super::store`]).
    TrainedModel,
    /// Fitted from the stored transactions for this request (no current model).
    FittedOnRequest,
    /// Fitted from an uploaded statement that was not stored.
    UploadedFile,
}

/// The model's origin, added to an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Origin {
    /// Where the model comes from.
    pub source: Source,
    /// The job that fitted it ([`Source::TrainedModel`] only).
    pub model_job_id: Option<Uuid>,
}

/// An answer with its model's origin (left out of the no-data answers, which have no model).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Sourced<T> {
    /// The answer's own fields.
    #[serde(flatten)]
    pub answer: T,
    /// `source` and `model_job_id`, absent from the no-data answers (documented as an open
    /// object: a flattened `Option` has no schema of its own).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub origin: Option<Origin>,
}

/// One predicted day of `POST /forecast/predict`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PredictedDay {
    /// 1 for the first forecast day.
    pub day_offset: u32,
    /// Median spend (p50), recurring debits included.
    pub predicted_spend: f64,
    /// The income rate `r`.
    pub predicted_income: f64,
    /// `predicted_income − predicted_spend`.
    pub predicted_net: f64,
    /// The day.
    pub date: NaiveDate,
    /// 10th percentile of spend.
    pub p10: f64,
    /// 90th percentile of spend.
    pub p90: f64,
}

/// The `POST /forecast/predict` answer: the original fields (`predictions`, `horizon_days`,
/// `model`, `note`) plus the forecast's `confidence`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Prediction {
    /// One entry per forecast day.
    pub predictions: Vec<PredictedDay>,
    /// Days forecast.
    pub horizon_days: u32,
    /// `ets_weekly_v1`, `log_mean`, `insufficient_data`, or `statistical_mvp` without data.
    #[schema(value_type = String)]
    pub model: safe_to_spend::Method,
    /// What the numbers are based on.
    pub note: String,
    /// 0..=1 (§6.5), 0 without data.
    pub confidence: f64,
}

/// The prediction for the `horizon_days` after `today` from `model` (a model whose data ends
/// more than [`MAX_HORIZON`] days before today, or none, predicts zeros with the no-data note).
pub fn predict(
    model: Option<&ForecastModel>,
    origin: Option<Origin>,
    today: NaiveDate,
    horizon_days: u32,
) -> Sourced<Prediction> {
    let skip = model.map(|m| (today - m.last_date).num_days().max(0));
    let (Some(model), Some(skip)) = (model, skip.filter(|s| *s <= i64::from(MAX_HORIZON))) else {
        return Sourced {
            answer: no_prediction(today, horizon_days),
            origin: None,
        };
    };
    let forecast = forecast_after(model, skip as u32, horizon_days);
    let income = forecast.income_rate;
    let note = match model.model {
        ModelKind::InsufficientData => {
            "Fewer than 7 days of transaction history: spending cannot be forecast yet.".into()
        }
        _ => format!(
            "Based on {} days of transaction history: the median of {PATHS} simulated \
             spending paths (recurring payments on their due days) and the income rate.",
            model.days
        ),
    };
    let predictions = forecast
        .days
        .iter()
        .zip(1..)
        .map(|(day, day_offset)| PredictedDay {
            day_offset,
            predicted_spend: day.spend.p50,
            predicted_income: income,
            predicted_net: money(income - day.spend.p50),
            date: day.date,
            p10: day.spend.p10,
            p90: day.spend.p90,
        })
        .collect::<Vec<_>>();
    Sourced {
        answer: Prediction {
            horizon_days: predictions.len() as u32,
            predictions,
            model: safe_to_spend::Method::Fitted(model.model),
            note,
            confidence: forecast.confidence,
        },
        origin,
    }
}

/// Zeros for each day after `today`, with the no-data note.
fn no_prediction(today: NaiveDate, horizon_days: u32) -> Prediction {
    let horizon = horizon_days.clamp(1, MAX_HORIZON);
    Prediction {
        predictions: today
            .iter_days()
            .skip(1)
            .zip(1..=horizon)
            .map(|(date, day_offset)| PredictedDay {
                day_offset,
                predicted_spend: 0.0,
                predicted_income: 0.0,
                predicted_net: 0.0,
                date,
                p10: 0.0,
                p90: 0.0,
            })
            .collect(),
        horizon_days: horizon,
        model: safe_to_spend::Method::StatisticalMvp,
        note: NO_DATA_NOTE.into(),
        confidence: 0.0,
    }
}

/// The safe-to-spend answer (§6.5 v2) for the days after `today`; the exact §6.3 no-data
/// answer, without an origin, when the model gives none.
pub fn safe_to_spend(
    model: Option<&ForecastModel>,
    origin: Option<Origin>,
    today: NaiveDate,
    horizon: Horizon,
) -> Sourced<SafeToSpend> {
    let answer = safe_to_spend::v2(model, today, horizon);
    let origin = origin.filter(|_| answer.days_analyzed.is_some());
    Sourced { answer, origin }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::forecasting::daily_series::flows;
    use crate::forecasting::daily_series::tests::{day, worked_example};
    use crate::forecasting::model::fit;
    use crate::training::testing::RecordingControl;

    fn model() -> ForecastModel {
        let end = day(2025, 12, 31);
        let flows = flows(&worked_example(end), end);
        fit(&flows, end, 42, &RecordingControl::running())
            .unwrap()
            .model
    }

    const TRAINED: Origin = Origin {
        source: Source::TrainedModel,
        model_job_id: Some(Uuid::nil()),
    };

    #[test]
    fn a_model_reads_back_from_json_exactly() {
        let model = model();
        let back: ForecastModel =
            serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
        assert_eq!(back, model);
    }

    #[test]
    fn horizons_are_checked() {
        assert_eq!(predict_horizon(1).unwrap(), 1);
        assert_eq!(predict_horizon(90).unwrap(), 90);
        for bad in [0, 91, -1, i64::MAX] {
            assert!(predict_horizon(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn predictions_keep_the_original_fields_and_add_the_quantiles() {
        let model = model();
        let answer = predict(Some(&model), Some(TRAINED), day(2026, 1, 2), 7);
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["horizon_days"], 7);
        assert_eq!(json["model"], "ets_weekly_v1");
        assert_eq!(json["source"], "trained_model");
        assert_eq!(json["model_job_id"], json!(Uuid::nil()));
        let first = &json["predictions"][0];
        assert_eq!(first["day_offset"], 1);
        // Two days after the model's last date: the forecast starts the day after today.
        assert_eq!(first["date"], "2026-01-03");
        for day in &answer.answer.predictions {
            assert!(day.p10 <= day.predicted_spend && day.predicted_spend <= day.p90);
            assert_eq!(day.predicted_income, money(model.income_rate));
            assert!(
                (day.predicted_net - (day.predicted_income - day.predicted_spend)).abs() < 0.01
            );
        }
        // Rent on the 5th.
        assert!(answer.answer.predictions[2].p10 >= 20_000.0);
    }

    #[test]
    fn without_a_model_predictions_are_zeros_without_an_origin() {
        let answer = predict(None, Some(TRAINED), day(2026, 1, 2), 3);
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["model"], "statistical_mvp");
        assert_eq!(json["note"], NO_DATA_NOTE);
        assert_eq!(json["predictions"].as_array().unwrap().len(), 3);
        assert_eq!(json["predictions"][2]["date"], "2026-01-05");
        assert!(json.get("source").is_none());
        // A model whose data ended long ago forecasts nothing.
        let stale = predict(Some(&model()), Some(TRAINED), day(2026, 6, 1), 3);
        assert_eq!(stale.answer.note, NO_DATA_NOTE);
    }

    #[test]
    fn safe_to_spend_without_data_is_the_exact_original_answer() {
        let answer = safe_to_spend(None, Some(TRAINED), day(2026, 1, 2), Horizon::default());
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            json!({"safe_amount":0.0,"currency":"INR","horizon_days":7,"confidence":0.0,
                   "model":"statistical_mvp","note":"No transactions found in the last 90 days."})
        );
        let served = safe_to_spend(
            Some(&model()),
            Some(TRAINED),
            day(2026, 1, 1),
            Horizon::default(),
        );
        let json = serde_json::to_value(&served).unwrap();
        assert_eq!(json["source"], "trained_model");
        assert!(json["explanation"]["text"].is_string());
        assert_eq!(json["forecast_breakdown"].as_array().unwrap().len(), 7);
    }
}
