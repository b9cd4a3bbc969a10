//! What-if: re-price a file of historical parcels with two rate books and say what changes.
//!
//! An analyst about to activate a new book wants to know, before any checkout sees it, which
//! parcels would move to another service, which would cost or sell for more or less, and
//! which nothing could carry any more. [`diff_file`] routes every parcel of a bulk file (the
//! same columns and rules as `crossdock route`) with both books and groups the answers by
//! the service that carried the parcel under the old book and its destination.
//!
//! Deltas are `new − old` in minor units of the parcel's quote currency, over the parcels
//! both books route in that same currency (whether or not the service changed). A mean is
//! rounded half away from zero to the currency's minor unit.
//!
//! Memory is bounded by the batch size and the number of (service, destination, currency)
//! groups, never by the file's length.

use crate::parse::parse_row;
use crate::source::{InBatch, Source};
use crate::{BulkError, Format, Progress, RouteOptions};
use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use crossdock_engine::{Book, Country, Currency, Quote, Scratch};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// What one book did with one parcel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side<'b> {
    Invalid,
    Unroutable { currency: Currency },
    Routed { service: &'b str, currency: Currency, cost: i64, sell: i64 },
}

impl<'b> Side<'b> {
    fn service(&self) -> Option<&'b str> {
        match self {
            Side::Routed { service, .. } => Some(service),
            _ => None,
        }
    }
}

/// One parcel under both books.
struct RowDiff<'b> {
    dest: Option<Country>,
    old: Side<'b>,
    new: Side<'b>,
}

/// Sum, count and the change of largest magnitude of a set of deltas, in minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub sum: i128,
    pub count: u64,
    /// The delta of largest magnitude, with its sign; of two equal magnitudes the increase.
    pub largest: i64,
}

impl Delta {
    fn add(&mut self, delta: i64) {
        self.merge(&Delta { sum: i128::from(delta), count: 1, largest: delta });
    }

    fn merge(&mut self, other: &Delta) {
        self.sum += other.sum;
        self.count += other.count;
        let (a, b) = (other.largest.unsigned_abs(), self.largest.unsigned_abs());
        if a > b || (a == b && other.largest > self.largest) {
            self.largest = other.largest;
        }
    }

    /// Sum, mean and largest in minor units, in that order; each `None` with no deltas.
    pub fn figures(&self) -> [Option<i128>; 3] {
        let any = self.count > 0;
        [any.then_some(self.sum), self.mean(), any.then_some(i128::from(self.largest))]
    }

    /// The mean in minor units, rounded half away from zero; `None` with no deltas.
    pub fn mean(&self) -> Option<i128> {
        let n = i128::from(self.count);
        if n == 0 {
            return None;
        }
        let (q, r) = (self.sum / n, self.sum % n);
        // Half away from zero: |r| ≥ n/2 moves the quotient away from zero.
        Some(if 2 * r.abs() >= n { q + self.sum.signum() } else { q })
    }
}

/// One group: the parcels the old book sent by `service` (`None`: the old book could route
/// none of them) to `dest_country`, quoted in `currency`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffGroup {
    pub service: Option<String>,
    pub dest_country: Country,
    pub currency: Currency,
    /// Parcels valid under both books.
    pub parcels: u64,
    /// Parcels whose chosen service differs under the new book (including becoming
    /// routable or unroutable).
    pub changed: u64,
    /// Routed by the old book, unroutable under the new one.
    pub newly_unroutable: u64,
    /// Unroutable under the old book, routed by the new one.
    pub newly_routable: u64,
    /// Where the changed parcels went: new service (`None`: unroutable) and how many.
    pub moved_to: Vec<(Option<String>, u64)>,
    /// `new cost − old cost` over the parcels both books route in `currency`.
    pub cost: Delta,
    /// `new sell − old sell`, the same parcels.
    pub sell: Delta,
}

/// Totals of one quote currency over all groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrencyTotal {
    pub currency: Currency,
    pub cost: Delta,
    pub sell: Delta,
}

