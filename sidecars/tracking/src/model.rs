//! The normalised tracking model (tracking.md, "Events and status"): statuses with their
//! ranks, sub-statuses with their segments, the mapping of every source's codes, event
//! times, and a parcel's status as a pure function of the set of its events.
//!
//! Pure: no I/O, clock, async, SQL or serde (components.md, rule 5).
//!
//! ## Status is a maximum
//!
//! The contract orders a parcel's events by instant, then rank, then `sub_status` (byte
//! order), and takes as deciding event the last `delivered`, else the last `returned`,
//! else the last event. That is the maximum of the events under the key
//! ([`class`](Decider::class), instant, rank, `sub_status`) where the class is 2 for
//! `delivered`, 1 for `returned` and 0 for the rest: a maximum does not depend on the order
//! in which events arrive, how they are batched or how often one is repeated, so the store
//! keeps only the current maximum per parcel and folds each new event into it
//! ([`Decider::max`]). Ties on the whole key are broken by the event's source identity,
//! so even two different events with equal keys decide the same way in any order.

use crate::report::{Date, days_in_month};
use std::cmp::Ordering;

/// Customer-facing statuses, in rank order (the contract's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    InfoReceived = 1,
    InTransit = 2,
    AtHub = 3,
    LineHaul = 4,
    CustomsHold = 5,
    CustomsCleared = 6,
    OutForDelivery = 7,
    AttemptFailed = 8,
    AvailableForPickup = 9,
    Exception = 10,
    Expired = 11,
    Returned = 12,
    Delivered = 13,
}

impl Status {
    pub const ALL: [Status; 13] = [
        Status::InfoReceived,
        Status::InTransit,
        Status::AtHub,
        Status::LineHaul,
        Status::CustomsHold,
        Status::CustomsCleared,
        Status::OutForDelivery,
        Status::AttemptFailed,
        Status::AvailableForPickup,
        Status::Exception,
        Status::Expired,
        Status::Returned,
        Status::Delivered,
    ];

    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::InfoReceived => "info_received",
            Status::InTransit => "in_transit",
            Status::AtHub => "at_hub",
            Status::LineHaul => "line_haul",
            Status::CustomsHold => "customs_hold",
            Status::CustomsCleared => "customs_cleared",
            Status::OutForDelivery => "out_for_delivery",
            Status::AttemptFailed => "attempt_failed",
            Status::AvailableForPickup => "available_for_pickup",
            Status::Exception => "exception",
            Status::Expired => "expired",
            Status::Returned => "returned",
            Status::Delivered => "delivered",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Transport segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    FirstMile,
    Hub,
    LineHaul,
    Customs,
    LastMile,
}

impl Segment {
    pub const ALL: [Segment; 5] = [
        Segment::FirstMile,
        Segment::Hub,
        Segment::LineHaul,
        Segment::Customs,
        Segment::LastMile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::FirstMile => "first_mile",
            Segment::Hub => "hub",
            Segment::LineHaul => "line_haul",
            Segment::Customs => "customs",
            Segment::LastMile => "last_mile",
        }
    }

    pub fn parse(text: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A sub-status of the contract's table: its status and its segment (`None`: `*`, the
/// previous event's segment in the parcel's order, `first_mile` if none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub status: Status,
    pub sub_status: &'static str,
    pub segment: Option<Segment>,
}

