//! The tracking sources' wire formats (tracking.md, "Sources"): each ingest body parsed
//! into one [`Parsed`] entry per event, in input order, and each carrier's signature
//! verified. Pure: no I/O, clock or storage; the routes check the replay window, match
//! numbers to parcels, store and answer.
//!
//! Per event a format gives either an [`Incoming`] (normalised, not yet matched to a parcel)
//! or [`Parsed::Invalid`] with every problem of that event, each naming its field as a path
//! into the body: `scans[2].weight_g`,
//! `data.track_info.tracking.providers[0].events[3].time_iso`, or for CSV `rows[3].event_time`
//! (data rows counted from 0, blank lines skipped). A body that is not the format at all or
//! misses its structure is a [`BodyError`]: the route answers 400, or 413 for
//! [`BodyError::TooMany`].
//!
//! Checks common to all formats: a tracking number is 1 to 64 printable ASCII characters
//! without spaces; a time is RFC 3339 with its offset ([`model::parse_time`]; the event
//! keeps the text as given); a description is at most 1,000 characters, a city or facility
//! at most 200, codes and bag ids at most 64, event ids at most 128; a country is ISO
//! 3166-1 alpha-2 in capitals or absent (lower case is refused, not guessed). Empty
//! optional strings read as absent. No text may hold U+001F, the separator of
//! [`Incoming::identity`], so identities never run together.
//! An unknown code is not a problem: the event is kept with `mapped: None` and listed
//! `unknown_code` by the store.
//!
//! # Hub scans: `POST /v1/hub/scans`
//!
//! `{"scans": [{"scan_id": "SZX1-000731", "tracking_number": "CD00000000018", "type":
//! "weigh", "time": "2026-11-24T16:15:00+08:00", "facility": "SZX1", "country": "CN", "city":
//! "Shenzhen", "weight_g": 512}]}`, at most [`HUB_SCANS_MAX`] scans. `type` is one of
//! [`model::HUB_TYPES`] (scan, weigh, bag, despatch) and is the raw code; a `weigh` needs
//! `weight_g` (whole grams, 1 to 1,000,000), a `bag` its `bag` id. Our own API, so
//! api-conventions apply in full: unknown fields are refused, and `country` must be an
//! assigned alpha-2 code. **Identity: `scan_id`** (the store scopes it per tenant).
//!
//! # 17TRACK v2 push (`17track`)
//!
//! `{"event": "TRACKING_UPDATED", "data": {"number", "track_info": {"tracking":
//! {"providers": [{"provider": {"key", "name"}, "events": [{"time_iso", "time_utc",
//! "description", "sub_status", "address": {"country", "city"}}]}]}}}}`; events are read
//! provider by provider. `time` is `time_iso`, the code is `sub_status`, `address.country`
//! alpha-2 (empty or null: none). Other `event` values (`TRACKING_STOPPED`, …) carry no
//! events. Signed by header `sign`: lowercase hex SHA-256 of the body bytes, `/` and the
//! secret ([`verify_17track`]); there is no timestamp, so a replay ends as duplicates.
//! **Identity: `number` + `time_utc` + `sub_status` + `description`** (per connection).
//!
//! # AfterShip (`aftership`)
//!
//! `{"event": "tracking_update", "event_id", "ts", "msg": {"tracking_number", "slug",
//! "checkpoints": [{"checkpoint_time", "subtag", "message", "city", "country_region",
//! "raw_tag"}]}}`. The code is `subtag`, the description `message`; `raw_tag` (the carrier's
//! own code) is kept as [`Incoming::raw_tag`]; `country_region` is alpha-3, converted with
//! [`alpha2_of_alpha3`] (an unknown code gives no country, not a problem). Other `event`
//! values carry no events. Signed by header `aftership-hmac-sha256`: base64 HMAC-SHA256 of
//! the body keyed with the secret's UTF-8 bytes ([`verify_aftership`]); `ts` (Unix seconds,
//! [`aftership_timestamp`]) is checked against the replay window. **Identity:
//! `tracking_number` + `checkpoint_time` + `subtag` + `message`** (per connection).
//!
//! # UPU EMSEVT (`upu-edi`)
//!
//! `text/csv` (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; CRLF
//! or LF line ends; a UTF-8 byte-order mark is skipped) whose first row is exactly
//! [`UPU_EDI_HEADER`]. `mail_item_id` is the tracking number, `event_code` the code,
//! `event_time` the time with its offset, `office_code` the facility; `reason_code` (the
//! qualifier of a non-delivery, say) is kept as [`Incoming::raw_tag`]. Signed like our own
//! webhooks (Standard Webhooks, [`verify_standard`]) with a `whsec_` secret.
//! **Identity: `mail_item_id` + `event_code` + `event_time` + `office_code`** (per
//! connection).
//!
//! # Poll pages (`poll`)
//!
//! The answer of `GET {base_url}/events`: `{"events": [{"id", "tracking_number", "code",
//! "description", "time", "location": {"country", "city", "facility"}}], "next_cursor",
//! "has_more"}`. Poll carriers send our own `sub_status` as `code`
//! ([`model::map_code`] with [`Source::Poll`]). **Identity: `id`** (per connection).
//!
//! # Signatures
//!
//! Verifiers never panic and compare in constant time; an empty secret (or, for Standard
//! Webhooks, one that is not `whsec_` and base64 of at least one byte) verifies nothing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{self, EventTime, Mapped, Source};

/// Most scans in one hub body.
pub const HUB_SCANS_MAX: usize = 1_000;
/// Longest tracking number, in characters.
pub const TRACKING_NUMBER_MAX: usize = 64;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 1_000;
/// Longest city or facility, in characters.
pub const CITY_MAX: usize = 200;
/// Longest code, bag id or `reason_code`/`raw_tag`, in characters.
pub const CODE_MAX: usize = 64;
/// Longest event id (`scan_id`, a poll `id`, 17TRACK's `time_utc`), in characters.
pub const ID_MAX: usize = 128;
/// Heaviest weigh scan, in grams.
pub const WEIGHT_G_MAX: i64 = 1_000_000;
/// The header row of an EMSEVT body.
pub const UPU_EDI_HEADER: &str =
    "mail_item_id,event_code,event_time,office_code,country,city,reason_code,description";

/// Joins the parts of an [`Incoming::identity`].
const UNIT_SEPARATOR: char = '\u{1f}';

/// A problem with one field of the input: the HTTP edge's own, so the routes answer it as is.
pub use crossdock_http::Problem;

/// One event as a source gave it, normalised but not yet matched to a parcel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub source: Source,
    /// The contract's identity fields joined with '\u{1f}' (unit separator), e.g. for hub
    /// just the scan_id. The store hashes this with the connection id.
    pub identity: String,
    pub tracking_number: String,
    /// The time exactly as the source gave it (valid per model::parse_time) and its parsed
    /// form.
    pub time: String,
    pub at: EventTime,
    /// The source's raw code (hub: the type) and description.
    pub code: String,
    pub description: Option<String>,
    /// The mapping of the code; None = unmapped (the event is kept and listed
    /// `unknown_code`).
    pub mapped: Option<Mapped>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub facility: Option<String>,
    pub weight_g: Option<i64>,
    pub bag: Option<String>,
    /// AfterShip's `raw_tag`; EMSEVT's `reason_code`.
    pub raw_tag: Option<String>,
}

/// One entry of an ingest body, in input order.
// Nearly every entry is an event: boxing it would cost an allocation each for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Event(Incoming),
    Invalid(Vec<Problem>),
}

/// A body refused whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Not the format, or missing its structure: 400 with these problems.
    Malformed(Vec<Problem>),
    /// More entries than one body may hold: 413 naming the limit.
    TooMany { limit: usize },
}

impl BodyError {
    fn at(field: impl Into<String>, problem: impl Into<String>) -> BodyError {
        BodyError::Malformed(vec![Problem::new(field, problem)])
    }
}

/// One page of a poll carrier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollPage {
    pub events: Vec<Parsed>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

// ---------------------------------------------------------------------------------------
// Hub scans
// ---------------------------------------------------------------------------------------

/// The fields a hub scan may have; any other is refused.
const HUB_FIELDS: [&str; 9] = [
    "scan_id",
    "tracking_number",
    "type",
    "time",
    "facility",
    "country",
    "city",
    "weight_g",
    "bag",
];

/// Parses `POST /v1/hub/scans`: one entry per scan, in order.
pub fn hub_scans(body: &[u8]) -> Result<Vec<Parsed>, BodyError> {
    let root = json_object(body)?;
    let scans = array_member(&root, "scans", "scans")?;
    if scans.len() > HUB_SCANS_MAX {
        return Err(BodyError::TooMany {
            limit: HUB_SCANS_MAX,
        });
    }
    let unknown: Vec<Problem> = root
        .keys()
        .filter(|k| k.as_str() != "scans")
        .map(|k| Problem::new(join("", k), "unknown field"))
        .collect();
    if !unknown.is_empty() {
        return Err(BodyError::Malformed(unknown));
    }
    Ok(scans
        .iter()
        .enumerate()
        .map(|(i, scan)| hub_scan(format!("scans[{i}]"), scan))
        .collect())
}

fn hub_scan(at: String, value: &Value) -> Parsed {
    let Some(map) = value.as_object() else {
        return Parsed::Invalid(vec![Problem::new(at, "must be an object")]);
    };
    let mut c = Checks::new(at);
    for key in map.keys() {
        if !HUB_FIELDS.contains(&key.as_str()) {
            c.refuse(key, "unknown field");
        }
    }
    let scan_id = c.json_text(map, "scan_id", Need::Required, ID_MAX);
    let number = c.json_tracking_number(map, "tracking_number");
    let kind = c.json_text(map, "type", Need::Required, CODE_MAX);
    let mapped = match kind {
        Some(kind) => {
            let mapped = model::map_code(Source::Hub, kind);
            if mapped.is_none() {
                c.refuse("type", "not one of scan, weigh, bag, despatch");
            }
            mapped
        }
        None => None,
    };
    let time = c.json_time(map, "time");
    let facility = c.json_text(map, "facility", Need::Optional, CITY_MAX);
    let country = c.json_alpha2(map, "country", Alpha2::Assigned);
    let city = c.json_text(map, "city", Need::Optional, CITY_MAX);

    // `weight_g` and `bag` may come with any scan; a weigh and a bag need theirs.
    let absent = |key: &str| map.get(key).is_none_or(Value::is_null);
    let weight_g = if kind == Some("weigh") && absent("weight_g") {
        c.refuse("weight_g", "required for a weigh scan");
        None
    } else {
        c.json_grams(map, "weight_g")
    };
    let bag = if kind == Some("bag") && absent("bag") {
        c.refuse("bag", "required for a bag scan");
        None
    } else {
        let need = if kind == Some("bag") {
            Need::Required
        } else {
            Need::Optional
        };
        c.json_text(map, "bag", need, CODE_MAX)
    };

    let event = (|| {
        let (time, at) = time?;
        Some(Incoming {
            source: Source::Hub,
            identity: scan_id?.to_owned(),
            tracking_number: number?.to_owned(),
            time: time.to_owned(),
            at,
            code: kind?.to_owned(),
            description: None,
            mapped: Some(mapped?),
            country: owned(country),
            city: owned(city),
            facility: owned(facility),
            weight_g,
            bag: owned(bag),
            raw_tag: None,
        })
    })();
    c.finish(event)
}

