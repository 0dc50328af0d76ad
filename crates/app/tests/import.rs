//! `halve import` behaviour: all-or-nothing files, clear row-level errors, idempotence,
//! encodings, and the export → import round trip between backends. Every test runs on each
//! available backend with a fresh database.

use halve_app::AppError;
use halve_app::NoProgress;
use halve_app::clock::FixedClock;
use halve_app::demo::{DemoOptions, build_demo};
use halve_app::export::export_all;
use halve_app::import::{ImportSummary, import_paths, import_tables};
use halve_io::{OpenOptions, TableReader};
use halve_store::Store;
use halve_store::testing::TestDb;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const CLOCK: FixedClock = FixedClock(1_764_400_000);

const VILLAGES: &str = "village_code,name_th,name_en\n80010101,บ้านท่าวัง,Ban Tha Wang\n";
const HOUSEHOLDS: &str = "house_code,village_code,address,lat,lon\n\
    H1,80010101,1 หมู่ 1,8.43,99.96\n\
    H2,80010101,2 หมู่ 1,,\n";
const PERSON_HEADER: &str = "person_code,house_code,citizen_id,first_name,last_name,sex,\
    birth_date,relation,education,occupation,income_year,disability,chronic_illness,bedridden\n";

fn persons(rows: &[&str]) -> String {
    let mut s = PERSON_HEADER.to_owned();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

const GOOD_PERSON: &str =
    "P1,H1,1101700230708,สมศรี,ใจดี,female,2510-05-01,head,primary,กรีดยาง,36000,0,1,0";

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn import(store: &Store, paths: &[PathBuf]) -> Result<ImportSummary, AppError> {
    import_paths(store, paths, "test", &CLOCK, &NoProgress).await
}

/// Imports the village and households fixtures, which every other file refers to.
async fn base(store: &Store, dir: &Path) {
    let v = write(dir, "villages.csv", VILLAGES);
    let h = write(dir, "households.csv", HOUSEHOLDS);
    import(store, &[v, h]).await.unwrap();
}

/// Expects a rejection whose text names `line` and `column` and says `reason` (English part),
/// and checks that the store holds exactly `persons` persons afterwards.
async fn check_rejected(
    store: &Store,
    result: Result<ImportSummary, AppError>,
    expect: &[&str],
    persons: i64,
) {
    let err = result.expect_err("the import must be refused");
    assert!(
        matches!(err, AppError::Rejected(_) | AppError::Read(_)),
        "{err:?}"
    );
    let text = err.to_string();
    for needle in expect {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert_eq!(
        store.counts().await.unwrap().persons,
        persons,
        "nothing is written"
    );
}

#[tokio::test]
async fn a_good_file_imports_and_a_second_import_changes_nothing() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        base(&db.store, dir.path()).await;
        let p = write(dir.path(), "persons.csv", persons(&[GOOD_PERSON]));
        let first = import(&db.store, std::slice::from_ref(&p)).await.unwrap();
        assert_eq!((first.files[0].rows, first.files[0].written), (1, 1));
        let again = import(&db.store, &[p]).await.unwrap();
        assert_eq!((again.files[0].rows, again.files[0].written), (1, 0));
        assert_eq!(db.store.counts().await.unwrap().persons, 1);
        let log = db.store.audit_log().await.unwrap();
        assert!(
            log.iter()
                .any(|e| e.action == "import" && e.entity == "persons")
        );
    }
}

#[tokio::test]
async fn a_wrong_check_digit_is_reported_with_line_and_column_and_nothing_is_written() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        base(&db.store, dir.path()).await;
        let bad = GOOD_PERSON.replace("1101700230708", "1101700230707");
        let p = write(
            dir.path(),
            "persons.csv",
            persons(&[
                &GOOD_PERSON.replace("P1", "P0").replace("1101700230708", ""),
                &bad,
            ]),
        );
        let result = import(&db.store, &[p]).await;
        check_rejected(
            &db.store,
            result,
            &["persons.csv:3", "citizen_id", "check digit"],
            0,
        )
        .await;
    }
}

#[tokio::test]
async fn every_bad_row_is_reported_not_only_the_first() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        base(&db.store, dir.path()).await;
        let rows = [
            GOOD_PERSON.replace("female", "x"),
            GOOD_PERSON
                .replace("P1", "P2")
                .replace("1101700230708", "")
                .replace("36000", "lots"),
            GOOD_PERSON
                .replace("P1", "P3")
                .replace("1101700230708", "")
                .replace(",H1,", ",H9,"),
        ];
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let p = write(dir.path(), "persons.csv", persons(&rows));
        let result = import(&db.store, &[p]).await;
        check_rejected(
            &db.store,
            result,
            &[
                "persons.csv:2: sex",
                "persons.csv:3: income_year",
                "persons.csv:4: house_code",
                "import households.csv first",
            ],
            0,
        )
        .await;
    }
}

