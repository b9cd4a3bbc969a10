//! Check digits: UPU S10, Luhn (ISO/IEC 7812), mod 7 (IATA air waybills, DHL Express).
//!
//! Each `*_check_digit` takes the digits the check digit is computed from, as text, and
//! answers `None` when they are not what the algorithm is defined on; nothing here panics
//! or overflows, whatever the length.

/// The weights of the UPU S10 check digit over the 8 serial digits (orders-labels.md,
/// "Tracking numbers"; shared/data/tracking-numbers/s10.json).
pub const S10_WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];

/// The UPU S10 check digit of an 8-digit serial: Σ digit × 8 6 4 2 3 5 9 7,
/// c = 11 − (Σ mod 11), then 10 → 0 and 11 → 5. `"12345678"` → `5` (`RB123456785GB`).
/// `None` unless `serial` is exactly 8 ASCII digits.
pub fn s10_check_digit(serial: &str) -> Option<u8> {
    let bytes = serial.as_bytes();
    if bytes.len() != S10_WEIGHTS.len() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(S10_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let digit = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    };
    u8::try_from(digit).ok()
}

/// The Luhn check digit to append to `digits`: from the rightmost digit leftwards every
/// other digit, starting with the rightmost, is doubled (9 subtracted when over 9), and
/// the check digit brings the sum to a multiple of 10. `"0000000001"` → `8`
/// (`CD00000000018`), `"7992739871"` → `3`. `None` unless `digits` is one or more ASCII
/// digits.
pub fn luhn_check_digit(digits: &str) -> Option<u8> {
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum = bytes.iter().rev().enumerate().fold(0u8, |sum, (i, b)| {
        let d = b - b'0';
        let d = if i % 2 == 0 {
            let twice = d * 2;
            if twice > 9 { twice - 9 } else { twice }
        } else {
            d
        };
        // Kept below 10, so no length overflows it.
        (sum + d) % 10
    });
    Some((10 - sum) % 10)
}

/// Whether `number` (ASCII digits only, at least 2) ends in the Luhn check digit of the
/// digits before it: `"79927398713"` is.
pub fn luhn_valid(number: &str) -> bool {
    let Some((last, payload)) = number.as_bytes().split_last() else {
        return false;
    };
    last.is_ascii_digit()
        && std::str::from_utf8(payload)
            .ok()
            .and_then(luhn_check_digit)
            .is_some_and(|c| c == last - b'0')
}

/// The mod-7 check digit of `digits`: the number they write, modulo 7. `"1234567"` → `5`.
/// `None` unless `digits` is one or more ASCII digits.
pub fn mod7_check_digit(digits: &str) -> Option<u8> {
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |r, b| (r * 10 + (b - b'0')) % 7))
}

/// Whether `mawb` is an IATA master air waybill number as manifests.md writes it:
/// `NNN-NNNNNNNN` (airline prefix, dash, 8-digit serial) whose last digit is the 7 digits
/// before it modulo 7. `"999-12345675"` is.
pub fn mawb_valid(mawb: &str) -> bool {
    let Some((prefix, serial)) = mawb.split_once('-') else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(prefix, 3)
        && digits(serial, 8)
        && mod7_check_digit(&serial[..7]).is_some_and(|c| c == serial.as_bytes()[7] - b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s10_maps_10_to_0_and_11_to_5() {
        // 00000001: Σ = 7, 11 − 7 = 4. 00000010: Σ = 9 → 2.
        // 00000008: Σ = 56, 56 mod 11 = 1 → 10 → 0. 00000000: Σ = 0 → 11 → 5.
        let cases = [
            ("00000001", 4),
            ("00000010", 2),
            ("00000008", 0),
            ("00000000", 5),
            ("12345678", 5),
        ];
        for (serial, digit) in cases {
            assert_eq!(s10_check_digit(serial), Some(digit), "{serial}");
        }
    }

    #[test]
    fn check_digits_refuse_what_they_are_not_defined_on() {
        for bad in ["", "1234567", "123456789", "1234567a", "１２３４５６７８"] {
            assert_eq!(s10_check_digit(bad), None, "{bad:?}");
        }
        for bad in ["", "12a", " 1", "١٢"] {
            assert_eq!(luhn_check_digit(bad), None, "{bad:?}");
            assert_eq!(mod7_check_digit(bad), None, "{bad:?}");
        }
        for bad in ["", "5", "a5", "7992739871 ", "٧٩"] {
            assert!(!luhn_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn luhn_and_mod7_take_any_length() {
        let long = "9".repeat(10_000);
        assert!(luhn_check_digit(&long).is_some());
        assert!(mod7_check_digit(&long).is_some());
        assert_eq!(luhn_check_digit("0"), Some(0));
        assert_eq!(luhn_check_digit("1"), Some(8));
    }

    #[test]
    fn mawb_needs_its_shape_and_its_digit() {
        assert!(mawb_valid("999-12345675"));
        for bad in [
            "999-12345676",
            "99912345675",
            "99-912345675",
            "999-1234567",
            "999-123456750",
            "99a-12345675",
            "",
        ] {
            assert!(!mawb_valid(bad), "{bad:?}");
        }
    }
}
