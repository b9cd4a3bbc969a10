//! A row's cells → a [`Request`], naming every field at fault.
//!
//! The rules and messages are crossdock-api's (engine/api/src/request.rs) for the same
//! fields, flattened: `parcel.weight_g` is the column `weight_g`, `declared_value.amount` is
//! `value_amount`, and so on, and a problem names the column. What differs is forced by the
//! formats: an empty cell is an absent value (CSV cannot tell them apart), text columns
//! accept whole numbers (an analyst's id or postcode column stored as integers), and the
//! quote currency defaults to the book's base currency.

use crate::RouteOptions;
use crate::cell::{Cell, RowCells};
use crate::columns::Col;
use crossdock_engine::request::DIMENSION_MM_MAX;
use crossdock_engine::{AMOUNT_MAX, Battery, Book, Country, Currency, Date, Decimal, Incoterm, Money, Postcode, Request};
use std::borrow::Cow;
use std::str::FromStr;

/// The same limits as crossdock-api's.
pub(crate) const TEXT_LEN_MAX: usize = 512;
pub(crate) const WEIGHT_G_MAX: u64 = 1_000_000_000;
const GOODS_MAX: usize = crossdock_engine::price::GOODS_MAX;
const GOODS_NAME_LEN_MAX: usize = 64;

/// One problem of a row: the column (or `goods[2]`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub field: Cow<'static, str>,
    pub problem: String,
}

/// `field: problem` joined by `; `, as the `problems` column holds them.
pub(crate) fn render_problems(problems: &[Problem]) -> String {
    let mut out = String::with_capacity(64 * problems.len());
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        if !p.field.is_empty() {
            out.push_str(&p.field);
            out.push_str(": ");
        }
        out.push_str(&p.problem);
    }
    out
}

/// Parses a row and checks its currencies against `book`. `Err` lists every problem.
pub(crate) fn parse_row(cells: &RowCells<'_>, book: &Book, opts: &RouteOptions) -> Result<Request, Vec<Problem>> {
    let mut p = Parser { problems: Vec::new() };
    let request = p.request(cells, book, opts);
    match request {
        Some(request) if p.problems.is_empty() => {
            for (field, problem) in book.request_problems(&request) {
                let field = if field == "declared_value.currency" { Col::ValueCurrency.name() } else { Col::Currency.name() };
                p.problem(field, problem);
            }
            if p.problems.is_empty() { Ok(request) } else { Err(p.problems) }
        }
        _ => Err(p.problems),
    }
}

struct Parser {
    problems: Vec<Problem>,
}

/// Why a cell is not a whole number.
enum NotWhole {
    /// Negative, fractional, not digits, or not a number at all.
    Shape,
    /// Unreadable, with the reason.
    Bad(&'static str),
}

impl Parser {
    fn problem(&mut self, field: impl Into<Cow<'static, str>>, problem: impl Into<String>) {
        self.problems.push(Problem { field: field.into(), problem: problem.into() });
    }

