//! What only a whole table can tell about its money: each money column's decimal separator,
//! and the sign convention of its amounts (a credit-card column that marks only credits `Cr`),
//! checked against the running balance when the file has one.

use rust_decimal::Decimal;

use super::{listed, Draft, Resolved, Sign, BALANCE, MONEY_COLUMNS};
use crate::amount::{self, DecimalSeparator, SeparatorHint, SignMarker};
use crate::cell::Cell;
use crate::error::StatementError;
use crate::header::ColumnMap;
use crate::warning::Warning;

/// What the values of one column say about its decimal separator.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    point: usize,
    comma: usize,
    either: usize,
}

/// Decides each money column's decimal separator from all its values (never per cell): the
/// separator the values show wins; values that contradict a clear majority make their rows
/// invalid (with a `decimal_separator_conflict` warning); a column whose values read both ways
/// (`1,234`, `1.500`) and show neither takes what the file's other money columns agree on.
/// Else a column holding amounts is [`StatementError::Validation`] naming it, and a balance
/// column is left unread (`None`).
pub(super) fn separators(
    drafts: &[Draft],
    headers: &[String],
    map: &ColumnMap,
    warnings: &mut Vec<Warning>,
) -> Result<[Option<DecimalSeparator>; 4], StatementError> {
    let mut tallies = [Tally::default(); 4];
    for draft in drafts {
        for (tally, cell) in tallies.iter_mut().zip(&draft.money) {
            if let Cell::Text(text) = cell {
                match amount::separator_hint(text) {
                    SeparatorHint::None => {}
                    SeparatorHint::Point => tally.point += 1,
                    SeparatorHint::Comma => tally.comma += 1,
                    SeparatorHint::Either => tally.either += 1,
                }
            }
        }
    }
    let name = |index: usize| {
        map.get(MONEY_COLUMNS[index])
            .and_then(|i| headers.get(i))
            .map_or("amount", String::as_str)
    };
    let decided = tallies.map(|t| match t.point.cmp(&t.comma) {
        _ if t.point + t.comma == 0 => None,
        std::cmp::Ordering::Greater => Some(DecimalSeparator::Point),
        std::cmp::Ordering::Less => Some(DecimalSeparator::Comma),
        std::cmp::Ordering::Equal => None,
    });
    let mut agreed = decided.iter().flatten();
    let file_wide = agreed.next().filter(|first| agreed.all(|d| d == *first));
    let mut separators = [None; 4];
    for (index, tally) in tallies.iter().enumerate() {
        separators[index] = match decided[index] {
            Some(separator) => {
                let against = tally.point.min(tally.comma);
                if against > 0 {
                    warnings.push(conflict_warning(name(index), separator, against));
                }
                Some(separator)
            }
            None if tally.point + tally.comma + tally.either == 0 => Some(DecimalSeparator::Point),
            None if file_wide.is_some() => file_wide.copied(),
            None if index == BALANCE => None,
            None => return Err(ambiguous(name(index), tally)),
        };
    }
    Ok(separators)
}

fn conflict_warning(column: &str, separator: DecimalSeparator, against: usize) -> Warning {
    let (kept, other) = match separator {
        DecimalSeparator::Point => ("a decimal point", "a decimal comma"),
        DecimalSeparator::Comma => ("a decimal comma", "a decimal point"),
    };
    Warning::new(
        "decimal_separator_conflict",
        format!(
            "column `{column}` is written with {kept}, but {against} of its values use \
             {other}; their rows were skipped as invalid"
        ),
    )
}

fn ambiguous(column: &str, tally: &Tally) -> StatementError {
    let detail = if tally.point == tally.comma && tally.point > 0 {
        format!(
            "{} of its values use a decimal point and {} a decimal comma",
            tally.point, tally.comma
        )
    } else {
        "every value has one separator followed by three digits (like `1,234` or `1.500`), \
         which reads as thousands or as decimals"
            .to_owned()
    };
    StatementError::Validation(format!(
        "the decimal separator of column `{column}` cannot be told: {detail}; export the \
         statement with two decimals per amount"
    ))
}