/// The contract's sub-statuses, in table order.
pub const SUB_STATUSES: [Mapped; 20] = {
    use Segment::*;
    use Status::*;
    const fn m(status: Status, sub_status: &'static str, segment: Option<Segment>) -> Mapped {
        Mapped {
            status,
            sub_status,
            segment,
        }
    }
    [
        m(InfoReceived, "INFO", Some(FirstMile)),
        m(InTransit, "PICKED_UP", Some(FirstMile)),
        m(InTransit, "IN_TRANSIT", Some(Segment::LineHaul)),
        m(InTransit, "ARRIVED_DEST", Some(Segment::LineHaul)),
        m(InTransit, "AT_DELIVERY_OFFICE", Some(LastMile)),
        m(AtHub, "HUB_IN", Some(Hub)),
        m(AtHub, "WEIGHED", Some(Hub)),
        m(AtHub, "BAGGED", Some(Hub)),
        m(Status::LineHaul, "DEPARTED", Some(Segment::LineHaul)),
        m(CustomsHold, "IN_CUSTOMS", Some(Customs)),
        m(CustomsHold, "INFO_REQUIRED", Some(Customs)),
        m(CustomsCleared, "RELEASED", Some(Customs)),
        m(OutForDelivery, "OUT_FOR_DELIVERY", Some(LastMile)),
        m(AttemptFailed, "ATTEMPT_FAILED", Some(LastMile)),
        m(AvailableForPickup, "AT_PICKUP_POINT", Some(LastMile)),
        m(Exception, "EXCEPTION", None),
        m(Exception, "RETURNING", None),
        m(Expired, "EXPIRED", None),
        m(Returned, "RETURNED", None),
        m(Delivered, "DELIVERED", Some(LastMile)),
    ]
};

/// The row of `sub_status` (our own code, as poll carriers send it).
pub fn sub_status(code: &str) -> Option<Mapped> {
    SUB_STATUSES.iter().copied().find(|m| m.sub_status == code)
}

fn known(sub: &str) -> Mapped {
    // Only called with the table's own names.
    sub_status(sub).unwrap_or(SUB_STATUSES[0])
}

/// Where an event came from; each has its own code list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Hub,
    SeventeenTrack,
    AfterShip,
    UpuEdi,
    Poll,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Hub => "hub",
            Source::SeventeenTrack => "17track",
            Source::AfterShip => "aftership",
            Source::UpuEdi => "upu-edi",
            Source::Poll => "poll",
        }
    }

    /// A carrier connection's `format`.
    pub fn parse_format(text: &str) -> Option<Source> {
        match text {
            "17track" => Some(Source::SeventeenTrack),
            "aftership" => Some(Source::AfterShip),
            "upu-edi" => Some(Source::UpuEdi),
            "poll" => Some(Source::Poll),
            _ => None,
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        if text == "hub" {
            Some(Source::Hub)
        } else {
            Source::parse_format(text)
        }
    }
}

/// Hub scan types and what they mean.
pub const HUB_TYPES: [(&str, &str); 4] = [
    ("scan", "HUB_IN"),
    ("weigh", "WEIGHED"),
    ("bag", "BAGGED"),
    ("despatch", "DEPARTED"),
];

/// Maps a source's code to the contract's sub-status; `None`: an unmapped code (kept and
/// listed as `unknown_code`).
pub fn map_code(source: Source, code: &str) -> Option<Mapped> {
    let sub = match source {
        Source::Hub => HUB_TYPES.iter().find(|(t, _)| *t == code).map(|(_, s)| *s),
        Source::Poll => return sub_status(code),
        Source::SeventeenTrack => seventeen_track(code),
        Source::AfterShip => aftership(code),
        Source::UpuEdi => emsevt(code),
    }?;
    Some(known(sub))
}

fn seventeen_track(code: &str) -> Option<&'static str> {
    Some(match code {
        "InfoReceived" => "INFO",
        "InTransit_PickedUp" => "PICKED_UP",
        "InTransit_Other" => "IN_TRANSIT",
        "InTransit_Arrival" => "ARRIVED_DEST",
        "InTransit_Departure" => "DEPARTED",
        "InTransit_CustomsProcessing" => "IN_CUSTOMS",
        "InTransit_CustomsRequiringInformation" => "INFO_REQUIRED",
        "InTransit_CustomsReleased" => "RELEASED",
        "OutForDelivery_Other" => "OUT_FOR_DELIVERY",
        "AvailableForPickup_Other" => "AT_PICKUP_POINT",
        "Exception_Returning" => "RETURNING",
        "Exception_Returned" => "RETURNED",
        "Expired_Other" => "EXPIRED",
        "Delivered_Other" => "DELIVERED",
        _ if code.starts_with("DeliveryFailure_") => "ATTEMPT_FAILED",
        _ if code.starts_with("Exception_") => "EXCEPTION",
        _ => return None,
    })
}

