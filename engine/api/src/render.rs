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
    string(&mut out, book.label());
    out.push_str(",\"currency\":");
    string(&mut out, currency.code());
    out.push_str(",\"options\":[");
    for (i, option) in quote.options.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let service = book.service(option.service);
        let _ = write!(out, "{{\"rank\":{},\"service\":", option.rank);
        string(&mut out, &service.code);
        out.push_str(",\"carrier\":");
        string(&mut out, &service.carrier);
        money(&mut out, ",\"sell\":", currency, option.sell);
        money(&mut out, ",\"cost\":", currency, option.cost);
        money(&mut out, ",\"margin\":", currency, option.margin);
        let _ = write!(
            out,
            ",\"chargeable_weight_g\":{},\"transit_days\":{{\"min\":{},\"max\":{}}},\"lines\":[",
            option.chargeable_weight_g, option.transit_days_min, option.transit_days_max
        );
        for (j, line) in quote.option_lines(option).iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str("{\"code\":");
            string(&mut out, book.line_code(line.code));
            money(&mut out, ",\"amount\":", currency, line.amount);
            out.push('}');
        }
        out.push_str("],\"landed_cost\":");
        match &option.landed_cost {
            None => out.push_str("null"),
            Some(landed) => {
                out.push_str("{\"currency\":");
                string(&mut out, currency.code());
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
            string(&mut out, &service.code);
            out.push_str(",\"carrier\":");
            string(&mut out, &service.carrier);
            out.push_str(",\"reasons\":[");
            for (j, reason) in excluded.reasons.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                let _ = write!(out, "\"{}\"", reason.code());
            }
            out.push_str("]}");
        }
    }
    out.push_str("],\"customs\":{\"issues\":[");
    for (i, issue) in quote.customs_issues.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\"", issue.code());
    }
    out.push_str("]}}");
    out
}

/// `{"error": code, "problems": [{"field": …, "problem": …}]}`.
pub fn render_error(code: &str, problems: &[FieldProblem]) -> String {
    let mut out = String::with_capacity(64 + 96 * problems.len());
    out.push_str("{\"error\":");
    string(&mut out, code);
    out.push_str(",\"problems\":[");
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"field\":");
        string(&mut out, &p.field);
        out.push_str(",\"problem\":");
        string(&mut out, &p.problem);
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn money(out: &mut String, key: &str, currency: crossdock_engine::Currency, minor: i64) {
    out.push_str(key);
    out.push('"');
    currency.write_minor(minor, out);
    out.push('"');
}

/// A JSON string literal.
fn string(out: &mut String, s: &str) {
    out.push('"');
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
