//! Lining a delimited row up with its header. An unquoted `1,250.00` in a comma-separated file
//! splits into the cells `1` and `250.00`, so the row has more cells than the header and every
//! column after it shifts. Such a row is rejoined only when exactly one way of merging
//! neighbouring cells into grouped numbers (Western `1,250.00`, Indian `1,25,000.00`) in money
//! columns lines it up; any other row whose cell count disagrees is skipped.

use std::ops::RangeInclusive;

use super::{listed, parse_date_cell, SkipReason, MONEY_COLUMNS};
use crate::amount::{self, AmountParse};
use crate::cell::Cell;
use crate::header::{Column, ColumnMap};
use crate::warning::Warning;

/// The most extra cells a row may have and still be rejoined.
const MAX_EXTRA_CELLS: usize = 8;

/// Checks (and repairs) the rows of one delimited table against its header, counting what it
/// did for the file's warnings. Spreadsheet rows are never checked: their cells cannot split.
#[derive(Debug)]
pub struct Realign {
    /// Whether rows are checked at all (delimited text).
    check: bool,
    /// Whether split numbers may be rejoined (comma-delimited text).
    rejoin: bool,
    /// Cells up to the last named header cell: a row needs at least these.
    named: usize,
    /// Per header cell, whether it is a money column (where a split number may be rejoined).
    money: Vec<bool>,
    /// The date column, to tell a skipped transaction from a footer.
    date: Option<usize>,
    repaired: Vec<usize>,
    skipped: Vec<usize>,
}

impl Realign {
    /// The checker for a table with these header cells; `delimiter` is `None` for a
    /// spreadsheet.
    pub fn new(headers: &[String], map: &ColumnMap, delimiter: Option<u8>) -> Self {
        let money_indices: Vec<usize> = MONEY_COLUMNS.iter().filter_map(|c| map.get(*c)).collect();
        Realign {
            check: delimiter.is_some(),
            rejoin: delimiter == Some(b','),
            named: headers
                .iter()
                .rposition(|h| !h.trim().is_empty())
                .map_or(0, |i| i + 1),
            money: (0..headers.len())
                .map(|i| money_indices.contains(&i))
                .collect(),
            date: map.get(Column::Date),
            repaired: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// The cell counts of rows that fit the header as they are.
    pub fn fitting(&self) -> RangeInclusive<usize> {
        self.named..=self.money.len()
    }

    /// The row lined up with the header: as it is when its cell count fits (blank cells past
    /// the header dropped), rejoined when exactly one merge of split numbers fits it. Else the
    /// row is skipped: [`SkipReason::InvalidRow`] when its date reads (a transaction that
    /// cannot be read safely), [`SkipReason::InvalidDate`] when not (a footer or note).
    pub fn fit(
        &mut self,
        mut cells: Vec<Cell>,
        source_row: usize,
    ) -> Result<Vec<Cell>, SkipReason> {
        let width = self.money.len();
        if !self.check || (self.named..=width).contains(&cells.len()) {
            return Ok(cells);
        }
        if cells.len() > width && cells.len() - width <= MAX_EXTRA_CELLS {
            let filled = cells
                .iter()
                .rposition(|c| !c.is_blank())
                .map_or(0, |i| i + 1);
            let lengths = filled.max(width)..=cells.len();
            let ways: usize = lengths
                .clone()
                .map(|len| {
                    usize::from(Merges::new(&cells[..len], &self.money, self.rejoin).count())
                })
                .sum();
            if ways == 1 {
                let len = lengths
                    .into_iter()
                    .find(|len| Merges::new(&cells[..*len], &self.money, self.rejoin).count() > 0)
                    .unwrap_or(width);
                cells.truncate(len);
                if len > width {
                    self.repaired.push(source_row);
                    return Ok(Merges::new(&cells, &self.money, self.rejoin).apply(&cells));
                }
                return Ok(cells);
            }
        }
        let date = self.date.and_then(|i| cells.get(i)).unwrap_or(&Cell::Empty);
        if parse_date_cell(date).is_some() {
            self.skipped.push(source_row);
            Err(SkipReason::InvalidRow)
        } else {
            Err(SkipReason::InvalidDate)
        }
    }

    /// `ragged_rows_repaired` and `ragged_rows_skipped`, for the rows that needed them.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if !self.repaired.is_empty() {
            warnings.push(Warning::new(
                "ragged_rows_repaired",
                format!(
                    "{} row(s) had an unquoted amount split at its thousands separators into \
                     more cells than the header; rejoined ({})",
                    self.repaired.len(),
                    listed(&self.repaired)
                ),
            ));
        }
        if !self.skipped.is_empty() {
            warnings.push(Warning::new(
                "ragged_rows_skipped",
                format!(
                    "{} row(s) have a different number of cells than the header and cannot be \
                     lined up with it safely; skipped as invalid ({})",
                    self.skipped.len(),
                    listed(&self.skipped)
                ),
            ));
        }
        warnings
    }
}

