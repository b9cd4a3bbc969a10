//! [`Quote`] → JSON text, written directly (no intermediate tree: this is the hot path of
//! every HTTP quote and every CLI line).

use crate::request::FieldProblem;
use crossdock_engine::{Book, Quote, Request};
use std::fmt::Write;

/// The answer of quote-api.md for `quote`, priced by `book` for `request`.
pub fn render_quote(book: &Book, request: &Request, quote: &Quote) -> String {
    let currency = quote.currency;
    let mut out =
        String::with_capacity(256 + 320 * quote.options.len() + 96 * quote.excluded.len());
    out.push_str("{\"rate_book\":");
    json_string(&mut out, book.label());
    out.push_str(",\"currency\":");
    json_string(&mut out, currency.code());
    out.push_str(",\"options\":[");
    for (i, option) in quote.options.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let service = book.service(option.service);
        out.push_str("{\"rank\":");
        uint(&mut out, u64::from(option.rank));
        out.push_str(",\"service\":");
        json_string(&mut out, &service.code);
        out.push_str(",\"carrier\":");
        json_string(&mut out, &service.carrier);
        money(&mut out, ",\"sell\":", currency, option.sell);
        money(&mut out, ",\"cost\":", currency, option.cost);
        money(&mut out, ",\"margin\":", currency, option.margin);
        out.push_str(",\"chargeable_weight_g\":");
        uint(&mut out, option.chargeable_weight_g);
        out.push_str(",\"transit_days\":{\"min\":");
        uint(&mut out, u64::from(option.transit_days_min));
        out.push_str(",\"max\":");
        uint(&mut out, u64::from(option.transit_days_max));
        out.push_str("},\"lines\":[");
        for (j, line) in quote.option_lines(option).iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str("{\"code\":");
            json_string(&mut out, book.line_code(line.code));
            money(&mut out, ",\"amount\":", currency, line.amount);
            out.push('}');
        }
        out.push_str("],\"landed_cost\":");
        match &option.landed_cost {
            None => out.push_str("null"),
            Some(landed) => {
                out.push_str("{\"currency\":");
                json_string(&mut out, currency.code());
                money(&mut out, ",\"duty\":", currency, landed.duty);
                money(&mut out, ",\"tax\":", currency, landed.tax);
                let _ = write!(out, ",\"scheme\":\"{}\"", landed.scheme.code());
                money(
                    &mut out,
                    ",\"import_charges\":",
                    currency,
                    landed.import_charges,
                );
                out.push('}');
            }
        }
        out.push('}');
    }
    out.push_str("],\"excluded\":[");
    if request.explain {
        for (i, excluded) in quote.excluded.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let service = book.service(excluded.service);
            out.push_str("{\"service\":");
            json_string(&mut out, &service.code);
            out.push_str(",\"carrier\":");
            json_string(&mut out, &service.carrier);
            out.push_str(",\"reasons\":[");
            for (j, reason) in excluded.reasons.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(reason.code());
                out.push('"');
            }
            out.push_str("]}");
        }
    }
    out.push_str("],\"customs\":{\"issues\":[");
    for (i, issue) in quote.customs_issues.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(issue.code());
        out.push('"');
    }
    out.push_str("]}}");
    out
}

/// `{"error": code, "problems": [{"field": …, "problem": …}]}`.
pub fn render_error(code: &str, problems: &[FieldProblem]) -> String {
    let mut out = String::with_capacity(64 + 96 * problems.len());
    out.push_str("{\"error\":");
    json_string(&mut out, code);
    out.push_str(",\"problems\":[");
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"field\":");
        json_string(&mut out, &p.field);
        out.push_str(",\"problem\":");
        json_string(&mut out, &p.problem);
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// `key` then the amount as a JSON string with exactly the currency's decimals
/// (`Currency::write_minor`: `"12.40"`, `"-0.35"`, `"1240"`).
fn money(out: &mut String, key: &str, currency: crossdock_engine::Currency, minor: i64) {
    out.push_str(key);
    out.push('"');
    currency.write_minor(minor, out);
    out.push('"');
}

/// A whole number in decimal.
fn uint(out: &mut String, mut n: u64) {
    let mut buffer = [0u8; 20];
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(buffer[at..].iter().map(|&b| char::from(b)));
}

/// Appends `s` as a JSON string literal: the one JSON string writer of crossdock's engine
/// crates (answers here, bulk output rows in crossdock-bulk).
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    // Codes and names rarely need escaping: copy them whole when they do not.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdock_engine::Currency;

    #[test]
    fn amounts_are_written_by_the_currency_and_numbers_as_display_writes_them() {
        let eur = Currency::from_code("EUR").unwrap();
        let mut out = String::new();
        money(&mut out, ",\"sell\":", eur, -35);
        assert_eq!(out, ",\"sell\":\"-0.35\"");
        for n in [0, 7, 10, 1999, u64::MAX] {
            let mut out = String::new();
            uint(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn strings_are_escaped_only_when_needed() {
        for (text, want) in [
            ("XB-EU-TRK", "\"XB-EU-TRK\""),
            ("a\"b", "\"a\\\"b\""),
            ("a\\b\n", "\"a\\\\b\\n\""),
            ("\u{1}", "\"\\u0001\""),
            ("é", "\"é\""),
        ] {
            let mut out = String::new();
            json_string(&mut out, text);
            assert_eq!(out, want);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text);
        }
    }
}