#[tokio::test]
async fn an_unknown_area_code_is_refused() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        let v = write(
            dir.path(),
            "villages.csv",
            "village_code,name_th\n80999901,บ้านไม่มี\n",
        );
        let result = import(&db.store, &[v]).await;
        let err = result.unwrap_err().to_string();
        assert!(err.contains("villages.csv:2: village_code"), "{err}");
        assert!(err.contains("no village has this code"), "{err}");
        assert_eq!(db.store.counts().await.unwrap().villages, 0);
        // A real subdistrict but a village nobody imported: the household is refused.
        base(&db.store, dir.path()).await;
        let h = write(
            dir.path(),
            "h.csv",
            "house_code,village_code,address\nH3,80010109,x\n",
        );
        let err = import(&db.store, &[h]).await.unwrap_err().to_string();
        assert!(
            err.contains("h.csv:2: village_code") && err.contains("import villages.csv first"),
            "{err}"
        );
        assert_eq!(db.store.counts().await.unwrap().households, 2);
    }
}

#[tokio::test]
async fn a_ce_year_where_be_is_expected_is_refused() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        base(&db.store, dir.path()).await;
        let p = write(
            dir.path(),
            "persons.csv",
            persons(&[&GOOD_PERSON.replace("2510-05-01", "1967-05-01")]),
        );
        let result = import(&db.store, &[p]).await;
        check_rejected(
            &db.store,
            result,
            &["persons.csv:2: birth_date", "Common Era", "2510"],
            0,
        )
        .await;
    }
}

#[tokio::test]
async fn the_same_citizen_id_in_two_households_is_refused() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        base(&db.store, dir.path()).await;
        // Twice in one file…
        let twin = GOOD_PERSON.replace("P1,H1", "P2,H2");
        let p = write(dir.path(), "persons.csv", persons(&[GOOD_PERSON, &twin]));
        let result = import(&db.store, &[p]).await;
        check_rejected(
            &db.store,
            result,
            &["persons.csv:3: citizen_id", "line 2"],
            0,
        )
        .await;
        // …and against the registry.
        let p1 = write(dir.path(), "p1.csv", persons(&[GOOD_PERSON]));
        import(&db.store, &[p1]).await.unwrap();
        let p2 = write(dir.path(), "p2.csv", persons(&[&twin]));
        let result = import(&db.store, &[p2]).await;
        check_rejected(&db.store, result, &["p2.csv:2: citizen_id", "person P1"], 1).await;
        let err = import(&db.store, &[dir.path().join("p2.csv")])
            .await
            .unwrap_err();
        assert!(
            !err.to_string().contains("1101700230708"),
            "no citizen ID in messages"
        );
    }
}

#[tokio::test]
async fn missing_required_columns_are_all_named() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        base(&db.store, dir.path()).await;
        let p = write(
            dir.path(),
            "persons.csv",
            "person_code,house_code,first_name\nP1,H1,สมศรี\n",
        );
        let result = import(&db.store, &[p]).await;
        check_rejected(&db.store, result, &["last_name", "sex", "relation"], 0).await;
    }
}

#[tokio::test]
async fn a_file_of_no_known_kind_is_refused() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.csv", "foo,bar\n1,2\n");
        let err = import(&db.store, &[p]).await.unwrap_err().to_string();
        assert!(
            err.contains("cannot tell what records this file holds"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn tis_620_files_are_read_correctly() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_874.encode(VILLAGES);
        assert!(!unmappable);
        let v = write(dir.path(), "villages.csv", &bytes);
        import(&db.store, &[v]).await.unwrap();
        let mut names = Vec::new();
        db.store
            .for_each_village(&mut |v| {
                names.push(v.name_th);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(names, ["บ้านท่าวัง"]);
    }
}

#[tokio::test]
async fn bytes_in_no_supported_encoding_and_empty_files_are_refused() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        // 0xFC–0xFF are unmapped in Windows-874 and invalid in UTF-8.
        let mut bytes = b"village_code,name_th\n80010101,".to_vec();
        bytes.extend_from_slice(&[0xFE, 0xFF, 0xFC, b'\n']);
        let v = write(dir.path(), "villages.csv", &bytes);
        let err = import(&db.store, &[v]).await.unwrap_err().to_string();
        assert!(err.contains("UTF-8") && err.contains("TIS-620"), "{err}");
        let e = write(dir.path(), "empty.csv", "");
        let err = import(&db.store, &[e]).await.unwrap_err().to_string();
        assert!(err.to_lowercase().contains("empty"), "{err}");
        assert_eq!(db.store.counts().await.unwrap().villages, 0);
    }
}

