//! Rendered answers read back as JSON carry exactly the engine's quote: every option, amount
//! (with its currency's decimals, as `Currency::format_minor` writes them), line, exclusion
//! and customs issue, on sample parcels of the demo book in currencies of 0 and 2 decimals (3 decimals: the unit tests of `render`).

use crossdock_api::{Answer, Defaults, answer_line, render_quote};
use crossdock_engine::{Date, Quote, Scratch};
use std::path::Path;

fn demo() -> crossdock_engine::Book {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo");
    crossdock_tables::load_dir(&dir, &Default::default())
        .unwrap_or_else(|r| panic!("{r:?}"))
        .book
}

#[test]
fn rendered_quotes_read_back_as_the_engine_s_quote() {
    let book = demo();
    let defaults = Defaults {
        today: Date::parse("2026-11-24").unwrap(),
        customer: None,
        explain: true,
    };
    let (mut scratch, mut quote) = (Scratch::default(), Quote::new(book.base_currency()));
    let mut checked_options = 0;
    for (i, p) in crossdock_bookgen::demo_sample_parcels(400, 5)
        .iter()
        .enumerate()
    {
        let currency = ["EUR", "JPY", "GBP", "CNY"][i % 4];
        let mut parcel = serde_json::json!({"weight_g": p.weight_g});
        if let Some([l, w, h]) = p.dims_mm {
            parcel["length_mm"] = l.into();
            parcel["width_mm"] = w.into();
            parcel["height_mm"] = h.into();
        }
        let mut request = serde_json::json!({
            "origin": {"country": p.origin_country},
            "destination": {"country": p.dest_country, "postcode": p.dest_postcode},
            "parcel": parcel,
            "currency": currency,
            "landed_cost": i % 2 == 0,
        });
        if let Some((amount, value_currency)) = &p.declared_value {
            request["declared_value"] =
                serde_json::json!({"amount": amount, "currency": value_currency});
        }
        let line = request.to_string();
        let parsed = crossdock_api::parse_request_str(&line, &defaults)
            .unwrap_or_else(|e| panic!("{line}: {e:?}"));
        book.quote_into(&parsed, &mut scratch, &mut quote).unwrap();
        let text = render_quote(&book, &parsed, &quote);
        assert_eq!(
            answer_line(&book, &line, &defaults, &mut scratch, &mut quote),
            Answer::Quoted(text.clone())
        );
        book.quote_into(&parsed, &mut scratch, &mut quote).unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        let c = quote.currency;
        assert_eq!(doc["rate_book"], book.label());
        assert_eq!(doc["currency"], c.code());
        let options = doc["options"].as_array().unwrap();
        assert_eq!(options.len(), quote.options.len());
        for (o, got) in quote.options.iter().zip(options) {
            let service = book.service(o.service);
            assert_eq!(got["rank"], o.rank);
            assert_eq!(got["service"], &*service.code);
            assert_eq!(got["carrier"], &*service.carrier);
            assert_eq!(got["sell"], c.format_minor(o.sell));
            assert_eq!(got["cost"], c.format_minor(o.cost));
            assert_eq!(got["margin"], c.format_minor(o.margin));
            assert_eq!(got["chargeable_weight_g"], o.chargeable_weight_g);
            assert_eq!(got["transit_days"]["min"], o.transit_days_min);
            assert_eq!(got["transit_days"]["max"], o.transit_days_max);
            let lines = got["lines"].as_array().unwrap();
            assert_eq!(lines.len(), quote.option_lines(o).len());
            for (l, got) in quote.option_lines(o).iter().zip(lines) {
                assert_eq!(got["code"], book.line_code(l.code));
                assert_eq!(got["amount"], c.format_minor(l.amount));
            }
            match &o.landed_cost {
                None => assert!(got["landed_cost"].is_null()),
                Some(landed) => {
                    assert_eq!(got["landed_cost"]["duty"], c.format_minor(landed.duty));
                    assert_eq!(got["landed_cost"]["tax"], c.format_minor(landed.tax));
                    assert_eq!(
                        got["landed_cost"]["import_charges"],
                        c.format_minor(landed.import_charges)
                    );
                }
            }
            checked_options += 1;
        }
        let excluded = doc["excluded"].as_array().unwrap();
        assert_eq!(excluded.len(), quote.excluded.len());
        for (e, got) in quote.excluded.iter().zip(excluded) {
            assert_eq!(got["service"], &*book.service(e.service).code);
            let reasons: Vec<&str> = got["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            let want: Vec<&str> = e.reasons.iter().map(|r| r.code()).collect();
            assert_eq!(reasons, want);
        }
        let issues: Vec<&str> = doc["customs"]["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let want: Vec<&str> = quote.customs_issues.iter().map(|r| r.code()).collect();
        assert_eq!(issues, want);
    }
    assert!(
        checked_options > 1000,
        "the sample exercises many options ({checked_options})"
    );
}
