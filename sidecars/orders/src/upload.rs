//! `POST /v1/orders/upload` and `GET /v1/orders/template.csv` (orders-labels.md, "Orders
//! in bulk"): a CSV or Parquet file of orders, one order per row.
//!
//! A row becomes the very JSON `POST /v1/orders` takes (`order_json`), so it is read by
//! `parse.rs` and validated by `model.rs` like any order, and its problems name JSON fields
//! (`contents[1].hs_code`), each with the column it came from (`item2_hs_code`). A cell of
//! the wrong type is put in the JSON as text, so the one reader names it: the row is
//! `invalid`, never the file. The file is refused whole (400, nothing created) only when it
//! cannot be read, has a column not in [`columns`], has a column twice, or has no
//! `reference` column; over [`UPLOAD_ROWS_MAX`] rows: 413.
//!
//! The work is a pipeline of chunks of [`CHUNK_ROWS`], a few chunks deep: a thread reads
//! rows, builds and validates their orders (`Orders::new_order_row_quoted`: with
//! `?ship=true` the validation's quote is kept to ship with); the upload's task then
//! prepares each chunk (without shipping: inserts it in one transaction; with: renders
//! its new orders' shipments on the planners) while the chunk before is written (with
//! shipping: created and shipped in one transaction, `Orders::create_and_ship`, the rest
//! the ordinary way; see `bulk.rs`). A row's answer is what `POST /v1/orders` (and then
//! `…/ship`) would have answered; rows answered `created` exist, the others left nothing.
//!
//! Who names the customer: a shipper key's rows are its own customer's (a `customer` cell
//! naming another makes that row invalid). Operator and admin keys give a `customer` cell
//! per row, or `?customer=` for the whole file, which then acts like a shipper key of that
//! customer (a row naming another is invalid). Without either, the row is invalid
//! (`customer` required).

use crate::bulk::{self, CHUNK_ROWS};
use crate::error::OrdersError;
use crate::model::{OrderStatus, Source};
use crate::ship::{self, Shipped};
use crate::store::OrderRow;
use crate::{Actor, Orders};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::DataType;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crossdock_http::{ApiError, ErrorBody, Principal, Problem, Role};
use crossdock_tables::columns::{FileKind, Kind, Scalar, Texts, scalars};
use crossdock_tables::guard::decoding;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Data rows one upload may have.
pub const UPLOAD_ROWS_MAX: u64 = 1_000_000;
/// Largest upload body, in bytes (a million rows of a few hundred bytes each).
pub const UPLOAD_BYTES_MAX: usize = 512 * 1024 * 1024;
/// Content lines a row can give (`item1_` … `item5_`).
pub const ITEMS_MAX: usize = 5;
/// Rows between two progress lines in the log.
const PROGRESS_EVERY_ROWS: u64 = 10_000;
/// Rows Parquet decodes at a time.
const PARQUET_BATCH_ROWS: usize = 1024;

/// The file formats of api-conventions.md, "Files".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    pub const CSV_TYPE: &'static str = "text/csv";
    pub const PARQUET_TYPE: &'static str = "application/vnd.apache.parquet";

    /// By `Content-Type` (parameters such as `; charset=utf-8` ignored).
    pub fn from_content_type(value: &str) -> Option<Format> {
        match value.split(';').next().unwrap_or("").trim() {
            Format::CSV_TYPE => Some(Format::Csv),
            Format::PARQUET_TYPE => Some(Format::Parquet),
            _ => None,
        }
    }

    /// By file extension (`.csv`, `.parquet`), any case.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => Format::CSV_TYPE,
            Format::Parquet => Format::PARQUET_TYPE,
        }
    }
}

/// How an upload runs.
#[derive(Clone, Debug)]
pub struct UploadOptions {
    pub format: Format,
    /// Ship each row's `ready` order too.
    pub ship: bool,
    /// `upload` over HTTP and the CLI, `inbox` for the inbox.
    pub source: Source,
}

/// What a cell holds and how it enters the order's JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Text,
    /// A JSON number when the cell is one.
    Whole,
    /// A decimal string (`"45.00"`), as the JSON takes it.
    Money,
    Bool,
    /// Comma-separated, a JSON array of strings.
    List,
}

impl Shape {
    fn kind(self) -> Kind {
        match self {
            Shape::Text | Shape::List => Kind::Text,
            Shape::Whole => Kind::Whole,
            Shape::Money => Kind::Money,
            Shape::Bool => Kind::Bool,
        }
    }
}

/// One column: its name, the JSON field it fills (a path of keys; `contents` lines by
/// index) and its shape.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    path: Vec<&'static str>,
    /// `Some(i)`: a field of `contents[i]`.
    item: Option<usize>,
    shape: Shape,
}

impl Column {
    /// The JSON field, as problems name it (`parcel.weight_g`, `contents[1].hs_code`).
    pub fn field(&self) -> String {
        match self.item {
            Some(i) => format!("contents[{i}].{}", self.path.join(".")),
            None => self.path.join("."),
        }
    }
}

