//! Address rules per region, from libaddressinput's `countryinfo.txt` (`data/countries.tsv`,
//! derived as its header says).

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

use crate::tsv;

const FILE: &str = "data/countries.tsv";
const TEXT: &str = include_str!("../data/countries.tsv");

/// The `require` letters of a region whose data names none (libaddressinput's `data/ZZ`
/// defaults; orders-labels.md: "`AC` if absent").
const REQUIRE_DEFAULT: &str = "AC";

/// A region's address rules as libaddressinput states them.
///
/// Invariants (checked when the data is loaded): `code` is two ASCII capitals and unique;
/// `name` is in capitals; every example in `postcode_examples` fully matches the pattern
/// and every one in `postcode_examples_refused` does not; a region without a pattern has
/// all its examples in `postcode_examples`.
#[derive(Debug)]
pub struct Country {
    code: &'static str,
    name: String,
    require: &'static str,
    postcode_pattern: Option<&'static str>,
    /// `postcode_pattern` wrapped as `^(?:…)$`, ASCII only (`\d` is `[0-9]`).
    postcode_regex: Option<Regex>,
    postcode_examples: Vec<&'static str>,
    postcode_examples_refused: Vec<&'static str>,
    postcode_problem: String,
}

impl Country {
    /// The ISO 3166-1 alpha-2 code (or libaddressinput's key, such as `AC` or `XK`).
    pub fn code(&self) -> &str {
        self.code
    }

    /// The name in capitals, as a label's last address line prints it (`GERMANY`); the
    /// few source names in mixed case are upper-cased (`HUNGARY (REP.)`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The letters of the required address fields (`ACZ`); `AC` when the data names none.
    /// `A` street (`line1`), `C` city, `S` region, `Z` postcode; other letters of
    /// libaddressinput (`N` name, `O` organisation, …) are kept as given.
    pub fn require(&self) -> &str {
        self.require
    }

    /// Whether `line1` is required (`A`).
    pub fn requires_line1(&self) -> bool {
        self.require.contains('A')
    }

    /// Whether `city` is required (`C`).
    pub fn requires_city(&self) -> bool {
        self.require.contains('C')
    }

    /// Whether `region` is required (`S`).
    pub fn requires_region(&self) -> bool {
        self.require.contains('S')
    }

    /// Whether `postcode` is required (`Z`).
    pub fn requires_postcode(&self) -> bool {
        self.require.contains('Z')
    }

    /// The source's postcode pattern (`\d{5}`), unanchored as written there; `None` when
    /// the region has none, and then any postcode is accepted.
    pub fn postcode_pattern(&self) -> Option<&str> {
        self.postcode_pattern
    }

    /// Whether `postcode` fully matches the region's pattern (orders-labels.md's
    /// `POSTCODE_FORMAT` is its negation); always true for a region without one.
    ///
    /// The caller passes the postcode as stored: trimmed and upper-cased. Nothing is
    /// normalised here, so `"sw1a 1aa"` and `" 10115"` do not match. Only ASCII digits
    /// are digits.
    pub fn postcode_matches(&self, postcode: &str) -> bool {
        self.postcode_regex
            .as_ref()
            .is_none_or(|regex| regex.is_match(postcode))
    }

    /// The source's postcode examples that match the pattern, in source order
    /// (`["26133", "53225"]`).
    pub fn postcode_examples(&self) -> &[&'static str] {
        &self.postcode_examples
    }

    /// The source's postcode examples that do **not** match its own pattern (`BY`
    /// `20050`, `EE` `1001`, `GB` `RH6 OHP` with a letter O): kept out of
    /// [`postcode_examples`](Self::postcode_examples), so a problem never suggests a
    /// postcode that would be refused, and kept here so the anomaly stays visible.
    pub fn postcode_examples_refused(&self) -> &[&'static str] {
        &self.postcode_examples_refused
    }

    /// The sentence for a postcode that does not match: `not a valid DE postcode (e.g.
    /// 26133)`, without the example when the region has none.
    pub fn postcode_problem(&self) -> &str {
        &self.postcode_problem
    }
}

/// The address rules of a region by its code, exactly as given (`"DE"`; `"de"` and
/// libaddressinput's defaults `"ZZ"` are `None`).
pub fn country(code: &str) -> Option<&'static Country> {
    let all = countries();
    all.binary_search_by(|c| c.code.cmp(code))
        .ok()
        .map(|i| &all[i])
}

/// Every region, sorted by code (252).
///
/// The first call (of this or [`country`]) parses the data and compiles every pattern, a
/// few milliseconds; a component may call it at start-up to keep that off a request.
pub fn countries() -> &'static [Country] {
    static COUNTRIES: LazyLock<Vec<Country>> = LazyLock::new(load);
    &COUNTRIES
}

fn load() -> Vec<Country> {
    let countries: Vec<Country> = tsv::records::<5>(FILE, TEXT)
        .map(|(line, [code, name, require, pattern, examples])| {
            parse(line, code, name, require, pattern, examples)
        })
        .collect();
    assert!(
        countries.windows(2).all(|w| w[0].code < w[1].code),
        "{FILE}: codes sorted and unique"
    );
    countries
}

fn parse(
    line: usize,
    code: &'static str,
    name: &'static str,
    require: &'static str,
    pattern: &'static str,
    examples: &'static str,
) -> Country {
    assert!(
        code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()),
        "{FILE}:{line}: code {code:?}"
    );
    assert!(!name.is_empty(), "{FILE}:{line}: no name");
    let postcode_pattern = (!pattern.is_empty()).then_some(pattern);
    let postcode_regex = postcode_pattern.map(|p| {
        RegexBuilder::new(&format!("^(?:{p})$"))
            .unicode(false)
            .build()
            .unwrap_or_else(|e| panic!("{FILE}:{line}: pattern of {code}: {e}"))
    });
    let (postcode_examples, postcode_examples_refused): (Vec<&str>, Vec<&str>) = examples
        .split(',')
        .filter(|e| !e.is_empty())
        .partition(|e| postcode_regex.as_ref().is_none_or(|r| r.is_match(e)));
    let postcode_problem = match postcode_examples.first() {
        Some(example) => format!("not a valid {code} postcode (e.g. {example})"),
        None => format!("not a valid {code} postcode"),
    };
    Country {
        code,
        name: name.to_uppercase(),
        require: if require.is_empty() {
            REQUIRE_DEFAULT
        } else {
            require
        },
        postcode_pattern,
        postcode_regex,
        postcode_examples,
        postcode_examples_refused,
        postcode_problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_loads_and_every_pattern_compiles() {
        let all = countries();
        assert_eq!(all.len(), 252);
        assert_eq!(
            all.iter().filter(|c| c.postcode_regex.is_some()).count(),
            177
        );
    }

    #[test]
    fn the_pattern_is_anchored_around_a_top_level_alternation() {
        // GB's pattern is `GIR[ ]?0AA|(…)|BFPO[ ]?\d{1,4}`: `^GIR…|…|…\d{1,4}$` would
        // accept anything that starts with GIR 0AA or ends in BFPO 1.
        let gb = country("GB").expect("GB");
        assert!(gb.postcode_matches("GIR 0AA"));
        assert!(!gb.postcode_matches("GIR 0AAX"));
        assert!(!gb.postcode_matches("XBFPO 61"));
    }
}