/// The whole what-if.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffReport {
    pub old_book: String,
    pub new_book: String,
    /// Every input row.
    pub rows: u64,
    /// Rows neither book can read as a parcel (their problems are what `crossdock route`
    /// writes).
    pub invalid: u64,
    /// Rows valid under the old book only (the new book lacks their currency, say).
    pub invalid_new_only: u64,
    /// Rows valid under the new book only.
    pub invalid_old_only: u64,
    /// Parcels valid under both books, and of them those whose service changes.
    pub parcels: u64,
    pub changed: u64,
    pub newly_unroutable: u64,
    pub newly_routable: u64,
    /// Both books route the parcel, in different currencies: no delta (the books' base
    /// currencies differ and the row names none).
    pub currency_changed: u64,
    pub totals: Vec<CurrencyTotal>,
    /// Ordered by service (the old book's unroutable last), destination, currency.
    pub groups: Vec<DiffGroup>,
    pub seconds: f64,
}

#[derive(Default)]
struct GroupAcc<'b> {
    parcels: u64,
    changed: u64,
    newly_unroutable: u64,
    newly_routable: u64,
    moved_to: HashMap<Option<&'b str>, u64>,
    cost: Delta,
    sell: Delta,
}

/// Re-prices every parcel of `replay` (a bulk file, Parquet or CSV) with `old` and `new`
/// and reports the differences; `opts` as for [`crate::route_file`] (strategy, ship date of
/// rows without one, threads, batch size). `progress` is called after each batch.
pub fn diff_file(old: &Book, new: &Book, replay: &Path, opts: &RouteOptions, progress: &mut dyn FnMut(Progress)) -> Result<DiffReport, BulkError> {
    let started = Instant::now();
    if !(1..=crate::BATCH_ROWS_MAX).contains(&opts.batch_rows) {
        return Err(BulkError::Options(format!("batch_rows must be 1 to {}, not {}", crate::BATCH_ROWS_MAX, opts.batch_rows)));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .thread_name(|i| format!("crossdock-diff-{i}"))
        .build()
        .map_err(|e| BulkError::Internal(format!("starting the pricing threads: {e}")))?;
    let mut source = Source::open(replay, Format::of(replay)?, opts.batch_rows)?;
    let rows_total = source.rows_total();
    let mut report = DiffReport {
        old_book: old.label().to_owned(),
        new_book: new.label().to_owned(),
        rows: 0,
        invalid: 0,
        invalid_new_only: 0,
        invalid_old_only: 0,
        parcels: 0,
        changed: 0,
        newly_unroutable: 0,
        newly_routable: 0,
        currency_changed: 0,
        totals: Vec::new(),
        groups: Vec::new(),
        seconds: 0.0,
    };
    let mut groups: HashMap<(Option<&str>, Country, Currency), GroupAcc<'_>> = HashMap::new();
    while let Some(batch) = source.next_batch()? {
        let rows = pool.install(|| diff_batch(old, new, &batch, opts));
        for row in &rows {
            tally(&mut report, &mut groups, row);
        }
        report.rows += rows.len() as u64;
        progress(Progress { rows_done: report.rows, rows_total });
    }
    finish(&mut report, groups);
    progress(Progress { rows_done: report.rows, rows_total: Some(report.rows) });
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn diff_batch<'b>(old: &'b Book, new: &'b Book, batch: &InBatch, opts: &RouteOptions) -> Vec<RowDiff<'b>> {
    let view = batch.view(None);
    let mut out = Vec::with_capacity(batch.len());
    let work = || ((Scratch::default(), Quote::new(old.base_currency())), (Scratch::default(), Quote::new(new.base_currency())));
    (0..batch.len())
        .into_par_iter()
        .with_min_len(256)
        .map_init(work, |((s_old, q_old), (s_new, q_new)), row| {
            let cells = view.cells(row);
            let (old_side, dest) = side(old, &cells, opts, s_old, q_old);
            let (new_side, new_dest) = side(new, &cells, opts, s_new, q_new);
            RowDiff { dest: dest.or(new_dest), old: old_side, new: new_side }
        })
        .collect_into_vec(&mut out);
    out
}

/// The first option of `book` for a row, as `crossdock route` would write it.
fn side<'b>(book: &'b Book, cells: &crate::cell::RowCells<'_>, opts: &RouteOptions, scratch: &mut Scratch, quote: &mut Quote) -> (Side<'b>, Option<Country>) {
    let Ok(request) = parse_row(cells, book, opts) else {
        return (Side::Invalid, None);
    };
    let dest = Some(request.dest_country);
    if book.quote_into(&request, scratch, quote).is_err() {
        return (Side::Invalid, dest);
    }
    let side = match quote.options.first() {
        Some(option) => Side::Routed { service: &book.service(option.service).code, currency: quote.currency, cost: option.cost, sell: option.sell },
        None => Side::Unroutable { currency: quote.currency },
    };
    (side, dest)
}

fn tally<'b>(report: &mut DiffReport, groups: &mut HashMap<(Option<&'b str>, Country, Currency), GroupAcc<'b>>, row: &RowDiff<'b>) {
    let (old_currency, dest) = match (row.old, row.new, row.dest) {
        (Side::Invalid, Side::Invalid, _) | (_, _, None) => {
            report.invalid += 1;
            return;
        }
        (Side::Invalid, _, _) => {
            report.invalid_old_only += 1;
            return;
        }
        (_, Side::Invalid, _) => {
            report.invalid_new_only += 1;
            return;
        }
        (Side::Routed { currency, .. } | Side::Unroutable { currency }, _, Some(dest)) => (currency, dest),
    };
    report.parcels += 1;
    let group = groups.entry((row.old.service(), dest, old_currency)).or_default();
    group.parcels += 1;
    let (was, now) = (row.old.service(), row.new.service());
    if was != now {
        group.changed += 1;
        report.changed += 1;
        *group.moved_to.entry(now).or_default() += 1;
        if now.is_none() {
            group.newly_unroutable += 1;
            report.newly_unroutable += 1;
        }
        if was.is_none() {
            group.newly_routable += 1;
            report.newly_routable += 1;
        }
    }
    if let (Side::Routed { currency: c_old, cost: cost_old, sell: sell_old, .. }, Side::Routed { currency: c_new, cost: cost_new, sell: sell_new, .. }) =
        (row.old, row.new)
    {
        if c_old == c_new {
            group.cost.add(cost_new.saturating_sub(cost_old));
            group.sell.add(sell_new.saturating_sub(sell_old));
        } else {
            report.currency_changed += 1;
        }
    }
}