const ADDRESS_FIELDS: [&str; 10] = [
    "name", "company", "line1", "line2", "city", "region", "postcode", "country", "phone", "email",
];
const ITEM_FIELDS: [(&str, Shape); 5] = [
    ("description", Shape::Text),
    ("hs_code", Shape::Text),
    ("quantity", Shape::Whole),
    ("value", Shape::Money),
    ("origin_country", Shape::Text),
];

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let mut c = Vec::new();
    let mut add = |name: String, path: Vec<&'static str>, item: Option<usize>, shape: Shape| {
        c.push(Column {
            name,
            path,
            item,
            shape,
        });
    };
    add("reference".into(), vec!["reference"], None, Shape::Text);
    add("customer".into(), vec!["customer"], None, Shape::Text);
    for party in ["shipper", "recipient"] {
        for f in ADDRESS_FIELDS {
            add(format!("{party}_{f}"), vec![party, f], None, Shape::Text);
        }
    }
    for f in ["weight_g", "length_mm", "width_mm", "height_mm"] {
        add(f.into(), vec!["parcel", f], None, Shape::Whole);
    }
    add(
        "value_amount".into(),
        vec!["declared_value", "amount"],
        None,
        Shape::Money,
    );
    add(
        "value_currency".into(),
        vec!["declared_value", "currency"],
        None,
        Shape::Text,
    );
    add("battery".into(), vec!["battery"], None, Shape::Text);
    add("goods".into(), vec!["goods"], None, Shape::List);
    add("incoterm".into(), vec!["incoterm"], None, Shape::Text);
    add(
        "customs_category".into(),
        vec!["customs_category"],
        None,
        Shape::Text,
    );
    add(
        "strategy".into(),
        vec!["routing", "strategy"],
        None,
        Shape::Text,
    );
    add(
        "tracked_required".into(),
        vec!["routing", "require", "tracked"],
        None,
        Shape::Bool,
    );
    add(
        "max_transit_days".into(),
        vec!["routing", "require", "max_transit_days"],
        None,
        Shape::Whole,
    );
    add(
        "service".into(),
        vec!["routing", "service"],
        None,
        Shape::Text,
    );
    add(
        "currency".into(),
        vec!["routing", "currency"],
        None,
        Shape::Text,
    );
    for i in 0..ITEMS_MAX {
        for (f, shape) in ITEM_FIELDS {
            add(format!("item{}_{f}", i + 1), vec![f], Some(i), shape);
        }
    }
    c
});

/// Every column an upload may have, in the template's order.
pub fn columns() -> &'static [Column] {
    &COLUMNS
}

fn column_index(name: &str) -> Option<usize> {
    COLUMNS.iter().position(|c| c.name == name)
}

/// The column a JSON field came from (`contents[1].hs_code` → `item2_hs_code`), if one.
pub fn column_of(field: &str) -> Option<&'static str> {
    let field = match field {
        "declared_value" => "declared_value.amount",
        f if f.starts_with("goods[") => "goods",
        f => f,
    };
    COLUMNS
        .iter()
        .find(|c| c.field() == field)
        .map(|c| c.name.as_str())
}

/// Adds `"column"` to each problem whose field a column fills.
fn with_columns(problems: Value) -> Value {
    match problems {
        Value::Array(list) => Value::Array(
            list.into_iter()
                .map(|mut p| {
                    if let Some(column) = p["field"].as_str().and_then(column_of)
                        && let Some(o) = p.as_object_mut()
                    {
                        o.insert("column".into(), json!(column));
                    }
                    p
                })
                .collect(),
        ),
        other => other,
    }
}

/// One cell as read, whatever the format.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    /// Empty, null, or a column the file does not have.
    Absent,
    Text(String),
    /// Unreadable: why.
    Bad(&'static str),
}

/// The order JSON of one row (cells in [`COLUMNS`] order), and the problems of cells that
/// could not be read at all.
fn order_json(cells: &[Cell]) -> (Value, Vec<Problem>) {
    let mut order = Map::new();
    let mut contents: Vec<Map<String, Value>> = Vec::new();
    let mut problems = Vec::new();
    for (column, cell) in COLUMNS.iter().zip(cells) {
        let text = match cell {
            Cell::Absent => continue,
            Cell::Bad(why) => {
                problems.push(Problem::new(column.field(), format!("the cell {why}")));
                continue;
            }
            Cell::Text(t) => t.trim(),
        };
        if text.is_empty() {
            continue;
        }
        let value = cell_value(column.shape, text);
        let target = match column.item {
            Some(i) => {
                if contents.len() <= i {
                    contents.resize_with(i + 1, Map::new);
                }
                &mut contents[i]
            }
            None => &mut order,
        };
        put(target, &column.path, value);
    }
    if !contents.is_empty() {
        order.insert(
            "contents".into(),
            Value::Array(contents.into_iter().map(Value::Object).collect()),
        );
    }
    (Value::Object(order), problems)
}

fn put(target: &mut Map<String, Value>, path: &[&'static str], value: Value) {
    match path {
        [] => {}
        [last] => {
            target.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let inner = target
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = inner {
                put(o, rest, value);
            }
        }
    }
}

/// A cell's text as the JSON value of its shape. What does not fit the shape stays text,
/// so the order reader names the field (`must be a whole number of grams`).
fn cell_value(shape: Shape, text: &str) -> Value {
    match shape {
        Shape::Text | Shape::Money => Value::String(text.to_owned()),
        Shape::Whole => {
            if let Ok(n) = text.parse::<u64>() {
                json!(n)
            } else if let Ok(n) = text.parse::<i64>() {
                json!(n)
            } else if let Some(d) = rust_decimal::Decimal::from_str_exact(text)
                .ok()
                .filter(|d| d.fract().is_zero())
                .and_then(|d| i64::try_from(d).ok())
            {
                json!(d)
            } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
                json!(f)
            } else {
                Value::String(text.to_owned())
            }
        }
        Shape::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        },
        Shape::List => Value::Array(
            text.split(',')
                .map(|g| Value::String(g.trim().to_owned()))
                .collect(),
        ),
    }
}

/// The cells of an order's JSON, in [`COLUMNS`] order (the template's row).
pub fn order_cells(order: &Value) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| {
            let mut v = match c.item {
                Some(i) => &order["contents"][i],
                None => order,
            };
            for key in &c.path {
                v = &v[*key];
            }
            match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            }
        })
        .collect()
}

