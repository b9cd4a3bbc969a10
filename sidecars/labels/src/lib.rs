//! # crossdock-labels: the 4 × 6 in shipping label, as ZPL II and as PDF
//!
//! A label is rendered from [`model::LabelData`], plain data the component reads from
//! what it stored when the shipment was made (addresses, service, zone, the segment's
//! tracking number, the customs declaration). [`render::zpl()`] writes ZPL II for 203 dpi
//! thermal printers; [`render::pdf()`] writes a one-page PDF with standard fonts and vector
//! barcodes for everything else. Both draw the one layout in `render/layout.rs`, so they
//! print the same things in the same places (orders-labels.md, "Labels"):
//!
//! - sender; recipient with the destination's country name in capitals alone on the last
//!   line; service, carrier, segment (`2/5 hub`); the zone as a large sort code; weight
//!   (`0.700 kg`); ship date;
//! - a Code 128 of exactly the tracking number, printed below it, and a DataMatrix ECC 200
//!   of exactly [`model::datamatrix_content`]
//!   (`CD1|number|shipment|seq|country|postcode|zone|service|weight_g`);
//! - a CN 22 block (category, up to three content lines, total) or `CN 23 attached`.
//!
//! Invariants: rendering is a pure function of the data (no clock, no randomness, no
//! I/O), so every fetch, restart or replica gives the same bytes; `^`, `~` and control
//! characters in any text print as spaces ([`model::sanitize`], the one sanitizer); data
//! that a barcode cannot carry exactly is refused with every problem
//! ([`model::LabelData::check`]), never printed differently.
//!
//! The renderers do not know databases, HTTP, how a shipment is priced or numbered, which
//! customs form applies (the caller passes the form it decided), countryinfo (the caller
//! passes the country's name). `model.rs` is pure like the engine core.
//!
//! The component ([`component`]) owns `labels_labels`: a row per issued segment, written
//! inside the transaction that issues it by handlers of `shipment.created` and
//! `shipment.relabelled` (`Db::on_emit`), and the route
//! `GET /v1/shipments/{id}/labels/{seq}.zpl|pdf` that renders from that row alone. It
//! never reads the orders component's tables.

pub mod component;
pub mod model;
pub mod render;

pub use component::{Labels, MIGRATIONS};
