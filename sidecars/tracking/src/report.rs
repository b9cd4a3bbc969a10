//! Carrier performance report: `GET /v1/reports/performance`.
//!
//! Example request:
//! `GET /v1/reports/performance?from=2026-11-01&to=2026-11-30&group=carrier,lane`
//! (add `format=csv` to get CSV instead of JSON).
//!
//! This module holds the whole computation. It uses only `std`, no floats and no
//! `unsafe`. The rules it implements, quoted from the contract:
//!
//! * **First scan**: a parcel's first event (in the contract order: by instant,
//!   then status rank, then sub-status) whose status is not `info_received`.
//!   The report covers parcels whose first scan's *local* date (the date in the
//!   event's own UTC offset) is in `[from, to]`, both ends included. Parcels
//!   with no first scan are not covered.
//! * **Keys**: the shipment's `carrier`, `service`, `lane` (e.g. `CN-DE`) and
//!   `week` (the ISO 8601 week of the first scan's local date, e.g. `2026-W48`,
//!   using the ISO week-numbering year, so 2027-01-01 is `2026-W53`). The
//!   default is all four. Rows are sorted by their key tuples, compared in the
//!   order the keys were given in `group`, in string byte order.
//! * **Deciding event**: the last event with status `delivered`, else the last
//!   `returned`, else the last event. A parcel is *delivered* when its deciding
//!   event's status is `delivered`.
//! * **Transit days**: calendar days from the first scan's local date to the
//!   deciding event's local date (each in its own offset). `p50` and `p90` are
//!   taken over delivered parcels by nearest rank (the ⌈p/100 × n⌉-th smallest);
//!   `null` when no parcel was delivered.
//! * **`on_time_rate`**: delivered parcels whose transit days are at most the
//!   shipment's `transit_max` (no `transit_max` means not on time), over
//!   delivered parcels.
//! * **`exception_rate`, `attempt_failed_rate`, `customs_hold_rate`**: parcels
//!   with at least one event of status `exception` / `attempt_failed` /
//!   `customs_hold` (any event of the parcel, not only the covered range), over
//!   parcels.
//! * **`segment_hours`**: for each segment (`first_mile`, `hub`, `line_haul`,
//!   `customs`, `last_mile`), the mean over the delivered parcels that have the
//!   segment. From the first scan to the deciding event (inclusive, in order),
//!   events form runs of equal segment; each run lasts from its first event
//!   until the next run's first event (the last run: until the deciding event).
//!   A parcel's time in a segment is the sum of its runs (a segment can recur),
//!   and a parcel "has" a segment when one of its runs in that range has it,
//!   even a zero-length one. Durations are summed in milliseconds, divided
//!   exactly and rendered as hours with 1 decimal. All five keys are always
//!   present, `null` when no delivered parcel has the segment.
//! * **Rates** have 4 decimals. All rounding is half away from zero on exact
//!   integer ratios, and a zero denominator gives `null`.
//! * **CSV**: the header is the group keys in group order followed by
//!   `parcels,delivered,transit_p50,transit_p90,on_time_rate,exception_rate,`
//!   `attempt_failed_rate,customs_hold_rate,hours_first_mile,hours_hub,`
//!   `hours_line_haul,hours_customs,hours_last_mile`. Nulls are empty cells.
//!   Cells that contain a comma, quote, CR or LF are quoted as in RFC 4180.
//!   Every line ends with `\n`.
//!
//! The report runs in one pass. [`Accumulator`] keeps one small [`GroupStats`]
//! per key tuple and keeps only the transit days of delivered parcels, which it
//! needs for the percentiles. So a caller can stream a million parcels out of a
//! database without holding them in memory.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

/// The five segments, in the order used by [`Row::segment_hours`] and by the
/// JSON and CSV output.
pub const SEGMENTS: [&str; 5] = ["first_mile", "hub", "line_haul", "customs", "last_mile"];

/// Milliseconds in one hour, the divisor that turns summed durations into hours.
const MS_PER_HOUR: u128 = 3_600_000;
/// Milliseconds in one day, used to turn instants into civil dates.
const MS_PER_DAY: i128 = 86_400_000;

// ---------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------

/// One event. Events are already in the contract's order within their parcel
/// (sorted by instant, then status rank, then sub_status), and each event's
/// segment is already resolved.
#[derive(Clone, Debug)]
pub struct ReportEvent {
    /// UTC, milliseconds since the Unix epoch.
    pub instant_ms: i64,
    /// The source's UTC offset in seconds.
    pub offset_s: i32,
    /// E.g. `"in_transit"` or `"delivered"`.
    pub status: String,
    /// One of [`SEGMENTS`].
    pub segment: String,
}

/// One parcel with the shipment fields the report groups and judges by.
#[derive(Clone, Debug)]
pub struct ReportParcel {
    pub carrier: String,
    pub service: String,
    pub lane: String,
    /// The promised maximum transit days. `None` means the parcel is never on time.
    pub transit_max: Option<u32>,
    pub events: Vec<ReportEvent>,
}

// ---------------------------------------------------------------------------
// Group keys
// ---------------------------------------------------------------------------

/// One grouping key of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Carrier,
    Service,
    Lane,
    Week,
}

impl Key {
    /// All keys, in the default grouping order.
    pub const ALL: [Key; 4] = [Key::Carrier, Key::Service, Key::Lane, Key::Week];

    /// Parses a key name as it appears in `group=` (exact, lower case).
    pub fn parse(text: &str) -> Option<Key> {
        match text {
            "carrier" => Some(Key::Carrier),
            "service" => Some(Key::Service),
            "lane" => Some(Key::Lane),
            "week" => Some(Key::Week),
            _ => None,
        }
    }