fn finish(report: &mut DiffReport, groups: HashMap<(Option<&str>, Country, Currency), GroupAcc<'_>>) {
    let mut totals: HashMap<Currency, (Delta, Delta)> = HashMap::new();
    for ((service, dest, currency), acc) in groups {
        let total = totals.entry(currency).or_default();
        total.0.merge(&acc.cost);
        total.1.merge(&acc.sell);
        let mut moved_to: Vec<(Option<String>, u64)> = acc.moved_to.into_iter().map(|(s, n)| (s.map(str::to_owned), n)).collect();
        // Most parcels first; then by name, unroutable last, so the order is stable.
        moved_to.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.is_none().cmp(&b.0.is_none())).then(a.0.cmp(&b.0)));
        report.groups.push(DiffGroup {
            service: service.map(str::to_owned),
            dest_country: dest,
            currency,
            parcels: acc.parcels,
            changed: acc.changed,
            newly_unroutable: acc.newly_unroutable,
            newly_routable: acc.newly_routable,
            moved_to,
            cost: acc.cost,
            sell: acc.sell,
        });
    }
    report.groups.sort_by(|a, b| {
        (a.service.is_none(), &a.service, a.dest_country, a.currency.code()).cmp(&(b.service.is_none(), &b.service, b.dest_country, b.currency.code()))
    });
    let mut totals: Vec<CurrencyTotal> = totals.into_iter().map(|(currency, (cost, sell))| CurrencyTotal { currency, cost, sell }).collect();
    totals.sort_by(|a, b| a.currency.code().cmp(b.currency.code()));
    report.totals = totals;
}

/// An amount of minor units as a decimal string in `currency` (`12.40`, `-3`, `0.125`).
fn money(currency: Currency, minor: i128) -> String {
    currency.format_minor_wide(minor)
}

/// The columns of [`write_groups`]' files.
pub const DIFF_COLUMNS: [&str; 15] = [
    "service",
    "dest_country",
    "currency",
    "parcels",
    "changed",
    "newly_unroutable",
    "newly_routable",
    "moved_to",
    "priced_both",
    "cost_delta_sum",
    "cost_delta_mean",
    "cost_delta_largest",
    "sell_delta_sum",
    "sell_delta_mean",
    "sell_delta_largest",
];

