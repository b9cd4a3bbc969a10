//! The rating component's side of `crossdock_http::seams::Pricing`: other components (an
//! order becoming a shipment) price through exactly the code path `POST /v1/quotes` uses,
//! on the same book snapshot, and get the book's facts about the first option with it.

use crate::Rating;
use crossdock_api::{Answer, Defaults, answer_request, parse_request};
use crossdock_engine::{Currency, Decimal, Quote, Scratch};
use crossdock_http::Problem;
use crossdock_http::seams::{FirstOption, PriceAsk, Priced, Pricing, SegmentPlan};
use std::str::FromStr;

impl Pricing for Rating {
    fn price(&self, ask: &PriceAsk<'_>) -> Priced {
        let Some(live) = self.live_book(ask.tenant) else {
            return Priced::NoBook;
        };
        price_with(self, &live.book, ask)
    }

    fn price_on_book(&self, ask: &PriceAsk<'_>, label: &str) -> Priced {
        match self.loaded_book(ask.tenant, label) {
            Some(book) => price_with(self, &book, ask),
            None => Priced::NoBook,
        }
    }
}

/// Prices `ask` by `book` exactly as `POST /v1/quotes` would.
fn price_with(rating: &Rating, book: &crossdock_engine::Book, ask: &PriceAsk<'_>) -> Priced {
    {
        // A request without a currency is asked in the book's base currency.
        let mut request = ask.request.clone();
        if let Some(o) = request.as_object_mut()
            && !o.contains_key("currency")
        {
            o.insert(
                "currency".into(),
                serde_json::Value::String(book.base_currency().code().to_owned()),
            );
        }
        let defaults = Defaults {
            today: rating.today(),
            customer: ask.customer.map(str::to_owned),
            explain: true,
        };
        let parsed = match parse_request(&request, &defaults) {
            Ok(parsed) => parsed,
            Err(list) => {
                return Priced::Invalid(
                    list.into_iter()
                        .map(|p| Problem::new(p.field, p.problem))
                        .collect(),
                );
            }
        };
        let mut scratch = Scratch::default();
        let mut quote = Quote::new(parsed.currency);
        let answer = match answer_request(book, &parsed, &mut scratch, &mut quote) {
            Answer::Quoted(body) => body,
            Answer::Invalid(body) => return Priced::Invalid(problems_of(&body)),
        };
        let first = quote.options.first().map(|option| {
            let service = book.service(option.service);
            let mut segments: Vec<SegmentPlan> = book
                .segments(option.service)
                .map(|s| SegmentPlan {
                    seq: s.seq,
                    kind: s.kind.to_string(),
                    carrier: s.carrier.to_string(),
                    label_format: s.label.to_string(),
                })
                .collect();
            segments.sort_by_key(|s| s.seq);
            if segments.is_empty() {
                segments.push(SegmentPlan {
                    seq: 1,
                    kind: "last_mile".into(),
                    carrier: service.carrier.to_string(),
                    label_format: String::new(),
                });
            }
            FirstOption {
                zone: book
                    .zone_of(option.service, &parsed)
                    .unwrap_or_default()
                    .to_owned(),
                segments,
            }
        });
        let declared_value_sdr = parsed
            .declared_value
            .as_ref()
            .and_then(|value| in_sdr(book, value.amount, value.currency, ask.usd_per_sdr))
            .map(|sdr| sdr.normalize().to_string());
        Priced::Quoted {
            answer,
            first,
            declared_value_sdr,
        }
    }
}

/// The declared value in SDR: with the book's `XDR` rate, else its USD amount divided by
/// `usd_per_sdr` (orders-labels.md, "Customs"). Unrounded.
fn in_sdr(
    book: &crossdock_engine::Book,
    amount: Decimal,
    from: Currency,
    usd_per_sdr: &str,
) -> Option<Decimal> {
    if let Some(xdr) = Currency::from_code("XDR")
        && let Some(sdr) = book.convert_unrounded(amount, from, xdr)
    {
        return Some(sdr);
    }
    let usd = Currency::from_code("USD")?;
    let in_usd = if from == usd {
        amount
    } else {
        book.convert_unrounded(amount, from, usd)?
    };
    let per = Decimal::from_str(usd_per_sdr)
        .ok()
        .filter(|d| *d > Decimal::ZERO)?;
    in_usd.checked_div(per)
}

fn problems_of(body: &str) -> Vec<Problem> {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    value["problems"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| {
                    Problem::new(
                        p["field"].as_str().unwrap_or(""),
                        p["problem"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
