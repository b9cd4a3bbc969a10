//! Customs: the issues a request's declaration has, and landed cost on the fast path.
//!
//! Landed cost follows rate-book.md step 7: everything is worked in the currency of the
//! destination's customs row (`C`), the goods value, each content line and the freight
//! (the option's sell) converted and rounded into `C` first; duty and tax are rounded in
//! `C`; what is reported is converted into the quote currency and rounded.

use crate::book::{Book, CustomsRule, DutyBasis};
use crate::money::{div_round_half_away, pow10_i128, rescale_round};
use crate::price::{Context, Scratch};
use crate::quote::{CustomsIssue, CustomsIssues, LandedCost, Quote, TaxScheme};
use crate::request::{ContentLine, Incoterm, Request};
use rust_decimal::Decimal;

/// Landed cost is always reported for DDP and on request for DDU.
pub(crate) fn wants_landed_cost(req: &Request) -> bool {
    req.incoterm == Incoterm::Ddp || req.landed_cost
}

/// The customs issues of a request (they never exclude a service).
pub(crate) fn issues(book: &Book, req: &Request) -> CustomsIssues {
    let mut out = CustomsIssues::default();
    let rule = book.customs_rule(req.dest_country, req.ship_date);
    if rule.is_some_and(|r| r.requires_hs6)
        && (req.contents.is_empty()
            || req
                .contents
                .iter()
                .any(|l| l.hs_code.as_ref().and_then(|h| h.hs6()).is_none()))
    {
        out.insert(CustomsIssue::Hs6Required);
    }
    if req
        .contents
        .iter()
        .any(|l| l.description.as_deref().is_some_and(is_generic_description))
    {
        out.insert(CustomsIssue::GenericDescription);
    }
    if let Some(declared) = &req.declared_value
        && !req.contents.is_empty()
    {
        let sum = req
            .contents
            .iter()
            .try_fold(Decimal::ZERO, |acc, l| acc.checked_add(l.value));
        if sum != Some(declared.amount) {
            out.insert(CustomsIssue::ValueMismatch);
        }
    }
    out
}

/// Words that say nothing about what is in a parcel. Customs authorities and carriers
/// publish lists of descriptions they reject as too vague (US CBP's and the big
/// integrators' "unacceptable descriptions", the UPU's CN 22/23 guidance): "gift",
/// "sample", "parts", "accessories", "goods", "merchandise", "personal effects", …
const GENERIC_WORDS: &[&str] = &[
    "accessories",
    "accessory",
    "article",
    "articles",
    "assorted",
    "belongings",
    "commodities",
    "commodity",
    "effects",
    "general",
    "gift",
    "gifts",
    "goods",
    "item",
    "items",
    "merchandise",
    "misc",
    "miscellaneous",
    "mixed",
    "other",
    "others",
    "package",
    "parcel",
    "part",
    "parts",
    "present",
    "presents",
    "product",
    "products",
    "sample",
    "samples",
    "spare",
    "spares",
    "stuff",
    "various",
];

/// Words that add nothing either way ("free sample", "gift for my friend", "sample of no
/// commercial value").
const FILLER_WORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "as",
    "charge",
    "commercial",
    "for",
    "free",
    "friend",
    "my",
    "no",
    "of",
    "personal",
    "some",
    "the",
    "use",
    "value",
    "with",
];

/// A description is generic when it has at least one generic word and nothing else but
/// filler: "Gift", "spare parts", "Free sample" are; "Phone case", "gift box", "car parts"
/// are not (they name a thing).
pub fn is_generic_description(description: &str) -> bool {
    let mut generic = false;
    for word in description
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if GENERIC_WORDS.contains(&word.as_str()) {
            generic = true;
        } else if !FILLER_WORDS.contains(&word.as_str()) {
            return false;
        }
    }
    generic
}

/// The number of flat duties of rate-book.md step 7: distinct 6-digit HS subheadings among
/// the lines, a line without a 6-digit code counting as one of its own, and a parcel without
/// content lines as one such line (so it pays one flat duty, never none).
pub(crate) fn distinct_hs6(contents: &[ContentLine]) -> u32 {
    if contents.is_empty() {
        return 1;
    }
    let mut seen: Vec<&str> = Vec::with_capacity(contents.len());
    let mut without = 0;
    for line in contents {
        match line.hs_code.as_ref().and_then(|h| h.hs6()) {
            Some(hs6) if !seen.contains(&hs6) => seen.push(hs6),
            Some(_) => {}
            None => without += 1,
        }
    }
    seen.len() as u32 + without
}

/// The duty rate of one content line: `duty_rates` by longest HS prefix, else the default.
pub(crate) fn line_rate(
    book: &Book,
    req: &Request,
    rule: &CustomsRule,
    line: Option<&ContentLine>,
) -> Decimal {
    line.and_then(|l| l.hs_code.as_ref())
        .and_then(|hs| book.duty_rate(req.dest_country, hs.as_str()))
        .unwrap_or(rule.duty_percent)
}