/// An endless source of pseudo-random bytes, counting what was read from it.
struct Garbage {
    state: u64,
    left: u64,
    read: Arc<AtomicU64>,
}

impl Read for Garbage {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left as usize);
        for b in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = (self.state >> 24) as u8;
        }
        self.left -= n as u64;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[tokio::test]
async fn a_huge_garbage_file_is_refused_early_reading_almost_none_of_it() {
    for db in TestDb::all().await {
        let read = Arc::new(AtomicU64::new(0));
        let garbage = Garbage {
            state: 0x2566,
            left: 4 << 30, // 4 GiB, never held in memory
            read: Arc::clone(&read),
        };
        let opened = TableReader::from_csv_reader("garbage.csv", garbage, &OpenOptions::new());
        let result = match opened {
            Ok(table) => {
                import_tables(&db.store, vec![(table, None)], "test", &CLOCK, &NoProgress).await
            }
            Err(e) => Err(AppError::Read(e)),
        };
        assert!(result.is_err());
        let consumed = read.load(Ordering::Relaxed);
        assert!(
            consumed < 4 << 20,
            "read {consumed} bytes of 4 GiB before refusing"
        );
        assert_eq!(db.store.counts().await.unwrap().villages, 0);
    }
}

#[tokio::test]
async fn a_huge_file_of_bad_rows_stops_at_the_error_cap() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        base(&db.store, dir.path()).await;
        // Valid text, valid header, every row bad: reading stops after the capped report.
        let mut text = String::from("village_code,name_th\n");
        for i in 0..200_000 {
            text.push_str(&format!("99{i:06},x\n"));
        }
        let v = write(dir.path(), "villages.csv", text);
        let err = import(&db.store, &[v]).await.unwrap_err().to_string();
        assert!(
            err.contains("too many errors"),
            "{}",
            &err[err.len().saturating_sub(300)..]
        );
        assert!(err.lines().count() < 150);
        assert_eq!(db.store.counts().await.unwrap().villages, 1);
    }
}

#[tokio::test]
async fn xlsx_files_import_like_csv() {
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("villages.xlsx");
        let rows = vec![vec![
            "80010101".to_owned(),
            "บ้านท่าวัง".to_owned(),
            "Ban Tha Wang".to_owned(),
        ]];
        halve_io::write_xlsx(
            &path,
            &[halve_io::XlsxSheet {
                name: "villages",
                header: &["village_code", "name_th", "name_en"],
                rows: &rows,
            }],
        )
        .unwrap();
        let summary = import(&db.store, &[path]).await.unwrap();
        assert_eq!(summary.files[0].written, 1);
    }
}

async fn export_bytes(store: &Store, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let summary = export_all(store, dir, "test", &CLOCK, &NoProgress)
        .await
        .unwrap();
    summary
        .files
        .iter()
        .map(|(path, _)| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(path).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn export_then_import_into_the_other_backend_gives_the_same_registry() {
    let dbs = TestDb::all().await;
    let source = &dbs[0];
    build_demo(
        &source.store,
        &DemoOptions {
            households: 150,
            seed: 7,
        },
        &NoProgress,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = export_bytes(&source.store, &dir.path().join("a")).await;
    assert_eq!(first.len(), halve_app::kinds::Kind::ALL.len());
    assert!(first.iter().all(|(_, bytes)| !bytes.is_empty()));
    // Into a fresh database of each backend: PostgreSQL when configured, and SQLite.
    let fresh_sqlite = TestDb::new(halve_store::Backend::Sqlite).await.unwrap();
    let mut targets: Vec<&TestDb> = dbs.iter().skip(1).collect();
    targets.push(&fresh_sqlite);
    for target in targets {
        import(&target.store, &[dir.path().join("a")])
            .await
            .unwrap();
        let again = export_bytes(&target.store, &dir.path().join("b")).await;
        for ((name_a, a), (name_b, b)) in first.iter().zip(&again) {
            assert_eq!(name_a, name_b);
            assert!(
                a == b,
                "{name_a} differs after a round trip through {:?}",
                target.store.backend()
            );
        }
        assert_eq!(
            source.store.counts().await.unwrap(),
            target.store.counts().await.unwrap()
        );
    }
}
