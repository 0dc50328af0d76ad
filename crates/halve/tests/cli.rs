//! The `halve` command end to end, as a user runs it: exit codes, messages, and the files it
//! writes. Database behaviour itself is tested in the store and app crates.

use std::path::Path;
use std::process::{Command, Output};

fn halve(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_halve"))
        .args(args)
        .current_dir(dir)
        .env_remove("HALVE_DATABASE_URL")
        .output()
        .expect("running halve")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn demo_export_import_round_trip_through_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let demo = halve(
        d,
        &["demo", "--households", "120", "--seed", "3", "--no-serve"],
    );
    assert!(demo.status.success(), "{}", stderr(&demo));
    assert!(
        d.join("halve.db").exists(),
        "the default database is halve.db here"
    );
    assert!(
        stdout(&demo).contains("Nakhon Si Thammarat"),
        "{}",
        stdout(&demo)
    );

    let again = halve(d, &["demo", "--households", "120", "--no-serve"]);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("already holds"),
        "{}",
        stdout(&again)
    );

    let export = halve(d, &["export", "--out", "out1"]);
    assert!(export.status.success(), "{}", stderr(&export));
    let init = halve(d, &["--database", "sqlite://copy.db", "init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let import = halve(d, &["--database", "sqlite://copy.db", "import", "out1"]);
    assert!(import.status.success(), "{}", stderr(&import));
    let export2 = halve(d, &["--database", "copy.db", "export", "--out", "out2"]);
    assert!(export2.status.success(), "{}", stderr(&export2));
    for kind in [
        "villages",
        "households",
        "persons",
        "assessments",
        "membership_events",
    ] {
        let name = format!("{kind}.csv");
        assert_eq!(
            std::fs::read(d.join("out1").join(&name)).unwrap(),
            std::fs::read(d.join("out2").join(&name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn errors_exit_non_zero_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = halve(d, &["--database", "mysql://localhost/x", "init"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("mysql"), "{}", stderr(&o));

    let o = halve(d, &["export", "--out", "x"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("halve init"), "{}", stderr(&o));

    assert!(halve(d, &["init"]).status.success());
    std::fs::write(d.join("v.csv"), "village_code,name_th\n80010101,\n").unwrap();
    let o = halve(d, &["import", "v.csv"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("v.csv:2: name_th"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
}

#[test]
fn measure_reads_a_plain_csv_with_the_minimal_spec() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("spec.toml"),
        "name = \"syn\"\n[[dimension]]\nname = \"d1\"\nindicators = [\"a\", \"b\"]\n\
         [[dimension]]\nname = \"d2\"\nindicators = [\"c\"]\n",
    )
    .unwrap();
    // c = 1/4+1/4, 1/2, 1/4, 0: poor at k = 50 are the first two.
    std::fs::write(d.join("data.csv"), "a,b,c\n1,1,0\n0,0,1\n1,0,0\n0,0,0\n").unwrap();
    let o = halve(
        d,
        &[
            "measure",
            "--data",
            "data.csv",
            "--spec",
            "spec.toml",
            "--k",
            "50",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let h = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["measure"] == "H" && r["group"].is_null())
        .unwrap();
    assert_eq!(h["value"].as_f64().unwrap(), 0.5);
    assert_eq!(json["spec"], "syn");
}

#[test]
fn measure_reads_the_registry_with_a_shipped_profile() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let demo = halve(d, &["demo", "--households", "150", "--no-serve"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let o = halve(
        d,
        &[
            "measure", "--spec", "tpmap-5", "--by", "district", "--format", "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["spec"], "tpmap-5");
    let results = json["results"].as_array().unwrap();
    let mut years: Vec<f64> = results.iter().filter_map(|r| r["year"].as_f64()).collect();
    years.dedup();
    assert_eq!(years, [2566.0, 2567.0, 2568.0]);
    assert!(
        results
            .iter()
            .any(|r| r["by"] == "district" && r["group"] == "8001")
    );
    assert!(!json["changes"].as_array().unwrap().is_empty());
}

#[test]
fn user_add_checks_the_account_and_user_list_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add = |args: &[&str], password: &str| {
        Command::new(env!("CARGO_BIN_EXE_halve"))
            .args(args)
            .current_dir(d)
            .env_remove("HALVE_DATABASE_URL")
            .env("HALVE_PASSWORD", password)
            .output()
            .expect("running halve")
    };
    let ok = add(
        &[
            "user",
            "add",
            "somchai",
            "--role",
            "zone_worker",
            "--zone",
            "coast",
        ],
        "a long enough password",
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let short = add(&["user", "add", "x", "--role", "viewer"], "short");
    assert!(!short.status.success());
    assert!(stderr(&short).contains("10"), "{}", stderr(&short));
    assert!(
        !stderr(&short).contains("short"),
        "the password is never echoed"
    );
    let unscoped = add(
        &["user", "add", "w", "--role", "zone_worker"],
        "a long enough password",
    );
    assert!(!unscoped.status.success());
    let bad_zone = add(
        &[
            "user",
            "add",
            "w",
            "--role",
            "zone_worker",
            "--zone",
            "moon",
        ],
        "a long enough password",
    );
    assert!(stderr(&bad_zone).contains("coast"), "{}", stderr(&bad_zone));
    let list = halve(d, &["user", "list"]);
    assert!(list.status.success());
    let out = stdout(&list);
    assert!(
        out.contains("somchai\tzone_worker\tactive\tzone:coast"),
        "{out}"
    );
    assert!(!out.contains("argon2"), "hashes are not listed");
}

#[test]
fn demo_builds_then_serves_the_app_with_a_demo_login() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_halve"))
        .args(["demo", "--households", "60", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("HALVE_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting halve demo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut address = None;
    let mut login = false;
    // The server prints its address once it listens, then the demo login: read until both.
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            address = Some(rest.trim_end_matches('/').to_owned());
        }
        if line.contains("admin /") {
            login = true;
        }
        if address.is_some() && login {
            break;
        }
    }
    let address = address.expect("the address is printed");
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /login HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_lowercase().contains("content-security-policy"));
    assert!(response.contains("เข้าสู่ระบบ"));
}

#[test]
fn progress_prints_csv_json_and_tables_for_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let demo = halve(d, &["demo", "--households", "300", "--no-serve"]);
    assert!(demo.status.success(), "{}", stderr(&demo));

    let o = halve(d, &["progress", "--by", "zone", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut reader = csv::Reader::from_reader(o.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // One row per zone and round, then the whole; every row names its definitions.
    let mut areas: Vec<&str> = rows.iter().map(|r| &r[col("area_code")]).collect();
    areas.dedup();
    // A small demo fills the first villages in code order, so not every zone has households;
    // those that have come in the zone set's order, the whole last.
    let order = [
        "mountain", "uplands", "coast", "basin", "peat", "city", "all",
    ];
    let positions: Vec<usize> = areas
        .iter()
        .map(|a| order.iter().position(|o| o == a).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{areas:?}");
    assert!(
        areas.len() >= 3 && areas.last() == Some(&"all"),
        "{areas:?}"
    );
    for r in &rows {
        assert_eq!(&r[col("target")], "nst-halve-2571");
        assert_eq!(&r[col("target_version")], "1");
        assert_eq!(&r[col("spec")], "tpmap-5");
        assert_eq!(&r[col("spec_version")], "1");
        assert!(!r[col("area_name")].is_empty());
        assert!(!r[col("households")].is_empty());
        if &r[col("year")] == "2566" {
            assert_eq!(&r[col("status")], "no_data");
            assert_eq!(r[col("milestone_persons")], r[col("persons")]);
        } else {
            assert!(
                ["on_track", "at_risk", "off_track"].contains(&&r[col("status")]),
                "{:?}",
                r
            );
        }
    }
    // The zones add up to the whole, year by year.
    for year in ["2566", "2567", "2568"] {
        let sum = |code: Option<&str>, column: &str| -> u64 {
            rows.iter()
                .filter(|r| &r[col("year")] == year)
                .filter(|r| match code {
                    Some(c) => &r[col("area_code")] == c,
                    None => &r[col("area_code")] != "all",
                })
                .map(|r| r[col(column)].parse::<u64>().unwrap())
                .sum()
        };
        for column in ["persons", "households", "baseline_persons"] {
            assert_eq!(
                sum(None, column),
                sum(Some("all"), column),
                "{year} {column}"
            );
        }
    }

    let o = halve(d, &["progress", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["target"], "nst-halve-2571");
    assert_eq!(json["target_version"], 1);
    assert_eq!(json["spec"], "tpmap-5");
    assert_eq!(json["spec_version"], 1);
    assert_eq!(json["by"], "province");
    assert_eq!(json["rounds"], serde_json::json!([2566, 2567, 2568]));
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "one province, three rounds");
    assert_eq!(rows[0]["area_code"], "80");
    assert!(rows[2]["persons"]["transitions"]["cohort"].is_array());

    let th = halve(d, &["progress", "--by", "district"]);
    assert!(th.status.success(), "{}", stderr(&th));
    assert!(
        stdout(&th).contains("เป้าหมาย nst-halve-2571"),
        "{}",
        stdout(&th)
    );
    assert!(
        stdout(&th).contains("8001 เมืองนครศรีธรรมราช"),
        "{}",
        stdout(&th)
    );
    let en = halve(d, &["progress", "--lang", "en"]);
    assert!(en.status.success(), "{}", stderr(&en));
    assert!(stdout(&en).contains("Target nst-halve-2571 (version 1)"));
    assert!(stdout(&en).contains("low_income or (vulnerable and poor)"));
}

#[test]
fn progress_refuses_unknown_targets_and_rounds_without_an_income_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let demo = halve(d, &["demo", "--households", "120", "--no-serve"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let o = halve(d, &["progress", "--target", "no-such-target.toml"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no-such-target.toml"), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a file"), "{}", stderr(&o));

    // A definition whose income lines stop at 2567, on a registry with a 2568 round.
    std::fs::write(
        d.join("short.toml"),
        "id = \"short\"\nrule = \"low_income\"\nbaseline = 2566\nhorizon_years = 5\n\
         reduction = \"1/2\"\n[low_income]\n[[low_income.threshold]]\nfrom = 2566\nto = 2567\n\
         baht = 38000\n",
    )
    .unwrap();
    let o = halve(d, &["progress", "--target", "short.toml"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("2568"), "{}", stderr(&o));
    assert!(stderr(&o).contains("short.toml"), "{}", stderr(&o));

    let o = halve(d, &["progress", "--by", "sex"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot be broken down by sex"),
        "{}",
        stderr(&o)
    );

    // The literal reading is shipped too, and needs no spec.
    let o = halve(
        d,
        &[
            "progress",
            "--target",
            "nst-halve-2571-literal",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["rule"], "vulnerable or low_income");
    assert!(json["spec"].is_null());
}
