//! Sample parcels: realistic requests on the lanes of a generated book, for benchmarks and
//! tests of the engine.
//!
//! The mix is meant to look like a cross-border marketplace's traffic: mostly light parcels
//! (phone cases, clothes), some heavier boxes, a few long ones; a declared value on most; a
//! battery on about one in seven; a special goods category on about one in five.

use crate::rng::Rng;
use crate::values::Dec4;

/// One parcel to quote. Strings are as a client would send them (postcodes unnormalised).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleParcel {
    pub origin_country: String,
    pub dest_country: String,
    pub dest_postcode: Option<String>,
    pub weight_g: u32,
    /// Length, width, height in millimetres, longest first.
    pub dims_mm: Option<[u32; 3]>,
    /// (decimal amount, ISO 4217 currency), e.g. `("45.00", "USD")`.
    pub declared_value: Option<(String, String)>,
    /// `PI965` … `PI970`, or `None` for no battery.
    pub battery: Option<String>,
    /// Special goods categories: `liquid`, `magnet`, `powder`, `cosmetic`, `food`, `medicine`,
    /// `brand`.
    pub goods: Vec<String>,
}

/// The special goods categories of `rate-book.md`.
pub(crate) const GOODS_CATEGORIES: [&str; 7] = [
    "liquid", "magnet", "powder", "cosmetic", "food", "medicine", "brand",
];

/// A currency a declared value may be in, with a rough size of one US dollar in it (so values
/// stay plausible) and its minor units.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ValueCurrency {
    pub code: &'static str,
    pub per_usd: u32,
    pub decimals: u32,
}

/// Declared-value currencies, most common first; picks are weighted toward USD.
pub(crate) const VALUE_CURRENCIES: [ValueCurrency; 5] = [
    ValueCurrency {
        code: "USD",
        per_usd: 1,
        decimals: 2,
    },
    ValueCurrency {
        code: "EUR",
        per_usd: 1,
        decimals: 2,
    },
    ValueCurrency {
        code: "GBP",
        per_usd: 1,
        decimals: 2,
    },
    ValueCurrency {
        code: "CNY",
        per_usd: 7,
        decimals: 2,
    },
    ValueCurrency {
        code: "JPY",
        per_usd: 150,
        decimals: 0,
    },
];

/// Draws the parcel itself (weight, size, value, battery, goods) for a given lane.
pub(crate) fn draw_parcel(
    rng: &mut Rng,
    origin: &str,
    dest: &str,
    postcode: Option<String>,
) -> SampleParcel {
    let weight_g = draw_weight_g(rng);
    SampleParcel {
        origin_country: origin.to_owned(),
        dest_country: dest.to_owned(),
        dest_postcode: postcode,
        weight_g,
        dims_mm: rng.chance(850).then(|| draw_dims_mm(rng, weight_g)),
        declared_value: rng.chance(880).then(|| draw_value(rng)),
        battery: draw_battery(rng),
        goods: draw_goods(rng),
    }
}

/// 55 % small (50 g – 500 g), 30 % up to 2 kg, 12 % up to 10 kg, 3 % up to 30 kg.
fn draw_weight_g(rng: &mut Rng) -> u32 {
    let bucket = rng.below(100);
    let (low, high) = match bucket {
        0..55 => (50, 500),
        55..85 => (501, 2_000),
        85..97 => (2_001, 10_000),
        _ => (10_001, 30_000),
    };
    rng.between(low, high) as u32
}

/// A box whose volume follows the weight (2 – 8 cm³ per gram), longest side first; 3 % are
/// long thin parcels (rods, umbrellas, posters) that trip length limits and surcharges.
fn draw_dims_mm(rng: &mut Rng, weight_g: u32) -> [u32; 3] {
    if rng.chance(30) {
        let length = rng.between(650, 1_300) as u32;
        let side = rng.between(40, 120) as u32;
        return [length, side, side];
    }
    let volume_mm3 = u64::from(weight_g) * rng.between(2, 8) * 1_000;
    let side = integer_cbrt(volume_mm3).max(10);
    let length = side * rng.between(110, 160) / 100;
    let width = (side * rng.between(80, 110) / 100).max(10);
    let height = (volume_mm3 / (length * width).max(1)).max(10);
    let mut dims = [length as u32, width as u32, height as u32];
    dims.sort_unstable_by(|a, b| b.cmp(a));
    dims
}

