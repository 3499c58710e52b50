//! What a transaction keeps beside its fields: the source row's cells by column name
//! ([`RawRow`]) and what merchant extraction found in its text ([`Meta`]). Both serialise as
//! JSON objects (stored in `raw_data`) but are plain values in memory: a row's column names are
//! shared with every other row of its file, and absent facts take no space.

use std::borrow::Cow;
use std::ops::Index;
use std::sync::Arc;

use chrono::NaiveTime;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// One source cell's value as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// Text as written (a date cell as its display form).
    Text(Box<str>),
    /// A numeric cell.
    Number(f64),
    /// A boolean cell.
    Bool(bool),
    /// No such column (what indexing a [`RawRow`] by a name it lacks gives).
    Missing,
}

impl Serialize for RawValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawValue::Text(text) => serializer.serialize_str(text),
            RawValue::Number(n) => serializer.serialize_f64(*n),
            RawValue::Bool(b) => serializer.serialize_bool(*b),
            RawValue::Missing => serializer.serialize_unit(),
        }
    }
}

impl PartialEq<&str> for RawValue {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, RawValue::Text(text) if &**text == *other)
    }
}

/// A source row's non-blank cells, by column name, in column order. The names are the file's
/// (shared by all its rows); a cell is its column's index, so a row holds no name of its own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRow {
    names: Arc<[Box<str>]>,
    cells: Vec<(u32, RawValue)>,
}

impl RawRow {
    /// An empty row under `names` with room for `cells` cells. A cell whose index is past
    /// `names` goes under `column_N` (N = index + 1).
    pub fn new(names: Arc<[Box<str>]>, cells: usize) -> Self {
        RawRow {
            names,
            cells: Vec::with_capacity(cells),
        }
    }

    /// Appends the cell of column `index` (the caller knows the row has no cell there yet).
    pub fn push(&mut self, index: u32, value: RawValue) {
        self.cells.push((index, value));
    }

    /// Sets the cell of column `index`; a cell already there is replaced, as a later value
    /// under a repeated name is in a JSON object (columns sharing a name share an index).
    pub fn insert(&mut self, index: u32, value: RawValue) {
        match self.cells.iter_mut().find(|(i, _)| *i == index) {
            Some((_, existing)) => *existing = value,
            None => self.cells.push((index, value)),
        }
    }

    /// The name of column `index`.
    fn name(&self, index: u32) -> Cow<'_, str> {
        match self.names.get(index as usize) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(format!("column_{}", index + 1)),
        }
    }

    /// The value under `name`.
    pub fn get(&self, name: &str) -> Option<&RawValue> {
        self.cells
            .iter()
            .find(|(index, _)| self.name(*index) == name)
            .map(|(_, value)| value)
    }
}

impl Index<&str> for RawRow {
    type Output = RawValue;

    /// The value under `name`, or [`RawValue::Missing`].
    fn index(&self, name: &str) -> &RawValue {
        self.get(name).unwrap_or(&RawValue::Missing)
    }
}

impl Serialize for RawRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.cells.len()))?;
        for (index, value) in &self.cells {
            map.serialize_entry(&self.name(*index), value)?;
        }
        map.end()
    }
}

/// What extraction found in a row's text, and what the parser noted about it. Absent facts are
/// left out of the JSON rather than written as nulls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Meta {
    /// Time of day the source gave, `HH:MM:SS`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "time_of_day"
    )]
    pub time: Option<NaiveTime>,
    /// Payment method named by the narration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'static str>,
    /// Place named by the narration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Counterparty bank code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterparty_bank: Option<String>,
    /// Counterparty UPI id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upi_id: Option<String>,
    /// UPI app named by the narration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Short human-readable line.
    pub clean_description: String,
    /// Reference found in the narration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extracted_reference: Option<String>,
    /// What the parser noted about the row's amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
}

fn time_of_day<S: Serializer>(time: &Option<NaiveTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.collect_str(&time.format("%H:%M:%S")),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_row_serialises_in_column_order_and_a_repeated_name_keeps_the_later_cell() {
        let names: Arc<[Box<str>]> = vec!["Date".into(), "Amount".into()].into();
        let mut row = RawRow::new(names, 3);
        row.push(0, RawValue::Text("01/02/2025".into()));
        row.push(1, RawValue::Number(-12.5));
        row.insert(0, RawValue::Bool(true));
        row.insert(4, RawValue::Text("x".into()));
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"Date":true,"Amount":-12.5,"column_5":"x"}"#
        );
        assert_eq!(row["column_5"], "x");
        assert_eq!(row["Amount"], RawValue::Number(-12.5));
        assert_eq!(row["Balance"], RawValue::Missing);
    }

    #[test]
    fn meta_leaves_absent_facts_out_and_writes_the_time_of_day() {
        let meta = Meta {
            time: NaiveTime::from_hms_milli_opt(17, 13, 0, 500),
            method: Some("upi"),
            clean_description: "Swiggy".into(),
            ..Meta::default()
        };
        assert_eq!(
            serde_json::to_value(&meta).unwrap(),
            serde_json::json!({"time": "17:13:00", "method": "upi", "clean_description": "Swiggy"})
        );
    }
}