// ---------------------------------------------------------------------------------------
// 17TRACK
// ---------------------------------------------------------------------------------------

/// Parses a 17TRACK v2 push: one entry per event of every provider, in order; none unless
/// `event` is `TRACKING_UPDATED`.
pub fn seventeen_track(body: &[u8]) -> Result<Vec<Parsed>, BodyError> {
    let root = json_object(body)?;
    if string_member(&root, "event", "event")? != "TRACKING_UPDATED" {
        return Ok(Vec::new());
    }
    let data = object_member(&root, "data", "data")?;
    let number = string_member(data, "number", "data.number")?;
    // A bad number spoils every event of the push: each says so.
    let number_problem = check_tracking_number(number)
        .err()
        .map(|p| Problem::new("data.number", p));
    let info = object_member(data, "track_info", "data.track_info")?;
    let tracking = object_member(info, "tracking", "data.track_info.tracking")?;
    let providers = array_member(tracking, "providers", "data.track_info.tracking.providers")?;
    let mut out = Vec::new();
    for (p, provider) in providers.iter().enumerate() {
        let at = format!("data.track_info.tracking.providers[{p}]");
        let Some(provider) = provider.as_object() else {
            return Err(BodyError::at(at, "must be an object"));
        };
        // A provider that has not answered yet may come without events.
        let events = match provider.get("events") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(events)) => events,
            Some(_) => return Err(BodyError::at(join(&at, "events"), "must be an array")),
        };
        for (e, event) in events.iter().enumerate() {
            let at = format!("{at}.events[{e}]");
            out.push(seventeen_track_event(
                at,
                number,
                number_problem.as_ref(),
                event,
            ));
        }
    }
    Ok(out)
}

fn seventeen_track_event(
    at: String,
    number: &str,
    number_problem: Option<&Problem>,
    value: &Value,
) -> Parsed {
    let Some(map) = value.as_object() else {
        return Parsed::Invalid(vec![Problem::new(at, "must be an object")]);
    };
    let mut c = Checks::new(at);
    c.problems.extend(number_problem.cloned());
    let time = c.json_time(map, "time_iso");
    let time_utc = c.json_text(map, "time_utc", Need::Optional, ID_MAX);
    let code = c.json_text(map, "sub_status", Need::Required, CODE_MAX);
    let description = c.json_text(map, "description", Need::Optional, DESCRIPTION_MAX);
    let (country, city) = match c.json_object(map, "address") {
        Some(address) => {
            let mut a = Checks::new(join(&c.at, "address"));
            let country = a.json_alpha2(address, "country", Alpha2::Format);
            let city = a.json_text(address, "city", Need::Optional, CITY_MAX);
            c.absorb(a);
            (country, city)
        }
        None => (None, None),
    };
    let event = (|| {
        let (time, at) = time?;
        let code = code?;
        Some(Incoming {
            source: Source::SeventeenTrack,
            identity: identity(&[
                number,
                time_utc.unwrap_or(""),
                code,
                description.unwrap_or(""),
            ]),
            tracking_number: number.to_owned(),
            time: time.to_owned(),
            at,
            code: code.to_owned(),
            description: owned(description),
            mapped: model::map_code(Source::SeventeenTrack, code),
            country: owned(country),
            city: owned(city),
            facility: None,
            weight_g: None,
            bag: None,
            raw_tag: None,
        })
    })();
    c.finish(event)
}

// ---------------------------------------------------------------------------------------
// AfterShip
// ---------------------------------------------------------------------------------------

/// Parses an AfterShip webhook: one entry per checkpoint, in order; none unless `event` is
/// `tracking_update`.
pub fn aftership(body: &[u8]) -> Result<Vec<Parsed>, BodyError> {
    let root = json_object(body)?;
    if string_member(&root, "event", "event")? != "tracking_update" {
        return Ok(Vec::new());
    }
    let msg = object_member(&root, "msg", "msg")?;
    let number = string_member(msg, "tracking_number", "msg.tracking_number")?;
    let number_problem = check_tracking_number(number)
        .err()
        .map(|p| Problem::new("msg.tracking_number", p));
    let checkpoints = array_member(msg, "checkpoints", "msg.checkpoints")?;
    Ok(checkpoints
        .iter()
        .enumerate()
        .map(|(i, checkpoint)| {
            let at = format!("msg.checkpoints[{i}]");
            aftership_checkpoint(at, number, number_problem.as_ref(), checkpoint)
        })
        .collect())
}

/// The AfterShip body's `ts`, for the replay window (None if absent or not an integer).
pub fn aftership_timestamp(body: &[u8]) -> Option<i64> {
    let root: Value = serde_json::from_slice(body).ok()?;
    root.get("ts")?.as_i64()
}

fn aftership_checkpoint(
    at: String,
    number: &str,
    number_problem: Option<&Problem>,
    value: &Value,
) -> Parsed {
    let Some(map) = value.as_object() else {
        return Parsed::Invalid(vec![Problem::new(at, "must be an object")]);
    };
    let mut c = Checks::new(at);
    c.problems.extend(number_problem.cloned());
    let time = c.json_time(map, "checkpoint_time");
    let code = c.json_text(map, "subtag", Need::Required, CODE_MAX);
    let message = c.json_text(map, "message", Need::Optional, DESCRIPTION_MAX);
    let city = c.json_text(map, "city", Need::Optional, CITY_MAX);
    // Alpha-3; one we do not know gives no country rather than an invalid event.
    let country = c
        .json_text(map, "country_region", Need::Optional, CODE_MAX)
        .and_then(alpha2_of_alpha3);
    let raw_tag = c.json_text(map, "raw_tag", Need::Optional, CODE_MAX);
    let event = (|| {
        let (time, at) = time?;
        let code = code?;
        Some(Incoming {
            source: Source::AfterShip,
            identity: identity(&[number, time, code, message.unwrap_or("")]),
            tracking_number: number.to_owned(),
            time: time.to_owned(),
            at,
            code: code.to_owned(),
            description: owned(message),
            mapped: model::map_code(Source::AfterShip, code),
            country: country.map(str::to_owned),
            city: owned(city),
            facility: None,
            weight_g: None,
            bag: None,
            raw_tag: owned(raw_tag),
        })
    })();
    c.finish(event)
}

// ---------------------------------------------------------------------------------------
// UPU EMSEVT
// ---------------------------------------------------------------------------------------

/// Parses an EMSEVT CSV body: one entry per data row, in order.
pub fn upu_edi(body: &[u8]) -> Result<Vec<Parsed>, BodyError> {
    let text = std::str::from_utf8(body).map_err(|_| BodyError::at("body", "not UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = csv_records(text).map_err(|record| {
        let field = match record {
            0 => "header".to_owned(),
            n => format!("rows[{}]", n - 1),
        };
        BodyError::at(field, "a quoted field is not closed")
    })?;
    let mut records = records.into_iter();
    let header_ok = records.next().is_some_and(|header| {
        header.broken.is_none()
            && header
                .fields
                .iter()
                .map(String::as_str)
                .eq(UPU_EDI_HEADER.split(','))
    });
    if !header_ok {
        return Err(BodyError::at(
            "header",
            format!("the first row must be exactly {UPU_EDI_HEADER}"),
        ));
    }
    Ok(records
        .enumerate()
        .map(|(i, record)| upu_edi_row(format!("rows[{i}]"), &record))
        .collect())
}

fn upu_edi_row(at: String, record: &Record) -> Parsed {
    if let Some(broken) = record.broken {
        return Parsed::Invalid(vec![Problem::new(at, broken)]);
    }
    let [
        number,
        code,
        time,
        office,
        country,
        city,
        reason,
        description,
    ] = record.fields.as_slice()
    else {
        let problem = format!("has {} fields, not 8", record.fields.len());
        return Parsed::Invalid(vec![Problem::new(at, problem)]);
    };
    let mut c = Checks::new(at);
    let number = c.tracking_number("mail_item_id", Some(number));
    let code = c.text("event_code", Some(code), Need::Required, CODE_MAX);
    let time = c.time("event_time", Some(time));
    let office = c.text("office_code", Some(office), Need::Optional, CITY_MAX);
    let country = c.alpha2("country", Some(country), Alpha2::Format);
    let city = c.text("city", Some(city), Need::Optional, CITY_MAX);
    let reason = c.text("reason_code", Some(reason), Need::Optional, CODE_MAX);
    let description = c.text(
        "description",
        Some(description),
        Need::Optional,
        DESCRIPTION_MAX,
    );
    let event = (|| {
        let (time, at) = time?;
        let (number, code) = (number?, code?);
        Some(Incoming {
            source: Source::UpuEdi,
            identity: identity(&[number, code, time, office.unwrap_or("")]),
            tracking_number: number.to_owned(),
            time: time.to_owned(),
            at,
            code: code.to_owned(),
            description: owned(description),
            mapped: model::map_code(Source::UpuEdi, code),
            country: owned(country),
            city: owned(city),
            facility: owned(office),
            weight_g: None,
            bag: None,
            raw_tag: owned(reason),
        })
    })();
    c.finish(event)
}

/// One CSV record: its fields, or why its quoting is broken (the record's extent is still
/// known, so only it is refused).
#[derive(Debug)]
struct Record {
    fields: Vec<String>,
    broken: Option<&'static str>,
}

