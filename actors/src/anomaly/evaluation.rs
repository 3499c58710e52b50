//! Measuring the detectors on synthetic ledgers (`scale eval anomaly`): for each seed, one
//! ledger per detector with one planted anomaly, and the same ledger left clean as a control.
//!
//! An alert of the planted kind that shares a row or the period with the plant is a hit. An
//! alert of another kind about the planted rows or period (a planted ₹12,499 Swiggy order also
//! makes its day a spike) is a side effect, counted apart and neither right nor wrong. Every
//! other alert is a false alarm, and every alert on a clean control is one. Precision is
//! hits / (hits + false alarms) per kind, recall the share of plants hit.
//!
//! The detectors were tuned on [`TUNING_SEEDS`] only; the report is on held-out seeds from
//! [`HELD_OUT_FIRST`].

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;

use super::alert::{Alert, AlertKind};
use super::detectors::Thresholds;
use super::scan::scan;
use super::synthetic::{inject, Planted, Scenario, SyntheticLedger};

/// The seeds the detectors were tuned on.
pub const TUNING_SEEDS: Range<u64> = 0..50;
/// The first held-out seed.
pub const HELD_OUT_FIRST: u64 = 1_000;
/// Every detector's precision must reach this.
pub const MIN_PRECISION: f64 = 0.9;
/// Every detector's recall must reach this.
pub const MIN_RECALL: f64 = 0.8;
/// False alarms shown in the report.
const EXAMPLES: usize = 10;

/// One detector's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DetectorFigures {
    /// Anomalies planted.
    pub planted: usize,
    /// Plants found.
    pub found: usize,
    /// Alerts of this kind matching a plant of this kind.
    pub hits: usize,
    /// Alerts of this kind about another kind's plant.
    pub side_effects: usize,
    /// Other alerts of this kind.
    pub false_alarms: usize,
    /// hits / (hits + false alarms); 0 without any.
    pub precision: f64,
    /// found / planted.
    pub recall: f64,
}

/// The pass marks and whether they are met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    /// The least precision per detector.
    pub min_precision: f64,
    /// The least recall per detector.
    pub min_recall: f64,
    /// The most alerts allowed on the clean controls.
    pub max_clean_alerts: usize,
    /// Whether every mark is met.
    pub met: bool,
    /// The marks missed, in words.
    pub missed: Vec<String>,
}

/// The evaluation report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The seeds, `first..end`.
    pub seeds: String,
    /// Synthetic users (seeds).
    pub users: usize,
    /// Figures per detector.
    pub detectors: BTreeMap<&'static str, DetectorFigures>,
    /// Clean control ledgers.
    pub clean_controls: usize,
    /// Alerts on them (each a false alarm, also counted in its detector).
    pub clean_alerts: usize,
    /// The first false alarms (clean controls or not), for reading.
    pub false_alarm_examples: Vec<Alert>,
    /// The pass marks.
    pub targets: Targets,
}

/// Evaluates the detectors with the default thresholds on the ledgers of `seeds`.
pub fn evaluate(seeds: Range<u64>) -> Report {
    let thresholds = Thresholds::default();
    let mut figures: BTreeMap<AlertKind, DetectorFigures> = AlertKind::ALL
        .into_iter()
        .map(|k| (k, DetectorFigures::default()))
        .collect();
    let mut clean_alerts = 0;
    let mut examples = Vec::new();
    for seed in seeds.clone() {
        let clean = SyntheticLedger::generate(seed);
        for kind in AlertKind::ALL {
            let mut ledger = clean.clone();
            let Some(planted) = inject(&mut ledger, Scenario::Planted(kind)) else {
                continue;
            };
            figures.entry(kind).or_default().planted += 1;
            let alerts = scan(&ledger.rows, &ledger.new_ids, ledger.today, &thresholds);
            let mut found = false;
            for alert in &alerts {
                let figure = figures.entry(alert.kind).or_default();
                if !concerns(alert, &planted) {
                    figure.false_alarms += 1;
                    examples.push(alert.clone());
                } else if alert.kind == kind {
                    figure.hits += 1;
                    found = true;
                } else {
                    figure.side_effects += 1;
                }
            }
            if found {
                figures.entry(kind).or_default().found += 1;
            }
        }
        let alerts = scan(&clean.rows, &clean.new_ids, clean.today, &thresholds);
        clean_alerts += alerts.len();
        for alert in alerts {
            figures.entry(alert.kind).or_default().false_alarms += 1;
            examples.push(alert);
        }
    }
    let mut missed = Vec::new();
    for (kind, figure) in &mut figures {
        let alerts = figure.hits + figure.false_alarms;
        figure.precision = ratio(figure.hits, alerts);
        figure.recall = ratio(figure.found, figure.planted);
        if figure.precision < MIN_PRECISION {
            missed.push(format!("{} precision {:.3}", kind.name(), figure.precision));
        }
        if figure.recall < MIN_RECALL {
            missed.push(format!("{} recall {:.3}", kind.name(), figure.recall));
        }
    }
    if clean_alerts > 0 {
        missed.push(format!("{clean_alerts} alerts on clean controls"));
    }
    Report {
        seeds: format!("{}..{}", seeds.start, seeds.end),
        users: seeds.clone().count(),
        detectors: figures.into_iter().map(|(k, f)| (k.name(), f)).collect(),
        clean_controls: seeds.count(),
        clean_alerts,
        false_alarm_examples: examples.into_iter().take(EXAMPLES).collect(),
        targets: Targets {
            min_precision: MIN_PRECISION,
            min_recall: MIN_RECALL,
            max_clean_alerts: 0,
            met: missed.is_empty(),
            missed,
        },
    }
}

/// Whether `alert` is about the planted rows or period.
fn concerns(alert: &Alert, planted: &Planted) -> bool {
    alert.period_key == planted.period_key
        || alert
            .transaction_ids
            .iter()
            .any(|id| planted.transaction_ids.contains(id))
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_seeds_meet_the_targets() {
        let report = evaluate(HELD_OUT_FIRST..HELD_OUT_FIRST + 10);
        assert!(
            report.targets.met,
            "{}",
            serde_json::to_string_pretty(&report).unwrap()
        );
        assert_eq!(report.clean_controls, 10);
        for figure in report.detectors.values() {
            assert_eq!(figure.planted, 10);
        }
        assert_eq!(report, evaluate(HELD_OUT_FIRST..HELD_OUT_FIRST + 10));
    }
}