/// Settles the signs of a table's rows: when the amount column marks credits `Cr` (or
/// `CR`) and leaves every other amount unsigned — a card statement — the unmarked amounts are
/// debits. A running balance whose differences match the amounts then decides: rows whose
/// sign it contradicts take its sign, with a warning; a convention no balance confirmed is
/// reported too.
pub(super) fn settle_signs(rows: &mut [Resolved], warnings: &mut Vec<Warning>) {
    let credits_marked = credits_marked_only(rows);
    if credits_marked {
        for row in rows.iter_mut() {
            if row.sign == Sign::Written && row.amount > Decimal::ZERO {
                row.amount = -row.amount;
                row.sign = Sign::Convention;
            }
        }
    }
    let Some(evidence) = balance_signs(rows) else {
        if credits_marked {
            warnings.push(Warning::new(
                "sign_convention_inferred",
                "the amount column marks credits `Cr` and nothing else, so every unmarked \
                 amount was stored as a debit; no running balance confirms it",
            ));
        }
        return;
    };
    let unsigned = rows
        .iter()
        .all(|row| row.sign == Sign::Written && row.amount >= Decimal::ZERO);
    let mut contradicted = Vec::new();
    let mut unchecked = Vec::new();
    for (row, negative) in rows.iter_mut().zip(evidence) {
        if row.amount.is_zero() {
            continue;
        }
        match negative {
            Some(negative) if negative != (row.amount < Decimal::ZERO) => {
                row.amount = -row.amount;
                row.sign = Sign::Balance;
                contradicted.push(row.facts.source_row);
            }
            Some(_) => {}
            None => unchecked.push(row.facts.source_row),
        }
    }
    if contradicted.is_empty() {
        return;
    }
    let unchecked = if unchecked.is_empty() {
        String::new()
    } else {
        format!(
            "; {} row(s) could not be checked and keep the sign written ({})",
            unchecked.len(),
            listed(&unchecked)
        )
    };
    warnings.push(if unsigned {
        Warning::new(
            "signs_from_balance",
            format!(
                "the amounts carry no sign; {} row(s) became debits because the running \
                 balance falls by their amount ({}){unchecked}",
                contradicted.len(),
                listed(&contradicted)
            ),
        )
    } else {
        Warning::new(
            "sign_convention_uncertain",
            format!(
                "the running balance contradicts the sign the statement gives on {} row(s) \
                 ({}); stored the balance's sign{unchecked}",
                contradicted.len(),
                listed(&contradicted)
            ),
        )
    });
}

/// True when the amount column marks credits and nothing else: some `Cr` markers, no debit
/// marker, no written minus, and some unmarked positive amounts.
fn credits_marked_only(rows: &[Resolved]) -> bool {
    let (mut credits, mut unmarked) = (0, 0);
    for row in rows {
        match row.sign {
            Sign::Marker(SignMarker::Credit) => credits += 1,
            Sign::Marker(SignMarker::Debit) => return false,
            Sign::Written if row.amount < Decimal::ZERO => return false,
            Sign::Written if row.amount > Decimal::ZERO => unmarked += 1,
            _ => {}
        }
    }
    credits > 0 && unmarked > 0
}

/// Per row, whether the running balance says its amount is negative (`None`: it cannot say),
/// or `None` overall when the file has no consistent balance. The balance is consistent when,
/// read oldest-first or newest-first (whichever matches more rows), at least two and 90 % of
/// the rows with a balance on both sides move the balance by exactly their amount.
fn balance_signs(rows: &[Resolved]) -> Option<Vec<Option<bool>>> {
    // The row before in time: the previous row oldest-first, the next one newest-first.
    let step = |index: usize, newest_first: bool| -> Option<(Decimal, Decimal)> {
        let before = if newest_first {
            rows.get(index + 1)?
        } else {
            rows.get(index.checked_sub(1)?)?
        };
        let change = rows[index].balance? - before.balance?;
        Some((change, rows[index].amount.abs()))
    };
    let tally = |newest_first: bool| {
        let (mut comparable, mut matching) = (0usize, 0usize);
        for index in 0..rows.len() {
            if let Some((change, amount)) = step(index, newest_first) {
                comparable += 1;
                matching += usize::from(change.abs() == amount);
            }
        }
        (comparable, matching)
    };
    let (oldest_first, newest_first) = (tally(false), tally(true));
    let (newest, (comparable, matching)) = match oldest_first.1.cmp(&newest_first.1) {
        std::cmp::Ordering::Greater => (false, oldest_first),
        std::cmp::Ordering::Less => (true, newest_first),
        std::cmp::Ordering::Equal => return None,
    };
    if matching < 2 || matching * 10 < comparable * 9 {
        return None;
    }
    Some(
        (0..rows.len())
            .map(|index| {
                let (change, amount) = step(index, newest)?;
                (change.abs() == amount && !change.is_zero()).then_some(change < Decimal::ZERO)
            })
            .collect(),
    )
}