/// Splits RFC 4180 text into records (CRLF, LF or CR line ends; blank lines skipped).
/// `Err(n)`: the quoted field of the `n`-th record (0 = header) runs to the end of the
/// text, so no later record can be told apart.
fn csv_records(text: &str) -> Result<Vec<Record>, usize> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut broken = None;
    let mut chars = text.chars().peekable();
    let line_end = |c: char| c == '\n' || c == '\r';
    loop {
        // The start of a field.
        let mut field = String::new();
        let quoted = chars.next_if_eq(&'"').is_some();
        if quoted {
            loop {
                match chars.next() {
                    None => return Err(records.len()),
                    Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            while let Some(c) = chars.next_if(|&c| c != ',' && !line_end(c)) {
                broken.get_or_insert("text after the closing quote of a field");
                field.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|&c| c != ',' && !line_end(c)) {
                if c == '"' {
                    broken.get_or_insert("a quote inside an unquoted field");
                }
                field.push(c);
            }
        }
        let blank = fields.is_empty() && !quoted && field.is_empty();
        fields.push(field);
        match chars.next() {
            Some(',') => continue,
            Some('\r') => {
                chars.next_if_eq(&'\n');
            }
            _ => {} // '\n' or the end
        }
        if !blank {
            records.push(Record {
                fields: std::mem::take(&mut fields),
                broken: broken.take(),
            });
        }
        fields.clear();
        if chars.peek().is_none() {
            return Ok(records);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Poll
// ---------------------------------------------------------------------------------------

/// Parses one page of a poll carrier.
pub fn poll_page(body: &[u8]) -> Result<PollPage, BodyError> {
    let root = json_object(body)?;
    let events = array_member(&root, "events", "events")?;
    let next_cursor = match root.get("next_cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(cursor)) if cursor.is_empty() => None,
        Some(Value::String(cursor)) => Some(cursor.clone()),
        Some(_) => return Err(BodyError::at("next_cursor", "must be a string or null")),
    };
    let has_more = match root.get("has_more") {
        Some(Value::Bool(more)) => *more,
        None | Some(Value::Null) => return Err(BodyError::at("has_more", "required")),
        Some(_) => return Err(BodyError::at("has_more", "must be true or false")),
    };
    // Asking again without a cursor would fetch the same page forever.
    if has_more && next_cursor.is_none() {
        return Err(BodyError::at(
            "next_cursor",
            "required while has_more is true",
        ));
    }
    Ok(PollPage {
        events: events
            .iter()
            .enumerate()
            .map(|(i, event)| poll_event(format!("events[{i}]"), event))
            .collect(),
        next_cursor,
        has_more,
    })
}

fn poll_event(at: String, value: &Value) -> Parsed {
    let Some(map) = value.as_object() else {
        return Parsed::Invalid(vec![Problem::new(at, "must be an object")]);
    };
    let mut c = Checks::new(at);
    let id = c.json_text(map, "id", Need::Required, ID_MAX);
    let number = c.json_tracking_number(map, "tracking_number");
    let code = c.json_text(map, "code", Need::Required, CODE_MAX);
    let description = c.json_text(map, "description", Need::Optional, DESCRIPTION_MAX);
    let time = c.json_time(map, "time");
    let (country, city, facility) = match c.json_object(map, "location") {
        Some(location) => {
            let mut l = Checks::new(join(&c.at, "location"));
            let country = l.json_alpha2(location, "country", Alpha2::Format);
            let city = l.json_text(location, "city", Need::Optional, CITY_MAX);
            let facility = l.json_text(location, "facility", Need::Optional, CITY_MAX);
            c.absorb(l);
            (country, city, facility)
        }
        None => (None, None, None),
    };
    let event = (|| {
        let (time, at) = time?;
        let code = code?;
        Some(Incoming {
            source: Source::Poll,
            identity: id?.to_owned(),
            tracking_number: number?.to_owned(),
            time: time.to_owned(),
            at,
            code: code.to_owned(),
            description: owned(description),
            mapped: model::map_code(Source::Poll, code),
            country: owned(country),
            city: owned(city),
            facility: owned(facility),
            weight_g: None,
            bag: None,
            raw_tag: None,
        })
    })();
    c.finish(event)
}

// ---------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------

type HmacSha256 = Hmac<Sha256>;

/// Whether `sign_header` is 17TRACK's signature of `body`: hex SHA-256 of the body, `/`
/// and the secret (either case of hex digits is read).
pub fn verify_17track(body: &[u8], secret: &str, sign_header: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Some(given) = hex_decode(sign_header) else {
        return false;
    };
    ct_eq(&given, &sha256_17track(body, secret))
}

/// 17TRACK's `sign` header for `body`: lowercase hex.
pub fn sign_17track(body: &[u8], secret: &str) -> String {
    sha256_17track(body, secret)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `header` (`aftership-hmac-sha256`) is the base64 HMAC-SHA256 of `body` keyed
/// with `secret`'s UTF-8 bytes.
pub fn verify_aftership(body: &[u8], secret: &str, header: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Ok(given) = BASE64.decode(header) else {
        return false;
    };
    hmac_sha256(secret.as_bytes(), &[body]).is_some_and(|expected| ct_eq(&given, &expected))
}

/// AfterShip's `aftership-hmac-sha256` header for `body`.
pub fn sign_aftership(body: &[u8], secret: &str) -> String {
    hmac_sha256(secret.as_bytes(), &[body])
        .map(|tag| BASE64.encode(tag))
        .unwrap_or_default()
}

/// Whether one of the space-separated `v1,<base64>` entries of `signatures`
/// (`webhook-signature`) is the HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the
/// base64-decoded part of `secret` after `whsec_` (Standard Webhooks). Other versions are
/// skipped; the timestamp's window is the caller's to check.
pub fn verify_standard(
    body: &[u8],
    secret: &str,
    id: &str,
    timestamp: i64,
    signatures: &str,
) -> bool {
    let Some(expected) = standard_tag(body, secret, id, timestamp) else {
        return false;
    };
    signatures
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| BASE64.decode(b64).ok())
        .any(|given| ct_eq(&given, &expected))
}

/// The `webhook-signature` entry (`v1,<base64>`) of `body`; None if `secret` is not
/// `whsec_` and the base64 of at least one byte.
pub fn sign_standard(body: &[u8], secret: &str, id: &str, timestamp: i64) -> Option<String> {
    standard_tag(body, secret, id, timestamp).map(|tag| format!("v1,{}", BASE64.encode(tag)))
}

fn standard_tag(body: &[u8], secret: &str, id: &str, timestamp: i64) -> Option<Vec<u8>> {
    let key = BASE64.decode(secret.strip_prefix("whsec_")?).ok()?;
    if key.is_empty() {
        return None;
    }
    let timestamp = timestamp.to_string();
    hmac_sha256(
        &key,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    )
}

fn sha256_17track(body: &[u8], secret: &str) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(body);
    hash.update(b"/");
    hash.update(secret.as_bytes());
    hash.finalize().to_vec()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().to_vec())
}

/// Equality whose time depends only on the lengths (which are public: a digest's).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The bytes of hex text (an even number of hex digits, either case).
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| {
            let (hi, lo) = (digit(pair[0])?, digit(pair[1])?);
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Field checks
// ---------------------------------------------------------------------------------------

/// Whether a text field must be there.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Required,
    /// Absent, null and empty alike read as absent.
    Optional,
}

/// How strictly an alpha-2 country is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Alpha2 {
    /// Two capital letters: what carriers send, some of them user-assigned codes (`XK`).
    Format,
    /// An officially assigned ISO 3166-1 code: our own API.
    Assigned,
}

/// The checks of one event, collecting every problem with its field's path.
struct Checks {
    /// The path of the event (or of a nested object).
    at: String,
    problems: Vec<Problem>,
}

impl Checks {
    fn new(at: String) -> Checks {
        Checks {
            at,
            problems: Vec::new(),
        }
    }

    fn refuse(&mut self, name: &str, problem: impl Into<String>) {
        self.problems
            .push(Problem::new(join(&self.at, name), problem));
    }

    fn absorb(&mut self, nested: Checks) {
        self.problems.extend(nested.problems);
    }

    /// The event, unless a field had a problem.
    fn finish(self, event: Option<Incoming>) -> Parsed {
        match event {
            Some(event) if self.problems.is_empty() => Parsed::Event(event),
            // Every field that leaves `event` None has recorded a problem.
            _ if !self.problems.is_empty() => Parsed::Invalid(self.problems),
            _ => Parsed::Invalid(vec![Problem::new(self.at, "incomplete event")]),
        }
    }

    fn text<'v>(
        &mut self,
        name: &str,
        value: Option<&'v str>,
        need: Need,
        max: usize,
    ) -> Option<&'v str> {
        let value = value.filter(|v| !v.is_empty());
        match (value, need) {
            (None, Need::Required) => {
                self.refuse(name, "required");
                None
            }
            (None, Need::Optional) => None,
            (Some(text), _) if text.chars().count() > max => {
                self.refuse(name, format!("longer than {max} characters"));
                None
            }
            (Some(text), _) if text.contains(UNIT_SEPARATOR) => {
                self.refuse(name, "must not contain U+001F");
                None
            }
            (Some(text), _) => Some(text),
        }
    }

    fn tracking_number<'v>(&mut self, name: &str, value: Option<&'v str>) -> Option<&'v str> {
        match value.map(|v| (v, check_tracking_number(v))) {
            None => self.refuse(name, "required"),
            Some((number, Ok(()))) => return Some(number),
            Some((_, Err(problem))) => self.refuse(name, problem),
        }
        None
    }

    fn time<'v>(&mut self, name: &str, value: Option<&'v str>) -> Option<(&'v str, EventTime)> {
        let Some(text) = value.filter(|v| !v.is_empty()) else {
            self.refuse(name, "required");
            return None;
        };
        match model::parse_time(text) {
            Ok(at) => Some((text, at)),
            Err(problem) => {
                self.refuse(name, problem);
                None
            }
        }
    }

    fn alpha2<'v>(
        &mut self,
        name: &str,
        value: Option<&'v str>,
        strict: Alpha2,
    ) -> Option<&'v str> {
        let code = value.filter(|v| !v.is_empty())?;
        let format = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
        if !format {
            self.refuse(name, "not an ISO 3166-1 alpha-2 code in capitals (CN)");
            None
        } else if strict == Alpha2::Assigned && !is_assigned_alpha2(code) {
            self.refuse(name, "not an assigned ISO 3166-1 alpha-2 code");
            None
        } else {
            Some(code)
        }
    }

    /// `map[key]` as a string: Ok(None) when absent or null, Err after recording a problem
    /// when of another type.
    fn json_string<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
    ) -> Result<Option<&'v str>, ()> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => {
                self.refuse(key, "must be a string");
                Err(())
            }
        }
    }

    fn json_text<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
        need: Need,
        max: usize,
    ) -> Option<&'v str> {
        let value = self.json_string(map, key).ok()?;
        self.text(key, value, need, max)
    }

    fn json_tracking_number<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
    ) -> Option<&'v str> {
        let value = self.json_string(map, key).ok()?;
        self.tracking_number(key, value)
    }

    fn json_time<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
    ) -> Option<(&'v str, EventTime)> {
        let value = self.json_string(map, key).ok()?;
        self.time(key, value)
    }

    fn json_alpha2<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
        strict: Alpha2,
    ) -> Option<&'v str> {
        let value = self.json_string(map, key).ok()?;
        self.alpha2(key, value, strict)
    }

    /// `map[key]` as an object; None when absent or null (or, with a problem, another type).
    fn json_object<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
    ) -> Option<&'v Map<String, Value>> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(object)) => Some(object),
            Some(_) => {
                self.refuse(key, "must be an object");
                None
            }
        }
    }

    /// A weight in whole grams, 1 to [`WEIGHT_G_MAX`]; None when absent or null.
    fn json_grams(&mut self, map: &Map<String, Value>, key: &str) -> Option<i64> {
        let value = map.get(key).filter(|v| !v.is_null())?;
        let Value::Number(number) = value else {
            self.refuse(key, "must be a whole number of grams");
            return None;
        };
        if !number.is_i64() && !number.is_u64() {
            self.refuse(key, "must be a whole number of grams");
            return None;
        }
        match number.as_i64().filter(|g| (1..=WEIGHT_G_MAX).contains(g)) {
            Some(grams) => Some(grams),
            None => {
                self.refuse(key, format!("must be 1 to {WEIGHT_G_MAX} grams"));
                None
            }
        }
    }
}

