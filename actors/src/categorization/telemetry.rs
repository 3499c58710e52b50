//! What categorisation reports to Prometheus: the categories it decides, by path, source and
//! whether they need review ([`names::CLASSIFICATIONS`]). With the hand corrections the accounts
//! domain counts, they give the classification-quality SLI.

use scale_monitoring::metrics::names;

use super::resolve::{Classification, Source};
use crate::category_source;

/// Counts `answers`, decided on `path` (`classify`: the classify routes, nothing stored;
/// `recategorize`: stored transactions after a categorizer job), by source and review flag,
/// one update per series. Imports count what they stored ([`record_stored`]).
pub fn record_decisions(path: &'static str, answers: &[Classification]) {
    let mut tally = [[0_u64; 2]; 4];
    for answer in answers {
        tally[source_index(answer.source)][usize::from(answer.needs_review)] += 1;
    }
    for source in [Source::User, Source::Rule, Source::Model, Source::Fallback] {
        for (review, label) in [(false, "false"), (true, "true")] {
            let count = tally[source_index(source)][usize::from(review)];
            if count > 0 {
                metrics::counter!(
                    names::CLASSIFICATIONS,
                    "path" => path,
                    "source" => source.as_str(),
                    "needs_review" => label
                )
                .increment(count);
            }
        }
    }
}

/// Counts `rows` an import stored with category `source` (as stored in
/// `transactions.category_source`, `client` for a category the client gave) and review flag.
pub fn record_stored(source: &str, needs_review: bool, rows: u64) {
    let review = if needs_review { "true" } else { "false" };
    metrics::counter!(
        names::CLASSIFICATIONS,
        "path" => "import",
        "source" => category_source::label(source),
        "needs_review" => review
    )
    .increment(rows);
}

fn source_index(source: Source) -> usize {
    match source {
        Source::User => 0,
        Source::Rule => 1,
        Source::Model => 2,
        Source::Fallback => 3,
    }
}
