//! What only a whole table can tell about its money: each money column's decimal separator,
//! and the sign convention of its amounts (a credit-card column that marks only credits `Cr`),
//! checked against the running balance when the file has one.

use rust_decimal::Decimal;

use super::{listed, Blocks, Drafts, MoneyCell, Resolved, Sign, BALANCE, MONEY_COLUMNS};
use crate::amount::{self, DecimalSeparator, SeparatorHint, SignMarker};
use crate::error::StatementError;
use crate::header::ColumnMap;
use crate::warning::Warning;

/// What the values of one column say about its decimal separator.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    point: usize,
    comma: usize,
    /// Values that read both ways, by the separator they show (`1,234`; `1.500`).
    grouped_by_comma: usize,
    grouped_by_point: usize,
}

impl Tally {
    /// What the values that read both ways suggest, when they all show the same separator:
    /// a thousands separator, so the other one is the decimal.
    fn grouping_suggests(&self) -> Option<DecimalSeparator> {
        match (self.grouped_by_comma, self.grouped_by_point) {
            (0, 0) => None,
            (_, 0) => Some(DecimalSeparator::Point),
            (0, _) => Some(DecimalSeparator::Comma),
            _ => None,
        }
    }
}

/// Decides each money column's decimal separator from all its values (never per cell): the
/// separator the values show wins; values that contradict a clear majority make their rows
/// invalid (with a `decimal_separator_conflict` warning); a column whose values read both ways
/// (`1,234`, `1.500`) and show neither takes what the file's other money columns agree on, else
/// reads the one separator they all show as grouping thousands.
/// Else a column holding amounts is [`StatementError::Validation`] naming it, and a balance
/// column is left unread (`None`).
pub(super) fn separators(
    drafts: &Drafts,
    headers: &[String],
    map: &ColumnMap,
    warnings: &mut Vec<Warning>,
) -> Result<[Option<DecimalSeparator>; 4], StatementError> {
    let mut tallies = [Tally::default(); 4];
    for draft in drafts.rows.iter() {
        for (tally, money) in tallies.iter_mut().zip(draft.money) {
            if let MoneyCell::Text(text) = drafts.cell(money) {
                match amount::separator_hint(text) {
                    SeparatorHint::None => {}
                    SeparatorHint::Point => tally.point += 1,
                    SeparatorHint::Comma => tally.comma += 1,
                    SeparatorHint::Either(',') => tally.grouped_by_comma += 1,
                    SeparatorHint::Either(_) => tally.grouped_by_point += 1,
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
            None if tally.point + tally.comma + tally.grouped_by_comma + tally.grouped_by_point
                == 0 =>
            {
                Some(DecimalSeparator::Point)
            }
            None if file_wide.is_some() => file_wide.copied(),
            None if tally.point + tally.comma == 0 && tally.grouping_suggests().is_some() => {
                tally.grouping_suggests()
            }
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
        "its values have one separator followed by three digits, some `1,234` and some \
         `1.500`, which read as thousands or as decimals"
            .to_owned()
    };
    StatementError::Validation(format!(
        "the decimal separator of column `{column}` cannot be told: {detail}; export the \
         statement with two decimals per amount"
    ))
}

/// Settles the signs of a table's rows: when the amount column marks credits `Cr` (or
/// `CR`) and leaves every other amount unsigned — a card statement — the unmarked amounts are
/// debits (`sign_convention_inferred` unless a balance confirms it). Then a running balance
/// whose changes match the amounts is weighed against the signs (see [`weigh_balance`]).
pub(super) fn settle_signs(rows: &mut Blocks<Resolved>, warnings: &mut Vec<Warning>) {
    let credits_marked = credits_marked_only(rows);
    if credits_marked {
        for row in rows.iter_mut() {
            if row.sign == Sign::Written && row.amount > Decimal::ZERO {
                row.amount = -row.amount;
                row.sign = Sign::Convention;
            }
        }
    }
    match balance_signs(rows) {
        Some(evidence) => weigh_balance(rows, &evidence, warnings),
        None if credits_marked => warnings.push(Warning::new(
            "sign_convention_inferred",
            "the amount column marks credits `Cr` and nothing else, so every unmarked amount \
             was stored as a debit; no running balance confirms it",
        )),
        None => {}
    }
}

/// Weighs a consistent running balance against the rows' signs. Where it agrees, nothing is
/// said. Unsigned amounts take its sign (`signs_from_balance`). Otherwise the balance wins on
/// the rows it contradicts (`sign_convention_uncertain`) — unless it contradicts every row it
/// can check: then it runs against the statement as a whole, which for plain signed amounts
/// means they are written from the bank's side (all are inverted, unchecked rows too), and
/// for signs the statement marks (`Cr`, a type column, debit/credit columns) means the
/// balance is an amount owed (the marked signs are kept). Either way the warning says so.
fn weigh_balance(
    rows: &mut Blocks<Resolved>,
    evidence: &[Option<bool>],
    warnings: &mut Vec<Warning>,
) {
    let unsigned = rows
        .iter()
        .all(|row| row.sign == Sign::Written && row.amount >= Decimal::ZERO);
    let (mut contradicted, mut confirmed, mut unchecked) = (Vec::new(), 0, Vec::new());
    for (index, (row, negative)) in rows.iter().zip(evidence).enumerate() {
        match negative {
            _ if row.amount.is_zero() => {}
            Some(negative) if *negative != (row.amount < Decimal::ZERO) => contradicted.push(index),
            Some(_) => confirmed += 1,
            None => unchecked.push(index),
        }
    }
    if contradicted.is_empty() {
        return;
    }
    let source_rows = |indices: &[usize]| {
        let rows: Vec<usize> = indices.iter().map(|&i| rows[i].source_row).collect();
        format!("{} row(s) ({})", rows.len(), listed(&rows))
    };
    let (against, unchecked_rows) = (source_rows(&contradicted), source_rows(&unchecked));
    let systematic = confirmed == 0 && contradicted.len() >= 2 && !unsigned;
    let marked = contradicted
        .iter()
        .any(|&i| !matches!(rows[i].sign, Sign::Written));
    let (code, message) = if unsigned {
        (
            "signs_from_balance",
            format!(
                "the amounts carry no sign; {against} became debits because the running \
                 balance falls by their amount"
            ),
        )
    } else if systematic && marked {
        warnings.push(Warning::new(
            "sign_convention_uncertain",
            format!(
                "the running balance moves against every sign the statement marks, on \
                 {against}; it looks like an amount owed, so the marked signs were kept"
            ),
        ));
        return;
    } else if systematic {
        let including = if unchecked.is_empty() {
            String::new()
        } else {
            format!(", including {unchecked_rows} it cannot check")
        };
        contradicted.append(&mut unchecked);
        (
            "sign_convention_uncertain",
            format!(
                "the running balance moves against the written sign of every row it can \
                 check, {against}: the amounts are written from the bank's side, so all \
                 were inverted{including}"
            ),
        )
    } else {
        (
            "sign_convention_uncertain",
            format!(
                "the running balance contradicts the sign the statement gives on {against}; \
                 stored the balance's sign"
            ),
        )
    };
    for &index in &contradicted {
        rows[index].amount = -rows[index].amount;
        rows[index].sign = Sign::Balance;
    }
    let message = if unchecked.is_empty() {
        message
    } else {
        format!("{message}; {unchecked_rows} could not be checked and keep their sign")
    };
    warnings.push(Warning::new(code, message));
}

/// True when the amount column marks credits and nothing else: some `Cr` markers, no debit
/// marker, no written minus, and some unmarked positive amounts.
fn credits_marked_only(rows: &Blocks<Resolved>) -> bool {
    let (mut credits, mut unmarked) = (0, 0);
    for row in rows.iter() {
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
fn balance_signs(rows: &Blocks<Resolved>) -> Option<Vec<Option<bool>>> {
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