/// Why `number` is no tracking number, if it is not.
fn check_tracking_number(number: &str) -> Result<(), String> {
    if number.is_empty() {
        return Err("required".into());
    }
    let printable = number.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if printable && number.len() <= TRACKING_NUMBER_MAX {
        Ok(())
    } else {
        Err(format!(
            "not a tracking number: 1 to {TRACKING_NUMBER_MAX} printable ASCII characters without spaces"
        ))
    }
}

/// The identity of an event: its parts joined with U+001F (which no part may contain).
fn identity(parts: &[&str]) -> String {
    let separator = UNIT_SEPARATOR.to_string();
    parts.join(&separator)
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}

/// The path of `key` inside `base`: `base.key`, or `base["key"]` (JSON-quoted) for a key
/// that is not a plain identifier.
fn join(base: &str, key: &str) -> String {
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match (plain, base.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{base}.{key}"),
        (false, _) => format!("{base}[{}]", Value::from(key)),
    }
}

// ---------------------------------------------------------------------------------------
// Body structure
// ---------------------------------------------------------------------------------------

fn json_object(body: &[u8]) -> Result<Map<String, Value>, BodyError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(root)) => Ok(root),
        Ok(_) => Err(BodyError::at("body", "must be a JSON object")),
        Err(e) => Err(BodyError::at("body", format!("not JSON: {e}"))),
    }
}

fn member<'v>(map: &'v Map<String, Value>, key: &str, path: &str) -> Result<&'v Value, BodyError> {
    map.get(key)
        .filter(|v| !v.is_null())
        .ok_or_else(|| BodyError::at(path, "required"))
}

fn object_member<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'v Map<String, Value>, BodyError> {
    member(map, key, path)?
        .as_object()
        .ok_or_else(|| BodyError::at(path, "must be an object"))
}

fn array_member<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'v Vec<Value>, BodyError> {
    member(map, key, path)?
        .as_array()
        .ok_or_else(|| BodyError::at(path, "must be an array"))
}

fn string_member<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'v str, BodyError> {
    member(map, key, path)?
        .as_str()
        .ok_or_else(|| BodyError::at(path, "must be a string"))
}

// ---------------------------------------------------------------------------------------
// Countries
// ---------------------------------------------------------------------------------------

/// The alpha-2 code of an ISO 3166-1 alpha-3 code (`DEU` → `DE`); None for any text that is
/// not one of the 249 officially assigned codes in capitals.
pub fn alpha2_of_alpha3(alpha3: &str) -> Option<&'static str> {
    ALPHA3_TO_ALPHA2
        .binary_search_by(|(a3, _)| a3.cmp(&alpha3))
        .ok()
        .and_then(|i| ALPHA3_TO_ALPHA2.get(i))
        .map(|(_, a2)| *a2)
}

/// Whether `alpha2` is an officially assigned ISO 3166-1 alpha-2 code.
pub fn is_assigned_alpha2(alpha2: &str) -> bool {
    ALPHA3_TO_ALPHA2.iter().any(|(_, a2)| *a2 == alpha2)
}

