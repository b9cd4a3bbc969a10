//! Currencies and exact money arithmetic.
//!
//! Two representations meet here:
//! - `Decimal` (rust_decimal) for amounts as written in a rate book or a request, exact;
//! - integer minor units (`i64`, cents for EUR, yen for JPY, fils for KWD) for every amount
//!   the engine has rounded. An amount in minor units is meaningless without its
//!   [`Currency`], which carries the number of minor digits.
//!
//! Every rounding in crossdock is *half away from zero* to a currency's ISO 4217 minor
//! units; the helpers below name that strategy so no caller reaches for `round_dp`
//! (which is banker's rounding).

use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt;

/// An ISO 4217 currency: its code and the number of digits of its minor unit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_digits: u8,
}

impl Currency {
    /// Looks up an active ISO 4217 code (upper case). `None` for anything else.
    pub fn from_code(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        ISO_4217
            .iter()
            .find(|(c, _)| c.as_bytes() == bytes)
            .map(|&(_, minor_digits)| Currency {
                code: bytes,
                minor_digits,
            })
    }

    pub fn code(&self) -> &str {
        // The code bytes always come from the ASCII table below.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point of this currency's minor unit (JPY 0, EUR 2, KWD 3).
    pub fn minor_digits(&self) -> u32 {
        u32::from(self.minor_digits)
    }

    /// Rounds an exact amount of this currency to its minor units, half away from zero.
    pub fn round(&self, amount: Decimal) -> Decimal {
        round_half_away(amount, self.minor_digits())
    }

    /// Rounds an exact amount to this currency's minor units and returns them as an integer.
    /// `None` when the amount does not fit an `i64` of minor units.
    pub fn to_minor(&self, amount: Decimal) -> Option<i64> {
        let rounded = self.round(amount);
        // After rounding the scale is at most the minor digits.
        let up = self.minor_digits().checked_sub(rounded.scale())?;
        i64::try_from(rounded.mantissa().checked_mul(pow10_i128(up)?)?).ok()
    }

    /// An integer amount of minor units as an exact decimal (1240 JPY → 1240, 1240 EUR → 12.40).
    pub fn from_minor(&self, minor: i64) -> Decimal {
        Decimal::new(minor, self.minor_digits())
    }

    /// Writes minor units with exactly this currency's number of decimals: `"12.40"`, `"1240"`.
    ///
    /// The one money formatter of crossdock: JSON answers, bulk files, what-if reports and
    /// test listings all write amounts through it, so they agree to the byte.
    pub fn format_minor(&self, minor: i64) -> String {
        let mut out = String::with_capacity(24);
        self.write_minor(minor, &mut out);
        out
    }

    /// Appends minor units formatted as by [`Currency::format_minor`] to `out`, without the
    /// formatting machinery: an answer holds dozens of amounts.
    #[inline]
    pub fn write_minor(&self, minor: i64, out: &mut String) {
        if minor < 0 {
            out.push('-');
        }
        self.write_magnitude(minor.unsigned_abs(), out);
    }

    /// [`Currency::format_minor`] for sums of many amounts, which may exceed an `i64`.
    pub fn format_minor_wide(&self, minor: i128) -> String {
        let mut out = String::with_capacity(48);
        if minor < 0 {
            out.push('-');
        }
        let magnitude = minor.unsigned_abs();
        match u64::try_from(magnitude) {
            Ok(small) => self.write_magnitude(small, &mut out),
            Err(_) => {
                use std::fmt::Write;
                let digits = self.minor_digits();
                let unit = 10u128.pow(digits);
                let _ = write!(out, "{}", magnitude / unit);
                if digits > 0 {
                    let width = digits as usize;
                    let _ = write!(out, ".{:0width$}", magnitude % unit);
                }
            }
        }
        out
    }

    #[inline]
    fn write_magnitude(&self, magnitude: u64, out: &mut String) {
        let digits = self.minor_digits() as usize;
        if digits == 0 {
            write_u64(out, magnitude);
            return;
        }
        let unit = 10u64.pow(digits as u32);
        write_u64(out, magnitude / unit);
        out.push('.');
        let mut fraction = [b'0'; 20];
        let mut rest = magnitude % unit;
        for slot in fraction[..digits].iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend(fraction[..digits].iter().map(|&b| char::from(b)));
    }
}

/// Appends a whole number in decimal, as `Display` writes it.
#[inline]
fn write_u64(out: &mut String, mut n: u64) {
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

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Rounds half away from zero to `digits` decimals: the only rounding crossdock uses.
pub fn round_half_away(amount: Decimal, digits: u32) -> Decimal {
    amount.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero)
}

/// `n / d` rounded half away from zero, for `d > 0`. Integer twin of [`round_half_away`].
#[inline]
pub fn div_round_half_away(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    // Most amounts fit 64 bits, where division is several times cheaper.
    if let (Ok(n64), Ok(d64)) = (i64::try_from(n), i64::try_from(d)) {
        let (q, r) = (n64 / d64, n64 % d64);
        let away = (r.unsigned_abs() as u128) * 2 >= d64 as u128;
        return i128::from(q + if away { n64.signum() } else { 0 });
    }
    let (q, r) = (n / d, n % d);
    let away = r.unsigned_abs() * 2 >= d as u128;
    q + if away { n.signum() } else { 0 }
}

/// `a × b`, `None` on overflow. Two factors that fit 64 bits cannot overflow 128, so their
/// product is one widening multiply instead of `i128::checked_mul`'s full 128-bit multiply
/// and overflow check; most amounts and ratios are that small.
#[inline]
pub fn mul_exact(a: i128, b: i128) -> Option<i128> {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(a), Ok(b)) => Some(i128::from(a) * i128::from(b)),
        _ => a.checked_mul(b),
    }
}