/// The contract's example order, the template's row (no `customer`).
pub fn example_order() -> Value {
    json!({"reference": "SO-10023",
     "shipper": {"name": "Li Wei", "line1": "18 Keji Rd", "city": "Shenzhen", "region": "Guangdong", "postcode": "518000", "country": "CN"},
     "recipient": {"name": "Anna Schmidt", "line1": "Invalidenstr. 116", "city": "Berlin", "postcode": "10115", "country": "DE"},
     "parcel": {"weight_g": 700, "length_mm": 300, "width_mm": 200, "height_mm": 100},
     "declared_value": {"amount": "45.00", "currency": "EUR"},
     "contents": [{"description": "Phone case", "hs_code": "392690", "quantity": 2, "value": "45.00", "origin_country": "CN"}],
     "routing": {"strategy": "cheapest", "require": {"tracked": true}, "currency": "EUR"}})
}

/// `GET /v1/orders/template.csv`: the header, then one valid row without `customer`.
pub fn template_csv() -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let written = w
        .write_record(COLUMNS.iter().map(|c| c.name.as_str()))
        .and_then(|()| w.write_record(order_cells(&example_order())));
    debug_assert!(written.is_ok(), "a CSV written to memory");
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Reading files.

/// A file whose header is read and checked, and whose rows are counted.
enum OpenFile {
    Csv {
        body: Bytes,
        /// File position → column index.
        layout: Vec<Option<usize>>,
    },
    Parquet {
        body: Bytes,
    },
}

fn file_problem(field: &str, problem: impl Into<String>) -> OrdersError {
    OrdersError::Invalid(vec![Problem::new(field, problem)])
}

/// Checks a header: every name a column, none twice, `reference` present.
fn check_names<'a>(names: impl Iterator<Item = &'a str>) -> Result<Vec<usize>, OrdersError> {
    let mut layout = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        match column_index(name) {
            Some(i) if layout.contains(&i) => {
                problems.push(Problem::new(name, "the column is in the file twice"));
            }
            Some(i) => layout.push(i),
            None => problems.push(Problem::new(
                name,
                "unknown column; the columns are those of GET /v1/orders/template.csv",
            )),
        }
    }
    if !problems.is_empty() {
        return Err(OrdersError::Invalid(problems));
    }
    if !layout.contains(&0) {
        return Err(file_problem(
            "reference",
            "the file has no reference column",
        ));
    }
    Ok(layout)
}

fn too_many_rows() -> OrdersError {
    OrdersError::TooLarge {
        field: "body",
        limit: "orders_upload_rows_max",
        max: UPLOAD_ROWS_MAX,
        unit: "rows",
    }
}

/// Opens a file: header checked, rows counted (a CSV is read through once for that, so an
/// unreadable record refuses the file before anything is created). `(file, rows)`.
fn open(body: Bytes, format: Format) -> Result<(OpenFile, u64), OrdersError> {
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(&body[..]);
            let header = reader
                .byte_headers()
                .map_err(|e| file_problem("body", format!("the CSV header cannot be read: {e}")))?
                .clone();
            let names: Vec<String> = header
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let n = String::from_utf8_lossy(n);
                    let n = if i == 0 {
                        n.trim_start_matches('\u{feff}').to_owned()
                    } else {
                        n.into_owned()
                    };
                    n.trim().to_owned()
                })
                .collect();
            if names.iter().all(String::is_empty) {
                return Err(file_problem("body", "the file is empty: no CSV header"));
            }
            let layout = check_names(names.iter().map(String::as_str))?;
            let mut record = csv::ByteRecord::new();
            let mut rows = 0u64;
            loop {
                match reader.read_byte_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => rows += 1,
                    Err(e) => {
                        return Err(file_problem(
                            "body",
                            format!("the CSV cannot be read after data row {rows}: {e}"),
                        ));
                    }
                }
                if rows > UPLOAD_ROWS_MAX {
                    return Err(too_many_rows());
                }
            }
            Ok((
                OpenFile::Csv {
                    body,
                    layout: layout.into_iter().map(Some).collect(),
                },
                rows,
            ))
        }
        Format::Parquet => {
            let builder = parquet_builder(body.clone())?;
            let schema = builder.schema().clone();
            check_names(schema.fields().iter().map(|f| f.name().as_str()))?;
            let mut problems = Vec::new();
            for f in schema.fields() {
                if let Some(i) = column_index(f.name())
                    && let Err(why) = COLUMNS[i]
                        .shape
                        .kind()
                        .accepts(f.data_type(), FileKind::Parcels)
                {
                    problems.push(Problem::new(f.name().as_str(), format!("the column {why}")));
                }
            }
            if !problems.is_empty() {
                return Err(OrdersError::Invalid(problems));
            }
            let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
            if rows > UPLOAD_ROWS_MAX {
                return Err(too_many_rows());
            }
            Ok((OpenFile::Parquet { body }, rows))
        }
    }
}

fn parquet_builder(body: Bytes) -> Result<ParquetRecordBatchReaderBuilder<Bytes>, OrdersError> {
    decoding(|| ParquetRecordBatchReaderBuilder::try_new(body))
        .map_err(|_| file_problem("body", "the Parquet file is damaged"))?
        .map_err(|e| file_problem("body", format!("not a readable Parquet file: {e}")))
}