    fn request(&mut self, cells: &RowCells<'_>, book: &Book, opts: &RouteOptions) -> Option<Request> {
        let cell = |col: Col| cells[col as usize];
        // The id is written out as it is; it is checked so that a row without one is flagged.
        if let Ok(None) = self.text(Col::Id, cell(Col::Id)) {
            self.problem(Col::Id.name(), "is required");
        }
        let customer = self.text(Col::Customer, cell(Col::Customer)).ok();
        let ship_date = self.date(Col::ShipDate, cell(Col::ShipDate), opts.today);
        let origin = self.country(Col::OriginCountry, cell(Col::OriginCountry));
        let origin_postcode = self.postcode(Col::OriginPostcode, cell(Col::OriginPostcode));
        let destination = self.country(Col::DestCountry, cell(Col::DestCountry));
        let dest_postcode = self.postcode(Col::DestPostcode, cell(Col::DestPostcode));
        let weight_g = self.weight(cell(Col::WeightG));
        let dims = [Col::LengthMm, Col::WidthMm, Col::HeightMm].map(|col| self.dimension(col, cell(col)));
        let declared_value = self.declared_value(cell(Col::ValueAmount), cell(Col::ValueCurrency));
        let battery = self.battery(cell(Col::Battery));
        let goods = self.goods(cell(Col::Goods));
        let incoterm = self.incoterm(cell(Col::Incoterm));
        let tracked = self.boolean(Col::TrackedRequired, cell(Col::TrackedRequired));
        let max_transit_days = self.max_transit_days(cell(Col::MaxTransitDays));
        let currency = match self.text(Col::Currency, cell(Col::Currency)) {
            Ok(None) => Some(book.base_currency()),
            Ok(Some(code)) => self.currency(Col::Currency, &code),
            Err(()) => None,
        };
        if !self.problems.is_empty() {
            return None;
        }
        let [Some(length), Some(width), Some(height)] = dims else { return None };
        let mut request = Request::new(origin?, destination?, weight_g?, currency?, ship_date?);
        request.customer = customer?.map(Cow::into_owned);
        request.origin_postcode = origin_postcode?;
        request.dest_postcode = dest_postcode?;
        request.dims_mm = [length, width, height];
        request.declared_value = declared_value?;
        request.battery = battery?;
        request.goods = goods?;
        request.incoterm = incoterm?;
        request.require_tracked = tracked?;
        request.max_transit_days = max_transit_days?;
        request.strategy = opts.strategy;
        request.explain = false;
        Some(request)
    }

