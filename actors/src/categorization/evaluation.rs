//! Measuring a classifier on labelled narrations (`scale eval categorize FILE.csv`): a CSV with
//! the columns `description,amount,category` in, overall accuracy, per-label precision, recall
//! and support, the confusion table and the decisions by source out, as JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use super::resolve::{Classifier, NoOverrides};

/// One labelled narration.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledRow {
    /// The narration.
    pub description: String,
    /// The signed amount, when the cell is not empty.
    pub amount: Option<f64>,
    /// The expected category.
    pub category: String,
}

/// Why a CSV cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    /// Not readable as CSV.
    #[error("CSV: {0}")]
    Csv(String),
    /// A required column is missing.
    #[error("the header has no {0:?} column")]
    MissingColumn(&'static str),
    /// An amount that is not a number.
    #[error("line {line}: amount {value:?} is not a number")]
    Amount {
        /// 1-based line of the row.
        line: usize,
        /// The cell.
        value: String,
    },
}

/// Reads `description,amount,category` rows (columns in any order, others ignored).
pub fn read_csv(text: &str) -> Result<Vec<LabelledRow>, EvaluationError> {
    let csv_error = |e: csv::Error| EvaluationError::Csv(e.to_string());
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    let column = |name: &'static str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or(EvaluationError::MissingColumn(name))
    };
    let (description, amount, category) = (
        column("description")?,
        column("amount")?,
        column("category")?,
    );
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(csv_error)?;
        let cell = |index: usize| record.get(index).unwrap_or_default();
        let value = cell(amount);
        let parsed =
            if value.is_empty() {
                None
            } else {
                Some(value.replace(',', "").parse::<f64>().map_err(|_| {
                    EvaluationError::Amount {
                        line: i + 2,
                        value: value.to_owned(),
                    }
                })?)
            };
        rows.push(LabelledRow {
            description: cell(description).to_owned(),
            amount: parsed,
            category: cell(category).to_owned(),
        });
    }
    Ok(rows)
}

/// Precision, recall and support of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScores {
    /// Share of the rows predicted as this label that have it (0 when none are).
    pub precision: f64,
    /// Share of the rows with this label predicted as it.
    pub recall: f64,
    /// Rows with this label.
    pub support: usize,
    /// Rows predicted as this label.
    pub predicted: usize,
}

/// The scores of a classifier on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Rows evaluated.
    pub rows: usize,
    /// Rows predicted right.
    pub correct: usize,
    /// `correct / rows`.
    pub accuracy: f64,
    /// Per expected or predicted label.
    pub labels: BTreeMap<String, LabelScores>,
    /// `confusion[expected][predicted]` = rows.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Rows decided by each source, and how many of them were right.
    pub sources: BTreeMap<String, SourceScores>,
    /// The rows predicted wrong, when asked for (`evaluate_with_mistakes`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mistakes: Vec<Mistake>,
}

/// A row predicted wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mistake {
    /// The narration.
    pub description: String,
    /// Its amount.
    pub amount: Option<f64>,
    /// The expected category.
    pub expected: String,
    /// What the classifier said, …
    pub predicted: String,
    /// … from which source …
    pub source: &'static str,
    /// … and how sure.
    pub confidence: f64,
}

/// How one source did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceScores {
    /// Rows it decided.
    pub rows: usize,
    /// Of those, predicted right.
    pub correct: usize,
}

/// Four-decimal rounding for reports.
fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Scores `(expected, predicted, source)` triples.
pub fn score<'a>(outcomes: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Report {
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut sources: BTreeMap<String, SourceScores> = BTreeMap::new();
    let (mut rows, mut correct) = (0, 0);
    for (expected, predicted, source) in outcomes {
        rows += 1;
        let right = expected == predicted;
        correct += usize::from(right);
        *confusion
            .entry(expected.to_owned())
            .or_default()
            .entry(predicted.to_owned())
            .or_default() += 1;
        let by_source = sources.entry(source.to_owned()).or_default();
        by_source.rows += 1;
        by_source.correct += usize::from(right);
    }
    let mut labels: BTreeMap<String, LabelScores> = BTreeMap::new();
    let names: Vec<String> = confusion
        .iter()
        .flat_map(|(expected, row)| std::iter::once(expected).chain(row.keys()))
        .cloned()
        .collect();
    for name in names {
        let support: usize = confusion.get(&name).map_or(0, |row| row.values().sum());
        let predicted: usize = confusion.values().filter_map(|row| row.get(&name)).sum();
        let hits = confusion
            .get(&name)
            .and_then(|row| row.get(&name))
            .copied()
            .unwrap_or(0);
        let share = |n: usize| {
            if n == 0 {
                0.0
            } else {
                round(hits as f64 / n as f64)
            }
        };
        labels.insert(
            name,
            LabelScores {
                precision: share(predicted),
                recall: share(support),
                support,
                predicted,
            },
        );
    }
    Report {
        rows,
        correct,
        accuracy: if rows == 0 {
            0.0
        } else {
            round(correct as f64 / rows as f64)
        },
        labels,
        confusion,
        sources,
        mistakes: Vec::new(),
    }
}

/// Classifies `rows` in one batch with no user data and scores the answers; lists the rows
/// predicted wrong when `mistakes` is set.
pub fn evaluate(classifier: &Classifier<'_>, rows: &[LabelledRow], mistakes: bool) -> Report {
    let items: Vec<(&str, Option<f64>)> = rows
        .iter()
        .map(|row| (row.description.as_str(), row.amount))
        .collect();
    let predictions = classifier.classify_batch(&items, &NoOverrides);
    let mut report = score(rows.iter().zip(&predictions).map(|(row, p)| {
        (
            row.category.as_str(),
            p.category.as_str(),
            p.source.as_str(),
        )
    }));
    if mistakes {
        report.mistakes = rows
            .iter()
            .zip(predictions)
            .filter(|(row, p)| row.category != p.category)
            .map(|(row, p)| Mistake {
                description: row.description.clone(),
                amount: row.amount,
                expected: row.category.clone(),
                predicted: p.category,
                source: p.source.as_str(),
                confidence: (p.confidence * 1e4).round() / 1e4,
            })
            .collect();
    }
    report
}

#[cfg(test)]
mod tests;
