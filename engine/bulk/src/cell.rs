//! One value of one column of one row, whatever the file format it came from.
//!
//! CSV gives text only; Parquet gives typed values (already read leniently by the column's
//! kind, see `parquet_in`); an NDJSON line gives JSON values. Parsing a row (`parse`) sees
//! only cells, so the three formats share one set of rules and messages.

use crossdock_engine::{Date, Decimal};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    /// Null, or a column the file does not have.
    Null,
    Text(&'a str),
    Int(i128),
    /// Only from JSON, or from a Parquet float column whose value is not whole: a whole
    /// float in a whole-number column is read as `Int`.
    Float(f64),
    Decimal(Decimal),
    Bool(bool),
    Date(Date),
    /// A JSON value no column accepts (an array, an object): its kind, for the message.
    Other(&'static str),
    /// A value that could not be read at all: what is wrong with it.
    Bad(&'static str),
}

impl Cell<'_> {
    /// Null, or an empty string: CSV cannot tell them apart, so no format does.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Cell::Null) || matches!(self, Cell::Text(s) if s.is_empty())
    }

    /// What this value is, in the words of crossdock-api's messages ("not a number").
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "null",
            Cell::Text(_) => "a string",
            Cell::Int(_) => "a number",
            Cell::Float(_) => "a fractional number",
            Cell::Decimal(_) => "a decimal",
            Cell::Bool(_) => "a boolean",
            Cell::Date(_) => "a date",
            Cell::Other(kind) => kind,
            Cell::Bad(_) => "unreadable",
        }
    }
}

/// The cells of one row, indexed by `Col as usize`.
pub(crate) type RowCells<'a> = [Cell<'a>; crate::columns::COLUMNS];

/// A JSON value as a cell.
pub(crate) fn from_json(value: &serde_json::Value) -> Cell<'_> {
    use serde_json::Value;
    match value {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cell::Int(i128::from(i)),
            (None, Some(u)) => Cell::Int(i128::from(u)),
            _ => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cell::Text(s),
        Value::Array(_) => Cell::Other("an array"),
        Value::Object(_) => Cell::Other("an object"),
    }
}

/// A CSV field as a cell: empty is null; bytes that are not UTF-8 are unreadable.
pub(crate) fn from_csv(field: &[u8]) -> Cell<'_> {
    if field.is_empty() {
        return Cell::Null;
    }
    match std::str::from_utf8(field) {
        Ok(s) => Cell::Text(s),
        Err(_) => Cell::Bad("is not valid UTF-8"),
    }
}
