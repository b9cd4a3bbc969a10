//! A rate book as its tables hold it: typed rows, not yet checked.
//!
//! An adapter (Parquet, or a test's builder) fills a [`SourceBook`]: every cell already
//! has its column's type (text, exact decimal, whole number, boolean, date), and every row
//! remembers its row number in its table so problems can point at it. Whether the values
//! make sense together is for [`crate::compile`] to decide.

use crate::codes::Date;
use rust_decimal::Decimal;
use std::sync::Arc;

/// The rows of every table of one rate book, with the book's header and identity.
#[derive(Clone, Debug, Default)]
pub struct SourceBook {
    /// `book.toml`: name.
    pub name: String,
    /// `book.toml`: base_currency (the currency every fx rate is quoted against).
    pub base_currency: String,
    /// `book.toml`: notes.
    pub notes: Option<String>,
    /// The content hash of the book's files, as lower-case hex.
    pub content_hash: String,
    pub services: Vec<ServiceRow>,
    pub zones: Vec<ZoneRow>,
    pub rates: Vec<RateRow>,
    pub surcharges: Vec<SurchargeRow>,
    pub restrictions: Vec<RestrictionRow>,
    pub prices: Vec<PriceRow>,
    pub fx: Vec<FxRow>,
    pub customs: Vec<CustomsRow>,
    pub duty_rates: Vec<DutyRateRow>,
    pub segments: Vec<SegmentRow>,
    /// Tables whose file could not be read at all (missing, damaged, a column missing or of
    /// the wrong type), by table name (`rates`). Their rows are absent, and the adapter has
    /// already reported why; [`crate::compile`] refuses the book and skips the checks that
    /// would otherwise fail for every row or service depending on them.
    pub unreadable_tables: Vec<String>,
}

impl SourceBook {
    /// Whether `table` (`rates`, `zones`…) could not be read at all.
    pub fn is_unreadable(&self, table: &str) -> bool {
        self.unreadable_tables.iter().any(|t| t == table)
    }
}

/// A row number in its table, 1 for the first data row.
pub type RowNo = u32;

#[derive(Clone, Debug, Default)]
pub struct ServiceRow {
    pub row: RowNo,
    pub service_code: String,
    pub carrier: String,
    pub name: String,
    pub origin_country: String,
    pub currency: String,
    pub zone_chart: String,
    pub tracked: bool,
    pub ddp: bool,
    pub max_weight_g: i64,
    pub max_length_mm: Option<i64>,
    pub max_girth_mm: Option<i64>,
    pub max_value: Option<Decimal>,
    pub volumetric_divisor: Option<i64>,
    pub volumetric_min_side_mm: Option<i64>,
    pub min_chargeable_g: Option<i64>,
    pub weight_step_g: Option<i64>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

#[derive(Clone, Debug, Default)]
pub struct ZoneRow {
    pub row: RowNo,
    pub zone_chart: String,
    pub dest_country: String,
    pub postcode_prefix: Option<String>,
    pub zone: String,
    pub transit_days_min: i64,
    pub transit_days_max: i64,
}

/// `rates` is the one table with millions of rows, so its keys are shared strings: a loader
/// interns them and a row owns no heap memory of its own.
#[derive(Clone, Debug, Default)]
pub struct RateRow {
    pub row: RowNo,
    pub service_code: Arc<str>,
    pub zone: Arc<str>,
    pub max_weight_g: i64,
    pub fixed: Decimal,
    pub per_kg: Decimal,
}

#[derive(Clone, Debug, Default)]
pub struct SurchargeRow {
    pub row: RowNo,
    pub service_code: String,
    pub code: String,
    pub kind: String,
    pub amount: Decimal,
    pub minimum: Option<Decimal>,
    pub dest_country: Option<String>,
    pub postcode_prefix: Option<String>,
    pub battery: Option<bool>,
    pub incoterm: Option<String>,
    pub min_chargeable_g: Option<i64>,
    pub min_length_mm: Option<i64>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

#[derive(Clone, Debug, Default)]
pub struct RestrictionRow {
    pub row: RowNo,
    pub service_code: String,
    pub dest_country: String,
    pub category: String,
    pub action: String,
}

#[derive(Clone, Debug, Default)]
pub struct PriceRow {
    pub row: RowNo,
    pub customer: String,
    pub service_code: String,
    pub dest_country: String,
    pub markup_percent: Decimal,
    pub markup_fixed: Decimal,
    pub currency: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct FxRow {
    pub row: RowNo,
    pub currency: String,
    pub per_base: Decimal,
}

#[derive(Clone, Debug, Default)]
pub struct CustomsRow {
    pub row: RowNo,
    pub dest_country: String,
    pub currency: String,
    pub duty_free_upto: Option<Decimal>,
    pub tax_free_upto: Option<Decimal>,
    pub tax_at_sale_upto: Option<Decimal>,
    pub vat_percent: Decimal,
    pub duty_percent: Decimal,
    pub flat_duty_per_hs6: Option<Decimal>,
    pub duty_basis: String,
    pub tax_includes_freight: bool,
    pub requires_hs6: bool,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

#[derive(Clone, Debug, Default)]
pub struct DutyRateRow {
    pub row: RowNo,
    pub dest_country: String,
    pub hs_prefix: String,
    pub duty_percent: Decimal,
}

#[derive(Clone, Debug, Default)]
pub struct SegmentRow {
    pub row: RowNo,
    pub service_code: String,
    pub seq: i64,
    pub kind: String,
    pub carrier: String,
    pub label: String,
}
