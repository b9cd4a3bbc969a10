//! The exact-decimal definition of pricing: rate-book.md steps 3–7, written as plainly as
//! the spec, in `rust_decimal`.
//!
//! This is the reference the fast integer pricer is proven equal to (see the property tests)
//! and the path every quote takes when an integer of the fast path would overflow. Clarity
//! wins over speed here; each step names the spec's step.

use crate::book::{Book, DutyBasis};
use crate::customs::{distinct_hs6, line_rate};
use crate::money::Currency;
use crate::price::{Candidate, Context, Pricer, QuoteError, Scratch};
use crate::quote::{LandedCost, Line, Quote, TaxScheme};
use crate::request::Request;
use rust_decimal::Decimal;

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;
const THOUSAND: Decimal = Decimal::ONE_THOUSAND;

impl Book {
    /// Quotes a request with exact decimal arithmetic at every step.
    pub fn quote_exact(&self, req: &Request) -> Result<Quote, QuoteError> {
        let ctx = self.context(req)?;
        let mut out = Quote::new(req.currency);
        self.run(&ctx, &mut Scratch::default(), &mut out, Pricer::Exact)
            .ok_or(QuoteError::OutOfRange)?;
        Ok(out)
    }

    /// `x` of currency `from` in currency `to`: `x × per_base(to) / per_base(from)`, unrounded.
    fn convert_exact(&self, x: Decimal, from: u16, to: u16) -> Option<Decimal> {
        if from == to {
            return Some(x);
        }
        x.checked_mul(self.fx.per_base(to))?
            .checked_div(self.fx.per_base(from))
    }

    pub(crate) fn price_exact(
        &self,
        ctx: &Context<'_, '_>,
        c: &Candidate,
        out: &mut Quote,
    ) -> Option<()> {
        let s = &self.services[c.service as usize];
        let service_currency = s.currency;
        let quote_currency = ctx.req.currency;
        let cg = Decimal::from(c.chargeable_g);

        // 3. Base: the band's fixed + per_kg × chargeable_g / 1000, rounded.
        let band = self.bands.get(c.band as usize)?;
        let base = service_currency.round(
            band.fixed
                .checked_add(band.per_kg.checked_mul(cg)?.checked_div(THOUSAND)?)?,
        );
        let mut lines: Vec<(u32, Decimal)> = vec![(0, base)];

        // 4. Surcharges in table order, each floored at its minimum, then rounded.
        let mut failed = false;
        self.applicable_surcharges(ctx, s, c.chargeable_g, |sur| {
            use crate::book::SurchargeKind::*;
            let raw = match sur.kind {
                Fixed => Some(sur.amount),
                PerKg => sur
                    .amount
                    .checked_mul(cg)
                    .and_then(|x| x.checked_div(THOUSAND)),
                PercentOfBase => base
                    .checked_mul(sur.amount)
                    .and_then(|x| x.checked_div(HUNDRED)),
            };
            match raw {
                Some(raw) => {
                    let floored = sur.minimum.map_or(raw, |min| raw.max(min));
                    lines.push((sur.line, service_currency.round(floored)));
                }
                None => failed = true,
            }
        });
        if failed {
            return None;
        }

        // 5. Each line into the quote currency, rounded; the cost is their sum.
        let first_line = out.lines.len() as u32;
        let mut cost = Decimal::ZERO;
        for (code, amount) in lines {
            let converted =
                quote_currency.round(self.convert_exact(amount, s.fx_id, ctx.quote_fx)?);
            cost = cost.checked_add(converted)?;
            out.lines.push(Line {
                code,
                amount: quote_currency.to_minor(converted)?,
            });
        }

        // 6. Sell with the winning price row.
        let sell = match self.price_row(ctx, c.service) {
            None => cost,
            Some(p) => {
                let by_percent =
                    quote_currency.round(cost.checked_mul(p.markup_percent)?.checked_div(HUNDRED)?);
                let fixed = match p.fx_id {
                    None => Decimal::ZERO,
                    Some(from) => quote_currency.round(self.convert_exact(
                        p.markup_fixed,
                        from,
                        ctx.quote_fx,
                    )?),
                };
                cost.checked_add(by_percent)?.checked_add(fixed)?
            }
        };
        self.push_option(
            c,
            quote_currency.to_minor(cost)?,
            quote_currency.to_minor(sell)?,
            first_line,
            out,
        );
        Some(())
    }

