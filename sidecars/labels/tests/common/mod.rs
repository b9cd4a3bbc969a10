//! Sample labels shared by the tests and benches: the spec's example order (Shenzhen to
//! Berlin, 700 g, a CN 22) and variations of it.

#![allow(dead_code)]

use crossdock_labels::model::{Address, ContentLine, Customs, CustomsForm, LabelData};
use std::path::PathBuf;

/// The spec's example: 700 g from Li Wei in Shenzhen to Anna Schmidt in Berlin, two phone
/// cases for 45.00 EUR, segment 2 of 5 at the hub.
pub fn sample() -> LabelData {
    LabelData {
        sender: Address {
            name: "Li Wei".into(),
            company: Some("Shenzhen Gadgets Co.".into()),
            line1: "18 Keji Rd".into(),
            line2: Some("Building 4, Floor 2".into()),
            city: "Shenzhen".into(),
            region: Some("Guangdong".into()),
            postcode: Some("518000".into()),
            country: "CN".into(),
        },
        recipient: Address {
            name: "Anna Schmidt".into(),
            company: None,
            line1: "Invalidenstr. 116".into(),
            line2: None,
            city: "Berlin".into(),
            region: None,
            postcode: Some("10115".into()),
            country: "DE".into(),
        },
        recipient_country_name: "GERMANY".into(),
        service: "XB-EU-TRK".into(),
        carrier: "XB Line".into(),
        segment_seq: 2,
        segment_count: 5,
        segment_kind: "hub".into(),
        zone: "EU-A".into(),
        weight_g: 700,
        ship_date: "2026-12-01".into(),
        tracking_number: "CD00000000018".into(),
        shipment_id: "shp_01JDX8Q4K7M2N5P8R3T6V9W2YZ".into(),
        customs: Customs {
            form: CustomsForm::Cn22,
            category: "sale_of_goods".into(),
            lines: vec![ContentLine {
                description: "Phone case".into(),
                quantity: 2,
                value: "45.00".into(),
                currency: "EUR".into(),
                hs_code: Some("392690".into()),
                origin_country: Some("CN".into()),
            }],
            total: "45.00".into(),
            currency: "EUR".into(),
        },
    }
}

/// `n` content lines, the i-th `Item i`.
pub fn lines(n: u32) -> Vec<ContentLine> {
    (1..=n)
        .map(|i| ContentLine {
            description: format!("Item {i}"),
            quantity: i,
            value: format!("{i}.50"),
            currency: "EUR".into(),
            hs_code: Some(format!("{:06}", 392690 + i)),
            origin_country: Some("CN".into()),
        })
        .collect()
}

/// The sample as a CN 23 shipment: an expensive laptop, first mile, an S10 number.
pub fn cn23() -> LabelData {
    let mut label = sample();
    label.customs.form = CustomsForm::Cn23;
    label.customs.category = "commercial_sample".into();
    label.customs.lines = vec![ContentLine {
        description: "Laptop computer".into(),
        quantity: 1,
        value: "1450.00".into(),
        currency: "EUR".into(),
        hs_code: Some("847130".into()),
        origin_country: Some("CN".into()),
    }];
    label.customs.total = "1450.00".into();
    label.segment_seq = 1;
    label.segment_kind = "first_mile".into();
    label.tracking_number = "RB123456785GB".into();
    label.weight_g = 2350;
    label
}

/// The sample with Latin-1 and CJK text, five content lines and a long address.
pub fn busy() -> LabelData {
    let mut label = sample();
    label.sender.name = "李伟 (Li Wei)".into();
    label.recipient.name = "Zoë Müller-Lüdenscheidt".into();
    label.recipient.company = Some("Größenwahn & Söhne GmbH — Einkauf".into());
    label.recipient.line1 =
        "Straße des 17. Juni 135, Hinterhaus, 3. Obergeschoss links, Zimmer 4711".into();
    label.recipient.line2 = Some("c/o Technische Universität".into());
    label.customs.lines = lines(5);
    label.customs.total = "17.50".into();
    label
}

/// Compares `actual` byte for byte with `tests/snapshots/NAME`, or writes it there when
/// `CROSSDOCK_UPDATE_SNAPSHOTS` is set.
pub fn snapshot(name: &str, actual: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("CROSSDOCK_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with CROSSDOCK_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the rendered label (CROSSDOCK_UPDATE_SNAPSHOTS=1 regenerates it):\n\
             --- expected\n{}\n--- actual\n{}",
            path.display(),
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        );
    }
}