    /// Text of at most [`TEXT_LEN_MAX`] bytes; `Ok(None)` when empty. `Err` has been reported.
    fn text<'c>(&mut self, col: Col, cell: Cell<'c>) -> Result<Option<Cow<'c, str>>, ()> {
        let text = match cell {
            c if c.is_empty() => return Ok(None),
            Cell::Text(s) => Cow::Borrowed(s),
            Cell::Int(i) => Cow::Owned(i.to_string()),
            Cell::Bad(why) => {
                self.problem(col.name(), why);
                return Err(());
            }
            other => {
                self.problem(col.name(), format!("must be a string, not {}", other.kind()));
                return Err(());
            }
        };
        if text.len() > TEXT_LEN_MAX {
            self.problem(col.name(), format!("must be 1 to {TEXT_LEN_MAX} bytes of text"));
            return Err(());
        }
        Ok(Some(text))
    }

    fn required_text<'c>(&mut self, col: Col, cell: Cell<'c>) -> Option<Cow<'c, str>> {
        match self.text(col, cell) {
            Ok(Some(text)) => Some(text),
            Ok(None) => {
                self.problem(col.name(), "is required");
                None
            }
            Err(()) => None,
        }
    }

    fn date(&mut self, col: Col, cell: Cell<'_>, today: Date) -> Option<Date> {
        let parsed = match cell {
            c if c.is_empty() => return Some(today),
            Cell::Date(d) => Some(d),
            Cell::Text(s) => Date::parse(s),
            Cell::Bad(why) => {
                self.problem(col.name(), why);
                return None;
            }
            _ => None,
        };
        if parsed.is_none() {
            self.problem(col.name(), "must be a date written YYYY-MM-DD");
        }
        parsed
    }

    fn country(&mut self, col: Col, cell: Cell<'_>) -> Option<Country> {
        let code = self.required_text(col, cell)?;
        let parsed = Country::parse(&code);
        if parsed.is_none() {
            self.problem(col.name(), format!("{code:?} is not an upper-case ISO 3166-1 alpha-2 country code"));
        }
        parsed
    }

    fn postcode(&mut self, col: Col, cell: Cell<'_>) -> Option<Option<Postcode>> {
        let Some(raw) = self.text(col, cell).ok()? else { return Some(None) };
        match Postcode::normalise(&raw) {
            Ok(postcode) => Some(postcode),
            Err(why) => {
                self.problem(col.name(), format!("{raw:?} {why}"));
                None
            }
        }
    }

    fn weight(&mut self, cell: Cell<'_>) -> Option<u32> {
        let field = Col::WeightG.name();
        if cell.is_empty() {
            self.problem(field, "is required");
            return None;
        }
        match whole(cell) {
            Ok(g) if (1..=WEIGHT_G_MAX).contains(&g) => u32::try_from(g).ok(),
            Ok(g) if g > WEIGHT_G_MAX => {
                self.problem(field, format!("must be at most {WEIGHT_G_MAX} grams"));
                None
            }
            Err(NotWhole::Bad(why)) => {
                self.problem(field, why);
                None
            }
            _ => {
                self.problem(field, "must be a whole number of grams above 0");
                None
            }
        }
    }

    fn dimension(&mut self, col: Col, cell: Cell<'_>) -> Option<Option<u32>> {
        if cell.is_empty() {
            return Some(None);
        }
        match whole(cell) {
            Ok(mm) if (1..=u64::from(DIMENSION_MM_MAX)).contains(&mm) => u32::try_from(mm).ok().map(Some),
            Ok(mm) if mm > u64::from(DIMENSION_MM_MAX) => {
                self.problem(col.name(), format!("must be at most {DIMENSION_MM_MAX} millimetres"));
                None
            }
            Err(NotWhole::Bad(why)) => {
                self.problem(col.name(), why);
                None
            }
            _ => {
                self.problem(col.name(), "must be a whole number of millimetres above 0");
                None
            }
        }
    }

    /// `value_amount` and `value_currency` together are the declared value: both or neither.
    fn declared_value(&mut self, amount: Cell<'_>, currency: Cell<'_>) -> Option<Option<Money>> {
        let amount = if amount.is_empty() { Some(None) } else { self.amount(Col::ValueAmount, amount).map(Some) };
        let currency = match self.text(Col::ValueCurrency, currency).ok()? {
            None => Some(None),
            Some(code) => self.currency(Col::ValueCurrency, &code).map(Some),
        };
        match (amount?, currency?) {
            (None, None) => Some(None),
            (Some(amount), Some(currency)) => Some(Some(Money { amount, currency })),
            (Some(_), None) => {
                self.problem(Col::ValueCurrency.name(), "is required");
                None
            }
            (None, Some(_)) => {
                self.problem(Col::ValueAmount.name(), "is required");
                None
            }
        }
    }

    /// A non-negative exact amount below the engine's range. Numbers are refused in JSON as
    /// the API refuses them; Parquet integers arrive here as decimals.
    fn amount(&mut self, col: Col, cell: Cell<'_>) -> Option<Decimal> {
        let (shown, parsed) = match cell {
            Cell::Text(s) => {
                let int = s.split('.').next().unwrap_or("");
                let frac = s.split_once('.').map(|(_, f)| f);
                let shape_ok =
                    !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
                if !shape_ok {
                    self.problem(col.name(), format!("{s:?} is not a non-negative decimal string such as \"12.50\""));
                    return None;
                }
                (s.to_string(), Decimal::from_str(s).ok())
            }
            Cell::Decimal(d) => {
                if d.is_sign_negative() && !d.is_zero() {
                    self.problem(col.name(), format!("{:?} is not a non-negative decimal string such as \"12.50\"", d.to_string()));
                    return None;
                }
                (d.to_string(), Some(d))
            }
            Cell::Bad(why) => {
                self.problem(col.name(), why);
                return None;
            }
            other => {
                self.problem(col.name(), format!("must be a decimal string such as \"12.50\", not {}", other.kind()));
                return None;
            }
        };
        match parsed {
            Some(d) if d < AMOUNT_MAX => Some(d),
            _ => {
                self.problem(col.name(), format!("{shown:?} is too large"));
                None
            }
        }
    }

    fn currency(&mut self, col: Col, code: &str) -> Option<Currency> {
        let parsed = Currency::from_code(code);
        if parsed.is_none() {
            self.problem(col.name(), format!("{code:?} is not an upper-case ISO 4217 currency code"));
        }
        parsed
    }

    fn battery(&mut self, cell: Cell<'_>) -> Option<Option<Battery>> {
        let text = self.text(Col::Battery, cell).ok()?;
        match text.as_deref() {
            None | Some("none") => Some(None),
            Some(s) => match Battery::parse(s) {
                Some(b) => Some(Some(b)),
                None => {
                    self.problem(Col::Battery.name(), format!("{s:?} is not none or one of PI965, PI966, PI967, PI968, PI969, PI970"));
                    None
                }
            },
        }
    }

    /// Comma-separated categories; spaces around a name are not part of it; duplicates
    /// collapse, as in the API.
    fn goods(&mut self, cell: Cell<'_>) -> Option<Vec<String>> {
        let Some(text) = self.text(Col::Goods, cell).ok()? else { return Some(Vec::new()) };
        let mut out: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, name) in text.split(',').map(str::trim).enumerate() {
            if name.is_empty() || name.len() > GOODS_NAME_LEN_MAX {
                self.problem(format!("goods[{i}]"), format!("must be a category name of 1 to {GOODS_NAME_LEN_MAX} characters"));
                ok = false;
            } else if !out.iter().any(|g| g == name) {
                out.push(name.to_string());
            }
        }
        if out.len() > GOODS_MAX {
            self.problem(Col::Goods.name(), format!("at most {GOODS_MAX} categories"));
            ok = false;
        }
        ok.then_some(out)
    }

    fn incoterm(&mut self, cell: Cell<'_>) -> Option<Incoterm> {
        let Some(text) = self.text(Col::Incoterm, cell).ok()? else { return Some(Incoterm::Ddu) };
        let parsed = Incoterm::parse(&text);
        if parsed.is_none() {
            self.problem(Col::Incoterm.name(), "must be DDU or DDP");
        }
        parsed
    }

    /// A boolean; in text `true` or `false` in any case (spreadsheets write `TRUE`).
    fn boolean(&mut self, col: Col, cell: Cell<'_>) -> Option<bool> {
        match cell {
            c if c.is_empty() => Some(false),
            Cell::Bool(b) => Some(b),
            Cell::Text(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Cell::Text(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Cell::Text(s) => {
                self.problem(col.name(), format!("must be true or false, not {s:?}"));
                None
            }
            Cell::Bad(why) => {
                self.problem(col.name(), why);
                None
            }
            other => {
                self.problem(col.name(), format!("must be true or false, not {}", other.kind()));
                None
            }
        }
    }

    fn max_transit_days(&mut self, cell: Cell<'_>) -> Option<Option<u32>> {
        if cell.is_empty() {
            return Some(None);
        }
        match whole(cell) {
            Ok(days) if days <= u64::from(u32::MAX) => u32::try_from(days).ok().map(Some),
            Err(NotWhole::Bad(why)) => {
                self.problem(Col::MaxTransitDays.name(), why);
                None
            }
            _ => {
                self.problem(Col::MaxTransitDays.name(), "must be a whole number of days, 0 or more");
                None
            }
        }
    }
}

/// A whole number ≥ 0: an integer, a decimal without fraction, or ASCII digits. Values beyond
/// `u64` saturate (every caller has a much lower limit). Never a float, as in the API.
fn whole(cell: Cell<'_>) -> Result<u64, NotWhole> {
    match cell {
        Cell::Int(i) if i >= 0 => Ok(u64::try_from(i).unwrap_or(u64::MAX)),
        Cell::Decimal(d) if !d.is_sign_negative() && d.fract().is_zero() => Ok(u64::try_from(d.trunc()).unwrap_or(u64::MAX)),
        Cell::Text(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => Ok(s.parse::<u64>().unwrap_or(u64::MAX)),
        Cell::Bad(why) => Err(NotWhole::Bad(why)),
        _ => Err(NotWhole::Shape),
    }
}