/// Changes the scale of an exact integer amount `n / 10^from` to `to` decimals, rounding
/// half away from zero when decimals are dropped. `None` on overflow.
#[inline]
pub fn rescale_round(n: i128, from: u32, to: u32) -> Option<i128> {
    if from >= to {
        Some(div_round_half_away(n, pow10_i128(from - to)?))
    } else {
        mul_exact(n, pow10_i128(to - from)?)
    }
}

const POW10: [i128; 39] = {
    let mut table = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// 10^e as i128, `None` above 10^38.
#[inline]
pub fn pow10_i128(e: u32) -> Option<i128> {
    POW10.get(e as usize).copied()
}

/// 10^e as i64, `None` above 10^18.
#[inline]
pub fn pow10_i64(e: u32) -> Option<i64> {
    if e <= 18 {
        Some(POW10[e as usize] as i64)
    } else {
        None
    }
}

/// Active ISO 4217 codes with their minor units (the ISO 4217 list of 2025; funds and
/// precious-metal codes without minor units are left out).
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    // The IMF's Special Drawing Right: not a currency anyone pays in, but books may give
    // its rate (orders-labels.md: a customs value in SDR). ISO 4217 names no minor unit.
    ("XDR", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn minor_digits_follow_iso_4217() {
        for (code, digits) in [
            ("JPY", 0),
            ("EUR", 2),
            ("USD", 2),
            ("KWD", 3),
            ("BHD", 3),
            ("CLF", 4),
        ] {
            assert_eq!(
                Currency::from_code(code).unwrap().minor_digits(),
                digits,
                "{code}"
            );
        }
        for bad in ["XXX", "usd", "EU", "EURO", "", "XAU"] {
            assert!(Currency::from_code(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero_at_the_minor_unit() {
        let cases = [
            ("EUR", "2.345", "2.35"),
            ("EUR", "2.355", "2.36"),
            ("EUR", "-2.345", "-2.35"),
            ("EUR", "2.3449999", "2.34"),
            ("JPY", "1240.5", "1241"),
            ("JPY", "1241.5", "1242"),
            ("JPY", "1240.49", "1240"),
            ("KWD", "1.2345", "1.235"),
            ("KWD", "1.2344", "1.234"),
        ];
        for (code, input, want) in cases {
            let cur = Currency::from_code(code).unwrap();
            assert_eq!(cur.round(dec(input)), dec(want), "{code} {input}");
        }
    }

    #[test]
    fn mul_exact_is_checked_multiplication() {
        let (big, small) = (i128::from(i64::MAX), i128::from(i64::MIN));
        let cases = [
            (3, -7),
            (big, big),
            (small, small),
            (small, big),
            (big + 1, 2),
            (small - 1, -3),
            (i128::MAX, 2),
            (i128::MIN, -1),
            (i128::MAX / 3, 3),
            (1 << 70, 1 << 57),
            (1 << 70, 1 << 58),
        ];
        for (a, b) in cases {
            assert_eq!(mul_exact(a, b), a.checked_mul(b), "{a} × {b}");
            assert_eq!(mul_exact(b, a), b.checked_mul(a), "{b} × {a}");
        }
    }

    #[test]
    fn integer_rounding_matches_decimal_rounding() {
        for n in -2000i128..2000 {
            for d in [1i128, 2, 3, 7, 10, 100, 1000, 12345] {
                let want = round_half_away(
                    Decimal::from_i128_with_scale(n, 0) / Decimal::from_i128_with_scale(d, 0),
                    0,
                );
                assert_eq!(
                    Decimal::from_i128_with_scale(div_round_half_away(n, d), 0),
                    want,
                    "{n}/{d}"
                );
                let big = n * 10i128.pow(20) + n;
                let dbig = d * 10i128.pow(20);
                let q = div_round_half_away(big, dbig);
                let exact_q = div_round_half_away(n, d);
                // big/dbig differs from n/d by n/dbig·10^-20, which only matters on an exact half.
                assert!((q - exact_q).abs() <= 1, "{big}/{dbig}");
            }
        }
    }

    #[test]
    fn minor_units_format_with_the_currency_digits() {
        let cases = [
            ("EUR", 1240, "12.40"),
            ("JPY", 1240, "1240"),
            ("KWD", 5, "0.005"),
            ("EUR", -5, "-0.05"),
            ("EUR", 0, "0.00"),
        ];
        for (code, minor, want) in cases {
            let cur = Currency::from_code(code).unwrap();
            assert_eq!(cur.format_minor(minor), want);
            assert_eq!(cur.format_minor_wide(i128::from(minor)), want);
            assert_eq!(cur.to_minor(dec(want)), Some(minor));
        }
    }

    #[test]
    fn minor_units_format_as_the_decimal_of_their_value() {
        // The formatter's definition: the exact decimal minor / 10^digits, written with its
        // scale (rust_decimal keeps trailing zeros), for any i64 and for wide sums.
        for code in ["EUR", "JPY", "KWD", "USD", "CLF"] {
            let cur = Currency::from_code(code).unwrap();
            let digits = cur.minor_digits();
            for minor in [
                0,
                1,
                9,
                10,
                99,
                100,
                101,
                1240,
                -1,
                -35,
                -1240,
                123_456_789,
                i64::MAX,
                i64::MIN,
            ] {
                let want = Decimal::from_i128_with_scale(i128::from(minor), digits).to_string();
                assert_eq!(cur.format_minor(minor), want, "{code} {minor}");
                assert_eq!(
                    cur.format_minor_wide(i128::from(minor)),
                    want,
                    "{code} {minor}"
                );
            }
            let wide = i128::from(i64::MAX) * 1000 + 7;
            let want = Decimal::from_i128_with_scale(-wide, digits).to_string();
            assert_eq!(cur.format_minor_wide(-wide), want, "{code} wide");
        }
    }
}
