//! A user's detector thresholds as the settings route takes them: a JSON object naming only
//! known [`Thresholds`] fields, each a finite rupee amount in `0..=`[`MAX_AMOUNT`] (missing
//! fields take the defaults), read by [`thresholds_from_json`].

use serde_json::{Map, Value};

use super::detectors::Thresholds;
use crate::error::CoreError;

/// The largest amount a threshold may be: ₹10 crore (any higher silences the detector anyway).
pub const MAX_AMOUNT: f64 = 100_000_000.0;

/// The thresholds `body` sets (a partial object: the rest keep their defaults); an unknown
/// field, a value that is not a number, or a number that is not finite or out of
/// `0..=MAX_AMOUNT` is a [`CoreError::Validation`] naming the field.
pub fn thresholds_from_json(body: &Value) -> Result<Thresholds, CoreError> {
    let Some(fields) = body.as_object() else {
        return Err(CoreError::invalid("the settings must be a JSON object"));
    };
    let mut merged = defaults();
    for (name, value) in fields {
        if !merged.contains_key(name) {
            let known: Vec<&str> = merged.keys().map(String::as_str).collect();
            return Err(CoreError::invalid(format!(
                "unknown threshold `{}`; known: {}",
                name.escape_default(),
                known.join(", ")
            )));
        }
        let amount = value
            .as_f64()
            .filter(|v| v.is_finite() && (0.0..=MAX_AMOUNT).contains(v))
            .ok_or_else(|| {
                CoreError::invalid(format!(
                    "`{name}` must be a number of rupees 0..={MAX_AMOUNT:.0}"
                ))
            })?;
        merged.insert(name.clone(), Value::from(amount));
    }
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| CoreError::invalid(format!("invalid thresholds: {e}")))
}

/// The default thresholds as a JSON object.
fn defaults() -> Map<String, Value> {
    match serde_json::to_value(Thresholds::default()) {
        Ok(Value::Object(fields)) => fields,
        _ => unreachable!("Thresholds serialises as an object"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_partial_object_keeps_the_other_defaults() {
        let set =
            thresholds_from_json(&json!({"duplicate_min": 50, "daily_spike_min": 0})).unwrap();
        assert_eq!(set.duplicate_min, 50.0);
        assert_eq!(set.daily_spike_min, 0.0);
        assert_eq!(
            set.outlier_min_excess,
            Thresholds::default().outlier_min_excess
        );
        assert_eq!(
            thresholds_from_json(&json!({})).unwrap(),
            Thresholds::default()
        );
    }

    #[test]
    fn hostile_bodies_are_refused() {
        for body in [
            json!([]),
            json!("NaN"),
            json!(null),
            json!({"duplicate_min": "NaN"}),
            json!({"duplicate_min": "100"}),
            json!({"duplicate_min": null}),
            json!({"duplicate_min": -1}),
            json!({"duplicate_min": 1e300}),
            json!({"duplicate_min": MAX_AMOUNT + 1.0}),
            json!({"duplicate_min": [1]}),
            json!({"dupe\u{0}": 1}),
            json!({"surprise": 1}),
        ] {
            assert!(
                matches!(thresholds_from_json(&body), Err(CoreError::Validation(_))),
                "{body} was accepted"
            );
        }
    }
}
