//! rate-book.md **fx**: exchange rates against the base currency, and the exact reduced
//! ratio of every pair for the fast path.

use super::compile::Compiler;
use crate::money::{Currency, div_round_half_away, mul_exact, pow10_i128};
use crate::source::SourceBook;
use rust_decimal::Decimal;

/// Exchange rates: units of each currency per unit of the base currency.
#[derive(Debug)]
pub(crate) struct Fx {
    pub rates: Vec<(Currency, Decimal)>,
    /// `pairs[from * n + to]`: the exact ratio to multiply an amount of `from` by.
    pub pairs: Vec<Ratio>,
}

/// An exact positive ratio `num / den`, reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ratio {
    pub num: i128,
    pub den: i128,
}

impl Fx {
    pub fn id(&self, currency: Currency) -> Option<u16> {
        self.rates
            .iter()
            .position(|(c, _)| *c == currency)
            .map(|i| i as u16)
    }

    pub fn currency(&self, id: u16) -> Currency {
        self.rates[usize::from(id)].0
    }

    pub fn per_base(&self, id: u16) -> Decimal {
        self.rates[usize::from(id)].1
    }

    pub fn ratio(&self, from: u16, to: u16) -> Ratio {
        self.pairs[usize::from(from) * self.rates.len() + usize::from(to)]
    }

    /// Converts `x / 10^scale` of currency `from` into minor units of `to`, rounded half away
    /// from zero. `None` on overflow (the caller falls back to the decimal path).
    #[inline]
    pub fn convert(&self, x: i128, scale: u32, from: u16, to: u16) -> Option<i128> {
        let digits = self.currency(to).minor_digits();
        if from == to {
            return crate::money::rescale_round(x, scale, digits);
        }
        let r = self.ratio(from, to);
        let (mut n, mut d) = (mul_exact(x, r.num)?, r.den);
        if digits > scale {
            n = mul_exact(n, pow10_i128(digits - scale)?)?;
        } else if digits < scale {
            d = mul_exact(d, pow10_i128(scale - digits)?)?;
        }
        Some(div_round_half_away(n, d))
    }
}

impl Compiler {
    pub(super) fn fx(&mut self, src: &SourceBook, base: Option<Currency>) -> Fx {
        let mut rates: Vec<(Currency, Decimal)> = Vec::new();
        for r in &src.fx {
            let Some(currency) = Currency::from_code(&r.currency) else {
                self.err(
                    "fx",
                    r.row,
                    "currency",
                    format!(
                        "{:?} is not an upper-case ISO 4217 currency code",
                        r.currency
                    ),
                );
                continue;
            };
            if rates.iter().any(|(c, _)| *c == currency) {
                self.err(
                    "fx",
                    r.row,
                    "currency",
                    format!("{currency} appears more than once"),
                );
                continue;
            }
            if r.per_base <= Decimal::ZERO {
                self.err(
                    "fx",
                    r.row,
                    "per_base",
                    format!("{} must be above 0", r.per_base),
                );
                continue;
            }
            if !self.amount("fx", r.row, "per_base", r.per_base) {
                continue;
            }
            if Some(currency) == base && r.per_base != Decimal::ONE {
                self.err(
                    "fx",
                    r.row,
                    "per_base",
                    format!(
                        "the base currency {currency} must have per_base 1, not {}",
                        r.per_base
                    ),
                );
                continue;
            }
            rates.push((currency, r.per_base.normalize()));
        }
        // The base currency is worth one of itself even without a row.
        if let Some(base) = base
            && !rates.iter().any(|(c, _)| *c == base)
        {
            rates.push((base, Decimal::ONE));
        }
        let n = rates.len();
        let mut pairs = Vec::with_capacity(n * n);
        for (_, from) in &rates {
            for (_, to) in &rates {
                let exact = ratio(*to, *from);
                self.exact_only |= exact.is_none();
                pairs.push(exact.unwrap_or(Ratio { num: 0, den: 1 }));
            }
        }
        Fx { rates, pairs }
    }
}

/// The exact ratio `to_per_base / from_per_base`, reduced, for converting `from` into `to`.
fn ratio(to: Decimal, from: Decimal) -> Option<Ratio> {
    // to = T / 10^st, from = F / 10^sf: to / from = T × 10^sf / (F × 10^st).
    let num = to.mantissa().checked_mul(pow10_i128(from.scale())?)?;
    let den = from.mantissa().checked_mul(pow10_i128(to.scale())?)?;
    let g = gcd(num, den);
    (g > 0).then(|| Ratio {
        num: num / g,
        den: den / g,
    })
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