/// The ways of grouping a row's cells into exactly one group per header cell, where a group
/// of several cells must be a money column's grouped number. Counts stop at 2 (ambiguous).
struct Merges<'a> {
    cells: &'a [Cell],
    money: &'a [bool],
    rejoin: bool,
    /// `ways[i * (width + 1) + j]`: ways to group `cells[i..]` into header cells `j..`.
    ways: Vec<Option<u8>>,
}

impl<'a> Merges<'a> {
    fn new(cells: &'a [Cell], money: &'a [bool], rejoin: bool) -> Self {
        Merges {
            cells,
            money,
            rejoin,
            ways: vec![None; (cells.len() + 1) * (money.len() + 1)],
        }
    }

    /// How many groupings there are (0, 1, or 2 for "two or more").
    fn count(&mut self) -> u8 {
        self.ways_from(0, 0)
    }

    fn ways_from(&mut self, cell: usize, column: usize) -> u8 {
        let (len, width) = (self.cells.len(), self.money.len());
        if column == width {
            return u8::from(cell == len);
        }
        if len - cell < width - column {
            return 0;
        }
        let slot = cell * (width + 1) + column;
        if let Some(ways) = self.ways[slot] {
            return ways;
        }
        let mut ways = self.ways_from(cell + 1, column + 1);
        for end in self.merge_ends(cell, column) {
            ways = (ways + self.ways_from(end, column + 1)).min(2);
        }
        self.ways[slot] = Some(ways);
        ways
    }

    /// Where a merged group starting at `cell` for header cell `column` may end (exclusive).
    fn merge_ends(&self, cell: usize, column: usize) -> Vec<usize> {
        if !self.rejoin || !self.money[column] {
            return Vec::new();
        }
        let last = self.cells.len() - (self.money.len() - column - 1);
        (cell + 2..=last)
            .filter(|&end| split_number(&self.cells[cell..end]).is_some())
            .collect()
    }

    /// The cells of the only grouping (call when [`Merges::count`] is 1).
    fn apply(mut self, cells: &[Cell]) -> Vec<Cell> {
        let mut out = Vec::with_capacity(self.money.len());
        let mut cell = 0;
        for column in 0..self.money.len() {
            if self.ways_from(cell + 1, column + 1) > 0 {
                out.push(cells[cell].clone());
                cell += 1;
                continue;
            }
            let end = self
                .merge_ends(cell, column)
                .into_iter()
                .find(|&end| self.ways_from(end, column + 1) > 0)
                .unwrap_or(cell + 1);
            out.push(Cell::Text(
                split_number(&cells[cell..end]).unwrap_or_default(),
            ));
            cell = end;
        }
        out
    }
}

/// The number that `pieces` are the comma-split parts of (`-1` `250.00` → `-1,250.00`;
/// `1` `25` `000.00 Cr` → `1,25,000.00 Cr`), when they are exactly that: the first piece ends
/// in a digit, the others start with one, the middle ones are digits only, and the joined text
/// is an amount with valid Western or Indian grouping.
fn split_number(pieces: &[Cell]) -> Option<String> {
    let texts: Vec<&str> = pieces
        .iter()
        .map(|cell| match cell {
            Cell::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let (first, rest) = texts.split_first()?;
    let (_, middle) = rest.split_last()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let starts_with_digit = |s: &&str| s.bytes().next().is_some_and(|b| b.is_ascii_digit());
    let well_formed = first.bytes().last().is_some_and(|b| b.is_ascii_digit())
        && rest.iter().all(starts_with_digit)
        && middle.iter().all(|s| digits(s));
    let joined = texts.join(",");
    (well_formed && matches!(amount::parse_amount(&joined), AmountParse::Value(_)))
        .then_some(joined)
}