/// The largest `r` with `r³ ≤ n`.
fn integer_cbrt(n: u64) -> u64 {
    let (mut low, mut high) = (0_u64, 2_642_245_u64); // 2_642_245³ < 2^64
    while low < high {
        let mid = (low + high).div_ceil(2);
        if mid * mid * mid <= n {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    low
}

/// Half of values 3 – 20 USD-equivalent, a third 20 – 150, the rest 150 – 1 000.
fn draw_value(rng: &mut Rng) -> (String, String) {
    let currency = match rng.below(100) {
        0..70 => VALUE_CURRENCIES[0],
        70..82 => VALUE_CURRENCIES[1],
        82..90 => VALUE_CURRENCIES[2],
        90..97 => VALUE_CURRENCIES[3],
        _ => VALUE_CURRENCIES[4],
    };
    let usd_cents = match rng.below(100) {
        0..50 => rng.between(300, 2_000),
        50..85 => rng.between(2_001, 15_000),
        _ => rng.between(15_001, 100_000),
    };
    let cents = i128::from(usd_cents) * i128::from(currency.per_usd);
    let amount = Dec4(cents * 100).round_to(currency.decimals);
    (amount.to_fixed(currency.decimals), currency.code.to_owned())
}

/// Mostly none; batteries inside or packed with equipment are common, loose cells rare.
fn draw_battery(rng: &mut Rng) -> Option<String> {
    let class = match rng.below(1000) {
        0..80 => "PI967",
        80..110 => "PI966",
        110..130 => "PI970",
        130..138 => "PI969",
        138..143 => "PI965",
        143..146 => "PI968",
        _ => return None,
    };
    Some(class.to_owned())
}

fn draw_goods(rng: &mut Rng) -> Vec<String> {
    if !rng.chance(200) {
        return Vec::new();
    }
    let first = *rng.pick(&GOODS_CATEGORIES);
    let mut goods = vec![first.to_owned()];
    if rng.chance(150) {
        let second = *rng.pick(&GOODS_CATEGORIES);
        if second != first {
            goods.push(second.to_owned());
        }
    }
    goods
}

/// Fills a postcode shape: each digit of `template` becomes a random digit and each letter a
/// random letter, separators stay; the first `prefix.len()` letters-or-digits are `prefix`.
pub(crate) fn postcode_from_template(rng: &mut Rng, template: &str, prefix: &str) -> String {
    let mut forced = prefix.chars();
    template
        .chars()
        .map(|c| {
            if !c.is_ascii_alphanumeric() {
                return c;
            }
            if let Some(p) = forced.next() {
                return p;
            }
            if c.is_ascii_digit() {
                char::from(b'0' + rng.below(10) as u8)
            } else {
                char::from(b'A' + rng.below(26) as u8)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{draw_parcel, integer_cbrt, postcode_from_template};
    use crate::rng::Rng;

    #[test]
    fn cube_roots_are_floors() {
        for (n, r) in [
            (0, 0),
            (1, 1),
            (7, 1),
            (8, 2),
            (26, 2),
            (27, 3),
            (1_000_000, 100),
            (999_999, 99),
        ] {
            assert_eq!(integer_cbrt(n), r, "cbrt({n})");
        }
    }

    #[test]
    fn postcodes_keep_shape_and_prefix() {
        let mut rng = Rng::new(1);
        let code = postcode_from_template(&mut rng, "EC1Y 8SY", "K");
        assert_eq!(code.len(), 8);
        assert!(code.starts_with('K'));
        assert_eq!(&code[4..5], " ");
        assert!(code.chars().nth(2).is_some_and(|c| c.is_ascii_digit()));
        let jp = postcode_from_template(&mut rng, "154-0023", "90");
        assert!(jp.starts_with("90") && jp.as_bytes()[3] == b'-');
    }

    #[test]
    fn parcels_are_plausible() {
        let mut rng = Rng::new(3);
        for _ in 0..2_000 {
            let parcel = draw_parcel(&mut rng, "CN", "DE", None);
            assert!((50..=30_000).contains(&parcel.weight_g));
            if let Some([l, w, h]) = parcel.dims_mm {
                assert!(l >= w && w >= h && h >= 10, "{l}x{w}x{h}");
            }
            if let Some((amount, currency)) = &parcel.declared_value {
                assert_eq!(
                    amount.contains('.'),
                    currency != "JPY",
                    "{amount} {currency}"
                );
            }
        }
    }
}