    /// The key's name: used in `group=`, as the JSON field and as the CSV header.
    pub fn as_str(self) -> &'static str {
        match self {
            Key::Carrier => "carrier",
            Key::Service => "service",
            Key::Lane => "lane",
            Key::Week => "week",
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Turns the `group=` text into keys. The text is comma-separated and must use
/// known names with no repeats. Spaces around a name are ignored. Empty or absent
/// text gives all four keys in the order carrier, service, lane, week. The error
/// message names the bad key.
pub fn parse_group(text: Option<&str>) -> Result<Vec<Key>, String> {
    let text = match text.map(str::trim) {
        None | Some("") => return Ok(Key::ALL.to_vec()),
        Some(text) => text,
    };
    let mut keys = Vec::new();
    for name in text.split(',').map(str::trim) {
        let key = Key::parse(name).ok_or_else(|| format!("unknown group key `{name}`"))?;
        if keys.contains(&key) {
            return Err(format!("group key `{name}` is repeated"));
        }
        keys.push(key);
    }
    Ok(keys)
}

// ---------------------------------------------------------------------------
// Civil dates
// ---------------------------------------------------------------------------

/// A civil date in the proleptic Gregorian calendar. Fields are compared in
/// declaration order, so the derived `Ord` is chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// Whether `year` is a Gregorian leap year.
fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1..=12) of `year`. Returns 0 for a month out of range.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Parses strict `YYYY-MM-DD`: a 4-digit year and 2-digit month and day,
    /// which must name a real date (leap years included).
    pub fn parse(text: &str) -> Result<Date, String> {
        let bad = || format!("`{text}` is not a valid date (expected YYYY-MM-DD)");
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        // Reads an all-digit field. With at most 4 digits it cannot overflow.
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            bytes[range].iter().try_fold(0u32, |acc, &b| {
                b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
            })
        };
        let (year, month, day) = match (number(0..4), number(5..7), number(8..10)) {
            (Some(y), Some(m), Some(d)) => (y as i32, m, d),
            _ => return Err(bad()),
        };
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(Date { year, month, day })
    }

    /// The date `days` days after 1970-01-01 (negative: before it).
    /// Uses Howard Hinnant's `civil_from_days` algorithm. It works in `i128`, so
    /// every `i64` input is accepted without overflow. The year saturates to
    /// the `i32` range, which only matters for inputs far beyond any real date.
    pub fn from_unix_days(days: i64) -> Date {
        let z = i128::from(days) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // day of era, [0, 146096]
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], March-based
        let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
        let year = yoe + era * 400 + i128::from(month <= 2);
        let year = year.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32;
        Date { year, month, day }
    }

    /// Days since 1970-01-01 (Hinnant's `days_from_civil`). This is the inverse
    /// of [`Date::from_unix_days`] for valid dates.
    pub fn to_unix_days(self) -> i64 {
        let month = i64::from(self.month);
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let yoe = year.rem_euclid(400); // [0, 399]
        let mp = (month + 9) % 12; // March = 0
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The ISO 8601 week: (ISO week-numbering year, week 1..=53). Week 1 is the
    /// week (Monday to Sunday) that contains the year's first Thursday, so the
    /// ISO year of a day is the calendar year of its week's Thursday.
    pub fn iso_week(self) -> (i32, u32) {
        let days = self.to_unix_days();
        // 1970-01-01 was a Thursday, so this gives Monday = 0 … Sunday = 6.
        let weekday = (days + 3).rem_euclid(7);
        let thursday = days - weekday + 3;
        let iso_year = Date::from_unix_days(thursday).year;
        let jan1 = Date {
            year: iso_year,
            month: 1,
            day: 1,
        }
        .to_unix_days();
        let week = (thursday - jan1) / 7 + 1;
        (iso_year, week as u32)
    }

    /// The week key text, e.g. `2026-W48`.
    fn week_key(self) -> String {
        let (year, week) = self.iso_week();
        format!("{year:04}-W{week:02}")
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for Date {
    type Err = String;
    fn from_str(text: &str) -> Result<Date, String> {
        Date::parse(text)
    }
}

/// The local date of an instant (UTC ms) shifted by an offset (seconds).
pub fn local_date(instant_ms: i64, offset_s: i32) -> Date {
    let local_ms = i128::from(instant_ms) + i128::from(offset_s) * 1000;
    // |local_ms| < 2^64, so the day count fits in an i64.
    Date::from_unix_days(local_ms.div_euclid(MS_PER_DAY) as i64)
}

/// The local date of an event, in the event's own offset.
fn event_date(event: &ReportEvent) -> Date {
    local_date(event.instant_ms, event.offset_s)
}

// ---------------------------------------------------------------------------
// Exact decimal rendering
// ---------------------------------------------------------------------------

/// The exact decimal text of `num / den`, rounded half away from zero to
/// `places` decimals. For example, (1, 3, 4) gives "0.3333", (2, 3, 4) gives
/// "0.6667" and (1, 8, 2) gives "0.13".
///
/// It uses plain long division, so nothing overflows for any `u128` input.
/// `den` must be positive. A zero `den` returns `"NaN"` instead of panicking,
/// but the report turns zero denominators into `null` before it gets here.
pub fn ratio_text(num: u128, den: u128, places: u32) -> String {
    if den == 0 {
        return "NaN".to_string();
    }
    let mut whole = num / den;
    let mut rem = num % den; // invariant: rem < den
    let mut digits: Vec<u8> = Vec::with_capacity(places as usize);
    for _ in 0..places {
        // Compute 10·rem = digit·den + rem' as ten modular additions of rem,
        // which stays overflow-free even when den is close to u128::MAX.
        let (mut digit, mut acc) = (0u8, 0u128);
        for _ in 0..10 {
            if acc >= den - rem {
                acc -= den - rem; // acc + rem wrapped past den
                digit += 1;
            } else {
                acc += rem;
            }
        }
        digits.push(digit);
        rem = acc;
    }
    // Round half away from zero: up when the rest is at least half of den,
    // i.e. rem ≥ den − rem (again avoiding 2·rem overflowing).
    if rem != 0 && rem >= den - rem {
        let mut carry = true;
        for digit in digits.iter_mut().rev() {
            if *digit == 9 {
                *digit = 0;
            } else {
                *digit += 1;
                carry = false;
                break;
            }
        }
        if carry {
            // Cannot overflow: whole == u128::MAX would need den == 1 and so rem == 0.
            whole = whole.saturating_add(1);
        }
    }
    let mut text = whole.to_string();
    if places > 0 {
        text.push('.');
        text.extend(digits.iter().map(|&d| char::from(b'0' + d)));
    }
    text
}

/// Like [`ratio_text`] for a signed numerator. It is symmetric, because
/// rounding half away from zero is, and it never renders a negative zero.
fn signed_ratio_text(num: i128, den: u128, places: u32) -> String {
    let text = ratio_text(num.unsigned_abs(), den, places);
    if num < 0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        format!("-{text}")
    } else {
        text
    }
}

/// A 4-decimal rate, or `None` for a zero denominator.
fn rate(num: u64, den: u64) -> Option<String> {
    (den != 0).then(|| ratio_text(u128::from(num), u128::from(den), 4))
}

/// The ⌈p/100 × n⌉-th smallest value of an ascending slice (nearest rank), or
/// `None` for an empty slice. `p` is a whole percentage, 1..=100.
fn nearest_rank(sorted: &[i64], p: u32) -> Option<i64> {
    let n = sorted.len() as u64;
    let rank = (u64::from(p) * n).div_ceil(100).max(1); // 1-based
    let index = usize::try_from(rank - 1).ok()?;
    sorted.get(index.min(sorted.len().checked_sub(1)?)).copied()
}

// ---------------------------------------------------------------------------
// Per-parcel facts
// ---------------------------------------------------------------------------

/// What one covered parcel contributes to its group.
struct ParcelFacts {
    /// Local date of the first scan (drives coverage and the week key).
    first_date: Date,
    /// Transit days to the deciding event. This is `Some` only for delivered parcels.
    delivered_transit: Option<i64>,
    on_time: bool,
    exception: bool,
    attempt_failed: bool,
    customs_hold: bool,
    /// Time per segment, in ms, for the segments the parcel has (delivered only).
    segments: [Option<i128>; 5],
}

impl ParcelFacts {
    /// The facts of a parcel, or `None` when it has no first scan.
    fn of(parcel: &ReportParcel) -> Option<ParcelFacts> {
        let events = &parcel.events;
        let first = events.iter().position(|e| e.status != "info_received")?;
        let last_with = |status: &str| events.iter().rposition(|e| e.status == status);
        // There is a first scan, so the list is not empty, and every candidate
        // is a non-`info_received` event or the last event. So deciding ≥ first.
        let deciding = last_with("delivered")
            .or_else(|| last_with("returned"))
            .unwrap_or(events.len() - 1);
        let first_date = event_date(&events[first]);
        let has_status = |status: &str| events.iter().any(|e| e.status == status);

        let mut facts = ParcelFacts {
            first_date,
            delivered_transit: None,
            on_time: false,
            exception: has_status("exception"),
            attempt_failed: has_status("attempt_failed"),
            customs_hold: has_status("customs_hold"),
            segments: [None; 5],
        };
        if events[deciding].status == "delivered" {
            let transit = event_date(&events[deciding]).to_unix_days() - first_date.to_unix_days();
            facts.delivered_transit = Some(transit);
            facts.on_time = parcel
                .transit_max
                .is_some_and(|max| transit <= i64::from(max));
            facts.segments = segment_times(&events[first..=deciding]);
        }
        Some(facts)
    }
}

/// Time per segment over `window` (first scan ..= deciding event). Consecutive
/// events with the same segment form a run. A run lasts from its first event to
/// the next run's first event, and the last run lasts to the window's last event.
/// A segment that no run has stays `None`. Segment names that are not one of
/// [`SEGMENTS`] still break runs, but they are not reported.
fn segment_times(window: &[ReportEvent]) -> [Option<i128>; 5] {
    let mut times = [None; 5];
    let Some(last) = window.last() else {
        return times;
    };
    let mut start = 0;
    while start < window.len() {
        let segment = &window[start].segment;
        let next = (start..window.len())
            .find(|&i| window[i].segment != *segment)
            .unwrap_or(window.len());
        let end_ms = window.get(next).unwrap_or(last).instant_ms;
        let duration = i128::from(end_ms) - i128::from(window[start].instant_ms);
        if let Some(slot) = SEGMENTS.iter().position(|s| s == segment) {
            times[slot] = Some(times[slot].unwrap_or(0) + duration);
        }
        start = next;
    }
    times
}

// ---------------------------------------------------------------------------
// Accumulation
// ---------------------------------------------------------------------------

/// Running totals of one group (one key tuple).
#[derive(Debug, Default)]
struct GroupStats {
    parcels: u64,
    delivered: u64,
    on_time: u64,
    exception: u64,
    attempt_failed: u64,
    customs_hold: u64,
    /// Transit days of the delivered parcels, kept for the percentiles.
    transit_days: Vec<i64>,
    /// Per segment: summed ms and the number of delivered parcels having it.
    segment_ms: [i128; 5],
    segment_parcels: [u64; 5],
}

impl GroupStats {
    fn add(&mut self, facts: &ParcelFacts) {
        self.parcels += 1;
        self.exception += u64::from(facts.exception);
        self.attempt_failed += u64::from(facts.attempt_failed);
        self.customs_hold += u64::from(facts.customs_hold);
        if let Some(transit) = facts.delivered_transit {
            self.delivered += 1;
            self.on_time += u64::from(facts.on_time);
            self.transit_days.push(transit);
        }
        for (slot, time) in facts.segments.iter().enumerate() {
            if let Some(ms) = time {
                self.segment_ms[slot] = self.segment_ms[slot].saturating_add(*ms);
                self.segment_parcels[slot] += 1;
            }
        }
    }

    /// Turns the totals into a row with the given keys.
    fn into_row(mut self, keys: Vec<(Key, String)>) -> Row {
        self.transit_days.sort_unstable();
        let segment_hours = std::array::from_fn(|slot| {
            let count = u128::from(self.segment_parcels[slot]);
            (count != 0).then(|| signed_ratio_text(self.segment_ms[slot], count * MS_PER_HOUR, 1))
        });
        Row {
            keys,
            parcels: self.parcels,
            delivered: self.delivered,
            transit_p50: nearest_rank(&self.transit_days, 50),
            transit_p90: nearest_rank(&self.transit_days, 90),
            on_time_rate: rate(self.on_time, self.delivered),
            exception_rate: rate(self.exception, self.parcels),
            attempt_failed_rate: rate(self.attempt_failed, self.parcels),
            customs_hold_rate: rate(self.customs_hold, self.parcels),
            segment_hours,
        }
    }
}

/// The report built one parcel at a time, for callers that stream parcels
/// (e.g. out of a database). Memory grows with the number of groups and the
/// number of delivered parcels (one `i64` each), not with the parcels' events.
#[derive(Debug)]
pub struct Accumulator {
    from: Date,
    to: Date,
    group: Vec<Key>,
    groups: BTreeMap<Vec<String>, GroupStats>,
}

impl Accumulator {
    /// An empty report covering first scans dated `from..=to`, grouped by `group`.
    pub fn new(from: Date, to: Date, group: Vec<Key>) -> Accumulator {
        Accumulator {
            from,
            to,
            group,
            groups: BTreeMap::new(),
        }
    }

    /// Adds one parcel. Parcels that are not covered are ignored.
    pub fn add(&mut self, parcel: &ReportParcel) {
        let Some(facts) = ParcelFacts::of(parcel) else {
            return;
        };
        if facts.first_date < self.from || facts.first_date > self.to {
            return;
        }
        let key: Vec<String> = self
            .group
            .iter()
            .map(|key| match key {
                Key::Carrier => parcel.carrier.clone(),
                Key::Service => parcel.service.clone(),
                Key::Lane => parcel.lane.clone(),
                Key::Week => facts.first_date.week_key(),
            })
            .collect();
        self.groups.entry(key).or_default().add(&facts);
    }

    /// The rows, sorted by key tuple (in group order, string byte order).
    pub fn finish(self) -> Vec<Row> {
        let group = self.group;
        self.groups
            .into_iter()
            .map(|(values, stats)| stats.into_row(group.iter().copied().zip(values).collect()))
            .collect()
    }
}

/// One report row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The group keys and their values, in group order.
    pub keys: Vec<(Key, String)>,
    pub parcels: u64,
    pub delivered: u64,
    pub transit_p50: Option<i64>,
    pub transit_p90: Option<i64>,
    pub on_time_rate: Option<String>,
    pub exception_rate: Option<String>,
    pub attempt_failed_rate: Option<String>,
    pub customs_hold_rate: Option<String>,
    /// In the order of [`SEGMENTS`]: first_mile, hub, line_haul, customs, last_mile.
    pub segment_hours: [Option<String>; 5],
}