/// `x / 10^scale ≤ limit`, exactly.
fn at_most(x: i128, scale: u32, limit: Decimal) -> Option<bool> {
    let common = scale.max(limit.scale());
    let l = x.checked_mul(pow10_i128(common - scale)?)?;
    let r = limit
        .mantissa()
        .checked_mul(pow10_i128(common - limit.scale())?)?;
    Some(l <= r)
}

impl Book {
    /// Landed cost of every option, in integers. `None` on overflow.
    pub(crate) fn landed_fast(
        &self,
        ctx: &Context<'_, '_>,
        scratch: &mut Scratch,
        out: &mut Quote,
    ) -> Option<()> {
        let req = ctx.req;
        let (Some(value), Some(value_fx)) = (&req.declared_value, ctx.value_fx) else {
            return Some(());
        };
        let Some(rule) = self.customs_rule(req.dest_country, req.ship_date) else {
            return Some(());
        };
        let (c, mc) = (rule.fx_id, rule.currency.minor_digits());
        let v = self
            .fx
            .convert(value.amount.mantissa(), value.amount.scale(), value_fx, c)?;
        let lines = &mut scratch.landed_lines;
        lines.clear();
        if req.contents.is_empty() {
            lines.push((v, line_rate(self, req, rule, None)));
        } else {
            for line in &req.contents {
                let lv = self
                    .fx
                    .convert(line.value.mantissa(), line.value.scale(), value_fx, c)?;
                lines.push((lv, line_rate(self, req, rule, Some(line))));
            }
        }
        let sum: i128 = lines.iter().map(|(lv, _)| *lv).sum();
        let n = lines.len() as i128;
        let duty_free = match rule.duty_free_upto {
            Some(t) => at_most(v, mc, t)?,
            None => false,
        };
        let flat_duty = match (duty_free, rule.flat_duty_per_hs6) {
            (true, Some(flat)) => rescale_round(
                flat.mantissa()
                    .checked_mul(i128::from(distinct_hs6(&req.contents)))?,
                flat.scale(),
                mc,
            )?,
            _ => 0,
        };
        let exempt = match rule.tax_free_upto {
            Some(t) => at_most(v, mc, t)?,
            None => false,
        };
        let at_sale = match rule.tax_at_sale_upto {
            Some(t) => at_most(v, mc, t)?,
            None => false,
        };
        let scheme = if exempt {
            TaxScheme::Exempt
        } else if at_sale {
            TaxScheme::CollectedAtSale
        } else {
            TaxScheme::AtImport
        };
        let q = ctx.quote_fx;
        let mq = req.currency.minor_digits();
        for option in &mut out.options {
            let freight = self.fx.convert(i128::from(option.sell), mq, q, c)?;
            let duty = if duty_free {
                flat_duty
            } else {
                let mut duty: i128 = 0;
                for &(lv, rate) in lines.iter() {
                    let hundred = pow10_i128(rate.scale() + 2)?;
                    let line_duty = match rule.duty_basis {
                        DutyBasis::Fob => {
                            div_round_half_away(rate.mantissa().checked_mul(lv)?, hundred)
                        }
                        // base = lv + F × lv / sum, as one fraction: lv × (sum + F) / sum.
                        DutyBasis::Cif if sum != 0 => div_round_half_away(
                            rate.mantissa()
                                .checked_mul(lv)?
                                .checked_mul(sum + freight)?,
                            hundred.checked_mul(sum)?,
                        ),
                        // All lines worth nothing: the freight is shared equally.
                        DutyBasis::Cif => div_round_half_away(
                            rate.mantissa().checked_mul(lv * n + freight)?,
                            hundred.checked_mul(n)?,
                        ),
                    };
                    duty = duty.checked_add(line_duty)?;
                }
                duty
            };
            let tax = if scheme == TaxScheme::Exempt {
                0
            } else {
                let vat = rule.vat_percent;
                let base = v
                    + duty
                    + if rule.tax_includes_freight {
                        freight
                    } else {
                        0
                    };
                div_round_half_away(
                    vat.mantissa().checked_mul(base)?,
                    pow10_i128(vat.scale() + 2)?,
                )
            };
            let import = duty
                + if scheme == TaxScheme::AtImport {
                    tax
                } else {
                    0
                };
            let to_quote = |x: i128| {
                self.fx
                    .convert(x, mc, c, q)
                    .and_then(|y| i64::try_from(y).ok())
            };
            option.landed_cost = Some(LandedCost {
                duty: to_quote(duty)?,
                tax: to_quote(tax)?,
                scheme,
                import_charges: to_quote(import)?,
            });
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vague_descriptions_are_generic_and_named_things_are_not() {
        for d in [
            "gift",
            "Gift",
            "GIFTS",
            "parts",
            "Spare parts",
            "accessories",
            "sample",
            "Free sample",
            "sample of no commercial value",
            "personal effects",
            "Misc. items",
            "goods",
        ] {
            assert!(is_generic_description(d), "{d}");
        }
        for d in [
            "Phone case",
            "gift box",
            "car parts",
            "USB cable",
            "cotton T-shirt",
            "",
            "   ",
            "phone accessories case",
        ] {
            assert!(!is_generic_description(d), "{d}");
        }
    }
}
