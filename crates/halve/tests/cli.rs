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
