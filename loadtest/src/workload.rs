//! The requests a run sends: quote requests as one-line JSON, from a file or generated, and
//! the call bodies built from them once, before the run, so sending costs no formatting.

use crate::Error;
use bytes::Bytes;
use crossdock_bookgen::{SampleParcel, SyntheticSpec, demo_sample_parcels, sample_parcels};
use serde_json::{Value, json};
use std::path::Path;

/// More distinct requests than this adds nothing to a load test but memory.
pub const REQUESTS_MAX: usize = 10_000_000;

/// Which generated book's lanes the requests follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lanes {
    /// The demo book's lanes (`rate-tables/demo`).
    Demo,
    /// The default synthetic book's lanes (`bookgen synthetic`).
    Synthetic,
}

/// How to generate requests.
#[derive(Clone, Debug)]
pub struct Generate {
    pub lanes: Lanes,
    pub n: usize,
    pub seed: u64,
    /// The quote currency asked for (required by quote-api.md).
    pub currency: String,
    /// `YYYY-MM-DD`; the server's today when absent.
    pub ship_date: Option<String>,
}

/// Quote requests, each one line of JSON, sent in order and cycled.
#[derive(Clone, Debug)]
pub struct Workload {
    requests: Vec<Bytes>,
}

impl Workload {
    /// Reads an NDJSON file: one request per non-blank line, sent as written.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(format!("--parcels {}: {e}", path.display())))?;
        Self::from_ndjson(&text)
            .map_err(|e| Error::new(format!("--parcels {}: {e}", path.display())))
    }

    pub fn from_ndjson(text: &str) -> Result<Self, Error> {
        let requests: Vec<Bytes> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| Bytes::copy_from_slice(line.as_bytes()))
            .collect();
        if requests.is_empty() {
            return Err(Error::new(
                "no requests (one JSON request per line expected)",
            ));
        }
        if requests.len() > REQUESTS_MAX {
            return Err(Error::new(format!(
                "{} requests; at most {REQUESTS_MAX} are used",
                requests.len()
            )));
        }
        Ok(Self { requests })
    }

    pub fn generate(options: &Generate) -> Result<Self, Error> {
        if options.n == 0 || options.n > REQUESTS_MAX {
            return Err(Error::new(format!(
                "--n must be between 1 and {REQUESTS_MAX}"
            )));
        }
        let parcels = match options.lanes {
            Lanes::Demo => demo_sample_parcels(options.n, options.seed),
            Lanes::Synthetic => sample_parcels(&SyntheticSpec::default(), options.n, options.seed),
        };
        let requests = parcels
            .iter()
            .map(|parcel| Bytes::from(request_json(parcel, options).to_string()))
            .collect();
        Ok(Self { requests })
    }

    pub fn len(&self) -> usize {
        self.requests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The bodies of the calls, used in turn: each request alone when `batch` is 1, else
    /// NDJSON bodies of `batch` requests. Every request appears once per cycle of bodies
    /// (the last body wraps around to the first requests).
    pub fn call_bodies(&self, batch: usize) -> Vec<Bytes> {
        if batch <= 1 {
            return self.requests.clone();
        }
        let count = self.requests.len().div_ceil(batch);
        (0..count)
            .map(|body| {
                let mut out = Vec::with_capacity(batch * (self.requests[0].len() + 1));
                for line in 0..batch {
                    out.extend_from_slice(
                        &self.requests[(body * batch + line) % self.requests.len()],
                    );
                    out.push(b'\n');
                }
                Bytes::from(out)
            })
            .collect()
    }
}

/// A sample parcel as a quote-api.md request. No `customer`: the server takes the key's own.
fn request_json(parcel: &SampleParcel, options: &Generate) -> Value {
    let mut destination = json!({ "country": parcel.dest_country });
    if let Some(postcode) = &parcel.dest_postcode {
        destination["postcode"] = json!(postcode);
    }
    let mut dims = json!({ "weight_g": parcel.weight_g });
    if let Some([length, width, height]) = parcel.dims_mm {
        dims["length_mm"] = json!(length);
        dims["width_mm"] = json!(width);
        dims["height_mm"] = json!(height);
    }
    let mut request = json!({
        "origin": { "country": parcel.origin_country },
        "destination": destination,
        "parcel": dims,
        "currency": options.currency,
    });
    if let Some((amount, currency)) = &parcel.declared_value {
        request["declared_value"] = json!({ "amount": amount, "currency": currency });
    }
    if let Some(battery) = &parcel.battery {
        request["battery"] = json!(battery);
    }
    if !parcel.goods.is_empty() {
        request["goods"] = json!(parcel.goods);
    }
    if let Some(date) = &options.ship_date {
        request["ship_date"] = json!(date);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::{Generate, Lanes, Workload};

    #[test]
    fn generated_requests_are_one_line_json_with_the_required_fields() {
        let options = Generate {
            lanes: Lanes::Demo,
            n: 50,
            seed: 7,
            currency: "EUR".into(),
            ship_date: Some("2026-11-24".into()),
        };
        let workload = Workload::generate(&options).expect("generated");
        assert_eq!(workload.len(), 50);
        for body in workload.call_bodies(1) {
            assert!(!body.contains(&b'\n'));
            let request: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            assert!(
                request["origin"]["country"].is_string()
                    && request["destination"]["country"].is_string()
            );
            assert!(
                request["parcel"]["weight_g"]
                    .as_u64()
                    .is_some_and(|g| g > 0)
            );
            assert_eq!(request["currency"], "EUR");
            assert_eq!(request["ship_date"], "2026-11-24");
        }
    }

    #[test]
    fn batches_cycle_through_every_request() {
        let workload = Workload::from_ndjson("a\n\nb\nc\n").expect("three lines");
        let bodies = workload.call_bodies(2);
        assert_eq!(bodies, ["a\nb\n", "c\na\n"].map(bytes::Bytes::from));
        assert_eq!(workload.call_bodies(1).len(), 3);
        assert!(Workload::from_ndjson("\n \n").is_err());
    }
}
