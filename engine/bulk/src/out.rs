//! Output rows as CSV lines and JSON lines, and the output schema.

use crate::columns::OUTPUT_COLUMNS;
use crate::route::{Outcome, Status};
use crossdock_api::json_string;
use std::fmt::Write;

/// One output row: the input row's id and what became of the parcel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutRow<'b> {
    pub id: String,
    pub outcome: Outcome<'b>,
}

impl OutRow<'_> {
    pub fn status(&self) -> Status {
        self.outcome.status()
    }

    /// The row as one CSV line with its `\n`, columns as [`csv_header_line`] names them.
    pub fn to_csv_line(&self) -> String {
        let mut out = String::with_capacity(128);
        write_csv_row(&mut out, &self.id, &self.outcome);
        out
    }

    /// The row as one JSON object with every output column (null where empty) and its `\n`.
    /// Amounts are decimal strings, counts are numbers.
    pub fn to_json_line(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"id\":");
        json_string(&mut out, &self.id);
        let _ = write!(out, ",\"status\":\"{}\"", self.outcome.status().code());
        let null_amounts = ",\"sell\":null,\"cost\":null,\"margin\":null,\"chargeable_weight_g\":null,\"transit_days_min\":null,\"transit_days_max\":null";
        match &self.outcome {
            Outcome::Routed(r) => {
                out.push_str(",\"service\":");
                json_string(&mut out, r.service);
                out.push_str(",\"carrier\":");
                json_string(&mut out, r.carrier);
                let _ = write!(out, ",\"currency\":\"{}\"", r.currency);
                for (key, minor) in [("sell", r.sell), ("cost", r.cost), ("margin", r.margin)] {
                    let _ = write!(out, ",\"{key}\":\"");
                    r.currency.write_minor(minor, &mut out);
                    out.push('"');
                }
                let _ = write!(
                    out,
                    ",\"chargeable_weight_g\":{},\"transit_days_min\":{},\"transit_days_max\":{},\"reasons\":null,\"problems\":null}}",
                    r.chargeable_weight_g, r.transit_days_min, r.transit_days_max
                );
            }
            Outcome::Unroutable { currency, reasons } => {
                let _ = write!(out, ",\"service\":null,\"carrier\":null,\"currency\":\"{currency}\"{null_amounts},\"reasons\":");
                json_string(&mut out, reasons);
                out.push_str(",\"problems\":null}");
            }
            Outcome::Invalid { problems } => {
                let _ = write!(out, ",\"service\":null,\"carrier\":null,\"currency\":null{null_amounts},\"reasons\":null,\"problems\":");
                json_string(&mut out, problems);
                out.push('}');
            }
        }
        out.push('\n');
        out
    }
}

/// The CSV header of the output, with its `\n`.
pub fn csv_header_line() -> String {
    let mut out = OUTPUT_COLUMNS.join(",");
    out.push('\n');
    out
}

/// Appends one output row as a CSV line (RFC 4180 quoting) with its `\n`.
pub(crate) fn write_csv_row(out: &mut String, id: &str, outcome: &Outcome<'_>) {
    csv_field(out, id);
    out.push(',');
    out.push_str(outcome.status().code());
    match outcome {
        Outcome::Routed(r) => {
            out.push(',');
            csv_field(out, r.service);
            out.push(',');
            csv_field(out, r.carrier);
            let _ = write!(out, ",{}", r.currency);
            for minor in [r.sell, r.cost, r.margin] {
                out.push(',');
                r.currency.write_minor(minor, out);
            }
            let _ = write!(out, ",{},{},{},,", r.chargeable_weight_g, r.transit_days_min, r.transit_days_max);
        }
        Outcome::Unroutable { currency, reasons } => {
            let _ = write!(out, ",,,{currency},,,,,,,");
            csv_field(out, reasons);
            out.push(',');
        }
        Outcome::Invalid { problems } => {
            out.push_str(",,,,,,,,,,,");
            csv_field(out, problems);
        }
    }
    out.push('\n');
}

/// A CSV field, quoted when it holds a comma, a quote or a line break: the one CSV cell
/// writer of bulk output rows and what-if groups.
pub(crate) fn csv_field(out: &mut String, s: &str) {
    if !s.contains([',', '"', '\n', '\r']) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::Routed;
    use crossdock_engine::Currency;

    fn routed(currency: &str) -> Outcome<'static> {
        Outcome::Routed(Routed {
            service: "XB-EU-TRK",
            carrier: "XB Line",
            currency: Currency::from_code(currency).unwrap(),
            sell: 1240,
            cost: 1000,
            margin: 240,
            chargeable_weight_g: 1200,
            transit_days_min: 6,
            transit_days_max: 9,
        })
    }

    #[test]
    fn rows_render_as_csv_with_the_header_s_columns() {
        let header_columns = csv_header_line().trim_end().split(',').count();
        let cases = [
            (OutRow { id: "p1".into(), outcome: routed("EUR") }, "p1,routed,XB-EU-TRK,XB Line,EUR,12.40,10.00,2.40,1200,6,9,,\n"),
            (OutRow { id: "p2".into(), outcome: routed("JPY") }, "p2,routed,XB-EU-TRK,XB Line,JPY,1240,1000,240,1200,6,9,,\n"),
            (
                OutRow {
                    id: "p,3".into(),
                    outcome: Outcome::Unroutable { currency: Currency::from_code("USD").unwrap(), reasons: "A:NO_RATE;B:INACTIVE".into() },
                },
                "\"p,3\",unroutable,,,USD,,,,,,,A:NO_RATE;B:INACTIVE,\n",
            ),
            (
                OutRow { id: "p4".into(), outcome: Outcome::Invalid { problems: "dest_country: \"de\" is not, well".into() } },
                "p4,invalid,,,,,,,,,,,\"dest_country: \"\"de\"\" is not, well\"\n",
            ),
        ];
        for (row, want) in cases {
            let line = row.to_csv_line();
            assert_eq!(line, want);
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            assert_eq!(record.len(), header_columns, "{line}");
            assert_eq!(&record[0], row.id);
        }
    }

    #[test]
    fn rows_render_as_json_objects() {
        let row = OutRow { id: "p\"1".into(), outcome: routed("EUR") };
        let value: serde_json::Value = serde_json::from_str(&row.to_json_line()).unwrap();
        assert_eq!(value["id"], "p\"1");
        assert_eq!(value["sell"], "12.40");
        assert_eq!(value["transit_days_max"], 9);
        assert!(value["problems"].is_null());
        let row = OutRow { id: "p2".into(), outcome: Outcome::Invalid { problems: "weight_g: is required".into() } };
        let value: serde_json::Value = serde_json::from_str(&row.to_json_line()).unwrap();
        assert_eq!(value["status"], "invalid");
        assert_eq!(value["problems"], "weight_g: is required");
        assert_eq!(value.as_object().unwrap().len(), OUTPUT_COLUMNS.len());
    }
}