/// ISO 3166-1's officially assigned codes, alpha-3 → alpha-2, sorted by alpha-3.
#[rustfmt::skip]
pub const ALPHA3_TO_ALPHA2: [(&str, &str); 249] = [
    ("ABW", "AW"), ("AFG", "AF"), ("AGO", "AO"), ("AIA", "AI"), ("ALA", "AX"), ("ALB", "AL"),
    ("AND", "AD"), ("ARE", "AE"), ("ARG", "AR"), ("ARM", "AM"), ("ASM", "AS"), ("ATA", "AQ"),
    ("ATF", "TF"), ("ATG", "AG"), ("AUS", "AU"), ("AUT", "AT"), ("AZE", "AZ"), ("BDI", "BI"),
    ("BEL", "BE"), ("BEN", "BJ"), ("BES", "BQ"), ("BFA", "BF"), ("BGD", "BD"), ("BGR", "BG"),
    ("BHR", "BH"), ("BHS", "BS"), ("BIH", "BA"), ("BLM", "BL"), ("BLR", "BY"), ("BLZ", "BZ"),
    ("BMU", "BM"), ("BOL", "BO"), ("BRA", "BR"), ("BRB", "BB"), ("BRN", "BN"), ("BTN", "BT"),
    ("BVT", "BV"), ("BWA", "BW"), ("CAF", "CF"), ("CAN", "CA"), ("CCK", "CC"), ("CHE", "CH"),
    ("CHL", "CL"), ("CHN", "CN"), ("CIV", "CI"), ("CMR", "CM"), ("COD", "CD"), ("COG", "CG"),
    ("COK", "CK"), ("COL", "CO"), ("COM", "KM"), ("CPV", "CV"), ("CRI", "CR"), ("CUB", "CU"),
    ("CUW", "CW"), ("CXR", "CX"), ("CYM", "KY"), ("CYP", "CY"), ("CZE", "CZ"), ("DEU", "DE"),
    ("DJI", "DJ"), ("DMA", "DM"), ("DNK", "DK"), ("DOM", "DO"), ("DZA", "DZ"), ("ECU", "EC"),
    ("EGY", "EG"), ("ERI", "ER"), ("ESH", "EH"), ("ESP", "ES"), ("EST", "EE"), ("ETH", "ET"),
    ("FIN", "FI"), ("FJI", "FJ"), ("FLK", "FK"), ("FRA", "FR"), ("FRO", "FO"), ("FSM", "FM"),
    ("GAB", "GA"), ("GBR", "GB"), ("GEO", "GE"), ("GGY", "GG"), ("GHA", "GH"), ("GIB", "GI"),
    ("GIN", "GN"), ("GLP", "GP"), ("GMB", "GM"), ("GNB", "GW"), ("GNQ", "GQ"), ("GRC", "GR"),
    ("GRD", "GD"), ("GRL", "GL"), ("GTM", "GT"), ("GUF", "GF"), ("GUM", "GU"), ("GUY", "GY"),
    ("HKG", "HK"), ("HMD", "HM"), ("HND", "HN"), ("HRV", "HR"), ("HTI", "HT"), ("HUN", "HU"),
    ("IDN", "ID"), ("IMN", "IM"), ("IND", "IN"), ("IOT", "IO"), ("IRL", "IE"), ("IRN", "IR"),
    ("IRQ", "IQ"), ("ISL", "IS"), ("ISR", "IL"), ("ITA", "IT"), ("JAM", "JM"), ("JEY", "JE"),
    ("JOR", "JO"), ("JPN", "JP"), ("KAZ", "KZ"), ("KEN", "KE"), ("KGZ", "KG"), ("KHM", "KH"),
    ("KIR", "KI"), ("KNA", "KN"), ("KOR", "KR"), ("KWT", "KW"), ("LAO", "LA"), ("LBN", "LB"),
    ("LBR", "LR"), ("LBY", "LY"), ("LCA", "LC"), ("LIE", "LI"), ("LKA", "LK"), ("LSO", "LS"),
    ("LTU", "LT"), ("LUX", "LU"), ("LVA", "LV"), ("MAC", "MO"), ("MAF", "MF"), ("MAR", "MA"),
    ("MCO", "MC"), ("MDA", "MD"), ("MDG", "MG"), ("MDV", "MV"), ("MEX", "MX"), ("MHL", "MH"),
    ("MKD", "MK"), ("MLI", "ML"), ("MLT", "MT"), ("MMR", "MM"), ("MNE", "ME"), ("MNG", "MN"),
    ("MNP", "MP"), ("MOZ", "MZ"), ("MRT", "MR"), ("MSR", "MS"), ("MTQ", "MQ"), ("MUS", "MU"),
    ("MWI", "MW"), ("MYS", "MY"), ("MYT", "YT"), ("NAM", "NA"), ("NCL", "NC"), ("NER", "NE"),
    ("NFK", "NF"), ("NGA", "NG"), ("NIC", "NI"), ("NIU", "NU"), ("NLD", "NL"), ("NOR", "NO"),
    ("NPL", "NP"), ("NRU", "NR"), ("NZL", "NZ"), ("OMN", "OM"), ("PAK", "PK"), ("PAN", "PA"),
    ("PCN", "PN"), ("PER", "PE"), ("PHL", "PH"), ("PLW", "PW"), ("PNG", "PG"), ("POL", "PL"),
    ("PRI", "PR"), ("PRK", "KP"), ("PRT", "PT"), ("PRY", "PY"), ("PSE", "PS"), ("PYF", "PF"),
    ("QAT", "QA"), ("REU", "RE"), ("ROU", "RO"), ("RUS", "RU"), ("RWA", "RW"), ("SAU", "SA"),
    ("SDN", "SD"), ("SEN", "SN"), ("SGP", "SG"), ("SGS", "GS"), ("SHN", "SH"), ("SJM", "SJ"),
    ("SLB", "SB"), ("SLE", "SL"), ("SLV", "SV"), ("SMR", "SM"), ("SOM", "SO"), ("SPM", "PM"),
    ("SRB", "RS"), ("SSD", "SS"), ("STP", "ST"), ("SUR", "SR"), ("SVK", "SK"), ("SVN", "SI"),
    ("SWE", "SE"), ("SWZ", "SZ"), ("SXM", "SX"), ("SYC", "SC"), ("SYR", "SY"), ("TCA", "TC"),
    ("TCD", "TD"), ("TGO", "TG"), ("THA", "TH"), ("TJK", "TJ"), ("TKL", "TK"), ("TKM", "TM"),
    ("TLS", "TL"), ("TON", "TO"), ("TTO", "TT"), ("TUN", "TN"), ("TUR", "TR"), ("TUV", "TV"),
    ("TWN", "TW"), ("TZA", "TZ"), ("UGA", "UG"), ("UKR", "UA"), ("UMI", "UM"), ("URY", "UY"),
    ("USA", "US"), ("UZB", "UZ"), ("VAT", "VA"), ("VCT", "VC"), ("VEN", "VE"), ("VGB", "VG"),
    ("VIR", "VI"), ("VNM", "VN"), ("VUT", "VU"), ("WLF", "WF"), ("WSM", "WS"), ("YEM", "YE"),
    ("ZAF", "ZA"), ("ZMB", "ZM"), ("ZWE", "ZW"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn event(parsed: &Parsed) -> &Incoming {
        match parsed {
            Parsed::Event(event) => event,
            Parsed::Invalid(problems) => panic!("expected an event, got {problems:?}"),
        }
    }

    fn problems(parsed: &Parsed) -> Vec<(&str, &str)> {
        match parsed {
            Parsed::Invalid(problems) => problems
                .iter()
                .map(|p| (p.field.as_str(), p.problem.as_str()))
                .collect(),
            Parsed::Event(event) => panic!("expected invalid, got {event:?}"),
        }
    }

    fn fields(parsed: &Parsed) -> Vec<&str> {
        problems(parsed).into_iter().map(|(f, _)| f).collect()
    }

    fn malformed(result: Result<impl std::fmt::Debug, BodyError>) -> Vec<String> {
        match result {
            Err(BodyError::Malformed(problems)) => problems.into_iter().map(|p| p.field).collect(),
            other => panic!("expected a malformed body, got {other:?}"),
        }
    }

    fn sub(event: &Incoming) -> Option<&'static str> {
        event.mapped.map(|m| m.sub_status)
    }

    fn utc(event: &Incoming) -> String {
        model::utc_text(event.at.instant_ms)
    }

    fn id(parts: &[&str]) -> String {
        parts.join("\u{1f}")
    }

    const NO_OFFSET: &str = "2026-11-26T09:05:00";

    // --- Hub -----------------------------------------------------------------------------

    #[test]
    fn hub_fixture_parses_scan_by_scan() {
        let parsed = hub_scans(&fixture("hub_scans.json")).expect("a valid body");
        assert_eq!(parsed.len(), 6);

        let scan = event(&parsed[0]);
        assert_eq!(scan.source, Source::Hub);
        assert_eq!(scan.identity, "SZX1-000729");
        assert_eq!(scan.tracking_number, "CD00000000018");
        assert_eq!(scan.time, "2026-11-24T16:02:41+08:00");
        assert_eq!(utc(scan), "2026-11-24T08:02:41Z");
        assert_eq!(scan.at.offset_s, 8 * 3600);
        assert_eq!(scan.code, "scan");
        assert_eq!(scan.description, None);
        assert_eq!(sub(scan), Some("HUB_IN"));
        assert_eq!(scan.mapped.map(|m| m.status), Some(Status::AtHub));
        assert_eq!(scan.country.as_deref(), Some("CN"));
        assert_eq!(scan.city.as_deref(), Some("Shenzhen"));
        assert_eq!(scan.facility.as_deref(), Some("SZX1"));
        assert_eq!((scan.weight_g, scan.bag.as_deref()), (None, None));

        let weigh = event(&parsed[1]);
        assert_eq!(
            (weigh.identity.as_str(), weigh.code.as_str()),
            ("SZX1-000731", "weigh")
        );
        assert_eq!((weigh.weight_g, sub(weigh)), (Some(512), Some("WEIGHED")));

        let bag = event(&parsed[2]);
        assert_eq!(bag.bag.as_deref(), Some("SZX1-FRA-20261124-017"));
        assert_eq!(sub(bag), Some("BAGGED"));
        assert_eq!(utc(bag), "2026-11-24T09:40:12.350Z");

        // A weigh without its weight: that scan alone is invalid.
        assert_eq!(
            problems(&parsed[3]),
            [("scans[3].weight_g", "required for a weigh scan")]
        );

        let despatch = event(&parsed[4]);
        assert_eq!(
            (despatch.code.as_str(), sub(despatch)),
            ("despatch", Some("DEPARTED"))
        );

        let frankfurt = event(&parsed[5]);
        assert_eq!(frankfurt.tracking_number, "CD00000000034");
        assert_eq!(frankfurt.country.as_deref(), Some("DE"));
        assert_eq!(frankfurt.at.offset_s, 3600);
    }

    fn one_scan(scan: &str) -> Parsed {
        let body = format!(r#"{{"scans": [{scan}]}}"#);
        let mut parsed = hub_scans(body.as_bytes()).expect("a valid body");
        assert_eq!(parsed.len(), 1);
        parsed.remove(0)
    }

    const SCAN: &str = r#""scan_id": "S-1", "tracking_number": "CD00000000018", "time": "2026-11-24T16:15:00+08:00""#;

    #[test]
    fn hub_scan_problems_are_per_field() {
        let bag = one_scan(&format!(r#"{{{SCAN}, "type": "bag"}}"#));
        assert_eq!(
            problems(&bag),
            [("scans[0].bag", "required for a bag scan")]
        );
        let empty_bag = one_scan(&format!(r#"{{{SCAN}, "type": "bag", "bag": ""}}"#));
        assert_eq!(problems(&empty_bag), [("scans[0].bag", "required")]);
        let bag = one_scan(&format!(r#"{{{SCAN}, "type": "bag", "bag": "B-7"}}"#));
        assert_eq!(event(&bag).bag.as_deref(), Some("B-7"));

        let weigh = one_scan(&format!(r#"{{{SCAN}, "type": "weigh", "weight_g": null}}"#));
        assert_eq!(fields(&weigh), ["scans[0].weight_g"]);
        for bad in [
            "0",
            "1000001",
            "512.5",
            "512.0",
            "\"512\"",
            "-3",
            "18446744073709551615",
        ] {
            let weigh = one_scan(&format!(
                r#"{{{SCAN}, "type": "weigh", "weight_g": {bad}}}"#
            ));
            assert_eq!(fields(&weigh), ["scans[0].weight_g"], "{bad}");
        }
        let heaviest = one_scan(&format!(
            r#"{{{SCAN}, "type": "weigh", "weight_g": 1000000}}"#
        ));
        assert_eq!(event(&heaviest).weight_g, Some(1_000_000));

        // (Sorted: the order of an object's keys is serde_json's to choose.)
        let unknown = one_scan(&format!(
            r#"{{{SCAN}, "type": "scan", "operator": "li.wei", "a.b": 1}}"#
        ));
        let mut unknown = problems(&unknown);
        unknown.sort_unstable();
        assert_eq!(
            unknown,
            [
                ("scans[0].operator", "unknown field"),
                ("scans[0][\"a.b\"]", "unknown field")
            ]
        );

        let lower = one_scan(&format!(r#"{{{SCAN}, "type": "scan", "country": "cn"}}"#));
        assert_eq!(
            problems(&lower),
            [(
                "scans[0].country",
                "not an ISO 3166-1 alpha-2 code in capitals (CN)"
            )]
        );
        let unassigned = one_scan(&format!(r#"{{{SCAN}, "type": "scan", "country": "ZZ"}}"#));
        assert_eq!(fields(&unassigned), ["scans[0].country"]);

        let kind = one_scan(&format!(r#"{{{SCAN}, "type": "sort"}}"#));
        assert_eq!(
            problems(&kind),
            [("scans[0].type", "not one of scan, weigh, bag, despatch")]
        );

        // Every problem of a scan is listed, not only the first.
        let many = one_scan(
            r#"{"tracking_number": "CD 018", "type": "weigh", "time": "2026-11-24T16:15:00", "city": 7}"#,
        );
        let time_problem = model::parse_time("2026-11-24T16:15:00").unwrap_err();
        assert_eq!(
            problems(&many),
            [
                ("scans[0].scan_id", "required"),
                (
                    "scans[0].tracking_number",
                    "not a tracking number: 1 to 64 printable ASCII characters without spaces"
                ),
                ("scans[0].time", time_problem.as_str()),
                ("scans[0].city", "must be a string"),
                ("scans[0].weight_g", "required for a weigh scan"),
            ]
        );
        let long = "X".repeat(65);
        let number = one_scan(&format!(
            r#"{{"scan_id": "S-1", "tracking_number": "{long}", "type": "scan", "time": "2026-11-24T16:15:00Z"}}"#
        ));
        assert_eq!(fields(&number), ["scans[0].tracking_number"]);
        let city = "Ü".repeat(201);
        let city = one_scan(&format!(r#"{{{SCAN}, "type": "scan", "city": "{city}"}}"#));
        assert_eq!(
            problems(&city),
            [("scans[0].city", "longer than 200 characters")]
        );
        let separator = one_scan(&format!(
            r#"{{{SCAN}, "type": "scan", "facility": "A\u001fB"}}"#
        ));
        assert_eq!(fields(&separator), ["scans[0].facility"]);

        let not_object = hub_scans(br#"{"scans": [1, null]}"#).expect("a valid body");
        assert_eq!(
            problems(&not_object[0]),
            [("scans[0]", "must be an object")]
        );
        assert_eq!(
            problems(&not_object[1]),
            [("scans[1]", "must be an object")]
        );
    }

    #[test]
    fn hub_bodies_are_refused_whole() {
        assert_eq!(malformed(hub_scans(b"")), ["body"]);
        assert_eq!(malformed(hub_scans(b"{\"scans\": [")), ["body"]);
        assert_eq!(malformed(hub_scans(b"[]")), ["body"]);
        assert_eq!(malformed(hub_scans(b"{}")), ["scans"]);
        assert_eq!(malformed(hub_scans(br#"{"scans": {}}"#)), ["scans"]);
        assert_eq!(
            malformed(hub_scans(br#"{"scans": [], "hub": "SZX1"}"#)),
            ["hub"]
        );
        assert_eq!(hub_scans(br#"{"scans": []}"#), Ok(vec![]));

        let scan = format!(r#"{{{SCAN}, "type": "scan"}}"#);
        let body = |n: usize| format!(r#"{{"scans": [{}]}}"#, vec![scan.as_str(); n].join(","));
        let full = hub_scans(body(HUB_SCANS_MAX).as_bytes()).expect("1,000 scans are fine");
        assert_eq!(full.len(), 1_000);
        assert!(full.iter().all(|p| matches!(p, Parsed::Event(_))));
        assert_eq!(
            hub_scans(body(HUB_SCANS_MAX + 1).as_bytes()),
            Err(BodyError::TooMany { limit: 1_000 })
        );
    }

    // --- 17TRACK -------------------------------------------------------------------------

    #[test]
    fn seventeen_track_fixture_parses_every_provider() {
        let parsed = seventeen_track(&fixture("17track.json")).expect("a valid body");
        assert_eq!(parsed.len(), 6);

        let released = event(&parsed[0]);
        assert_eq!(released.source, Source::SeventeenTrack);
        assert_eq!(
            released.identity,
            id(&[
                "LX001000090CN",
                "2026-11-27T13:32:00Z",
                "InTransit_CustomsReleased",
                "Customs clearance completed"
            ])
        );
        assert_eq!(released.tracking_number, "LX001000090CN");
        assert_eq!(released.time, "2026-11-27T14:32:00+01:00");
        assert_eq!(utc(released), "2026-11-27T13:32:00Z");
        assert_eq!(released.code, "InTransit_CustomsReleased");
        assert_eq!(
            released.description.as_deref(),
            Some("Customs clearance completed")
        );
        assert_eq!(sub(released), Some("RELEASED"));
        assert_eq!(released.country.as_deref(), Some("DE"));
        assert_eq!(released.city.as_deref(), Some("Frankfurt"));
        assert_eq!(released.facility, None);

        assert_eq!(sub(event(&parsed[1])), Some("ARRIVED_DEST"));

        // A time without an offset: that event alone is invalid.
        let time_problem = model::parse_time(NO_OFFSET).unwrap_err();
        assert_eq!(
            problems(&parsed[2]),
            [(
                "data.track_info.tracking.providers[0].events[2].time_iso",
                time_problem.as_str()
            )]
        );

        // The second provider; an unknown code is kept, unmapped.
        let handed = event(&parsed[3]);
        assert_eq!(handed.code, "InTransit_HandedOver");
        assert_eq!(handed.mapped, None);
        assert_eq!(handed.country.as_deref(), Some("CN"));
        assert_eq!(handed.at.offset_s, 8 * 3600);
        assert_eq!(sub(event(&parsed[4])), Some("DEPARTED"));
        let picked = event(&parsed[5]);
        assert_eq!(sub(picked), Some("PICKED_UP"));
        assert_eq!(utc(picked), "2026-11-24T02:21:00Z");
    }

    #[test]
    fn seventeen_track_structure() {
        let stopped = br#"{"event": "TRACKING_STOPPED", "data": {"number": "LX001000090CN"}}"#;
        assert_eq!(seventeen_track(stopped), Ok(vec![]));
        assert_eq!(malformed(seventeen_track(br#"{"data": {}}"#)), ["event"]);
        assert_eq!(
            malformed(seventeen_track(
                br#"{"event": "TRACKING_UPDATED", "data": {"track_info": {}}}"#
            )),
            ["data.number"]
        );
        assert_eq!(
            malformed(seventeen_track(
                br#"{"event": "TRACKING_UPDATED", "data": {"number": "LX1"}}"#
            )),
            ["data.track_info"]
        );
        let no_providers = br#"{"event": "TRACKING_UPDATED", "data": {"number": "LX1", "track_info": {"tracking": {}}}}"#;
        assert_eq!(
            malformed(seventeen_track(no_providers)),
            ["data.track_info.tracking.providers"]
        );

        let push = |number: &str, event: &str| {
            format!(
                r#"{{"event": "TRACKING_UPDATED", "data": {{"number": "{number}", "track_info": {{"tracking": {{"providers": [{{"provider": {{"key": 3011}}, "events": [{event}]}}, {{"provider": {{"key": 1}}, "events": null}}]}}}}}}}}"#
            )
        };
        let minimal = r#"{"time_iso": "2026-11-25T21:03:00+08:00", "sub_status": "Exception_Damage", "address": null}"#;
        let parsed = seventeen_track(push("LX1", minimal).as_bytes()).expect("a valid body");
        let damaged = event(&parsed[0]);
        assert_eq!(damaged.identity, id(&["LX1", "", "Exception_Damage", ""]));
        assert_eq!(sub(damaged), Some("EXCEPTION"));
        assert_eq!(
            (damaged.country.as_deref(), damaged.description.as_deref()),
            (None, None)
        );

        // A bad number spoils each event; other problems are listed beside it.
        let bad = r#"{"time_iso": "2026-11-25T21:03:00+08:00", "sub_status": "InfoReceived", "address": {"country": "cn", "city": ""}}"#;
        let parsed = seventeen_track(push("LX 1", bad).as_bytes()).expect("a valid body");
        assert_eq!(
            fields(&parsed[0]),
            [
                "data.number",
                "data.track_info.tracking.providers[0].events[0].address.country"
            ]
        );
        let empty_country = r#"{"time_iso": "2026-11-25T21:03:00+08:00", "sub_status": "InfoReceived", "address": {"country": ""}}"#;
        let parsed = seventeen_track(push("LX1", empty_country).as_bytes()).expect("a valid body");
        assert_eq!(event(&parsed[0]).country, None);
        let no_code = r#"{"time_iso": "2026-11-25T21:03:00+08:00"}"#;
        let parsed = seventeen_track(push("LX1", no_code).as_bytes()).expect("a valid body");
        assert_eq!(
            problems(&parsed[0]),
            [(
                "data.track_info.tracking.providers[0].events[0].sub_status",
                "required"
            )]
        );
    }

    // --- AfterShip -----------------------------------------------------------------------

    #[test]
    fn aftership_fixture_parses_checkpoint_by_checkpoint() {
        let body = fixture("aftership.json");
        let parsed = aftership(&body).expect("a valid body");
        assert_eq!(parsed.len(), 6);

        let picked = event(&parsed[0]);
        assert_eq!(picked.source, Source::AfterShip);
        assert_eq!(
            picked.identity,
            id(&[
                "00340434292135100186",
                "2026-11-24T10:58:00+08:00",
                "InTransit_002",
                "The shipment has been picked up"
            ])
        );
        assert_eq!(picked.time, "2026-11-24T10:58:00+08:00");
        assert_eq!(utc(picked), "2026-11-24T02:58:00Z");
        assert_eq!(
            (picked.code.as_str(), sub(picked)),
            ("InTransit_002", Some("PICKED_UP"))
        );
        assert_eq!(
            picked.description.as_deref(),
            Some("The shipment has been picked up")
        );
        assert_eq!(picked.country.as_deref(), Some("CN")); // CHN
        assert_eq!(picked.city.as_deref(), Some("Shenzhen"));
        assert_eq!(picked.raw_tag.as_deref(), Some("PU"));

        let hub = event(&parsed[1]);
        assert_eq!(
            (hub.country.as_deref(), sub(hub)),
            (Some("DE"), Some("HUB_IN"))
        ); // DEU

        let unknown = event(&parsed[2]);
        assert_eq!(
            (unknown.code.as_str(), unknown.mapped),
            ("InTransit_010", None)
        );
        assert_eq!(unknown.country.as_deref(), Some("US")); // USA
        assert_eq!(unknown.at.offset_s, -5 * 3600);

        // A date without a time or offset: that checkpoint alone is invalid.
        let time_problem = model::parse_time("2026-11-27").unwrap_err();
        assert_eq!(
            problems(&parsed[3]),
            [("msg.checkpoints[3].checkpoint_time", time_problem.as_str())]
        );

        // XKX (Kosovo) is no ISO code: no country, not invalid.
        let kosovo = event(&parsed[4]);
        assert_eq!(
            (kosovo.country.as_deref(), sub(kosovo)),
            (None, Some("IN_TRANSIT"))
        );

        let out = event(&parsed[5]);
        assert_eq!(
            (out.country.as_deref(), sub(out)),
            (Some("GB"), Some("OUT_FOR_DELIVERY"))
        ); // GBR
        assert_eq!(out.raw_tag.as_deref(), Some("OD"));

        assert_eq!(aftership_timestamp(&body), Some(1_795_858_212));
    }

    #[test]
    fn aftership_structure_and_timestamp() {
        let other = br#"{"event": "tracking_deleted", "ts": 1795858212, "msg": {}}"#;
        assert_eq!(aftership(other), Ok(vec![]));
        assert_eq!(
            malformed(aftership(br#"{"event": "tracking_update"}"#)),
            ["msg"]
        );
        assert_eq!(
            malformed(aftership(
                br#"{"event": "tracking_update", "msg": {"checkpoints": []}}"#
            )),
            ["msg.tracking_number"]
        );
        assert_eq!(
            malformed(aftership(
                br#"{"event": "tracking_update", "msg": {"tracking_number": "1Z"}}"#
            )),
            ["msg.checkpoints"]
        );
        let body = br#"{"event": "tracking_update", "msg": {"tracking_number": "1Z", "checkpoints": [{"checkpoint_time": "2026-11-24T10:58:00+08:00", "subtag": "Delivered_001", "country_region": 5}]}}"#;
        let parsed = aftership(body).expect("a valid body");
        assert_eq!(
            problems(&parsed[0]),
            [("msg.checkpoints[0].country_region", "must be a string")]
        );

        assert_eq!(
            aftership_timestamp(br#"{"ts": 1795858212}"#),
            Some(1_795_858_212)
        );
        assert_eq!(aftership_timestamp(br#"{"ts": -5}"#), Some(-5));
        assert_eq!(aftership_timestamp(br#"{"ts": 1795858212.5}"#), None);
        assert_eq!(aftership_timestamp(br#"{"ts": "1795858212"}"#), None);
        assert_eq!(
            aftership_timestamp(br#"{"ts": 18446744073709551615}"#),
            None
        );
        assert_eq!(
            aftership_timestamp(br#"{"event": "tracking_update"}"#),
            None
        );
        assert_eq!(aftership_timestamp(b"ts=1795858212"), None);
    }

    #[test]
    fn alpha3_table_is_complete_and_sorted() {
        assert_eq!(ALPHA3_TO_ALPHA2.len(), 249);
        assert!(
            ALPHA3_TO_ALPHA2.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, unique"
        );
        let mut alpha2: Vec<&str> = ALPHA3_TO_ALPHA2.iter().map(|(_, a2)| *a2).collect();
        alpha2.sort_unstable();
        alpha2.dedup();
        assert_eq!(alpha2.len(), 249, "alpha-2 codes are unique");
        for (a3, a2) in ALPHA3_TO_ALPHA2 {
            assert!(a3.len() == 3 && a3.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(a2.len() == 2 && a2.bytes().all(|b| b.is_ascii_uppercase()));
            assert_eq!(alpha2_of_alpha3(a3), Some(a2));
        }
        for (a3, a2) in [
            ("AFG", "AF"),
            ("DEU", "DE"),
            ("CHN", "CN"),
            ("USA", "US"),
            ("GBR", "GB"),
            ("ALA", "AX"),
            ("ZWE", "ZW"),
            ("ABW", "AW"),
        ] {
            assert_eq!(alpha2_of_alpha3(a3), Some(a2));
        }
        for unknown in ["XKX", "deu", "DE", "", "DEUX", "UK"] {
            assert_eq!(alpha2_of_alpha3(unknown), None, "{unknown}");
        }
        assert!(is_assigned_alpha2("AF") && !is_assigned_alpha2("XK") && !is_assigned_alpha2("UK"));
    }

    // --- UPU EMSEVT ----------------------------------------------------------------------

    #[test]
    fn upu_edi_fixture_parses_row_by_row() {
        let parsed = upu_edi(&fixture("upu-edi.csv")).expect("a valid body");
        assert_eq!(parsed.len(), 8);

        let posted = event(&parsed[0]);
        assert_eq!(posted.source, Source::UpuEdi);
        assert_eq!(
            posted.identity,
            id(&[
                "EE123456785CN",
                "EMA",
                "2026-11-24T09:12:00+08:00",
                "518000"
            ])
        );
        assert_eq!(posted.tracking_number, "EE123456785CN");
        assert_eq!(utc(posted), "2026-11-24T01:12:00Z");
        assert_eq!(
            (posted.code.as_str(), sub(posted)),
            ("EMA", Some("PICKED_UP"))
        );
        assert_eq!(posted.facility.as_deref(), Some("518000"));
        assert_eq!(posted.country.as_deref(), Some("CN"));
        assert_eq!(posted.city.as_deref(), Some("Shenzhen"));
        assert_eq!(posted.raw_tag, None);
        assert_eq!(posted.description.as_deref(), Some("Posting/collection"));

        let export = event(&parsed[1]);
        assert_eq!((export.code.as_str(), export.mapped), ("EXA", None));
        assert_eq!(sub(event(&parsed[2])), Some("DEPARTED"));
        assert_eq!(sub(event(&parsed[3])), Some("ARRIVED_DEST"));

        let customs = event(&parsed[4]);
        assert_eq!(sub(customs), Some("IN_CUSTOMS"));
        assert_eq!(
            customs.description.as_deref(),
            Some("Presented to import customs, awaiting \"duty\" assessment")
        );

        // A quoted description across a line break, and the reason code kept.
        let attempt = event(&parsed[5]);
        assert_eq!(sub(attempt), Some("ATTEMPT_FAILED"));
        assert_eq!(
            attempt.description.as_deref(),
            Some("Unsuccessful delivery attempt:\r\naddressee absent, card left")
        );
        assert_eq!(attempt.raw_tag.as_deref(), Some("13"));
        assert_eq!(attempt.facility.as_deref(), Some("GBLONA"));
        assert_eq!(attempt.at.offset_s, 0);

        let time_problem = model::parse_time("2026-11-28 15:02:00").unwrap_err();
        assert_eq!(
            problems(&parsed[6]),
            [("rows[6].event_time", time_problem.as_str())]
        );

        let delivered = event(&parsed[7]);
        assert_eq!(sub(delivered), Some("DELIVERED"));
        assert_eq!(delivered.time, "2026-11-29T16:47:00.250-05:00");
        assert_eq!(utc(delivered), "2026-11-29T21:47:00.250Z");
        assert_eq!(delivered.country.as_deref(), Some("US"));
    }

    #[test]
    fn upu_edi_reader_follows_rfc_4180() {
        let header = UPU_EDI_HEADER;
        let ok = "EE1,EMI,2026-11-28T15:02:00+00:00,GBLONA,GB,London,,Delivered";
        // LF line ends, no final line end, a byte-order mark, blank lines.
        let body = format!("\u{feff}{header}\n\n{ok}\n\n{ok}");
        let parsed = upu_edi(body.as_bytes()).expect("a valid body");
        assert_eq!(parsed.len(), 2);
        assert!(parsed.iter().all(|p| matches!(p, Parsed::Event(_))));
        assert_eq!(upu_edi(format!("{header}\r\n").as_bytes()), Ok(vec![]));
        assert_eq!(upu_edi(header.as_bytes()), Ok(vec![]));

        // Row problems are per row; rows count data rows from 0.
        let body = format!(
            "{header}\r\n{ok}\r\nEE1,EMI\r\nEE1,EMI,2026-11-28T15:02:00Z,\"GB\"LON,GB,London,,x\r\nEE1,EMI,2026-11-28T15:02:00Z,GB\"LON,GB,London,,x\r\n\
             \"\",,2026-11-28T15:02:00Z,,gb,,,\r\n{ok}\r\n"
        );
        let parsed = upu_edi(body.as_bytes()).expect("a valid body");
        assert_eq!(parsed.len(), 6);
        assert!(matches!(parsed[0], Parsed::Event(_)));
        assert_eq!(problems(&parsed[1]), [("rows[1]", "has 2 fields, not 8")]);
        assert_eq!(
            problems(&parsed[2]),
            [("rows[2]", "text after the closing quote of a field")]
        );
        assert_eq!(
            problems(&parsed[3]),
            [("rows[3]", "a quote inside an unquoted field")]
        );
        assert_eq!(
            fields(&parsed[4]),
            [
                "rows[4].mail_item_id",
                "rows[4].event_code",
                "rows[4].country"
            ]
        );
        assert!(matches!(parsed[5], Parsed::Event(_)));

        // Quoted fields: empty, commas, doubled quotes; an empty office is no facility.
        let quoted = format!(
            "{header}\r\n\"EE1\",\"EMI\",\"2026-11-28T15:02:00Z\",\"\",\"GB\",\"London, City\",\"\",\"a \"\"b\"\", c\"\r\n"
        );
        let parsed = upu_edi(quoted.as_bytes()).expect("a valid body");
        let delivered = event(&parsed[0]);
        assert_eq!(
            delivered.identity,
            id(&["EE1", "EMI", "2026-11-28T15:02:00Z", ""])
        );
        assert_eq!(delivered.facility, None);
        assert_eq!(delivered.city.as_deref(), Some("London, City"));
        assert_eq!(delivered.description.as_deref(), Some("a \"b\", c"));

        // Refused whole: a wrong header, no header, an unclosed quote, not UTF-8.
        assert_eq!(malformed(upu_edi(b"")), ["header"]);
        assert_eq!(malformed(upu_edi(ok.as_bytes())), ["header"]);
        let reordered =
            "event_code,mail_item_id,event_time,office_code,country,city,reason_code,description";
        assert_eq!(malformed(upu_edi(reordered.as_bytes())), ["header"]);
        assert_eq!(
            malformed(upu_edi(format!("{header},extra\r\n").as_bytes())),
            ["header"]
        );
        assert_eq!(
            malformed(upu_edi(
                format!("{header}\r\n{ok}\r\nEE1,\"EMI\r\n").as_bytes()
            )),
            ["rows[1]"]
        );
        assert_eq!(malformed(upu_edi(b"\"mail_item_id")), ["header"]);
        assert_eq!(malformed(upu_edi(&[0xff, 0xfe, b'a'])), ["body"]);
    }

    // --- Poll ----------------------------------------------------------------------------

    #[test]
    fn poll_fixture_parses_a_page() {
        let page = poll_page(&fixture("poll_page.json")).expect("a valid page");
        assert_eq!(page.next_cursor.as_deref(), Some("eyJzZXEiOjEyMn0"));
        assert!(page.has_more);
        assert_eq!(page.events.len(), 5);

        let arrived = event(&page.events[0]);
        assert_eq!(arrived.source, Source::Poll);
        assert_eq!(arrived.identity, "ev_20261126_000118");
        assert_eq!(arrived.tracking_number, "XB2611240001DE");
        assert_eq!(
            (arrived.code.as_str(), sub(arrived)),
            ("ARRIVED_DEST", Some("ARRIVED_DEST"))
        );
        assert_eq!(arrived.time, "2026-11-26T07:40:00+01:00");
        assert_eq!(utc(arrived), "2026-11-26T06:40:00Z");
        assert_eq!(arrived.country.as_deref(), Some("DE"));
        assert_eq!(arrived.city.as_deref(), Some("Leipzig"));
        assert_eq!(arrived.facility.as_deref(), Some("LEJ-SC1"));

        let unknown = event(&page.events[1]);
        assert_eq!(
            (unknown.code.as_str(), unknown.mapped),
            ("HANDED_TO_PARTNER", None)
        );
        assert_eq!(unknown.facility, None);

        let out = event(&page.events[2]);
        assert_eq!(
            (sub(out), out.description.as_deref()),
            (Some("OUT_FOR_DELIVERY"), None)
        );

        assert_eq!(
            fields(&page.events[3]),
            ["events[3].tracking_number", "events[3].location.country"]
        );

        let delivered = event(&page.events[4]);
        assert_eq!(sub(delivered), Some("DELIVERED"));
        assert_eq!(delivered.mapped.map(|m| m.status), Some(Status::Delivered));
        assert_eq!(
            (delivered.country.as_deref(), delivered.at.offset_s),
            (None, 0)
        );
    }

    #[test]
    fn poll_page_structure() {
        let last = poll_page(br#"{"events": [], "next_cursor": null, "has_more": false}"#);
        assert_eq!(
            last,
            Ok(PollPage {
                events: vec![],
                next_cursor: None,
                has_more: false
            })
        );
        assert_eq!(malformed(poll_page(br#"{"has_more": false}"#)), ["events"]);
        assert_eq!(malformed(poll_page(br#"{"events": []}"#)), ["has_more"]);
        assert_eq!(
            malformed(poll_page(br#"{"events": [], "has_more": "no"}"#)),
            ["has_more"]
        );
        assert_eq!(
            malformed(poll_page(br#"{"events": [], "has_more": true}"#)),
            ["next_cursor"]
        );
        assert_eq!(
            malformed(poll_page(
                br#"{"events": [], "has_more": false, "next_cursor": 7}"#
            )),
            ["next_cursor"]
        );
        let page =
            poll_page(br#"{"events": [{"id": "e1"}, "x"], "has_more": false}"#).expect("a page");
        assert_eq!(
            fields(&page.events[0]),
            [
                "events[0].tracking_number",
                "events[0].code",
                "events[0].time"
            ]
        );
        assert_eq!(
            problems(&page.events[1]),
            [("events[1]", "must be an object")]
        );
    }

    // --- Signatures ----------------------------------------------------------------------

    /// Flips one bit of the `i`-th byte.
    fn flipped(bytes: &[u8], i: usize) -> Vec<u8> {
        let mut bytes = bytes.to_vec();
        bytes[i] ^= 0x01;
        bytes
    }

    #[test]
    fn seventeen_track_signature() {
        // python3: hashlib.sha256(body + b"/" + b"sk_17t_test_secret").hexdigest()
        let body = br#"{"event":"TRACKING_UPDATED","data":{"number":"LX001000090CN"}}"#;
        let secret = "sk_17t_test_secret";
        let expected = "0f84131f2ddd608b56317ac5edfe97fa605a8b15577c18eecd873ea7ce9d8723";
        assert_eq!(sign_17track(body, secret), expected);
        assert!(verify_17track(body, secret, expected));
        assert!(verify_17track(body, secret, &expected.to_uppercase()));
        assert!(!verify_17track(&flipped(body, 10), secret, expected));
        assert!(!verify_17track(body, "sk_17t_test_secreT", expected));
        assert!(!verify_17track(body, "", &sign_17track(body, "")));
        let wrong_digit = format!("1{}", &expected[1..]);
        assert!(!verify_17track(body, secret, &wrong_digit));
        for garbage in [
            "",
            "0f84",
            &expected[..63],
            &format!("{expected}00"),
            &format!("{}zz", &expected[..62]),
            "é",
        ] {
            assert!(!verify_17track(body, secret, garbage), "{garbage}");
        }

        let fixture = fixture("17track.json");
        let sign = sign_17track(&fixture, secret);
        assert!(verify_17track(&fixture, secret, &sign));
        assert!(!verify_17track(
            &flipped(&fixture, fixture.len() / 2),
            secret,
            &sign
        ));
    }

    #[test]
    fn aftership_signature() {
        // python3: base64.b64encode(hmac.new(b"as_webhook_secret_9f2c", body, hashlib.sha256).digest())
        let body = br#"{"event":"tracking_update","ts":1795858212,"msg":{"tracking_number":"00340434292135100186","checkpoints":[]}}"#;
        let secret = "as_webhook_secret_9f2c";
        let expected = "UqrdSVkwdb5k0JhVALbgvuT5Ecqrptr8Fnmpmxk1VNg=";
        assert_eq!(sign_aftership(body, secret), expected);
        assert!(verify_aftership(body, secret, expected));
        assert!(!verify_aftership(&flipped(body, 3), secret, expected));
        assert!(!verify_aftership(body, "as_webhook_secret_9f2d", expected));
        assert!(!verify_aftership(body, "", &sign_aftership(body, "")));
        let tampered = format!("V{}", &expected[1..]);
        assert!(!verify_aftership(body, secret, &tampered));
        for garbage in [
            "",
            "!!!!",
            "UqrdSVkwdb5k0JhVALbgvuT5",
            &expected[..43],
            "sha256=UqrdSVkw",
            "é",
        ] {
            assert!(!verify_aftership(body, secret, garbage), "{garbage}");
        }

        let fixture = fixture("aftership.json");
        let sign = sign_aftership(&fixture, secret);
        assert!(verify_aftership(&fixture, secret, &sign));
        assert!(!verify_aftership(&flipped(&fixture, 0), secret, &sign));
    }

    #[test]
    fn standard_webhooks_signature() {
        // python3: key = base64.b64decode("MzJieXRlc2VjcmV0MzJieXRlc2VjcmV0MzJieXQ=");
        // base64.b64encode(hmac.new(key, b"msg_2Kz9vTqk1X.1795858212." + body, hashlib.sha256).digest())
        let secret = "whsec_MzJieXRlc2VjcmV0MzJieXRlc2VjcmV0MzJieXQ=";
        let body = format!("{UPU_EDI_HEADER}\r\n");
        let body = body.as_bytes();
        let (id, ts) = ("msg_2Kz9vTqk1X", 1_795_858_212);
        let expected = "v1,6rE2PExLlaIXaiohbqJOrtY7eEiV6sxWt1oD9Nn9yQI=";
        assert_eq!(
            sign_standard(body, secret, id, ts).as_deref(),
            Some(expected)
        );
        assert!(verify_standard(body, secret, id, ts, expected));

        // The published Standard Webhooks test vector.
        let spec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let spec_body = br#"{"test": 2432232314}"#;
        let spec_sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        let spec_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        assert_eq!(
            sign_standard(spec_body, spec, spec_id, 1_614_265_330).as_deref(),
            Some(spec_sig)
        );
        assert!(verify_standard(
            spec_body,
            spec,
            spec_id,
            1_614_265_330,
            spec_sig
        ));

        // Refused: a flipped body byte, another id or timestamp, a wrong secret, a missing
        // prefix, garbage base64, a truncated signature, nothing.
        assert!(!verify_standard(
            &flipped(body, 0),
            secret,
            id,
            ts,
            expected
        ));
        assert!(!verify_standard(
            body,
            secret,
            "msg_2Kz9vTqk1Y",
            ts,
            expected
        ));
        assert!(!verify_standard(body, secret, id, ts + 1, expected));
        assert!(!verify_standard(body, spec, id, ts, expected));
        let bare = &expected["v1,".len()..];
        assert!(!verify_standard(body, secret, id, ts, bare));
        assert!(!verify_standard(
            body,
            secret,
            id,
            ts,
            &format!("v2,{bare}")
        ));
        assert!(!verify_standard(
            body,
            "MzJieXRlc2VjcmV0MzJieXRlc2VjcmV0MzJieXQ=",
            id,
            ts,
            expected
        ));
        assert_eq!(
            sign_standard(body, "MzJieXRlc2VjcmV0MzJieXRlc2VjcmV0MzJieXQ=", id, ts),
            None
        );
        assert!(!verify_standard(
            body,
            "whsec_!!notbase64",
            id,
            ts,
            expected
        ));
        assert_eq!(sign_standard(body, "whsec_", id, ts), None);
        for garbage in [
            "",
            " ",
            "v1,",
            "v1,!!!!",
            "v1,6rE2PExLlaIXaiohbqJOrtY7",
            "v1,6rE2PExL laIXaiohbqJOrtY7eEiV6sxWt1oD9Nn9yQI=",
        ] {
            assert!(!verify_standard(body, secret, id, ts, garbage), "{garbage}");
        }

        // Several signatures: any one matching passes, wherever it stands.
        let other = sign_standard(body, spec, id, ts).expect("a valid secret");
        assert!(verify_standard(
            body,
            secret,
            id,
            ts,
            &format!("{other} {expected}")
        ));
        assert!(verify_standard(
            body,
            secret,
            id,
            ts,
            &format!("v1a,abc  {expected} v1,!!")
        ));
        assert!(!verify_standard(
            body,
            secret,
            id,
            ts,
            &format!("{other} v1,!!")
        ));

        let fixture = fixture("upu-edi.csv");
        let sig = sign_standard(&fixture, secret, id, ts).expect("a valid secret");
        assert!(verify_standard(&fixture, secret, id, ts, &sig));
        assert!(!verify_standard(
            &flipped(&fixture, 100),
            secret,
            id,
            ts,
            &sig
        ));
    }

    // --- Robustness ----------------------------------------------------------------------

    const FIXTURES: [&str; 5] = [
        "hub_scans.json",
        "17track.json",
        "aftership.json",
        "upu-edi.csv",
        "poll_page.json",
    ];

    /// Every parser and verifier on `body`: they may refuse it, never panic.
    fn feed(body: &[u8]) {
        let _ = hub_scans(body);
        let _ = seventeen_track(body);
        let _ = aftership(body);
        let _ = aftership_timestamp(body);
        let _ = upu_edi(body);
        let _ = poll_page(body);
        let text = String::from_utf8_lossy(body);
        let _ = verify_17track(body, "s", &text);
        let _ = verify_aftership(body, "s", &text);
        let _ = verify_standard(body, "whsec_c2VjcmV0", &text, 0, &text);
        let _ = verify_standard(body, &text, "id", i64::MIN, "v1,c2VjcmV0");
        let _ = sign_standard(body, &text, "id", i64::MAX);
    }

    /// A small xorshift generator: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn no_panics_on_truncations_of_the_fixtures() {
        for name in FIXTURES {
            let body = fixture(name);
            for end in 0..=body.len() {
                feed(&body[..end]);
                feed(&body[end..]);
            }
        }
    }

    #[test]
    fn no_panics_on_mutated_fixtures_or_random_bytes() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Bytes that steer the parsers into their corners.
        const SPICE: &[u8] = b"\"\\,\r\n{}[]:0-+.eE \x1f\xff\xc3";
        for name in FIXTURES {
            let body = fixture(name);
            for _ in 0..2_000 {
                let mut mutated = body.clone();
                for _ in 0..=rng.below(4) {
                    let i = rng.below(mutated.len());
                    match rng.below(3) {
                        0 => mutated[i] = SPICE[rng.below(SPICE.len())],
                        1 => mutated[i] = rng.next() as u8,
                        _ => {
                            mutated.remove(i);
                        }
                    }
                }
                feed(&mutated);
            }
        }
        for _ in 0..3_000 {
            let len = rng.below(200);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(2) == 0 {
                        SPICE[rng.below(SPICE.len())]
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            feed(&bytes);
        }
    }

    #[test]
    fn every_fixture_parses_with_its_own_parser_only() {
        assert!(hub_scans(&fixture("hub_scans.json")).is_ok());
        assert!(seventeen_track(&fixture("17track.json")).is_ok());
        assert!(aftership(&fixture("aftership.json")).is_ok());
        assert!(upu_edi(&fixture("upu-edi.csv")).is_ok());
        assert!(poll_page(&fixture("poll_page.json")).is_ok());
        // The hub body refuses the others' fields; the CSV reader their missing header.
        assert!(hub_scans(&fixture("poll_page.json")).is_err());
        assert!(upu_edi(&fixture("hub_scans.json")).is_err());
    }
}