/// The report in one pass over `parcels`, which may be a large iterator.
pub fn compute<'a>(
    parcels: impl IntoIterator<Item = &'a ReportParcel>,
    from: Date,
    to: Date,
    group: &[Key],
) -> Vec<Row> {
    let mut accumulator = Accumulator::new(from, to, group.to_vec());
    for parcel in parcels {
        accumulator.add(parcel);
    }
    accumulator.finish()
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

/// The CSV cell of one value: quoted (RFC 4180) when it contains a comma,
/// quote, CR or LF.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The report as CSV: a header, then one line per row, each ending in `\n`.
/// Nulls are empty cells.
pub fn to_csv(group: &[Key], rows: &[Row]) -> String {
    const COLUMNS: &str = "parcels,delivered,transit_p50,transit_p90,on_time_rate,exception_rate,\
        attempt_failed_rate,customs_hold_rate,hours_first_mile,hours_hub,hours_line_haul,\
        hours_customs,hours_last_mile";
    let mut out = String::new();
    let header: Vec<&str> = group.iter().map(|k| k.as_str()).chain([COLUMNS]).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in rows {
        let opt = |value: &Option<String>| value.as_deref().map(csv_cell).unwrap_or_default();
        let num = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
        let mut cells: Vec<String> = row.keys.iter().map(|(_, value)| csv_cell(value)).collect();
        cells.push(row.parcels.to_string());
        cells.push(row.delivered.to_string());
        cells.push(num(row.transit_p50));
        cells.push(num(row.transit_p90));
        for rate in [
            &row.on_time_rate,
            &row.exception_rate,
            &row.attempt_failed_rate,
            &row.customs_hold_rate,
        ] {
            cells.push(opt(rate));
        }
        cells.extend(row.segment_hours.iter().map(opt));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                // Writing into a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON string or `null`.
fn json_opt_string(value: &Option<String>) -> String {
    value
        .as_deref()
        .map_or_else(|| "null".to_string(), json_string)
}

/// A JSON number or `null`.
fn json_opt_number(value: Option<i64>) -> String {
    value.map_or_else(|| "null".to_string(), |v| v.to_string())
}

/// The compact JSON object of one row, in the contract's field order: the group
/// keys (in group order), `parcels`, `delivered`, `transit_days` `{p50, p90}`,
/// the four rates, then `segment_hours` with all five segments.
pub fn row_json(row: &Row) -> String {
    let mut fields: Vec<String> = row
        .keys
        .iter()
        .map(|(key, value)| format!("{}:{}", json_string(key.as_str()), json_string(value)))
        .collect();
    fields.push(format!("\"parcels\":{}", row.parcels));
    fields.push(format!("\"delivered\":{}", row.delivered));
    fields.push(format!(
        "\"transit_days\":{{\"p50\":{},\"p90\":{}}}",
        json_opt_number(row.transit_p50),
        json_opt_number(row.transit_p90)
    ));
    for (name, value) in [
        ("on_time_rate", &row.on_time_rate),
        ("exception_rate", &row.exception_rate),
        ("attempt_failed_rate", &row.attempt_failed_rate),
        ("customs_hold_rate", &row.customs_hold_rate),
    ] {
        fields.push(format!("\"{name}\":{}", json_opt_string(value)));
    }
    let hours: Vec<String> = SEGMENTS
        .iter()
        .zip(&row.segment_hours)
        .map(|(name, value)| format!("\"{name}\":{}", json_opt_string(value)))
        .collect();
    fields.push(format!("\"segment_hours\":{{{}}}", hours.join(",")));
    format!("{{{}}}", fields.join(","))
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).expect("valid test date")
    }

    /// An event at local wall time `hh:mm` on `day` in a whole-hour offset.
    fn ev(
        day: &str,
        (h, m): (i64, i64),
        offset_h: i32,
        status: &str,
        segment: &str,
    ) -> ReportEvent {
        let local_s = date(day).to_unix_days() * 86_400 + h * 3_600 + m * 60;
        ReportEvent {
            instant_ms: (local_s - i64::from(offset_h) * 3_600) * 1_000,
            offset_s: offset_h * 3_600,
            status: status.to_string(),
            segment: segment.to_string(),
        }
    }

    fn parcel(
        carrier: &str,
        service: &str,
        lane: &str,
        max: Option<u32>,
        events: Vec<ReportEvent>,
    ) -> ReportParcel {
        ReportParcel {
            carrier: carrier.to_string(),
            service: service.to_string(),
            lane: lane.to_string(),
            transit_max: max,
            events,
        }
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    // ---- ratio_text -------------------------------------------------------

    #[test]
    fn ratio_text_rounds_half_away_from_zero() {
        assert_eq!(ratio_text(1, 3, 4), "0.3333");
        assert_eq!(ratio_text(2, 3, 4), "0.6667");
        assert_eq!(ratio_text(1, 8, 2), "0.13"); // 0.125, exact half
        assert_eq!(ratio_text(1, 8, 1), "0.1"); // 0.125 → below half at 1 place
        assert_eq!(ratio_text(5, 1000, 2), "0.01"); // 0.005, exact half
        assert_eq!(ratio_text(4, 1000, 2), "0.00");
        assert_eq!(ratio_text(1, 2, 0), "1");
        assert_eq!(ratio_text(3, 2, 0), "2");
        assert_eq!(ratio_text(1, 3, 0), "0");
        assert_eq!(ratio_text(0, 5, 4), "0.0000");
        assert_eq!(ratio_text(5, 5, 4), "1.0000");
        assert_eq!(ratio_text(9_995, 10_000, 2), "1.00"); // carry into the integer part
        assert_eq!(ratio_text(19_995, 10_000, 3), "2.000"); // 1.9995 → 2.000
        assert_eq!(ratio_text(7, 1, 3), "7.000");
        assert_eq!(ratio_text(0, 1, 0), "0");
    }

    #[test]
    fn ratio_text_big_values_do_not_overflow() {
        assert_eq!(ratio_text(u128::MAX, 1, 0), u128::MAX.to_string());
        assert_eq!(ratio_text(u128::MAX, 1, 2), format!("{}.00", u128::MAX));
        assert_eq!(ratio_text(u128::MAX, u128::MAX, 4), "1.0000");
        assert_eq!(ratio_text(u128::MAX - 1, u128::MAX, 4), "1.0000");
        assert_eq!(ratio_text(1, u128::MAX, 4), "0.0000");
        // u128::MAX is odd, so MAX/2 over MAX is just under one half.
        assert_eq!(ratio_text(u128::MAX / 2, u128::MAX, 1), "0.5");
        assert_eq!(ratio_text(u128::MAX / 2, u128::MAX, 0), "0");
        assert_eq!(ratio_text(u128::MAX / 2 + 1, u128::MAX, 0), "1");
        // 10^30 / 3 = 333…333.333…
        let big = 10u128.pow(30);
        assert_eq!(ratio_text(big, 3, 2), format!("{}.33", big / 3));
        // Hours: 25 h summed over 3 parcels = 8.333… h.
        assert_eq!(ratio_text(25 * 3_600_000, 3 * 3_600_000, 1), "8.3");
        assert_eq!(ratio_text(0, 0, 2), "NaN");
    }

    #[test]
    fn signed_ratio_text_is_symmetric() {
        assert_eq!(signed_ratio_text(-1, 8, 2), "-0.13");
        assert_eq!(signed_ratio_text(-1, 100, 1), "0.0");
        assert_eq!(signed_ratio_text(7, 2, 1), "3.5");
    }

    // ---- dates ------------------------------------------------------------

    #[test]
    fn iso_weeks() {
        assert_eq!(date("2026-11-24").iso_week(), (2026, 48));
        assert_eq!(date("2026-11-23").iso_week(), (2026, 48)); // Monday
        assert_eq!(date("2026-11-29").iso_week(), (2026, 48)); // Sunday
        assert_eq!(date("2026-11-30").iso_week(), (2026, 49));
        assert_eq!(date("2027-01-01").iso_week(), (2026, 53));
        assert_eq!(date("2027-01-04").iso_week(), (2027, 1));
        assert_eq!(date("2024-12-30").iso_week(), (2025, 1));
        assert_eq!(date("2021-01-03").iso_week(), (2020, 53));
        assert_eq!(date("2021-01-04").iso_week(), (2021, 1));
        assert_eq!(date("2026-01-01").iso_week(), (2026, 1)); // a Thursday
        assert_eq!(date("2027-01-01").week_key(), "2026-W53");
        assert_eq!(date("2026-11-03").week_key(), "2026-W45");
    }

    #[test]
    fn date_parsing_is_strict() {
        assert_eq!(
            date("2024-02-29"),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        assert_eq!(date("2000-02-29").day, 29); // divisible by 400: leap
        for bad in [
            "2026-02-29", // not a leap year
            "1900-02-29", // divisible by 100: not leap
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-01-00",
            "2026-1-01",
            "26-01-01",
            "2026-01-1",
            "2026/01/01",
            "2026-01-01T",
            "+026-01-01",
            "2026-0a-01",
            "",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(
            Date::parse("2026-13-01")
                .unwrap_err()
                .contains("2026-13-01")
        );
        assert_eq!(date("2026-11-05").to_string(), "2026-11-05");
        assert_eq!(
            "0042-01-09".parse::<Date>().map(|d| d.to_string()),
            Ok("0042-01-09".to_string())
        );
        assert!(date("2026-11-30") < date("2026-12-01"));
        assert!(date("2025-12-31") < date("2026-01-01"));
    }

    #[test]
    fn unix_days_round_trip() {
        assert_eq!(Date::from_unix_days(0), date("1970-01-01"));
        assert_eq!(Date::from_unix_days(-1), date("1969-12-31"));
        assert_eq!(date("2000-03-01").to_unix_days(), 11_017);
        assert_eq!(date("2026-11-24").to_unix_days(), 20_781);
        for days in (-800_000..800_000).step_by(997) {
            assert_eq!(Date::from_unix_days(days).to_unix_days(), days);
        }
        // Extreme inputs do not panic.
        let _ = Date::from_unix_days(i64::MAX);
        let _ = Date::from_unix_days(i64::MIN);
        let _ = local_date(i64::MAX, i32::MAX);
        let _ = local_date(i64::MIN, i32::MIN);
    }

    #[test]
    fn local_dates_across_offsets() {
        // 2026-11-24T23:30Z
        let instant = (date("2026-11-24").to_unix_days() * 86_400 + 23 * 3_600 + 30 * 60) * 1_000;
        assert_eq!(local_date(instant, 0), date("2026-11-24"));
        assert_eq!(local_date(instant, 8 * 3_600), date("2026-11-25"));
        assert_eq!(local_date(instant, 30 * 60), date("2026-11-25")); // exactly midnight
        assert_eq!(local_date(instant, 29 * 60), date("2026-11-24"));
        assert_eq!(local_date(instant, -5 * 3_600), date("2026-11-24"));
        // 2026-11-25T02:00Z in -05:00 is still the 24th, in -02:00 the 25th.
        let early = instant + 150 * 60 * 1_000;
        assert_eq!(local_date(early, -5 * 3_600), date("2026-11-24"));
        assert_eq!(local_date(early, -2 * 3_600), date("2026-11-25"));
        assert_eq!(local_date(early, -2 * 3_600 - 1), date("2026-11-24"));
        // Before the epoch.
        assert_eq!(local_date(-1, 0), date("1969-12-31"));
        assert_eq!(local_date(0, -1), date("1969-12-31"));
    }

    // ---- keys -------------------------------------------------------------

    #[test]
    fn group_parsing() {
        let all = vec![Key::Carrier, Key::Service, Key::Lane, Key::Week];
        assert_eq!(parse_group(None), Ok(all.clone()));
        assert_eq!(parse_group(Some("")), Ok(all));
        assert_eq!(
            parse_group(Some("carrier,lane")),
            Ok(vec![Key::Carrier, Key::Lane])
        );
        assert_eq!(
            parse_group(Some("week, service")),
            Ok(vec![Key::Week, Key::Service])
        );
        let err = parse_group(Some("carrier,route")).unwrap_err();
        assert!(err.contains("route"), "{err}");
        let err = parse_group(Some("lane,lane")).unwrap_err();
        assert!(err.contains("lane"), "{err}");
        assert!(parse_group(Some("carrier,,lane")).is_err());
        assert!(parse_group(Some("Carrier")).is_err());
        for key in Key::ALL {
            assert_eq!(Key::parse(key.as_str()), Some(key));
        }
    }

    // ---- nearest rank -----------------------------------------------------

    #[test]
    fn nearest_rank_percentiles() {
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&ten, 50), Some(5));
        assert_eq!(nearest_rank(&ten, 90), Some(9));
        assert_eq!(nearest_rank(&ten, 100), Some(10));
        assert_eq!(nearest_rank(&[4], 50), Some(4));
        assert_eq!(nearest_rank(&[4], 90), Some(4));
        assert_eq!(nearest_rank(&[1, 2, 3], 50), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3], 90), Some(3));
        assert_eq!(nearest_rank(&[1, 2], 50), Some(1));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    // ---- the hand-worked report --------------------------------------------
    //
    // Range 2026-11-01 ..= 2026-11-30. Durations below are in UTC.
    //
    // P1 XB Line/std/CN-DE, max 8: delivered on time, with a recurring hub and a
    //    late event after delivery. First scan 11-03 10:00+08 (W45), delivered
    //    11-06 14:00+01: 3 days. first_mile 02:00Z→12:00Z = 10 h; hub
    //    12 h (11-03 12:00Z→11-04 00:00Z) + 24 h (11-05 07:00Z→11-06 07:00Z) =
    //    36 h; line_haul 11-04 00:00Z→11-05 07:00Z = 31 h; last_mile 6 h.
    // P2 XB Line/std/CN-DE, max 5: late with a customs hold. First scan 11-10
    //    23:30+08 (W46), delivered 11-17: 7 days. first_mile 10.5 h, line_haul
    //    54 h, customs 94 h (two events, one run), last_mile 9 h.
    // P3 XB Line/std/CN-DE, max 8: returned after a failed attempt (W48).
    // P4 XB Line/std/CN-DE, max 8: exception, then delivered. First scan
    //    11-25 07:30+08 (11-24 23:30Z; W48), delivered 12-01: 6 days. first_mile
    //    4.5 h, hub 24.5 h, line_haul 126.5 h, last_mile 0 h (zero-length run).
    // P5 XB Line: only info_received, so it is not covered.
    // P6 XB Line: first scan 12-01 01:00+08 (11-30 17:00Z), local date out of range.
    // P7 "Post, Inc."/express/US-FR, no transit_max: first scan 11-30 22:00-05
    //    (12-01 03:00Z; W49), delivered 12-03 09:00+01: 3 days, not on time.
    //    first_mile 12 h, line_haul 41 h, last_mile 0 h.
    fn sample() -> Vec<ReportParcel> {
        vec![
            parcel(
                "XB Line",
                "std",
                "CN-DE",
                Some(8),
                vec![
                    ev("2026-11-02", (9, 0), 8, "info_received", "first_mile"),
                    ev("2026-11-03", (10, 0), 8, "picked_up", "first_mile"),
                    ev("2026-11-03", (20, 0), 8, "in_transit", "hub"),
                    ev("2026-11-04", (8, 0), 8, "in_transit", "line_haul"),
                    ev("2026-11-05", (8, 0), 1, "in_transit", "hub"),
                    ev("2026-11-06", (8, 0), 1, "out_for_delivery", "last_mile"),
                    ev("2026-11-06", (14, 0), 1, "delivered", "last_mile"),
                    ev("2026-11-07", (9, 0), 1, "in_transit", "hub"),
                ],
            ),
            parcel(
                "XB Line",
                "std",
                "CN-DE",
                Some(5),
                vec![
                    ev("2026-11-10", (23, 30), 8, "picked_up", "first_mile"),
                    ev("2026-11-11", (10, 0), 8, "in_transit", "line_haul"),
                    ev("2026-11-13", (9, 0), 1, "customs_hold", "customs"),
                    ev("2026-11-14", (9, 0), 1, "in_transit", "customs"),
                    ev("2026-11-17", (7, 0), 1, "out_for_delivery", "last_mile"),
                    ev("2026-11-17", (16, 0), 1, "delivered", "last_mile"),
                ],
            ),
            parcel(
                "XB Line",
                "std",
                "CN-DE",
                Some(8),
                vec![
                    ev("2026-11-24", (10, 0), 8, "picked_up", "first_mile"),
                    ev("2026-11-25", (10, 0), 8, "in_transit", "line_haul"),
                    ev("2026-11-28", (10, 0), 1, "attempt_failed", "last_mile"),
                    ev("2026-11-29", (10, 0), 1, "returned", "last_mile"),
                    ev("2026-11-30", (10, 0), 1, "in_transit", "hub"),
                ],
            ),
            parcel(
                "XB Line",
                "std",
                "CN-DE",
                Some(8),
                vec![
                    ev("2026-11-25", (7, 30), 8, "picked_up", "first_mile"),
                    ev("2026-11-25", (12, 0), 8, "exception", "hub"),
                    ev("2026-11-26", (12, 30), 8, "in_transit", "line_haul"),
                    ev("2026-12-01", (12, 0), 1, "delivered", "last_mile"),
                ],
            ),
            parcel(
                "XB Line",
                "std",
                "CN-DE",
                Some(8),
                vec![ev("2026-11-05", (9, 0), 8, "info_received", "first_mile")],
            ),
            parcel(
                "XB Line",
                "std",
                "CN-DE",
                Some(8),
                vec![
                    ev("2026-12-01", (1, 0), 8, "picked_up", "first_mile"),
                    ev("2026-12-05", (9, 0), 1, "delivered", "last_mile"),
                ],
            ),
            parcel(
                "Post, Inc.",
                "express",
                "US-FR",
                None,
                vec![
                    ev("2026-11-01", (8, 0), -5, "info_received", "first_mile"),
                    ev("2026-11-30", (22, 0), -5, "accepted", "first_mile"),
                    ev("2026-12-01", (10, 0), -5, "in_transit", "line_haul"),
                    ev("2026-12-03", (9, 0), 1, "delivered", "last_mile"),
                ],
            ),
        ]
    }

    fn november(parcels: &[ReportParcel], group: &[Key]) -> Vec<Row> {
        compute(parcels, date("2026-11-01"), date("2026-11-30"), group)
    }

    fn keys(pairs: &[(Key, &str)]) -> Vec<(Key, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn report_by_carrier_and_lane() {
        let rows = november(&sample(), &[Key::Carrier, Key::Lane]);
        assert_eq!(
            rows,
            vec![
                Row {
                    keys: keys(&[(Key::Carrier, "Post, Inc."), (Key::Lane, "US-FR")]),
                    parcels: 1,
                    delivered: 1,
                    transit_p50: Some(3),
                    transit_p90: Some(3),
                    on_time_rate: s("0.0000"), // no transit_max
                    exception_rate: s("0.0000"),
                    attempt_failed_rate: s("0.0000"),
                    customs_hold_rate: s("0.0000"),
                    segment_hours: [s("12.0"), None, s("41.0"), None, s("0.0")],
                },
                Row {
                    keys: keys(&[(Key::Carrier, "XB Line"), (Key::Lane, "CN-DE")]),
                    parcels: 4,           // P1..P4 (P5 never scanned, P6 out of range)
                    delivered: 3,         // P1, P2, P4
                    transit_p50: Some(6), // of [3, 6, 7]: 2nd
                    transit_p90: Some(7), // 3rd
                    on_time_rate: s("0.6667"), // P1, P4 of 3
                    exception_rate: s("0.2500"), // P4
                    attempt_failed_rate: s("0.2500"), // P3
                    customs_hold_rate: s("0.2500"), // P2
                    segment_hours: [
                        s("8.3"),  // (10 + 10.5 + 4.5) / 3
                        s("30.3"), // (36 + 24.5) / 2 = 30.25, half away from zero
                        s("70.5"), // (31 + 54 + 126.5) / 3
                        s("94.0"), // P2 only
                        s("5.0"),  // (6 + 9 + 0) / 3
                    ],
                },
            ]
        );
    }

    #[test]
    fn report_csv_by_carrier_and_lane() {
        let group = [Key::Carrier, Key::Lane];
        let rows = november(&sample(), &group);
        assert_eq!(
            to_csv(&group, &rows),
            "carrier,lane,parcels,delivered,transit_p50,transit_p90,on_time_rate,exception_rate,\
             attempt_failed_rate,customs_hold_rate,hours_first_mile,hours_hub,hours_line_haul,\
             hours_customs,hours_last_mile\n\
             \"Post, Inc.\",US-FR,1,1,3,3,0.0000,0.0000,0.0000,0.0000,12.0,,41.0,,0.0\n\
             XB Line,CN-DE,4,3,6,7,0.6667,0.2500,0.2500,0.2500,8.3,30.3,70.5,94.0,5.0\n"
        );
    }

    #[test]
    fn report_json_by_carrier_and_lane() {
        let rows = november(&sample(), &[Key::Carrier, Key::Lane]);
        assert_eq!(
            row_json(&rows[1]),
            "{\"carrier\":\"XB Line\",\"lane\":\"CN-DE\",\"parcels\":4,\"delivered\":3,\
             \"transit_days\":{\"p50\":6,\"p90\":7},\"on_time_rate\":\"0.6667\",\
             \"exception_rate\":\"0.2500\",\"attempt_failed_rate\":\"0.2500\",\
             \"customs_hold_rate\":\"0.2500\",\"segment_hours\":{\"first_mile\":\"8.3\",\
             \"hub\":\"30.3\",\"line_haul\":\"70.5\",\"customs\":\"94.0\",\"last_mile\":\"5.0\"}}"
        );
    }

    #[test]
    fn report_by_week() {
        let rows = november(&sample(), &[Key::Week]);
        let weeks: Vec<&str> = rows.iter().map(|r| r.keys[0].1.as_str()).collect();
        assert_eq!(weeks, ["2026-W45", "2026-W46", "2026-W48", "2026-W49"]);
        assert!(
            rows.iter()
                .all(|r| r.keys.len() == 1 && r.keys[0].0 == Key::Week)
        );
        // W48 holds P3 (returned) and P4 (exception, delivered in 6 days).
        assert_eq!(
            rows[2],
            Row {
                keys: keys(&[(Key::Week, "2026-W48")]),
                parcels: 2,
                delivered: 1,
                transit_p50: Some(6),
                transit_p90: Some(6),
                on_time_rate: s("1.0000"),
                exception_rate: s("0.5000"),
                attempt_failed_rate: s("0.5000"),
                customs_hold_rate: s("0.0000"),
                segment_hours: [s("4.5"), s("24.5"), s("126.5"), None, s("0.0")],
            }
        );
        // W45 is P1 alone: the recurring hub sums both runs, not the late event.
        assert_eq!(
            rows[0].segment_hours,
            [s("10.0"), s("36.0"), s("31.0"), None, s("6.0")]
        );
        assert_eq!(rows[0].on_time_rate, s("1.0000"));
        // W46 is P2 alone: late, customs hold, customs run spans two events.
        assert_eq!(rows[1].on_time_rate, s("0.0000"));
        assert_eq!(rows[1].customs_hold_rate, s("1.0000"));
        assert_eq!(
            rows[1].segment_hours,
            [s("10.5"), None, s("54.0"), s("94.0"), s("9.0")]
        );
        assert_eq!(
            (rows[1].transit_p50, rows[1].transit_p90),
            (Some(7), Some(7))
        );
        assert_eq!(rows[3].parcels, 1); // P7, whose UTC date would be 12-01

        let csv = to_csv(&[Key::Week], &rows);
        assert!(csv.starts_with("week,parcels,delivered,"));
        assert!(
            csv.contains("\n2026-W48,2,1,6,6,1.0000,0.5000,0.5000,0.0000,4.5,24.5,126.5,,0.0\n")
        );
        assert_eq!(csv.lines().count(), 5);
    }

    #[test]
    fn report_default_group_sorts_by_all_keys() {
        let group = parse_group(None).unwrap();
        let rows = november(&sample(), &group);
        let tuples: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.keys.iter().map(|(_, v)| v.as_str()).collect())
            .collect();
        assert_eq!(
            tuples,
            vec![
                vec!["Post, Inc.", "express", "US-FR", "2026-W49"],
                vec!["XB Line", "std", "CN-DE", "2026-W45"],
                vec!["XB Line", "std", "CN-DE", "2026-W46"],
                vec!["XB Line", "std", "CN-DE", "2026-W48"],
            ]
        );
        let order: Vec<Key> = rows[0].keys.iter().map(|(k, _)| *k).collect();
        assert_eq!(order, Key::ALL);
    }

    #[test]
    fn sort_follows_group_order() {
        // Lane first: CN-DE sorts before US-FR, the reverse of the carrier order.
        let rows = november(&sample(), &[Key::Lane, Key::Carrier]);
        assert_eq!(
            rows[0].keys,
            keys(&[(Key::Lane, "CN-DE"), (Key::Carrier, "XB Line")])
        );
        assert_eq!(
            rows[1].keys,
            keys(&[(Key::Lane, "US-FR"), (Key::Carrier, "Post, Inc.")])
        );
    }

    #[test]
    fn range_is_inclusive_and_uses_local_dates() {
        let parcels = sample();
        // P6's first scan is 12-01 locally (11-30 in UTC).
        let december = compute(
            &parcels,
            date("2026-12-01"),
            date("2026-12-31"),
            &[Key::Lane],
        );
        assert_eq!(december.len(), 1);
        assert_eq!((december[0].parcels, december[0].delivered), (1, 1));
        assert_eq!(december[0].transit_p50, Some(4));
        assert_eq!(december[0].on_time_rate, s("1.0000"));
        // A one-day range on each bound: P1 on 11-03, P7 on 11-30.
        let one = compute(
            &parcels,
            date("2026-11-03"),
            date("2026-11-03"),
            &[Key::Carrier],
        );
        assert_eq!(one.len(), 1);
        assert_eq!((one[0].keys[0].1.as_str(), one[0].parcels), ("XB Line", 1));
        let last = compute(
            &parcels,
            date("2026-11-30"),
            date("2026-11-30"),
            &[Key::Carrier],
        );
        assert_eq!(
            (last[0].keys[0].1.as_str(), last[0].parcels),
            ("Post, Inc.", 1)
        );
        // from > to covers nothing.
        assert!(
            compute(
                &parcels,
                date("2026-11-30"),
                date("2026-11-01"),
                &[Key::Lane]
            )
            .is_empty()
        );
    }

    #[test]
    fn no_delivered_parcel_gives_nulls() {
        let parcels = sample();
        let rows = november(&parcels[2..3], &[Key::Carrier, Key::Lane]); // P3 only
        assert_eq!(rows.len(), 1);
        assert_eq!(
            row_json(&rows[0]),
            "{\"carrier\":\"XB Line\",\"lane\":\"CN-DE\",\"parcels\":1,\"delivered\":0,\
             \"transit_days\":{\"p50\":null,\"p90\":null},\"on_time_rate\":null,\
             \"exception_rate\":\"0.0000\",\"attempt_failed_rate\":\"1.0000\",\
             \"customs_hold_rate\":\"0.0000\",\"segment_hours\":{\"first_mile\":null,\
             \"hub\":null,\"line_haul\":null,\"customs\":null,\"last_mile\":null}}"
        );
        assert_eq!(
            to_csv(&[Key::Carrier, Key::Lane], &rows).lines().nth(1),
            Some("XB Line,CN-DE,1,0,,,,0.0000,1.0000,0.0000,,,,,")
        );
        // Only uncovered parcels: no rows at all, and the CSV is just the header.
        let none = november(&parcels[4..6], &[Key::Lane]);
        assert!(none.is_empty());
        assert_eq!(to_csv(&[Key::Lane], &none).lines().count(), 1);
    }

    #[test]
    fn deciding_event_rules() {
        // Returned, then delivered: the last delivered wins, so the parcel is delivered.
        let redelivered = parcel(
            "A",
            "s",
            "L",
            Some(10),
            vec![
                ev("2026-11-02", (8, 0), 0, "picked_up", "first_mile"),
                ev("2026-11-03", (8, 0), 0, "returned", "last_mile"),
                ev("2026-11-05", (8, 0), 0, "delivered", "last_mile"),
            ],
        );
        // Neither delivered nor returned: the last event decides, not delivered.
        let stuck = parcel(
            "A",
            "s",
            "L",
            Some(10),
            vec![
                ev("2026-11-02", (8, 0), 0, "picked_up", "first_mile"),
                ev("2026-11-04", (8, 0), 0, "in_transit", "hub"),
            ],
        );
        // Two deliveries: the last one decides (5 days, over max 4).
        let twice = parcel(
            "A",
            "s",
            "L",
            Some(4),
            vec![
                ev("2026-11-02", (8, 0), 0, "picked_up", "first_mile"),
                ev("2026-11-03", (8, 0), 0, "delivered", "last_mile"),
                ev("2026-11-07", (8, 0), 0, "delivered", "last_mile"),
            ],
        );
        let rows = november(&[redelivered, stuck, twice], &[Key::Carrier]);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!((row.parcels, row.delivered), (3, 2));
        assert_eq!((row.transit_p50, row.transit_p90), (Some(3), Some(5)));
        assert_eq!(row.on_time_rate, s("0.5000"));
        // first_mile: 24 h and 24 h; last_mile: 48 h and 96 h.
        assert_eq!(row.segment_hours, [s("24.0"), None, None, None, s("72.0")]);
    }

    #[test]
    fn segment_runs() {
        let window = vec![
            ev("2026-11-02", (0, 0), 0, "picked_up", "first_mile"),
            ev("2026-11-02", (1, 0), 0, "in_transit", "hub"),
            ev("2026-11-02", (2, 0), 0, "in_transit", "hub"),
            ev("2026-11-02", (4, 0), 0, "in_transit", "line_haul"),
            ev("2026-11-02", (8, 0), 0, "in_transit", "hub"),
            ev("2026-11-02", (9, 30), 0, "in_transit", "mystery"),
            ev("2026-11-02", (10, 0), 0, "delivered", "last_mile"),
        ];
        let hour = 3_600_000i128;
        assert_eq!(
            segment_times(&window),
            [
                Some(hour),
                Some(3 * hour + 3 * hour / 2), // 3 h + 1.5 h
                Some(4 * hour),
                None,
                Some(0), // zero-length, but present
            ]
        );
        assert_eq!(segment_times(&[]), [None; 5]);
    }

    #[test]
    fn accumulator_matches_compute() {
        let parcels = sample();
        let group = vec![Key::Carrier, Key::Lane];
        let mut acc = Accumulator::new(date("2026-11-01"), date("2026-11-30"), group.clone());
        for p in parcels.iter().rev() {
            acc.add(p);
        }
        assert_eq!(acc.finish(), november(&parcels, &group));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            json_string("a\"b\\c\n\u{1}é"),
            "\"a\\\"b\\\\c\\u000a\\u0001é\""
        );
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("cr\r"), "\"cr\r\"");
        let row = Row {
            keys: keys(&[(Key::Carrier, "Q \"Ship\"\tCo")]),
            parcels: 0,
            delivered: 0,
            transit_p50: None,
            transit_p90: None,
            on_time_rate: None,
            exception_rate: None,
            attempt_failed_rate: None,
            customs_hold_rate: None,
            segment_hours: [None, None, None, None, None],
        };
        assert!(
            row_json(&row).starts_with("{\"carrier\":\"Q \\\"Ship\\\"\\u0009Co\",\"parcels\":0,")
        );
        assert_eq!(
            to_csv(&[Key::Carrier], &[row]).lines().nth(1),
            Some("\"Q \"\"Ship\"\"\tCo\",0,0,,,,,,,,,,,")
        );
    }
}