/// Reads every row of `file` in order, handing each (1-based number, cells, what makes
/// the whole row unreadable) to `each`; an `Err` from `each` stops the reading.
fn read_rows(
    file: OpenFile,
    each: &mut dyn FnMut(u64, Vec<Cell>, Option<String>) -> Result<(), OrdersError>,
) -> Result<(), OrdersError> {
    match file {
        OpenFile::Csv { body, layout } => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(&body[..]);
            let mut record = csv::ByteRecord::new();
            let mut row = 0u64;
            while reader
                .read_byte_record(&mut record)
                .map_err(|e| file_problem("body", format!("the CSV cannot be read: {e}")))?
            {
                row += 1;
                let mut cells = vec![Cell::Absent; COLUMNS.len()];
                if record.len() != layout.len() {
                    // No cell of this row can be trusted to be in its column.
                    let at = layout.iter().position(|c| *c == Some(0));
                    if let Some(Ok(reference)) =
                        at.and_then(|p| record.get(p)).map(std::str::from_utf8)
                    {
                        cells[0] = Cell::Text(reference.to_owned());
                    }
                    let why = format!(
                        "the row has {} fields and the header {}",
                        record.len(),
                        layout.len()
                    );
                    each(row, cells, Some(why))?;
                    continue;
                }
                for (position, field) in record.iter().enumerate() {
                    if let Some(Some(column)) = layout.get(position) {
                        cells[*column] = if field.is_empty() {
                            Cell::Absent
                        } else {
                            match std::str::from_utf8(field) {
                                Ok(s) => Cell::Text(s.to_owned()),
                                Err(_) => Cell::Bad("is not valid UTF-8"),
                            }
                        };
                    }
                }
                each(row, cells, None)?;
            }
            Ok(())
        }
        OpenFile::Parquet { body } => {
            let builder = parquet_builder(body)?;
            let positions: Vec<Option<usize>> = builder
                .schema()
                .fields()
                .iter()
                .map(|f| column_index(f.name()))
                .collect();
            let mut reader = decoding(|| builder.with_batch_size(PARQUET_BATCH_ROWS).build())
                .map_err(|_| file_problem("body", "the Parquet file is damaged"))?
                .map_err(|e| file_problem("body", format!("not a readable Parquet file: {e}")))?;
            let mut row = 0u64;
            loop {
                let batch: RecordBatch = match decoding(|| reader.next()) {
                    Ok(None) => break,
                    Ok(Some(Ok(batch))) => batch,
                    Ok(Some(Err(e))) => {
                        return Err(file_problem(
                            "body",
                            format!("the Parquet file cannot be read after data row {row}: {e}"),
                        ));
                    }
                    Err(_) => {
                        return Err(file_problem(
                            "body",
                            format!("the Parquet file is damaged after data row {row}"),
                        ));
                    }
                };
                let views: Vec<(usize, View<'_>)> = positions
                    .iter()
                    .enumerate()
                    .filter_map(|(p, c)| c.map(|c| (c, View::of(batch.column(p)))))
                    .collect();
                for r in 0..batch.num_rows() {
                    row += 1;
                    let mut cells = vec![Cell::Absent; COLUMNS.len()];
                    for (column, view) in &views {
                        cells[*column] = view.get(r);
                    }
                    each(row, cells, None)?;
                }
            }
            Ok(())
        }
    }
}

/// One Parquet column of a batch: strings read in place, anything else read once as
/// scalars (crossdock-tables' cell reader).
enum View<'a> {
    Absent,
    Text(Texts<'a>),
    Scalars(Vec<crossdock_tables::columns::ScalarCell>),
}