/// One group as text cells in [`DIFF_COLUMNS`] order; `None` is an empty cell (null).
fn group_cells(g: &DiffGroup) -> [Option<String>; 15] {
    let [cost_sum, cost_mean, cost_largest] = g.cost.figures().map(|m| m.map(|m| money(g.currency, m)));
    let [sell_sum, sell_mean, sell_largest] = g.sell.figures().map(|m| m.map(|m| money(g.currency, m)));
    [
        g.service.clone(),
        Some(g.dest_country.to_string()),
        Some(g.currency.code().to_owned()),
        Some(g.parcels.to_string()),
        Some(g.changed.to_string()),
        Some(g.newly_unroutable.to_string()),
        Some(g.newly_routable.to_string()),
        Some(moved_to_text(&g.moved_to, usize::MAX)),
        Some(g.cost.count.to_string()),
        cost_sum,
        cost_mean,
        cost_largest,
        sell_sum,
        sell_mean,
        sell_largest,
    ]
}

/// `SERVICE:N;…`, `unroutable` for parcels nothing carries any more; at most `most` entries,
/// then `+K more`.
fn moved_to_text(moved: &[(Option<String>, u64)], most: usize) -> String {
    let mut out = String::new();
    for (i, (service, n)) in moved.iter().enumerate() {
        if i == most {
            let _ = write!(out, ";+{} more", moved.len() - most);
            break;
        }
        if i > 0 {
            out.push(';');
        }
        let _ = write!(out, "{}:{n}", service.as_deref().unwrap_or("unroutable"));
    }
    out
}

