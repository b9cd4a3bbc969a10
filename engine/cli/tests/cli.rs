//! The `crossdock` binary on the committed demo book: `book check` verdicts and exit codes,
//! and `crossdock quote` answering JSON Lines one for one, in order, exactly as the
//! in-process API does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo")
}

fn crossdock(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("crossdock runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("crossdock finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn book_check_accepts_the_demo_and_refuses_what_is_not_a_book() {
    let (code, out, _) = crossdock(&["book", "check", demo().to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("usable"), "{out}");

    let (code, out, _) = crossdock(&["book", "check", "/nonexistent/book"], "");
    assert_eq!(code, 1);
    assert!(out.contains("is not a directory"), "{out}");

    let (code, out, _) = crossdock(&["book", "check", "--json", demo().to_str().unwrap()], "");
    assert_eq!(code, 0);
    let doc: serde_json::Value =
        serde_json::from_str(out.trim()).expect("--json prints one JSON document");
    assert_eq!(doc["usable"], true);
}

#[test]
fn book_check_lists_every_problem_of_a_broken_copy() {
    let dir = std::env::temp_dir().join(format!("crossdock-cli-broken-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(demo()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    std::fs::remove_file(dir.join("zones.parquet")).unwrap();
    std::fs::write(
        dir.join("book.toml"),
        "name = \"broken\"\nbase_currency = \"usd\"\n",
    )
    .unwrap();
    let (code, out, _) = crossdock(&["book", "check", dir.to_str().unwrap()], "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error: zones: zones.parquet is missing"),
        "{out}"
    );
    assert!(
        out.contains("error: book.toml column base_currency"),
        "{out}"
    );
    assert!(out.contains("refused"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

const GOOD: &str = r#"{"ship_date":"2026-11-24","origin":{"country":"CN"},"destination":{"country":"DE","postcode":"10115"},"parcel":{"weight_g":700,"length_mm":300,"width_mm":200,"height_mm":100},"declared_value":{"amount":"45.00","currency":"USD"},"contents":[{"description":"Phone case","hs_code":"392690","quantity":2,"value":"45.00"}],"currency":"EUR","landed_cost":true}"#;

#[test]
fn quote_answers_every_line_in_order_with_errors_in_place() {
    let input = format!(
        "{GOOD}\nnot json\n\n{{\"currency\":\"EUR\"}}\n{}\n",
        GOOD.replace("\"EUR\"", "\"JPY\"")
    );
    let (code, out, err) = crossdock(
        &[
            "quote",
            "--book",
            demo().to_str().unwrap(),
            "--today",
            "2026-11-24",
        ],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    let answers: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(answers.len(), 5, "{out}");
    assert_eq!(answers[0]["currency"], "EUR");
    assert!(
        answers[0]["options"]
            .as_array()
            .is_some_and(|o| !o.is_empty()),
        "{}",
        answers[0]
    );
    assert!(
        answers[0]["rate_book"]
            .as_str()
            .is_some_and(|b| b.contains('@'))
    );
    assert_eq!(answers[1]["error"], "invalid_request");
    assert_eq!(answers[2]["error"], "invalid_request");
    let fields: Vec<&str> = answers[3]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["origin.country", "destination.country", "parcel.weight_g"]
    );
    assert_eq!(answers[4]["currency"], "JPY");
    // JPY has no decimals; EUR has two.
    let sell = |a: &serde_json::Value| a["options"][0]["sell"].as_str().unwrap().to_string();
    assert!(!sell(&answers[4]).contains('.'), "{}", sell(&answers[4]));
    assert_eq!(sell(&answers[0]).split('.').nth(1).map(str::len), Some(2));
}

#[test]
fn the_cli_answers_exactly_as_the_library() {
    let loaded = crossdock_tables::load_dir(&demo(), &crossdock_tables::Limits::default())
        .expect("demo loads");
    let defaults = crossdock_api::Defaults {
        today: crossdock_engine::Date::parse("2026-11-24").unwrap(),
        customer: None,
        explain: true,
    };
    let requests: Vec<String> = ["DE", "GB", "US", "FR", "AU", "JP", "CA"]
        .iter()
        .flat_map(|dest| {
            [100, 700, 1999, 4500].map(move |w| {
                GOOD.replace("\"DE\"", &format!("\"{dest}\""))
                    .replace("\"weight_g\":700", &format!("\"weight_g\":{w}"))
            })
        })
        .collect();
    let (code, out, err) = crossdock(
        &[
            "quote",
            "--book",
            demo().to_str().unwrap(),
            "--today",
            "2026-11-24",
        ],
        &requests.join("\n"),
    );
    assert_eq!(code, 0, "{err}");
    let mut scratch = crossdock_engine::Scratch::default();
    let mut quote = crossdock_engine::Quote::new(loaded.book.base_currency());
    for (line, request) in out.lines().zip(&requests) {
        let expected =
            crossdock_api::answer_line(&loaded.book, request, &defaults, &mut scratch, &mut quote);
        assert_eq!(line, expected.body());
    }
    assert_eq!(out.lines().count(), requests.len());
}

/// `crossdock book diff`: the demo book against the demo book a month on, replaying sample
/// parcels; a table on stdout, every group in the `--out` file, and clear refusals.
#[test]
fn book_diff_prints_the_changes_and_writes_every_group() {
    let dir = std::env::temp_dir().join(format!("crossdock-cli-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let next = dir.join("next");
    crossdock_bookgen::write_demo_next(&next).unwrap();
    let replay = dir.join("parcels.csv");
    let mut csv = String::from("id,origin_country,dest_country,weight_g,currency\n");
    // Heavy parcels to Germany: SW-ECO-TRK may carry them today, not above 2 kg next month.
    for (i, weight) in [500, 1500, 2500, 4000, 8000, 12000].iter().enumerate() {
        csv.push_str(&format!("p{i},CN,DE,{weight},EUR\n"));
    }
    csv.push_str("bad,CN,de,700,EUR\n");
    std::fs::write(&replay, csv).unwrap();
    let (demo_dir, next_dir, replay_path) = (
        demo().display().to_string(),
        next.display().to_string(),
        replay.display().to_string(),
    );
    let out = dir.join("groups.csv");
    let out_path = out.display().to_string();
    let args = [
        "book",
        "diff",
        &demo_dir,
        &next_dir,
        "--replay",
        &replay_path,
        "--out",
        &out_path,
        "--today",
        "2026-11-24",
    ];
    let (code, stdout, stderr) = crossdock(&args, "");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("what-if: demo-2026-11@"), "{stdout}");
    assert!(stdout.contains("-> demo-next-2026-12@"), "{stdout}");
    assert!(
        stdout.contains("7 rows: 6 parcels priced by both books"),
        "{stdout}"
    );
    assert!(
        stdout.contains("invalid rows: 1 under both books"),
        "{stdout}"
    );
    let groups = std::fs::read_to_string(&out).unwrap();
    assert!(
        groups.starts_with("service,dest_country,currency,parcels,changed,"),
        "{groups}"
    );
    let parcels: u64 = groups
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(parcels, 6, "{groups}");

    // The same with --json: one document whose counts match the table.
    let mut json_args = args[..6].to_vec();
    json_args.extend(["--json", "--today", "2026-11-24"]);
    let (code, stdout, _) = crossdock(&json_args, "");
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (
            doc["rows"].as_u64(),
            doc["parcels"].as_u64(),
            doc["invalid"].as_u64()
        ),
        (Some(7), Some(6), Some(1))
    );

    // Refusals name what is wrong, exit 2, and write nothing.
    let bad_out = dir.join("groups.txt").display().to_string();
    let cases: [(Vec<&str>, &str); 4] = [
        (vec!["book", "diff", &demo_dir, &next_dir], "--replay"),
        (
            vec!["book", "diff", &demo_dir, "--replay", &replay_path],
            "NEW_DIR",
        ),
        (
            vec![
                "book",
                "diff",
                &demo_dir,
                &next_dir,
                "--replay",
                &replay_path,
                "--out",
                &bad_out,
            ],
            ".parquet or .csv",
        ),
        (
            vec![
                "book",
                "diff",
                &demo_dir,
                &next_dir,
                "--replay",
                "/no/such/parcels.csv",
            ],
            "/no/such/parcels.csv",
        ),
    ];
    for (args, says) in cases {
        let (code, _, stderr) = crossdock(&args, "");
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(!dir.join("groups.txt").exists());
    let (code, _, stderr) = crossdock(
        &[
            "book",
            "diff",
            "/no/such/book",
            &next_dir,
            "--replay",
            &replay_path,
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("old rate book /no/such/book is refused"),
        "{stderr}"
    );
}

/// Every command answers `--help` with its usage and examples; a mistyped flag is answered
/// with the nearest valid one and exit status 2.
#[test]
fn every_command_answers_help_with_examples_and_names_the_nearest_flag() {
    let commands: [&[&str]; 13] = [
        &[],
        &["quote"],
        &["route"],
        &["serve"],
        &["book", "check"],
        &["book", "diff"],
        &["book", "publish"],
        &["book", "activate"],
        &["book", "rollback"],
        &["book", "status"],
        &["keys", "create"],
        &["keys", "list"],
        &["keys", "revoke"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let (code, stdout, stderr) = crossdock(&args, "");
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stdout.contains("Usage: crossdock"), "{args:?}: {stdout}");
        assert!(
            stdout.contains("Example"),
            "{args:?} has no example: {stdout}"
        );
    }
    let cases: [(&[&str], &str); 3] = [
        (&["serve", "--listne", "127.0.0.1:1"], "--listen"),
        (&["route", "--boook", "x"], "--book"),
        (&["keys", "create", "--role", "admin"], "--roles"),
    ];
    for (args, nearest) in cases {
        let (code, _, stderr) = crossdock(args, "");
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("a similar argument exists: '{nearest}'")),
            "{args:?}: {stderr}"
        );
    }
}