    /// 7. Landed cost of every option, in exact decimals.
    pub(crate) fn landed_exact(&self, ctx: &Context<'_, '_>, out: &mut Quote) -> Option<()> {
        let req = ctx.req;
        let (Some(value), Some(value_fx)) = (&req.declared_value, ctx.value_fx) else {
            return Some(());
        };
        let Some(rule) = self.customs_rule(req.dest_country, req.ship_date) else {
            return Some(());
        };
        let customs_currency: Currency = rule.currency;
        let c = rule.fx_id;
        let in_customs = |x: Decimal, from: u16| -> Option<Decimal> {
            Some(customs_currency.round(self.convert_exact(x, from, c)?))
        };

        // The goods value V and each content line, converted and rounded first.
        let v = in_customs(value.amount, value_fx)?;
        let mut lines: Vec<(Decimal, Decimal)> = Vec::new();
        if req.contents.is_empty() {
            lines.push((v, line_rate(self, req, rule, None)));
        } else {
            for line in &req.contents {
                lines.push((
                    in_customs(line.value, value_fx)?,
                    line_rate(self, req, rule, Some(line)),
                ));
            }
        }
        let sum = lines
            .iter()
            .try_fold(Decimal::ZERO, |acc, (lv, _)| acc.checked_add(*lv))?;
        let n = Decimal::from(lines.len() as u64);

        let duty_free = rule.duty_free_upto.is_some_and(|t| v <= t);
        let scheme = if rule.tax_free_upto.is_some_and(|t| v <= t) {
            TaxScheme::Exempt
        } else if rule.tax_at_sale_upto.is_some_and(|t| v <= t) {
            TaxScheme::CollectedAtSale
        } else {
            TaxScheme::AtImport
        };
        let quote_currency = req.currency;
        for option in &mut out.options {
            // The freight F is the option's sell, in the customs currency.
            let freight = in_customs(quote_currency.from_minor(option.sell), ctx.quote_fx)?;
            let duty = if duty_free {
                match rule.flat_duty_per_hs6 {
                    Some(flat) => customs_currency
                        .round(flat.checked_mul(Decimal::from(distinct_hs6(&req.contents)))?),
                    None => Decimal::ZERO,
                }
            } else {
                let mut duty = Decimal::ZERO;
                for &(lv, rate) in &lines {
                    let share = match rule.duty_basis {
                        DutyBasis::Fob => Decimal::ZERO,
                        // F × lv / sum; for amounts too large for 28 digits, F × (lv / sum).
                        DutyBasis::Cif if !sum.is_zero() => match freight.checked_mul(lv) {
                            Some(product) => product.checked_div(sum)?,
                            None => freight.checked_mul(lv.checked_div(sum)?)?,
                        },
                        DutyBasis::Cif => freight.checked_div(n)?,
                    };
                    let base = lv.checked_add(share)?;
                    duty = duty.checked_add(
                        customs_currency.round(rate.checked_mul(base)?.checked_div(HUNDRED)?),
                    )?;
                }
                duty
            };
            let tax = match scheme {
                TaxScheme::Exempt => Decimal::ZERO,
                _ => {
                    let freight_in_base = if rule.tax_includes_freight {
                        freight
                    } else {
                        Decimal::ZERO
                    };
                    let base = v.checked_add(duty)?.checked_add(freight_in_base)?;
                    customs_currency
                        .round(rule.vat_percent.checked_mul(base)?.checked_div(HUNDRED)?)
                }
            };
            let import = if scheme == TaxScheme::AtImport {
                duty.checked_add(tax)?
            } else {
                duty
            };
            let report = |x: Decimal| -> Option<i64> {
                quote_currency.to_minor(self.convert_exact(x, c, ctx.quote_fx)?)
            };
            option.landed_cost = Some(LandedCost {
                duty: report(duty)?,
                tax: report(tax)?,
                scheme,
                import_charges: report(import)?,
            });
        }
        Some(())
    }
}
