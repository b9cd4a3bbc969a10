//! The ten tables of a rate book: their Parquet schemas and column-wise builders.
//!
//! Each table is declared once, column by column, with the Parquet type of each column; the
//! declaration yields a row struct (what generators push) and a builder that appends each row
//! straight into Arrow arrays, so a table of millions of rows is built column-wise without
//! per-row allocation. The schemas are the contract of `rate-book.md`:
//! strings `Utf8`, money and percentages `Decimal128(18, 4)`, exchange rates
//! `Decimal128(20, 8)`, whole numbers `Int32`, flags `Boolean`, dates `Date32`.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Int32Builder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};

use crate::values::{Date, Dec4, Dec8};

/// Precision and scale of money and percentage columns.
pub(crate) const MONEY_TYPE: DataType = DataType::Decimal128(18, 4);
/// Precision and scale of exchange-rate columns.
pub(crate) const FX_TYPE: DataType = DataType::Decimal128(20, 8);

/// A column type: its Arrow type, whether it is nullable, and how a cell is appended.
pub(crate) trait ColumnType {
    type Value<'a>;
    type Builder: ArrayBuilder;
    const NULLABLE: bool;
    fn data_type() -> DataType;
    fn builder(rows: usize) -> Self::Builder;
    fn append(builder: &mut Self::Builder, value: Self::Value<'_>);
}

macro_rules! column_type {
    ($(#[$doc:meta])* $name:ident, $value:ty, $builder:ty, $nullable:literal, $data_type:expr,
     |$rows:ident| $new:expr, |$b:ident, $v:ident| $append:expr) => {
        $(#[$doc])*
        pub(crate) enum $name {}
        impl ColumnType for $name {
            type Value<'a> = $value;
            type Builder = $builder;
            const NULLABLE: bool = $nullable;
            fn data_type() -> DataType {
                $data_type
            }
            fn builder($rows: usize) -> $builder {
                $new
            }
            fn append($b: &mut $builder, $v: Self::Value<'_>) {
                $append
            }
        }
    };
}

column_type!(/// `Utf8`, not null.
    Utf8, &'a str, StringBuilder, false, DataType::Utf8,
    |rows| StringBuilder::with_capacity(rows, rows * 8), |b, v| b.append_value(v));
column_type!(/// `Utf8`, nullable.
    OptUtf8, Option<&'a str>, StringBuilder, true, DataType::Utf8,
    |rows| StringBuilder::with_capacity(rows, rows * 4), |b, v| b.append_option(v));
column_type!(/// `Int32`, not null.
    Int32, i32, Int32Builder, false, DataType::Int32,
    |rows| Int32Builder::with_capacity(rows), |b, v| b.append_value(v));
column_type!(/// `Int32`, nullable.
    OptInt32, Option<i32>, Int32Builder, true, DataType::Int32,
    |rows| Int32Builder::with_capacity(rows), |b, v| b.append_option(v));
column_type!(/// `Boolean`, not null.
    Bool, bool, BooleanBuilder, false, DataType::Boolean,
    |rows| BooleanBuilder::with_capacity(rows), |b, v| b.append_value(v));
column_type!(/// `Boolean`, nullable.
    OptBool, Option<bool>, BooleanBuilder, true, DataType::Boolean,
    |rows| BooleanBuilder::with_capacity(rows), |b, v| b.append_option(v));
column_type!(/// `Decimal128(18, 4)`, not null: money and percentages.
    Money, Dec4, Decimal128Builder, false, MONEY_TYPE,
    |rows| Decimal128Builder::with_capacity(rows).with_data_type(MONEY_TYPE),
    |b, v| b.append_value(v.0));
column_type!(/// `Decimal128(18, 4)`, nullable.
    OptMoney, Option<Dec4>, Decimal128Builder, true, MONEY_TYPE,
    |rows| Decimal128Builder::with_capacity(rows).with_data_type(MONEY_TYPE),
    |b, v| b.append_option(v.map(|d| d.0)));
column_type!(/// `Decimal128(20, 8)`, not null: exchange rates.
    FxRate, Dec8, Decimal128Builder, false, FX_TYPE,
    |rows| Decimal128Builder::with_capacity(rows).with_data_type(FX_TYPE),
    |b, v| b.append_value(v.0));
column_type!(/// `Date32`, nullable: validity bounds.
    OptDate32, Option<Date>, Date32Builder, true, DataType::Date32,
    |rows| Date32Builder::with_capacity(rows), |b, v| b.append_option(v.map(|d| d.0)));

/// Declares a table: its file stem, row struct and column-wise builder.
macro_rules! table {
    ($(#[$doc:meta])* $table:ident, $row:ident, $file:literal {
        $($(#[$column_doc:meta])* $column:ident: $kind:ident,)+
    }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $row<'a> {
            $($(#[$column_doc])* pub $column: <$kind as ColumnType>::Value<'a>,)+
        }

        pub(crate) struct $table {
            $($column: <$kind as ColumnType>::Builder,)+
        }

        impl $table {
            /// The file stem: `<NAME>.parquet`.
            pub(crate) const NAME: &'static str = $file;

            pub(crate) fn schema() -> Schema {
                Schema::new(vec![
                    $(Field::new(stringify!($column), <$kind as ColumnType>::data_type(),
                        <$kind as ColumnType>::NULLABLE),)+
                ])
            }

            pub(crate) fn with_capacity(rows: usize) -> Self {
                Self { $($column: <$kind as ColumnType>::builder(rows),)+ }
            }

            pub(crate) fn push(&mut self, row: $row<'_>) {
                $(<$kind as ColumnType>::append(&mut self.$column, row.$column);)+
            }

            pub(crate) fn finish(mut self) -> Result<RecordBatch, ArrowError> {
                let columns: Vec<ArrayRef> =
                    vec![$(ArrayBuilder::finish(&mut self.$column),)+];
                RecordBatch::try_new(Arc::new(Self::schema()), columns)
            }
        }
    };
}

table! {
    /// One carrier service.
    Services, ServiceRow, "services" {
        service_code: Utf8,
        carrier: Utf8,
        name: Utf8,
        origin_country: Utf8,
        /// The currency of every amount of this service.
        currency: Utf8,
        zone_chart: Utf8,
        tracked: Bool,
        ddp: Bool,
        max_weight_g: Int32,
        max_length_mm: OptInt32,
        max_girth_mm: OptInt32,
        max_value: OptMoney,
        volumetric_divisor: OptInt32,
        volumetric_min_side_mm: OptInt32,
        min_chargeable_g: OptInt32,
        weight_step_g: OptInt32,
        valid_from: OptDate32,
        valid_to: OptDate32,
    }
}

table! {
    /// A zone chart row: destination (country, postcode prefix) → zone.
    Zones, ZoneRow, "zones" {
        zone_chart: Utf8,
        dest_country: Utf8,
        postcode_prefix: OptUtf8,
        zone: Utf8,
        transit_days_min: Int32,
        transit_days_max: Int32,
    }
}

table! {
    /// A weight band of one (service, zone).
    Rates, RateRow, "rates" {
        service_code: Utf8,
        zone: Utf8,
        max_weight_g: Int32,
        fixed: Money,
        per_kg: Money,
    }
}

table! {
    /// A conditional extra charge; every condition left `None` always holds.
    Surcharges, SurchargeRow, "surcharges" {
        service_code: Utf8,
        code: Utf8,
        /// `fixed` | `per_kg` | `percent_of_base`.
        kind: Utf8,
        amount: Money,
        minimum: OptMoney,
        dest_country: OptUtf8,
        postcode_prefix: OptUtf8,
        battery: OptBool,
        incoterm: OptUtf8,
        min_chargeable_g: OptInt32,
        min_length_mm: OptInt32,
        valid_from: OptDate32,
        valid_to: OptDate32,
    }
}

table! {
    /// Whether a service accepts a goods category to a destination.
    Restrictions, RestrictionRow, "restrictions" {
        service_code: Utf8,
        dest_country: Utf8,
        category: Utf8,
        /// `allow` | `deny`.
        action: Utf8,
    }
}

table! {
    /// A customer price list row: the markup from cost to sell.
    Prices, PriceRow, "prices" {
        customer: Utf8,
        service_code: Utf8,
        dest_country: Utf8,
        markup_percent: Money,
        markup_fixed: Money,
        /// The currency of `markup_fixed`; `None` only where `markup_fixed` is 0.
        currency: OptUtf8,
    }
}

table! {
    /// Units of `currency` per one unit of the base currency.
    Fx, FxRow, "fx" {
        currency: Utf8,
        per_base: FxRate,
    }
}

table! {
    /// Customs rules of a destination over a validity interval.
    Customs, CustomsRow, "customs" {
        dest_country: Utf8,
        currency: Utf8,
        duty_free_upto: OptMoney,
        tax_free_upto: OptMoney,
        tax_at_sale_upto: OptMoney,
        vat_percent: Money,
        duty_percent: Money,
        flat_duty_per_hs6: OptMoney,
        /// `FOB` | `CIF`.
        duty_basis: Utf8,
        tax_includes_freight: Bool,
        requires_hs6: Bool,
        valid_from: OptDate32,
        valid_to: OptDate32,
    }
}

table! {
    /// A duty rate by destination and HS code prefix.
    DutyRates, DutyRateRow, "duty_rates" {
        dest_country: Utf8,
        hs_prefix: Utf8,
        duty_percent: Money,
    }
}

table! {
    /// One transport leg of a service.
    Segments, SegmentRow, "segments" {
        service_code: Utf8,
        seq: Int32,
        /// `first_mile` | `hub` | `line_haul` | `customs` | `last_mile`.
        kind: Utf8,
        carrier: Utf8,
        label: Utf8,
    }
}

/// Every table of a book, in the order of `rate-book.md`, with its expected schema.
pub(crate) fn all_schemas() -> [(&'static str, Schema); 10] {
    [
        (Services::NAME, Services::schema()),
        (Zones::NAME, Zones::schema()),
        (Rates::NAME, Rates::schema()),
        (Surcharges::NAME, Surcharges::schema()),
        (Restrictions::NAME, Restrictions::schema()),
        (Prices::NAME, Prices::schema()),
        (Fx::NAME, Fx::schema()),
        (Customs::NAME, Customs::schema()),
        (DutyRates::NAME, DutyRates::schema()),
        (Segments::NAME, Segments::schema()),
    ]
}