fn aftership(code: &str) -> Option<&'static str> {
    Some(match code {
        "InfoReceived_001" => "INFO",
        "InTransit_002" => "PICKED_UP",
        "InTransit_001" | "InTransit_008" | "InTransit_009" => "IN_TRANSIT",
        "InTransit_004" => "ARRIVED_DEST",
        "InTransit_003" => "HUB_IN",
        "InTransit_007" => "DEPARTED",
        "InTransit_006" => "IN_CUSTOMS",
        "Exception_004" => "INFO_REQUIRED",
        "InTransit_005" => "RELEASED",
        "OutForDelivery_001" | "OutForDelivery_003" | "OutForDelivery_004" => "OUT_FOR_DELIVERY",
        "AttemptFail_001" | "AttemptFail_002" | "AttemptFail_003" => "ATTEMPT_FAILED",
        "AvailableForPickup_001" => "AT_PICKUP_POINT",
        "Exception_010" => "RETURNING",
        "Exception_011" => "RETURNED",
        "Expired_001" => "EXPIRED",
        "Delivered_001" | "Delivered_002" | "Delivered_003" | "Delivered_004" | "Delivered_005" => {
            "DELIVERED"
        }
        _ => {
            // "other Exception_0xx": Exception_ and three digits starting with 0.
            let rest = code.strip_prefix("Exception_0")?;
            if rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()) {
                "EXCEPTION"
            } else {
                return None;
            }
        }
    })
}

fn emsevt(code: &str) -> Option<&'static str> {
    Some(match code {
        "EMA" => "PICKED_UP",
        "EMJ" => "IN_TRANSIT",
        "EMD" => "ARRIVED_DEST",
        "EMG" => "AT_DELIVERY_OFFICE",
        "EMB" | "EDD" => "HUB_IN",
        "EMC" | "EMK" => "DEPARTED",
        "EDB" | "EME" => "IN_CUSTOMS",
        "EDC" | "EMF" => "RELEASED",
        "EDG" => "OUT_FOR_DELIVERY",
        "EMH" => "ATTEMPT_FAILED",
        "EDH" => "AT_PICKUP_POINT",
        "EMI" => "DELIVERED",
        _ => return None,
    })
}

