//! rate-book.md **segments**: the transport legs of a service (labels and tracking; no
//! effect on price).

use super::compile::Compiler;
use crate::source::{RowNo, SourceBook};
use std::collections::HashMap;

/// One transport segment of a service (for labels and tracking; no effect on price).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub service: u32,
    pub seq: u32,
    pub kind: Box<str>,
    pub carrier: Box<str>,
    pub label: Box<str>,
}

impl Compiler {
    pub(super) fn segments(
        &mut self,
        src: &SourceBook,
        by_code: &HashMap<Box<str>, u32>,
    ) -> Vec<Segment> {
        let t = "segments";
        let mut out: Vec<Segment> = Vec::new();
        let mut seen: HashMap<(&str, i64), RowNo> = HashMap::new();
        for r in &src.segments {
            let service = by_code.get(r.service_code.as_str()).copied();
            if service.is_none() {
                self.unknown_service(t, r.row, &r.service_code, "");
            }
            let seq = self.whole(t, r.row, "seq", r.seq, 0);
            if !matches!(
                r.kind.as_str(),
                "first_mile" | "hub" | "line_haul" | "customs" | "last_mile"
            ) {
                self.err(
                    t,
                    r.row,
                    "kind",
                    format!(
                        "{:?} is not one of first_mile, hub, line_haul, customs, last_mile",
                        r.kind
                    ),
                );
            }
            let ok =
                self.text(t, r.row, "carrier", &r.carrier) & self.text(t, r.row, "label", &r.label);
            if let Some(first) = seen.insert((&r.service_code, r.seq), r.row) {
                self.err(
                    t,
                    r.row,
                    "seq",
                    format!("duplicates row {first} (same service_code and seq)"),
                );
                continue;
            }
            if let (Some(service), Some(seq), true) = (service, seq, ok) {
                out.push(Segment {
                    service,
                    seq: seq as u32,
                    kind: r.kind.as_str().into(),
                    carrier: r.carrier.as_str().into(),
                    label: r.label.as_str().into(),
                });
            }
        }
        out.sort_by_key(|s| (s.service, s.seq));
        out
    }
}