impl<'a> View<'a> {
    fn of(array: &'a ArrayRef) -> View<'a> {
        if let DataType::Null = array.data_type() {
            return View::Absent;
        }
        match Texts::of(array) {
            Some(texts) => View::Text(texts),
            None => View::Scalars(scalars(array)),
        }
    }

    fn get(&self, row: usize) -> Cell {
        match self {
            View::Absent => Cell::Absent,
            View::Text(t) => t
                .get(row)
                .map_or(Cell::Absent, |s| Cell::Text(s.to_owned())),
            View::Scalars(cells) => match cells.get(row) {
                None | Some(Ok(None)) => Cell::Absent,
                Some(Ok(Some(scalar))) => match scalar {
                    Scalar::Int(i) => Cell::Text(i.to_string()),
                    Scalar::Float(f) => Cell::Text(f.to_string()),
                    Scalar::Decimal(d) => Cell::Text(d.to_string()),
                    Scalar::Bool(b) => Cell::Text(b.to_string()),
                    Scalar::Date(_) => Cell::Bad("is a date"),
                },
                Some(Err(why)) => Cell::Bad(why),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// The upload.

/// An upload's answer: the counts and every row's result.
#[derive(Clone, Debug, Default)]
pub struct UploadAnswer {
    pub rows: u64,
    pub created: u64,
    pub duplicate: u64,
    pub invalid: u64,
    /// With `?ship=true`: rows whose order has a shipment, and rows whose ship was refused.
    pub shipped: u64,
    pub ship_failed: u64,
    pub ship: bool,
    /// The JSON text of each row's result, in row order.
    pub results: Vec<String>,
}

impl UploadAnswer {
    /// The answer's JSON text.
    pub fn to_json(&self) -> String {
        let size: usize = self.results.iter().map(|r| r.len() + 1).sum();
        let mut out = String::with_capacity(size + 160);
        out.push_str(&format!(
            "{{\"rows\":{},\"created\":{},\"duplicate\":{},\"invalid\":{}",
            self.rows, self.created, self.duplicate, self.invalid
        ));
        if self.ship {
            out.push_str(&format!(
                ",\"shipped\":{},\"ship_failed\":{}",
                self.shipped, self.ship_failed
            ));
        }
        out.push_str(",\"results\":[");
        for (i, r) in self.results.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r);
        }
        out.push_str("]}");
        out
    }
}

/// One row read and prepared on the reading thread.
struct Prepared {
    row: u64,
    reference: Option<String>,
    outcome: Result<OrderRow, OrdersError>,
    /// With `?ship=true`, a `ready` order's quote from its validation.
    quoted: Option<Box<ship::Quoted>>,
}

/// Runs an upload for `actor`: reads the file, creates (and ships) every row. `Err`: the
/// file is refused (400, 413; nothing created), or a failure of ours.
///
/// The whole upload runs on a thread of its own in the idle class
/// (`crossdock_db::background`), with its reader, its planners and its writer: an import
/// must not take the CPU from quotes. The caller only waits for the answer.
pub async fn upload(
    orders: &Arc<Orders>,
    actor: &Actor,
    body: Bytes,
    options: &UploadOptions,
) -> Result<UploadAnswer, OrdersError> {
    let (orders, actor, options) = (orders.clone(), actor.clone(), options.clone());
    let idle = orders.bulk_in_idle_class();
    let runtime = tokio::runtime::Handle::current();
    let (done, answer) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("crossdock-upload".into())
        .spawn(move || {
            if idle {
                crossdock_db::background::lower_current_thread();
            }
            let answer = runtime.block_on(run_upload(&orders, &actor, body, &options));
            let _ = done.send(answer);
        })
        .map_err(|e| OrdersError::Failed(format!("starting the upload: {e}")))?;
    answer
        .await
        .map_err(|_| OrdersError::Failed("the upload stopped".into()))?
}

async fn run_upload(
    orders: &Arc<Orders>,
    actor: &Actor,
    body: Bytes,
    options: &UploadOptions,
) -> Result<UploadAnswer, OrdersError> {
    let format = options.format;
    let (file, rows) = tokio::task::spawn_blocking(move || open(body, format))
        .await
        .map_err(|e| OrdersError::Failed(format!("reading the upload: {e}")))??;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<Prepared>, OrdersError>>(2);
    let idle = orders.bulk_in_idle_class();
    let (this, who, source) = (orders.clone(), actor.clone(), options.source);
    let ship = options.ship;
    // Reading and validating on a thread of its own in the idle class
    // (crossdock_db::background): an import must not take the CPU from quotes.
    let (reader_done, reader) = tokio::sync::oneshot::channel::<()>();
    let read_and_validate = move || {
        if idle {
            crossdock_db::background::lower_current_thread();
        }
        let _done = reader_done;
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        let read = read_rows(file, &mut |row, cells, unreadable| {
            let reference = match &cells[0] {
                Cell::Text(t) => Some(t.trim().to_owned()),
                _ => None,
            };
            let (value, cell_problems) = order_json(&cells);
            let mut quoted = None;
            let outcome = if let Some(why) = unreadable {
                Err(OrdersError::Invalid(vec![Problem::new("", why)]))
            } else if cell_problems.is_empty() {
                // Shipping prices on today's date: so does validating, once for both.
                let date = ship.then(|| ship::date_of(this.clock.now_unix()));
                this.new_order_row_quoted(&who, &value, source, date.as_deref())
                    .map(|(row, q)| {
                        quoted = q.map(Box::new);
                        row
                    })
            } else {
                let mut problems = cell_problems;
                if let Err(more) = crate::parse::order(&value) {
                    problems.extend(more);
                }
                Err(OrdersError::Invalid(problems))
            };
            chunk.push(Prepared {
                row,
                reference,
                outcome,
                quoted,
            });
            if chunk.len() == CHUNK_ROWS {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                // The receiver is gone only when the upload failed: stop reading.
                tx.blocking_send(Ok(full))
                    .map_err(|_| OrdersError::Failed("the upload stopped".into()))?;
            }
            Ok(())
        });
        let last = match read {
            Ok(()) if chunk.is_empty() => return,
            Ok(()) => Ok(chunk),
            Err(e) => Err(e),
        };
        let _ = tx.blocking_send(last);
    };
    std::thread::Builder::new()
        .name("crossdock-import".into())
        .spawn(read_and_validate)
        .map_err(|e| OrdersError::Failed(format!("starting the upload's reader: {e}")))?;
    let mut answer = UploadAnswer {
        ship: options.ship,
        results: Vec::with_capacity(usize::try_from(rows).unwrap_or(0)),
        ..UploadAnswer::default()
    };
    let started = std::time::Instant::now();
    let mut next_progress = PROGRESS_EVERY_ROWS;
    // A pipeline on this one task: chunks are prepared ([`STAGES_AHEAD`] ahead) while
    // earlier ones are written (on the bulk writer). Without shipping, preparing is
    // inserting the orders and writing is nothing. With `?ship=true`, preparing prices
    // the chunk's new orders (on the planners) before they exist, and writing creates and
    // ships them in one transaction (`Orders::create_and_ship`), then ships the rest the
    // ordinary way. Writes run one chunk after another, in file order, so the answer and
    // every duplicate reference come out as one chunk at a time would.
    let ship = answer.ship;
    let (staged, mut stages) =
        tokio::sync::mpsc::channel::<Result<Stage, OrdersError>>(STAGES_AHEAD);
    let prepare = async move {
        while let Some(chunk) = rx.recv().await {
            let stage = match chunk {
                Ok(chunk) if ship => orders.plan_fresh(actor, chunk).await,
                Ok(chunk) => orders
                    .prepare_chunk(actor, chunk, false)
                    .await
                    .map(Stage::Inserted),
                Err(e) => Err(e),
            };
            let failed = stage.is_err();
            // The receiver is gone only when writing failed: stop preparing.
            if staged.send(stage).await.is_err() || failed {
                return;
            }
        }
    };
    let write = async {
        while let Some(stage) = stages.recv().await {
            let written = match stage {
                Ok(stage) => orders.finish_stage(actor, stage).await,
                Err(e) => Err(e),
            };
            let chunk = match written {
                Ok(chunk) => chunk,
                Err(e) => {
                    // Preparing stops at its next send.
                    stages.close();
                    return Err(e);
                }
            };
            chunk.answer(&mut answer);
            if answer.rows >= next_progress || answer.rows == rows {
                next_progress = (answer.rows / PROGRESS_EVERY_ROWS + 1) * PROGRESS_EVERY_ROWS;
                tracing::info!(
                    rows_done = answer.rows,
                    rows,
                    created = answer.created,
                    duplicate = answer.duplicate,
                    invalid = answer.invalid,
                    shipped = answer.shipped,
                    seconds = started.elapsed().as_secs_f64(),
                    "orders upload progress"
                );
            }
        }
        Ok::<(), OrdersError>(())
    };
    let ((), written) = tokio::join!(prepare, write);
    written?;
    // The sender is dropped when the reader ends, normally or not.
    let _ = reader.await;
    assert_eq!(
        answer.rows,
        answer.results.len() as u64,
        "one result per row"
    );
    if answer.rows != rows {
        return Err(OrdersError::Failed(format!(
            "the upload counted {rows} rows and answered {}",
            answer.rows
        )));
    }
    Ok(answer)
}

/// One chunk of an upload on its way through: its result rows, and with `?ship=true` the
/// rows still waiting for their shipments.
struct Chunk {
    rows: Vec<Value>,
    created: u64,
    duplicate: u64,
    invalid: u64,
    /// Indexes into `rows` of the orders being shipped, and their plans.
    shipping: Option<(Vec<usize>, bulk::PlannedMany)>,
    shipped: Vec<(usize, Result<Shipped, OrdersError>)>,
}

impl Chunk {
    /// Appends the chunk's results to the upload's answer.
    fn answer(self, answer: &mut UploadAnswer) {
        let mut rows = self.rows;
        for (i, result) in self.shipped {
            let doc = &mut rows[i];
            match result {
                Ok(Shipped::Created(s) | Shipped::Existing(s)) => {
                    answer.shipped += 1;
                    doc["shipment"] = s["id"].clone();
                    doc["tracking_number"] = s["tracking_number"].clone();
                    doc["order_status"] = json!("shipped");
                }
                Err(e) => {
                    answer.ship_failed += 1;
                    if let Some(o) = doc.as_object_mut() {
                        o.remove("shipment");
                        o.remove("tracking_number");
                    }
                    doc["ship_error"] = ApiError::from(e).body_json();
                }
            }
        }
        answer.created += self.created;
        answer.duplicate += self.duplicate;
        answer.invalid += self.invalid;
        answer.rows += rows.len() as u64;
        answer
            .results
            .extend(rows.into_iter().map(|r| r.to_string()));
    }
}

/// Chunks prepared ahead of the one being written: enough that the planners never wait
/// for the writer (each holds [`CHUNK_ROWS`] priced orders, about 5 KB each).
const STAGES_AHEAD: usize = 2;

/// A chunk between the two halves of the pipeline.
enum Stage {
    /// Its orders are created; its shipments (the ordinary way) may wait to be issued.
    Inserted(Chunk),
    /// Nothing written yet; its new orders are priced.
    Planned(Speculative),
}

/// A chunk of an upload with `?ship=true` whose new orders are priced before they exist.
struct Speculative {
    heads: Vec<(u64, Option<String>)>,
    prepared: Vec<Result<OrderRow, OrdersError>>,
    /// Per prepared row: its plan, when it reads and is `ready` and pricing issued one.
    plans: Vec<Option<ship::Plan>>,
}

impl Orders {
    /// Prices the chunk's `ready` rows as the orders they will be; nothing is written.
    /// A row refused here (held by the book's customs, no service) gets no plan: it is
    /// created and then shipped the ordinary way, which refuses it again and holds it.
    async fn plan_fresh(
        self: &Arc<Orders>,
        actor: &Actor,
        chunk: Vec<Prepared>,
    ) -> Result<Stage, OrdersError> {
        let mut heads = Vec::with_capacity(chunk.len());
        let mut prepared = Vec::with_capacity(chunk.len());
        let (mut at, mut to_plan) = (Vec::new(), Vec::new());
        for (i, p) in chunk.into_iter().enumerate() {
            heads.push((p.row, p.reference));
            if let Ok(row) = &p.outcome
                && row.status == OrderStatus::Ready.as_str()
            {
                at.push(i);
                to_plan.push((row.clone(), p.quoted));
            }
            prepared.push(p.outcome);
        }
        let mut plans: Vec<Option<ship::Plan>> = prepared.iter().map(|_| None).collect();
        for (i, planned) in at
            .into_iter()
            .zip(self.plan_each(actor, to_plan, None).await?)
        {
            match planned {
                Ok(ship::Planned::Issue(plan)) => plans[i] = Some(*plan),
                Ok(ship::Planned::Existing(_)) => {}
                Err(e @ (OrdersError::Db(_) | OrdersError::Failed(_))) => return Err(e),
                Err(_) => {}
            }
        }
        Ok(Stage::Planned(Speculative {
            heads,
            prepared,
            plans,
        }))
    }

    /// The writing half of the pipeline.
    async fn finish_stage(
        self: &Arc<Orders>,
        actor: &Actor,
        stage: Stage,
    ) -> Result<Chunk, OrdersError> {
        match stage {
            Stage::Inserted(chunk) => self.issue_chunk(chunk).await,
            Stage::Planned(spec) => self.write_fresh(actor, spec).await,
        }
    }

    /// Creates and ships a priced chunk in one transaction, then ships the rest of its
    /// shippable orders (references seen before, rows refused while priced) the ordinary
    /// way. A shipment refused in the transaction sends the whole chunk the ordinary way.
    async fn write_fresh(
        self: &Arc<Orders>,
        actor: &Actor,
        spec: Speculative,
    ) -> Result<Chunk, OrdersError> {
        let Speculative {
            heads,
            prepared,
            plans,
        } = spec;
        let mut refused = Vec::with_capacity(prepared.len());
        let mut rows = Vec::with_capacity(prepared.len());
        for (p, plan) in prepared.into_iter().zip(plans) {
            match p {
                Ok(row) => {
                    rows.push((row, plan));
                    refused.push(None);
                }
                Err(e) => refused.push(Some(e)),
            }
        }
        let done = if rows.is_empty() {
            Vec::new()
        } else {
            match self.create_and_ship(rows).await {
                Ok(done) => done,
                Err(bulk::Rollback::Failed(e)) => return Err(e),
                Err(bulk::Rollback::Refused(rows)) => {
                    let mut rows = rows.into_iter();
                    let prepared = refused
                        .into_iter()
                        .map(|r| match r {
                            Some(e) => Err(e),
                            None => rows.next().map(|(row, _)| row).ok_or_else(|| {
                                OrdersError::Failed("a refused chunk lost a row".into())
                            }),
                        })
                        .collect();
                    let chunk = self.prepare_prepared(actor, heads, prepared, true).await?;
                    return self.issue_chunk(chunk).await;
                }
            }
        };
        let mut done = done.into_iter();
        let mut outcomes = Vec::with_capacity(refused.len());
        let mut shipped_now = Vec::with_capacity(refused.len());
        for r in refused {
            let (outcome, shipped) = match r {
                Some(e) => (Err(e), None),
                None => match done.next() {
                    Some(bulk::Fresh::Shipped(row, shipped)) => {
                        (Ok(crate::Created::Created(row)), Some(shipped))
                    }
                    Some(bulk::Fresh::Stored(row, created, submitted)) => {
                        (crate::settle(row, created, &submitted), None)
                    }
                    None => (
                        Err(OrdersError::Failed(
                            "a prepared order was not written".into(),
                        )),
                        None,
                    ),
                },
            };
            outcomes.push(outcome);
            shipped_now.push(shipped);
        }
        let (mut chunk, to_ship) = chunk_of(heads, outcomes, shipped_now, true)?;
        if !to_ship.is_empty() {
            let (at, list): (Vec<usize>, Vec<OrderRow>) = to_ship.into_iter().unzip();
            let planned = self.plan_many(actor, list, None).await?;
            let shipped = self.issue_planned(planned).await?;
            chunk.shipped.extend(at.into_iter().zip(shipped));
        }
        Ok(chunk)
    }

    /// Creates one chunk of prepared rows and, with `ship`, prices its `ready` orders.
    async fn prepare_chunk(
        self: &Arc<Orders>,
        actor: &Actor,
        chunk: Vec<Prepared>,
        ship: bool,
    ) -> Result<Chunk, OrdersError> {
        let mut heads = Vec::with_capacity(chunk.len());
        let mut prepared = Vec::with_capacity(chunk.len());
        for p in chunk {
            heads.push((p.row, p.reference));
            prepared.push(p.outcome);
        }
        self.prepare_prepared(actor, heads, prepared, ship).await
    }

    async fn prepare_prepared(
        self: &Arc<Orders>,
        actor: &Actor,
        heads: Vec<(u64, Option<String>)>,
        prepared: Vec<Result<OrderRow, OrdersError>>,
        ship: bool,
    ) -> Result<Chunk, OrdersError> {
        let outcomes = self.insert_prepared(prepared).await?;
        let none = outcomes.iter().map(|_| None).collect();
        let (mut out, to_ship) = chunk_of(heads, outcomes, none, ship)?;
        if !to_ship.is_empty() {
            let (at, list): (Vec<usize>, Vec<OrderRow>) = to_ship.into_iter().unzip();
            out.shipping = Some((at, self.plan_many(actor, list, None).await?));
        }
        Ok(out)
    }

    /// Issues a prepared chunk's shipments.
    async fn issue_chunk(&self, mut chunk: Chunk) -> Result<Chunk, OrdersError> {
        if let Some((at, planned)) = chunk.shipping.take() {
            let shipped = self.issue_planned(planned).await?;
            chunk.shipped = at.into_iter().zip(shipped).collect();
        }
        Ok(chunk)
    }
}

/// A chunk's result rows from its create outcomes, with the shipments issued with them
/// (`shipped_now`, per row); with `ship`, the other shippable orders, to be shipped.
fn chunk_of(
    heads: Vec<(u64, Option<String>)>,
    outcomes: Vec<bulk::CreateOutcome>,
    shipped_now: Vec<Option<Shipped>>,
    ship: bool,
) -> Result<(Chunk, Vec<(usize, OrderRow)>), OrdersError> {
    let mut out = Chunk {
        rows: Vec::with_capacity(outcomes.len()),
        created: 0,
        duplicate: 0,
        invalid: 0,
        shipping: None,
        shipped: Vec::new(),
    };
    let mut to_ship = Vec::new();
    for (((row, reference), outcome), shipped) in heads.into_iter().zip(outcomes).zip(shipped_now) {
        let (status, order, problems) = bulk::outcome_row(outcome)?;
        match status {
            "created" => out.created += 1,
            "duplicate" => out.duplicate += 1,
            _ => out.invalid += 1,
        }
        let mut doc = json!({
            "row": row,
            "reference": order.as_ref().map(|o| o.reference.clone()).or(reference),
            "status": status,
            "order": order.as_ref().map(|o| o.id.clone()),
            "order_status": order.as_ref().map(|o| o.status.clone()),
            "problems": with_columns(problems),
        });
        if let Some(shipped) = shipped {
            out.shipped.push((out.rows.len(), Ok(shipped)));
        } else if ship && let Some(o) = order.filter(bulk::shippable) {
            doc["shipment"] = Value::Null;
            doc["tracking_number"] = Value::Null;
            to_ship.push((out.rows.len(), o));
        }
        out.rows.push(doc);
    }
    Ok((out, to_ship))
}

// ---------------------------------------------------------------------------------------
// Routes.

type AppState = Arc<Orders>;

/// The upload routes, with their own body limit ([`UPLOAD_BYTES_MAX`]).
pub(crate) fn routes(orders: Arc<Orders>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(upload_orders))
        .routes(routes!(template))
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BYTES_MAX))
        .with_state(orders)
}