/// An event time as a source gave it: RFC 3339 with a required offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventTime {
    /// Milliseconds since the Unix epoch (UTC).
    pub instant_ms: i64,
    /// The source's offset from UTC, in seconds.
    pub offset_s: i32,
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T` or a space; `z` or `Z`). A time
/// without an offset is refused: the contract keeps the source's offset, and a local time
/// without one names no instant. Fractions beyond milliseconds are cut (toward the past).
pub fn parse_time(text: &str) -> Result<EventTime, String> {
    const BAD: &str = "not an RFC 3339 time with an offset (2026-11-24T16:15:00+08:00)";
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err(BAD.into());
    }
    let num = |from: usize, len: usize| -> Result<i64, String> {
        let part = b.get(from..from + len).ok_or(BAD)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(BAD.into());
        }
        Ok(part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |at: usize, what: &[u8]| b.get(at).is_some_and(|c| what.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return Err(BAD.into());
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > i64::from(days_in_month(year as i32, month as u32))
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(BAD.into());
    }
    let mut at = 19;
    let mut millis = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                millis = millis * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        let digits = at - start;
        if digits == 0 {
            return Err(BAD.into());
        }
        for _ in digits..3 {
            millis *= 10;
        }
    }
    let offset_s = match b.get(at) {
        Some(b'Z' | b'z') if b.len() == at + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == at + 6 && b[at + 3] == b':' => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if h > 23 || m > 59 {
                return Err(BAD.into());
            }
            let s = (h * 3600 + m * 60) as i32;
            if *sign == b'-' { -s } else { s }
        }
        _ => return Err(BAD.into()),
    };
    // A leap second reads as the next second's start.
    let days = Date {
        year: year as i32,
        month: month as u32,
        day: day as u32,
    }
    .to_unix_days();
    let local_s = days * 86_400 + hour * 3600 + minute * 60 + second;
    Ok(EventTime {
        instant_ms: (local_s - i64::from(offset_s)) * 1000 + millis,
        offset_s,
    })
}

/// RFC 3339 in UTC with milliseconds only when there are some (`2026-11-24T08:15:00Z`).
pub fn utc_text(instant_ms: i64) -> String {
    let secs = instant_ms.div_euclid(1000);
    let ms = instant_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let Date {
        year: y,
        month: m,
        day: d,
    } = Date::from_unix_days(days);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if ms == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{ms:03}Z")
    }
}

/// An event's place in the deciding order: what [`Decider::max`] compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decider {
    pub instant_ms: i64,
    pub status: Status,
    pub sub_status: String,
    /// The event's source identity: breaks ties between different events with equal keys.
    pub identity: String,
}

impl Decider {
    /// 2 for `delivered`, 1 for `returned`, 0 otherwise.
    pub fn class(&self) -> u8 {
        match self.status {
            Status::Delivered => 2,
            Status::Returned => 1,
            _ => 0,
        }
    }

    /// The contract's event order (instant, rank, `sub_status`, then identity).
    pub fn order(&self, other: &Decider) -> Ordering {
        self.instant_ms
            .cmp(&other.instant_ms)
            .then(self.status.rank().cmp(&other.status.rank()))
            .then_with(|| self.sub_status.as_bytes().cmp(other.sub_status.as_bytes()))
            .then_with(|| self.identity.cmp(&other.identity))
    }

    /// Which of two events decides: the later `delivered`, else the later `returned`, else
    /// the later event.
    pub fn decides_over(&self, other: &Decider) -> bool {
        self.class()
            .cmp(&other.class())
            .then_with(|| self.order(other))
            == Ordering::Greater
    }

    /// The deciding event of `current` and `new`.
    pub fn max(current: Option<Decider>, new: Decider) -> Decider {
        match current {
            Some(c) if !new.decides_over(&c) => c,
            _ => new,
        }
    }
}

/// A parcel's status: the deciding event's (no events: `info_received`, `REGISTERED`, no
/// time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Derived {
    pub status: Status,
    pub sub_status: String,
    /// The deciding event's instant.
    pub status_time_ms: Option<i64>,
}

impl Derived {
    pub fn registered() -> Derived {
        Derived {
            status: Status::InfoReceived,
            sub_status: "REGISTERED".into(),
            status_time_ms: None,
        }
    }

    pub fn of(decider: Option<&Decider>) -> Derived {
        match decider {
            None => Derived::registered(),
            Some(d) => Derived {
                status: d.status,
                sub_status: d.sub_status.clone(),
                status_time_ms: Some(d.instant_ms),
            },
        }
    }
}

/// The status of a set of events, straight from the contract's words: sort, then take the
/// last `delivered`, else the last `returned`, else the last event. The reference the
/// folded form ([`Decider::max`]) is tested against.
pub fn derive(events: &[Decider]) -> Derived {
    let mut sorted: Vec<&Decider> = events.iter().collect();
    sorted.sort_by(|a, b| a.order(b));
    let last_of = |s: Status| sorted.iter().rev().find(|e| e.status == s).copied();
    let deciding = last_of(Status::Delivered)
        .or_else(|| last_of(Status::Returned))
        .or_else(|| sorted.last().copied());
    Derived::of(deciding)
}

/// Resolves `*` segments over events already in the contract's order: each takes the
/// previous event's segment (`first_mile` for the first).
pub fn resolve_segments(segments: &[Option<Segment>]) -> Vec<Segment> {
    let mut previous = Segment::FirstMile;
    segments
        .iter()
        .map(|s| {
            let s = s.unwrap_or(previous);
            previous = s;
            s
        })
        .collect()
}

/// A lane: shipper and recipient countries (`CN-DE`).
pub fn lane(from: &str, to: &str) -> String {
    format!("{from}-{to}")
}
