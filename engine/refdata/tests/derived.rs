//! The derived data files are what their headers say they are: each is derived again from
//! its source and compared line by line.
//!
//! `s10-countries.tsv` from the copy of s10.json under tests/data, always. The postal and
//! HS sources are not in the repository (1.7 MB of countryinfo.txt of which 10 KB is
//! used); they are compared when the project's reference data is present beside the
//! checkout (`../shared/data`, or `CROSSDOCK_SHARED_DATA`), as on the developers' machines
//! and CI, and the test says so when it is not.

use std::path::PathBuf;

use serde_json::Value;

const COUNTRIES: &str = include_str!("../data/countries.tsv");
const S10_COUNTRIES: &str = include_str!("../data/s10-countries.tsv");
const HS: &[u8] = include_bytes!("../data/harmonized-system.csv");

fn data_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("CROSSDOCK_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "{}: reference data absent, derived files not compared with their sources",
            dir.display()
        );
        None
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

#[test]
fn s10_countries_are_s10_jsons_courier_lookup() {
    let file: Value = serde_json::from_str(include_str!("data/s10.json")).expect("JSON");
    let additional = file["tracking_numbers"][0]["additional"]
        .as_array()
        .expect("additional");
    let courier = additional
        .iter()
        .find(|a| a["name"] == "Courier")
        .expect("Courier lookup");
    assert_eq!(courier["regex_group_name"], "CountryCode");
    let mut rows: Vec<String> = courier["lookup"]
        .as_array()
        .expect("lookup")
        .iter()
        .map(|e| {
            format!(
                "{}\t{}\t{}",
                text(&e["matches"]),
                text(&e["country"]),
                text(&e["courier"])
            )
        })
        .collect();
    rows.sort();
    assert_eq!(data_lines(S10_COUNTRIES), rows);
}

#[test]
fn countries_are_countryinfos_regions() {
    let Some(dir) = shared_data() else { return };
    let source =
        std::fs::read_to_string(dir.join("postal/countryinfo.txt")).expect("countryinfo.txt");
    let mut rows = Vec::new();
    let mut defaults = None;
    for line in source.lines() {
        let Some((key, json)) = line.split_once('=') else {
            continue;
        };
        let Some(code) = key.strip_prefix("data/").filter(|c| c.len() == 2) else {
            continue;
        };
        let entry: Value = serde_json::from_str(json).expect("JSON");
        if code == "ZZ" {
            defaults = Some(entry);
            continue;
        }
        let fields = ["name", "require", "zip", "zipex"].map(|f| text(&entry[f]).to_owned());
        rows.push(format!("{code}\t{}", fields.join("\t")));
    }
    rows.sort();
    assert_eq!(data_lines(COUNTRIES), rows);
    // The default the crate applies is the source's own.
    assert_eq!(defaults.map(|d| d["require"].clone()), Some("AC".into()));
}

#[test]
fn the_hs_file_is_the_sources_unchanged() {
    let Some(dir) = shared_data() else { return };
    let source = std::fs::read(dir.join("hs/harmonized-system.csv")).expect("hs csv");
    assert!(
        source == HS,
        "data/harmonized-system.csv differs from its source"
    );
}

#[test]
fn every_source_licence_travels_with_its_data() {
    let apache = include_str!("../data/countryinfo.LICENSE");
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0"));
    let mit = include_str!("../data/tracking-numbers.LICENSE");
    assert!(mit.starts_with("MIT License"));
    assert_eq!(mit, include_str!("data/LICENSE"));
    let pddl = include_str!("../data/harmonized-system.datapackage.json");
    assert!(pddl.contains("ODC-PDDL-1.0"));
    let readme = include_str!("../data/README.md");
    for file in [
        "countries.tsv",
        "harmonized-system.csv",
        "s10-countries.tsv",
        "countryinfo.LICENSE",
        "tracking-numbers.LICENSE",
        "harmonized-system.datapackage.json",
    ] {
        assert!(readme.contains(file), "data/README.md names {file}");
    }
}