const ORDER_ROLES: [Role; 3] = [Role::Shipper, Role::Operator, Role::Admin];

/// The actor of an upload: the key's, narrowed to `?customer=` when given (a shipper key
/// naming another customer: 403).
pub fn upload_actor(principal: &Principal, customer: Option<&str>) -> Result<Actor, ApiError> {
    let mut actor = Actor::of(principal);
    if let Some(named) = customer.filter(|c| !c.is_empty()) {
        if actor.customer.as_deref().is_some_and(|own| own != named) {
            return Err(ApiError::forbidden(
                "this key may create orders only for its own customer",
            ));
        }
        actor.customer = Some(named.to_owned());
    }
    Ok(actor)
}

/// Creates an order per row of a CSV or Parquet file (`Content-Type`), answering every row.
#[utoipa::path(post, path = "/v1/orders/upload", tag = "orders", security(("api_key" = [])),
    params(
        ("ship" = Option<bool>, Query, description = "ship each row's ready order too"),
        ("customer" = Option<String>, Query, description = "the customer of every row (operator and admin keys; rows naming another are invalid)")),
    request_body(content = String, description = "CSV (text/csv) or Parquet (application/vnd.apache.parquet) with the columns of GET /v1/orders/template.csv", content_type = "text/csv"),
    responses(
        (status = 200, description = "{rows, created, duplicate, invalid, results: [{row, reference, status, order, order_status, problems, shipment?, tracking_number?, ship_error?}]}", body = Object),
        (status = 400, description = "unreadable file, unknown column, no reference column, Content-Type", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "over orders_upload_rows_max or orders_upload_bytes_max", body = ErrorBody)))]
