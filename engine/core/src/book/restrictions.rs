//! rate-book.md **restrictions**: which declared goods categories a service accepts per
//! destination; the most specific row decides, and no row refuses.

use super::compile::{Compiler, wildcard};
use crate::codes::Country;
use crate::source::{RowNo, SourceBook};
use std::collections::HashMap;

/// The restriction rows of one category.
#[derive(Debug, Default)]
pub(crate) struct CategoryRules {
    /// Rows naming a service, indexed by service: (country or `*`, allow). Dense, because
    /// eligibility asks once per service and declared category on every quote.
    pub by_service: Vec<Vec<(Option<Country>, bool)>>,
    /// Rows for service `*`.
    pub any_service: Vec<(Option<Country>, bool)>,
}

impl CategoryRules {
    /// The deciding row's action: exact service before `*`, then exact country before `*`.
    /// `None` when no row decides, which refuses the category.
    pub fn decide(&self, service: u32, country: Country) -> Option<bool> {
        let pick = |rows: &[(Option<Country>, bool)]| {
            rows.iter()
                .find(|(c, _)| *c == Some(country))
                .or_else(|| rows.iter().find(|(c, _)| c.is_none()))
                .map(|(_, allow)| *allow)
        };
        self.by_service
            .get(service as usize)
            .and_then(|rows| pick(rows))
            .or_else(|| pick(&self.any_service))
    }
}

impl Compiler {
    pub(super) fn restrictions(
        &mut self,
        src: &SourceBook,
        by_code: &HashMap<Box<str>, u32>,
    ) -> HashMap<Box<str>, CategoryRules> {
        let t = "restrictions";
        let mut out: HashMap<Box<str>, CategoryRules> = HashMap::new();
        let mut seen: HashMap<(&str, &str, &str), RowNo> = HashMap::new();
        for r in &src.restrictions {
            let service = match wildcard(&r.service_code) {
                None => Some(None),
                Some(code) => match by_code.get(code) {
                    Some(&i) => Some(Some(i)),
                    None => {
                        self.unknown_service(t, r.row, code, " (use \"*\" for every service)");
                        None
                    }
                },
            };
            let country = self.country_or_any(t, r.row, "dest_country", &r.dest_country);
            let ok_category = self.text(t, r.row, "category", &r.category);
            let allow = match r.action.as_str() {
                "allow" => Some(true),
                "deny" => Some(false),
                other => {
                    self.err(
                        t,
                        r.row,
                        "action",
                        format!("{other:?} is not allow or deny"),
                    );
                    None
                }
            };
            if let Some(first) = seen.insert((&r.service_code, &r.dest_country, &r.category), r.row)
            {
                self.err(
                    t,
                    r.row,
                    "category",
                    format!(
                        "duplicates row {first} (same service_code, dest_country and category)"
                    ),
                );
                continue;
            }
            let (Some(service), Some(country), true, Some(allow)) =
                (service, country, ok_category, allow)
            else {
                continue;
            };
            let rules = out.entry(r.category.as_str().into()).or_default();
            match service {
                Some(s) => {
                    if rules.by_service.is_empty() {
                        rules.by_service = vec![Vec::new(); by_code.len()];
                    }
                    if let Some(rows) = rules.by_service.get_mut(s as usize) {
                        rows.push((country, allow));
                    }
                }
                None => rules.any_service.push((country, allow)),
            }
        }
        out
    }
}