/// Writes the groups as CSV or Parquet (by `path`'s extension), one row per group, columns
/// [`DIFF_COLUMNS`]: written beside `path` and renamed into place, so a failure leaves
/// nothing half-written.
pub fn write_groups(report: &DiffReport, path: &Path) -> Result<(), BulkError> {
    let format = Format::of(path)?;
    let temp = PathBuf::from(format!("{}.partial", path.display()));
    let io = |source| BulkError::Io { path: path.to_owned(), source };
    let written = (|| {
        let file = std::fs::File::create(&temp).map_err(io)?;
        match format {
            Format::Csv => {
                let mut w = std::io::BufWriter::new(&file);
                w.write_all(groups_csv(report).as_bytes()).map_err(io)?;
                w.flush().map_err(io)?;
            }
            Format::Parquet => {
                let batch = groups_batch(report).map_err(|source| BulkError::Arrow { path: path.to_owned(), source })?;
                let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
                let parquet = |source| BulkError::Parquet { path: path.to_owned(), source };
                let mut writer = ArrowWriter::try_new(file.try_clone().map_err(io)?, batch.schema(), Some(props)).map_err(parquet)?;
                writer.write(&batch).map_err(parquet)?;
                writer.close().map_err(parquet)?;
            }
        }
        file.sync_all().map_err(io)?;
        std::fs::rename(&temp, path).map_err(io)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Whether [`write_groups`] can write to `path`: a known extension and an existing
/// directory. Checked before a long job, so a typo does not waste the job.
pub fn check_output_path(path: &Path) -> Result<(), BulkError> {
    Format::of(path)?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(BulkError::Io { path: path.to_owned(), source: std::io::Error::new(std::io::ErrorKind::NotFound, "its directory does not exist") });
    }
    Ok(())
}

/// Checks that `path` reads as a bulk parcel file (known format, the required columns,
/// decodable to the end) and returns its row count. Rows are not parsed: bad rows are
/// reported by the what-if itself.
pub fn check_replay(path: &Path) -> Result<u64, BulkError> {
    let mut source = Source::open(path, Format::of(path)?, 1 << 16)?;
    let mut rows = 0;
    while let Some(batch) = source.next_batch()? {
        rows += batch.len() as u64;
    }
    Ok(rows)
}

/// The groups as a CSV document with its header.
pub fn groups_csv(report: &DiffReport) -> String {
    let mut out = DIFF_COLUMNS.join(",");
    out.push('\n');
    for g in &report.groups {
        for (i, cell) in group_cells(g).iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::out::csv_field(&mut out, cell.as_deref().unwrap_or(""));
        }
        out.push('\n');
    }
    out
}

fn groups_batch(report: &DiffReport) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let counts = [3, 4, 5, 6, 8];
    let fields: Vec<Field> = DIFF_COLUMNS
        .iter()
        .enumerate()
        .map(
            |(i, &name)| {
                if counts.contains(&i) { Field::new(name, DataType::Int64, false) } else { Field::new(name, DataType::Utf8, i != 1 && i != 2 && i != 7) }
            },
        )
        .collect();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(DIFF_COLUMNS.len());
    let rows: Vec<[Option<String>; 15]> = report.groups.iter().map(group_cells).collect();
    for i in 0..DIFF_COLUMNS.len() {
        if counts.contains(&i) {
            let mut b = Int64Builder::with_capacity(rows.len());
            for row in &rows {
                // The count cells were written from integers just above.
                b.append_value(row[i].as_deref().and_then(|s| s.parse().ok()).unwrap_or(0));
            }
            columns.push(Arc::new(b.finish()));
        } else {
            let mut b = StringBuilder::new();
            for row in &rows {
                b.append_option(row[i].as_deref());
            }
            columns.push(Arc::new(b.finish()));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// The report as a table for a terminal: the totals, then the `top` groups with the most
/// changed parcels (then the largest cost change), and how many more there are.
pub fn render_table(report: &DiffReport, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "what-if: {} -> {}", report.old_book, report.new_book);
    let _ = writeln!(
        out,
        "{} rows: {} parcels priced by both books, {} changed service ({} newly unroutable, {} newly routable)",
        report.rows, report.parcels, report.changed, report.newly_unroutable, report.newly_routable
    );
    if report.invalid + report.invalid_old_only + report.invalid_new_only > 0 {
        let _ = writeln!(
            out,
            "invalid rows: {} under both books, {} only under the new book, {} only under the old book",
            report.invalid, report.invalid_new_only, report.invalid_old_only
        );
    }
    if report.currency_changed > 0 {
        let _ = writeln!(out, "{} parcels are quoted in another currency by the new book: no delta for them", report.currency_changed);
    }
    for t in &report.totals {
        let c = t.currency;
        let _ = writeln!(
            out,
            "{c}: {} parcels routed by both; cost {} (mean {}, largest {}), sell {} (mean {}, largest {})",
            t.cost.count,
            signed(c, t.cost.sum),
            t.cost.mean().map_or("-".into(), |m| signed(c, m)),
            signed(c, i128::from(t.cost.largest)),
            signed(c, t.sell.sum),
            t.sell.mean().map_or("-".into(), |m| signed(c, m)),
            signed(c, i128::from(t.sell.largest)),
        );
    }
    let mut shown: Vec<&DiffGroup> =
        report.groups.iter().filter(|g| g.changed > 0 || g.cost.sum != 0 || g.sell.sum != 0 || g.cost.largest != 0 || g.sell.largest != 0).collect();
    if shown.is_empty() {
        let _ = writeln!(out, "no parcel changes service, cost or sell");
        return out;
    }
    shown.sort_by(|a, b| b.changed.cmp(&a.changed).then(b.cost.sum.abs().cmp(&a.cost.sum.abs())).then(b.sell.sum.abs().cmp(&a.sell.sum.abs())));
    let more = shown.len().saturating_sub(top);
    shown.truncate(top);
    let header = [
        "service",
        "dest",
        "cur",
        "parcels",
        "changed",
        "unroutable",
        "cost Δ sum",
        "cost Δ mean",
        "cost Δ max",
        "sell Δ sum",
        "sell Δ mean",
        "sell Δ max",
        "moved to",
    ];
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|g| {
            let c = g.currency;
            let amounts = |d: &Delta| d.figures().map(|m| m.map_or("-".to_owned(), |m| signed(c, m)));
            let ([cost_sum, cost_mean, cost_largest], [sell_sum, sell_mean, sell_largest]) = (amounts(&g.cost), amounts(&g.sell));
            vec![
                g.service.clone().unwrap_or_else(|| "(unroutable)".into()),
                g.dest_country.to_string(),
                c.code().to_owned(),
                g.parcels.to_string(),
                g.changed.to_string(),
                if g.newly_routable > 0 { format!("{} / +{} routable", g.newly_unroutable, g.newly_routable) } else { g.newly_unroutable.to_string() },
                cost_sum,
                cost_mean,
                cost_largest,
                sell_sum,
                sell_mean,
                sell_largest,
                moved_to_text(&g.moved_to, 3),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let _ = writeln!(out);
    let line = |out: &mut String, cells: &[&str]| {
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w - cell.chars().count();
            // Text left, numbers right; the last column is not padded.
            let numeric = (3..12).contains(&i);
            if i > 0 {
                out.push_str("  ");
            }
            if numeric {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push('\n');
    };
    line(&mut out, &header);
    for row in &rows {
        line(&mut out, &row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    if more > 0 {
        let _ = writeln!(out, "… and {more} more groups with changes (all groups are in the CSV/Parquet output)");
    }
    out
}

/// `+1.20` / `-0.35` / `0.00`.
fn signed(currency: Currency, minor: i128) -> String {
    let text = money(currency, minor);
    if minor > 0 { format!("+{text}") } else { text }
}

/// The report as one JSON document (for the HTTP API).
pub fn report_json(report: &DiffReport) -> serde_json::Value {
    let delta = |c: Currency, d: &Delta| {
        let [sum, mean, largest] = d.figures().map(|m| m.map(|m| money(c, m)));
        serde_json::json!({"parcels": d.count, "sum": sum, "mean": mean, "largest": largest})
    };
    let groups: Vec<serde_json::Value> = report
        .groups
        .iter()
        .map(|g| {
            serde_json::json!({
                "service": g.service,
                "dest_country": g.dest_country.to_string(),
                "currency": g.currency.code(),
                "parcels": g.parcels,
                "changed": g.changed,
                "newly_unroutable": g.newly_unroutable,
                "newly_routable": g.newly_routable,
                "moved_to": g.moved_to.iter().map(|(s, n)| serde_json::json!({"service": s, "parcels": n})).collect::<Vec<_>>(),
                "cost_delta": delta(g.currency, &g.cost),
                "sell_delta": delta(g.currency, &g.sell),
            })
        })
        .collect();
    let totals: Vec<serde_json::Value> = report
        .totals
        .iter()
        .map(|t| serde_json::json!({"currency": t.currency.code(), "cost_delta": delta(t.currency, &t.cost), "sell_delta": delta(t.currency, &t.sell)}))
        .collect();
    serde_json::json!({
        "old_book": report.old_book,
        "new_book": report.new_book,
        "rows": report.rows,
        "parcels": report.parcels,
        "changed": report.changed,
        "newly_unroutable": report.newly_unroutable,
        "newly_routable": report.newly_routable,
        "invalid": report.invalid,
        "invalid_new_only": report.invalid_new_only,
        "invalid_old_only": report.invalid_old_only,
        "currency_changed": report.currency_changed,
        "totals": totals,
        "groups": groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_keep_sum_mean_and_the_largest_change() {
        let mut d = Delta::default();
        assert_eq!(d.mean(), None);
        for x in [5, -7, 7, 1] {
            d.add(x);
        }
        assert_eq!((d.sum, d.count, d.largest), (6, 4, 7), "of -7 and +7 the increase is the largest");
        assert_eq!(d.mean(), Some(2), "6 / 4 = 1.5 rounds half away from zero to 2");
        let mut n = Delta::default();
        for x in [-3, -2] {
            n.add(x);
        }
        assert_eq!(n.mean(), Some(-3), "-5 / 2 = -2.5 rounds away from zero to -3");
        n.merge(&d);
        assert_eq!((n.sum, n.count, n.largest), (1, 6, 7));
        let mut small = Delta::default();
        for x in [1, 0, 0] {
            small.add(x);
        }
        assert_eq!(small.mean(), Some(0), "1 / 3 rounds to 0");
    }

    #[test]
    fn moved_to_names_unroutable_and_cuts_long_lists() {
        let moved = vec![(Some("B".to_owned()), 5), (None, 2), (Some("C".to_owned()), 1)];
        assert_eq!(moved_to_text(&moved, 9), "B:5;unroutable:2;C:1");
        assert_eq!(moved_to_text(&moved, 2), "B:5;unroutable:2;+1 more");
        assert_eq!(moved_to_text(&[], 3), "");
    }

    #[test]
    fn money_is_written_in_minor_units_of_the_currency() {
        let eur = Currency::from_code("EUR").unwrap();
        let jpy = Currency::from_code("JPY").unwrap();
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(money(eur, 1240), "12.40");
        assert_eq!(money(eur, -35), "-0.35");
        assert_eq!(signed(eur, 120), "+1.20");
        assert_eq!(signed(eur, 0), "0.00");
        assert_eq!(money(jpy, -1200), "-1200");
        assert_eq!(money(kwd, 1), "0.001");
    }
}