async fn upload_orders(
    State(orders): State<AppState>,
    principal: Principal,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let unknown: Vec<Problem> = params
        .keys()
        .filter(|k| !matches!(k.as_str(), "ship" | "customer"))
        .map(|k| Problem::new(k.clone(), "unknown query parameter"))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid(unknown));
    }
    let ship = match params.get("ship").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid_field("ship", "true or false")),
    };
    let actor = upload_actor(&principal, params.get("customer").map(String::as_str))?;
    let format = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Format::from_content_type)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "Content-Type",
                format!("{} or {}", Format::CSV_TYPE, Format::PARQUET_TYPE),
            )
        })?;
    let body = body.map_err(|e| ApiError::body(e, "orders_upload_bytes_max", UPLOAD_BYTES_MAX))?;
    let options = UploadOptions {
        format,
        ship,
        source: Source::Upload,
    };
    let answer = upload(&orders, &actor, body, &options).await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_json(),
    )
        .into_response())
}

/// The upload template: the header with every column, then one valid row without customer.
#[utoipa::path(get, path = "/v1/orders/template.csv", tag = "orders", security(("api_key" = [])),
    responses((status = 200, description = "CSV", body = String, content_type = "text/csv"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn template(principal: Principal) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        template_csv(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_are_the_contracts_and_map_both_ways() {
        let names: Vec<&str> = COLUMNS.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.len(), 62);
        assert_eq!(&names[..3], ["reference", "customer", "shipper_name"]);
        assert_eq!(names.last(), Some(&"item5_origin_country"));
        for (column, field) in [
            ("item2_hs_code", "contents[1].hs_code"),
            ("weight_g", "parcel.weight_g"),
            ("tracked_required", "routing.require.tracked"),
            ("recipient_postcode", "recipient.postcode"),
            ("value_amount", "declared_value.amount"),
        ] {
            let c = &COLUMNS[column_index(column).expect(column)];
            assert_eq!(c.field(), field);
            assert_eq!(column_of(field), Some(column));
        }
        assert_eq!(column_of("goods[2]"), Some("goods"));
        assert_eq!(column_of("nothing"), None);
    }

    #[test]
    fn the_template_row_reads_back_as_the_example_order() {
        let cells: Vec<Cell> = order_cells(&example_order())
            .into_iter()
            .map(|t| {
                if t.is_empty() {
                    Cell::Absent
                } else {
                    Cell::Text(t)
                }
            })
            .collect();
        let (value, problems) = order_json(&cells);
        assert!(problems.is_empty());
        assert_eq!(value, example_order());
        let (order, customer) = crate::parse::order(&value).expect("reads");
        assert_eq!(customer, None);
        assert_eq!(crate::model::validate(&order), vec![]);
    }

    #[test]
    fn cells_become_json_of_their_shape_and_wrong_types_stay_text() {
        for (shape, text, value) in [
            (Shape::Whole, "700", json!(700)),
            (Shape::Whole, "-3", json!(-3)),
            (Shape::Whole, "700.0", json!(700)),
            (Shape::Whole, "1.5", json!(1.5)),
            (Shape::Whole, "abc", json!("abc")),
            (Shape::Bool, "TRUE", json!(true)),
            (Shape::Bool, "0", json!(false)),
            (Shape::Bool, "yes", json!("yes")),
            (Shape::Money, "45.00", json!("45.00")),
            (Shape::List, "a, b", json!(["a", "b"])),
        ] {
            assert_eq!(cell_value(shape, text), value, "{shape:?} {text:?}");
        }
    }

    #[test]
    fn headers_are_checked_by_name() {
        assert!(check_names(["reference", "weight_g"].into_iter()).is_ok());
        let Err(OrdersError::Invalid(p)) = check_names(["reference", "colour"].into_iter()) else {
            panic!("unknown column accepted")
        };
        assert_eq!(p[0].field, "colour");
        let Err(OrdersError::Invalid(p)) = check_names(["weight_g"].into_iter()) else {
            panic!("no reference accepted")
        };
        assert_eq!(p[0].field, "reference");
        assert!(check_names(["reference", "reference"].into_iter()).is_err());
    }
}
