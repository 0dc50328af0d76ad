//! `halve import`: registry records from CSV or XLSX files into the store, all or nothing.
//!
//! Every file is read as a stream and every row is parsed into domain types and checked
//! against the registry (its village exists, its household exists, its citizen ID belongs to
//! no one else…). Valid rows are written in batches inside one transaction as long as no
//! error has been seen; after the first error the rest is still checked, so the report lists
//! every bad row (up to a cap), and then the transaction is rolled back: nothing is written.
//! Writes are upserts that skip unchanged rows, so importing the same files again changes
//! nothing.

use crate::clock::Clock;
use crate::kinds::Kind;
use crate::{AppError, Progress};
use halve_domain::{
    AreaCode, AreaLevel, AreaTree, Assessment, AssessmentRound, BeDate, BeYear, CitizenId,
    Education, GeoPoint, Household, IndicatorValue, Key, MembershipEvent, MembershipKind,
    ParseError, Person, PersonFlag, Relation, Satang, Sex, Village, VulnerabilityFlag, WelfareCard,
    WelfareCardStatus, parse_bool, parse_indicator_name, parse_text,
};
use halve_io::{ErrorReport, Header, OpenOptions, Record, TableReader};
use halve_store::{AuditEntry, RecordChange, RecordChangeKind, RecordEntity, Store, Tx};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Rows held before a write; large enough to amortise statements, small enough to keep
/// memory flat on files of millions of rows.
const BATCH: usize = 5_000;

/// What one imported file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    pub file: String,
    pub kind: Kind,
    pub rows: u64,
    /// Rows inserted or changed; the rest were already stored as they are.
    pub written: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub files: Vec<FileSummary>,
    /// Boundary (GeoJSON) files, imported by [`crate::boundaries`].
    pub boundaries: Vec<crate::boundaries::BoundarySummary>,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for s in &self.files {
            writeln!(
                f,
                "{}: {} {} แถว, บันทึกใหม่หรือเปลี่ยน {} แถว ({} {} rows, {} new or changed)",
                s.file,
                s.kind.label_th(),
                s.rows,
                s.written,
                s.kind.file_stem(),
                s.rows,
                s.written
            )?;
        }
        for b in &self.boundaries {
            writeln!(f, "{b}")?;
        }
        Ok(())
    }
}

/// Imports files, or folders of files named as `halve export` names them, in one transaction.
/// GeoJSON files (`.geojson`, `.json`) are area boundaries ([`crate::boundaries`]), imported
/// on their own: given with registry files, nothing is imported.
pub async fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    actor: &str,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<ImportSummary, AppError> {
    let (geojson, paths): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .iter()
        .cloned()
        .partition(|p| !p.is_dir() && crate::boundaries::is_boundary_file(&p.to_string_lossy()));
    if !geojson.is_empty() {
        if !paths.is_empty() {
            return Err(AppError::Invalid(crate::boundaries::MIXED_FILES.into()));
        }
        let boundaries =
            crate::boundaries::import_boundary_paths(store, &geojson, actor, clock).await?;
        return Ok(ImportSummary {
            boundaries,
            ..ImportSummary::default()
        });
    }
    let mut tables = Vec::new();
    for path in &paths {
        if path.is_dir() {
            let mut found = false;
            for kind in Kind::ALL {
                for ext in ["csv", "xlsx"] {
                    let file = path.join(format!("{}.{ext}", kind.file_stem()));
                    if file.is_file() {
                        tables.push(open(&file)?);
                        found = true;
                    }
                }
            }
            if !found {
                return Err(AppError::Invalid(format!(
                    "ไม่พบไฟล์ที่นำเข้าได้ในโฟลเดอร์ {} (no importable files in the folder: expected \
                     villages.csv, households.csv, persons.csv, …)",
                    path.display()
                )));
            }
        } else {
            tables.push(open(path)?);
        }
    }
    import_tables(store, tables, actor, clock, progress).await
}

fn open(path: &Path) -> Result<(TableReader, Option<u64>), AppError> {
    let reader = TableReader::open_with(path, &OpenOptions::new())?;
    // A line count is a cheap, good-enough total for the progress bar of a CSV file.
    let lines = match path.extension().and_then(|e| e.to_str()) {
        Some("csv" | "tsv" | "txt") => count_lines(path).ok(),
        _ => None,
    };
    Ok((reader, lines))
}

/// Line breaks in a file, read in blocks: a file of gigabytes is not held in memory.
fn count_lines(path: &Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut lines = 0;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(lines),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        lines += buf[..n].iter().filter(|&&c| c == b'\n').count() as u64;
    }
}

/// Imports already-opened tables (files or uploads) in one transaction. Each table's kind is
/// read from its header; tables are taken in dependency order (villages before households…).
pub async fn import_tables(
    store: &Store,
    tables: Vec<(TableReader, Option<u64>)>,
    actor: &str,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<ImportSummary, AppError> {
    let mut kinded = Vec::new();
    let mut reports = Vec::new();
    for (table, lines) in tables {
        match Kind::detect(table.header()) {
            Some(kind) => kinded.push((kind, table, lines)),
            None => {
                let mut report = table.new_report();
                report.push(
                    table.header().line(),
                    None,
                    "ไม่รู้ว่าไฟล์นี้เป็นข้อมูลชนิดใด: ดูชื่อคอลัมน์ที่ต้องมีในคู่มือ",
                    "cannot tell what records this file holds: its columns match no kind \
                     (villages, households, persons, person_flags, welfare_cards, \
                     membership_events, rounds, assessments, record_changes, partners, cases, \
                     case_needs, plan_items, referrals, visits, case_alerts)",
                );
                reports.push(report);
            }
        }
    }
    if !reports.is_empty() {
        return Err(AppError::Rejected(reports));
    }
    kinded.sort_by_key(|(kind, _, _)| *kind);
    // Case management's files are read after the registry's, in the same transaction.
    let (case_tables, kinded): (Vec<_>, Vec<_>) =
        kinded.into_iter().partition(|(kind, _, _)| kind.is_case());

    let mut tx = store.begin().await?;
    let refs = Refs::load(&mut tx).await?;

    // Reading and checking rows (CPU) and writing them (the database) overlap: a blocking
    // thread parses every file in order, against reference sets it alone updates, and sends
    // batches of valid rows over a bounded channel to this task, which writes them as they
    // come. The channel's bound keeps memory flat; the thread stops sending once any row has
    // failed, just as a single loop would stop writing.
    let (events, mut received) = tokio::sync::mpsc::channel(CHANNEL);
    let parser = tokio::task::spawn_blocking(move || parse_files(kinded, refs, &events));
    let mut written: Vec<u64> = Vec::new();
    while let Some(event) = received.recv().await {
        match event {
            Event::Start(file, lines) => {
                progress.start(&file, lines);
                written.push(0);
            }
            Event::Advance(n) => progress.advance(n),
            Event::Finish => progress.finish(),
            Event::Rows(batch) => {
                let file = written
                    .last_mut()
                    .expect("rows come after their file starts");
                *file += batch.write(&mut tx).await?;
            }
        }
    }
    let parsed = match parser.await {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(Stopped)) => unreachable!("the receiver was kept until the parser finished"),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => return Err(AppError::Invalid(format!("import interrupted: {e}"))),
    };

    let mut summary = ImportSummary::default();
    for (parsed, written) in parsed.into_iter().zip(written) {
        if parsed.report.is_empty() {
            summary.files.push(FileSummary {
                file: parsed.file,
                kind: parsed.kind,
                rows: parsed.rows,
                written,
            });
        } else {
            reports.push(parsed.report);
        }
    }
    crate::cases::files::import(
        &mut tx,
        case_tables,
        &mut summary.files,
        &mut reports,
        progress,
    )
    .await?;
    if !reports.is_empty() {
        tx.rollback().await?;
        return Err(AppError::Rejected(reports));
    }
    let at = clock.now_iso();
    for s in &summary.files {
        tx.append_audit(&AuditEntry {
            at: at.clone(),
            actor: actor.to_owned(),
            action: "import".into(),
            entity: s.kind.file_stem().into(),
            entity_key: s.file.clone(),
            before: None,
            after: Some(format!(r#"{{"rows":{},"written":{}}}"#, s.rows, s.written)),
        })
        .await?;
    }
    tx.commit().await?;
    Ok(summary)
}

/// Messages from the parsing thread to the writer, in file order.
enum Event {
    /// A file begins: its name and, if known, its line count.
    Start(String, Option<u64>),
    Advance(u64),
    Finish,
    /// Valid rows to write, sent only while no row anywhere has failed.
    Rows(Pending),
}

/// Messages the channel holds; with progress messages in between, at most a couple of
/// batches wait while one is written.
const CHANNEL: usize = 16;

/// The writer is gone (it failed); parsing stops.
#[derive(Debug)]
struct Stopped;

fn send(events: &tokio::sync::mpsc::Sender<Event>, event: Event) -> Result<(), Stopped> {
    events.blocking_send(event).map_err(|_| Stopped)
}

/// What parsing one file found.
struct Parsed {
    file: String,
    kind: Kind,
    rows: u64,
    report: ErrorReport,
}

/// Reads and checks every file in order, sending batches of valid rows to the writer.
fn parse_files(
    kinded: Vec<(Kind, TableReader, Option<u64>)>,
    mut refs: Refs,
    events: &tokio::sync::mpsc::Sender<Event>,
) -> Result<Vec<Parsed>, Stopped> {
    let mut out = Vec::with_capacity(kinded.len());
    let mut failed = false;
    for (kind, mut table, lines) in kinded {
        let mut report = table.new_report();
        send(events, Event::Start(table.file().to_owned(), lines))?;
        let missing = table.header().require(kind.required());
        let rows = match missing {
            Err(e) => {
                report.push_read_error(&e);
                0
            }
            Ok(_) => {
                let mut file = FileImport::new(kind, table.header(), &mut report);
                let mut rows = 0;
                let mut record = Record {
                    line: 0,
                    fields: Vec::new(),
                };
                loop {
                    match table.next_record_into(file.report, &mut record) {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            file.report.push_read_error(&e);
                            break;
                        }
                    }
                    rows += 1;
                    file.row(&record, &mut refs);
                    if rows % 1024 == 0 {
                        send(events, Event::Advance(1024))?;
                    }
                    if !failed && file.report.is_empty() && file.pending() >= BATCH {
                        send(events, Event::Rows(std::mem::take(&mut file.pending)))?;
                    }
                }
                if !failed && file.report.is_empty() && file.pending() > 0 {
                    send(events, Event::Rows(std::mem::take(&mut file.pending)))?;
                }
                rows
            }
        };
        send(events, Event::Finish)?;
        failed |= !report.is_empty();
        out.push(Parsed {
            file: table.file().to_owned(),
            kind,
            rows,
            report,
        });
    }
    Ok(out)
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// What the registry already holds, plus what this import has added so far: the keys that
/// rows may refer to.
struct Refs {
    villages: FastSet<String>,
    houses: FastSet<String>,
    /// Person code → citizen ID.
    persons: FastMap<String, Option<CitizenId>>,
    /// Citizen ID → person code: one person per ID.
    citizen_owner: FastMap<CitizenId, String>,
    rounds: FastSet<String>,
}

impl Refs {
    async fn load(tx: &mut Tx) -> Result<Refs, AppError> {
        let mut persons = FastMap::default();
        let mut citizen_owner = FastMap::default();
        tx.for_each_person_citizen_id(&mut |person, cid| {
            // Stored IDs were checked when written; one that no longer parses can match no
            // ID being imported, so it has no owner to defend.
            let cid = cid.and_then(|c| CitizenId::parse(&c).ok());
            if let Some(cid) = cid {
                citizen_owner.insert(cid, person.clone());
            }
            persons.insert(person, cid);
        })
        .await?;
        let fast = |set: HashSet<String>| set.into_iter().collect::<FastSet<String>>();
        Ok(Refs {
            villages: fast(tx.village_codes().await?),
            houses: fast(tx.house_codes().await?),
            persons,
            citizen_owner,
            rounds: fast(tx.round_years().await?),
        })
    }
}

/// The parsed-but-unwritten rows of one file.
#[derive(Default)]
struct Pending {
    villages: Vec<Village>,
    households: Vec<Household>,
    persons: Vec<Person>,
    flags: Vec<PersonFlag>,
    welfare: Vec<WelfareCard>,
    events: Vec<MembershipEvent>,
    rounds: Vec<AssessmentRound>,
    assessments: Vec<Assessment>,
    record_changes: Vec<RecordChange>,
}

impl Pending {
    /// Writes the rows; returns how many were inserted or changed.
    async fn write(self, tx: &mut Tx) -> Result<u64, AppError> {
        Ok(tx.upsert_villages(&self.villages).await?
            + tx.upsert_households(&self.households).await?
            + tx.upsert_persons(&self.persons).await?
            + tx.upsert_flags(&self.flags).await?
            + tx.upsert_welfare_cards(&self.welfare).await?
            + tx.upsert_events(&self.events).await?
            + tx.upsert_rounds(&self.rounds).await?
            + tx.upsert_assessments(&self.assessments).await?
            + tx.upsert_record_changes(&self.record_changes).await?)
    }
}

struct FileImport<'r> {
    kind: Kind,
    report: &'r mut ErrorReport,
    /// Column name → its index in the record, for the columns this file has.
    columns: Rc<[(&'static str, usize)]>,
    /// Assessment indicator columns: (index, indicator name).
    indicators: Vec<(usize, String)>,
    /// Key of each row seen in this file → its line, to catch duplicates.
    seen: FastMap<String, u64>,
    pending: Pending,
}

impl<'r> FileImport<'r> {
    fn new(kind: Kind, header: &Header, report: &'r mut ErrorReport) -> Self {
        let columns = kind
            .columns()
            .iter()
            .filter_map(|&c| header.index(c).map(|i| (c, i)))
            .collect();
        let mut indicators = Vec::new();
        if kind == Kind::Assessments {
            for (i, name) in header.names().iter().enumerate() {
                if name.is_empty() || kind.columns().iter().any(|c| c.eq_ignore_ascii_case(name)) {
                    continue;
                }
                match parse_indicator_name(name) {
                    Ok(n) => indicators.push((i, n)),
                    Err(e) => {
                        report.push(header.line(), Some(name), &e.th, &e.en);
                    }
                }
            }
        }
        FileImport {
            kind,
            report,
            columns,
            indicators,
            seen: FastMap::default(),
            pending: Pending::default(),
        }
    }

    fn pending(&self) -> usize {
        let p = &self.pending;
        p.villages.len()
            + p.households.len()
            + p.persons.len()
            + p.flags.len()
            + p.welfare.len()
            + p.events.len()
            + p.rounds.len()
            + p.assessments.len()
            + p.record_changes.len()
    }

    /// Marks `key` as seen on `line`; reports a duplicate if it was seen before.
    fn first_time(&mut self, key: String, line: u64, column: &str) -> bool {
        if let Some(first) = self.seen.get(&key) {
            let first = *first;
            self.report.push(
                line,
                Some(column),
                format!("ซ้ำกับแถวที่ {first} ในไฟล์เดียวกัน"),
                format!("the same record as line {first} of this file"),
            );
            return false;
        }
        self.seen.insert(key, line);
        true
    }

    fn row(&mut self, record: &Record, refs: &mut Refs) {
        let columns = Rc::clone(&self.columns);
        let mut cells = Cells {
            record,
            columns: &columns,
            errors: Vec::new(),
        };
        let line = record.line;
        match self.kind {
            Kind::Villages => {
                let code = cells.req("village_code", village_code);
                let name_th = cells.req("name_th", |s| parse_text(s, 100));
                let name_en = cells.opt("name_en", |s| parse_text(s, 100));
                if cells.ok(self.report)
                    && let (Some(code), Some(name_th), Some(name_en)) = (code, name_th, name_en)
                    && self.first_time(code.to_string(), line, "village_code")
                {
                    refs.villages.insert(code.to_string());
                    self.pending.villages.push(Village {
                        code,
                        name_th,
                        name_en,
                    });
                }
            }
            Kind::Households => {
                let house_code = cells.req("house_code", Key::parse);
                let village = cells.req("village_code", |s| {
                    let code = village_code(s)?;
                    if !refs.villages.contains(&code.to_string()) {
                        return Err(ParseError::new(
                            "area.unknown_village",
                            "ไม่พบหมู่บ้านนี้ในทะเบียน: นำเข้า villages.csv ก่อน",
                            "no village has this code in the registry: import villages.csv first",
                        ));
                    }
                    Ok(code)
                });
                let address = cells.req("address", |s| parse_text(s, 300));
                let lat = cells.raw("lat").trim().to_owned();
                let lon = cells.raw("lon").trim().to_owned();
                let location = match (lat.is_empty(), lon.is_empty()) {
                    (true, true) => Some(None),
                    (false, false) => cells.check("lat", GeoPoint::parse(&lat, &lon)).map(Some),
                    _ => cells.fail(
                        if lat.is_empty() { "lat" } else { "lon" },
                        ParseError::new(
                            "geo.half",
                            "ต้องกรอกทั้งละติจูดและลองจิจูด หรือเว้นว่างทั้งคู่",
                            "give both latitude and longitude, or neither",
                        ),
                    ),
                };
                if cells.ok(self.report)
                    && let (Some(house_code), Some(village), Some(address), Some(location)) =
                        (house_code, village, address, location)
                    && self.first_time(house_code.to_string(), line, "house_code")
                {
                    refs.houses.insert(house_code.to_string());
                    self.pending.households.push(Household {
                        house_code,
                        village,
                        address,
                        location,
                    });
                }
            }
            Kind::Persons => self.person_row(cells, refs),
            Kind::RecordChanges => self.record_change_row(cells, refs),
            Kind::PersonFlags => {
                let person_code = cells.req("person_code", |s| known_person(s, refs));
                let flag = cells.req("flag", VulnerabilityFlag::parse);
                let source = cells.req("source", |s| parse_text(s, 100));
                let as_of = cells.req("as_of", BeDate::parse);
                if cells.ok(self.report)
                    && let (Some(person_code), Some(flag), Some(source), Some(as_of)) =
                        (person_code, flag, source, as_of)
                    && self.first_time(format!("{person_code}|{flag}|{as_of}"), line, "flag")
                {
                    self.pending.flags.push(PersonFlag {
                        person_code,
                        flag,
                        source,
                        as_of,
                    });
                }
            }
            Kind::WelfareCards => {
                let person_code = cells.req("person_code", |s| known_person(s, refs));
                let status = cells.req("status", WelfareCardStatus::parse);
                let source = cells.req("source", |s| parse_text(s, 100));
                let as_of = cells.req("as_of", BeDate::parse);
                if cells.ok(self.report)
                    && let (Some(person_code), Some(status), Some(source), Some(as_of)) =
                        (person_code, status, source, as_of)
                    && self.first_time(format!("{person_code}|{as_of}"), line, "as_of")
                {
                    self.pending.welfare.push(WelfareCard {
                        person_code,
                        status,
                        source,
                        as_of,
                    });
                }
            }
            Kind::MembershipEvents => {
                let person_code = cells.req("person_code", |s| known_person(s, refs));
                let household = cells.req("house_code", |s| known_house(s, refs));
                let kind = cells.req("kind", MembershipKind::parse);
                let date = cells.req("date", BeDate::parse);
                let note = cells.opt("note", |s| parse_text(s, 500));
                if cells.ok(self.report)
                    && let (Some(person_code), Some(household), Some(kind), Some(date), Some(note)) =
                        (person_code, household, kind, date, note)
                    && self.first_time(format!("{person_code}|{kind}|{date}"), line, "date")
                {
                    self.pending.events.push(MembershipEvent {
                        person_code,
                        household,
                        kind,
                        date,
                        note: note.unwrap_or_default(),
                    });
                }
            }
            Kind::Rounds => {
                let year = cells.req("year", BeYear::parse);
                let date = cells.req("date", BeDate::parse);
                let label = cells.req("label", |s| parse_text(s, 100));
                if cells.ok(self.report)
                    && let (Some(year), Some(date), Some(label)) = (year, date, label)
                    && self.first_time(year.to_string(), line, "year")
                {
                    refs.rounds.insert(year.to_string());
                    self.pending
                        .rounds
                        .push(AssessmentRound { year, date, label });
                }
            }
            Kind::Assessments => {
                let round = cells.req("round", |s| {
                    let year = BeYear::parse(s)?;
                    if !refs.rounds.contains(&year.to_string()) {
                        return Err(ParseError::new(
                            "round.unknown",
                            "ไม่พบรอบการสำรวจนี้: นำเข้า rounds.csv ก่อน",
                            "no assessment round for this year: import rounds.csv first",
                        ));
                    }
                    Ok(year)
                });
                let household = cells.req("house_code", |s| known_house(s, refs));
                let assessed_on = cells.req("assessed_on", BeDate::parse);
                let members = cells.req("members", |s| {
                    halve_io::normalize_digits(s.trim())
                        .parse::<u16>()
                        .map_err(|_| {
                            ParseError::new(
                                "members.syntax",
                                "จำนวนสมาชิกต้องเป็นจำนวนเต็ม 0 ขึ้นไป",
                                "members is a whole number, 0 or more",
                            )
                        })
                });
                let mut values = BTreeMap::new();
                for (index, name) in &self.indicators {
                    match IndicatorValue::parse(record.get(*index)) {
                        Ok(Some(v)) => {
                            values.insert(name.clone(), v);
                        }
                        Ok(None) => {}
                        Err(e) => cells.errors.push((name.clone(), e)),
                    }
                }
                if cells.ok(self.report)
                    && let (Some(round), Some(household), Some(assessed_on), Some(members)) =
                        (round, household, assessed_on, members)
                    && self.first_time(format!("{round}|{household}"), line, "house_code")
                {
                    self.pending.assessments.push(Assessment {
                        round,
                        household,
                        assessed_on,
                        members,
                        values,
                    });
                }
            }
            kind => unreachable!("{kind:?} files are read by cases::files"),
        }
    }

    /// A household or person record merged into another, or withdrawn as registered in
    /// error. The record (and the one it is merged into) must exist; a merge names a record
    /// other than itself, and only a merge names one.
    fn record_change_row(&mut self, mut cells: Cells<'_>, refs: &Refs) {
        let line = cells.record.line;
        let entity = cells.req("entity", RecordEntity::parse);
        let known = |s: &str| match entity {
            Some(RecordEntity::Household) => known_house(s, refs),
            Some(RecordEntity::Person) => known_person(s, refs),
            // The entity's own error is reported; the code is only checked for shape.
            None => Key::parse(s),
        };
        let code = cells.req("code", known);
        let change = cells.req("change", RecordChangeKind::parse);
        let date = cells.req("date", BeDate::parse);
        let into = cells.opt("into_code", known);
        let note = cells.opt("note", |s| parse_text(s, 500));
        match (change, &into) {
            (Some(RecordChangeKind::Merged), Some(None)) => {
                cells.fail::<()>(
                    "into_code",
                    ParseError::new(
                        "record_change.into_missing",
                        "การรวมระเบียนต้องระบุรหัสระเบียนที่รวมเข้า (into_code)",
                        "a merge names the record it was merged into (into_code)",
                    ),
                );
            }
            (Some(RecordChangeKind::Corrected), Some(Some(_))) => {
                cells.fail::<()>(
                    "into_code",
                    ParseError::new(
                        "record_change.into_unexpected",
                        "การแก้ไขระเบียนไม่มีระเบียนที่รวมเข้า: เว้นว่าง into_code",
                        "a correction merges into nothing: leave into_code blank",
                    ),
                );
            }
            _ => {}
        }
        if let (Some(code), Some(Some(into))) = (&code, &into)
            && code == into
        {
            cells.fail::<()>(
                "into_code",
                ParseError::new(
                    "record_change.into_itself",
                    "ระเบียนรวมเข้ากับตัวเองไม่ได้",
                    "a record cannot be merged into itself",
                ),
            );
        }
        if cells.ok(self.report)
            && let (Some(entity), Some(code), Some(change), Some(date), Some(into), Some(note)) =
                (entity, code, change, date, into, note)
            && self.first_time(format!("{entity}|{code}"), line, "code")
        {
            self.pending.record_changes.push(RecordChange {
                entity,
                code,
                change,
                date,
                into,
                note: note.unwrap_or_default(),
            });
        }
    }

    fn person_row(&mut self, mut cells: Cells<'_>, refs: &mut Refs) {
        let line = cells.record.line;
        let person_code = cells.req("person_code", Key::parse);
        let household = cells.req("house_code", |s| known_house(s, refs));
        let citizen_id = cells.opt("citizen_id", CitizenId::parse);
        let first_name = cells.req("first_name", |s| parse_text(s, 100));
        let last_name = cells.req("last_name", |s| parse_text(s, 100));
        let sex = cells.req("sex", Sex::parse);
        let birth_date = cells.opt("birth_date", BeDate::parse);
        let relation = cells.req("relation", Relation::parse);
        let education = cells.opt("education", Education::parse);
        let occupation = cells.opt("occupation", |s| parse_text(s, 100));
        let income_year = cells.opt("income_year", Satang::parse_non_negative);
        let flag =
            |cells: &mut Cells<'_>, col| cells.opt(col, parse_bool).map(|b| b.unwrap_or(false));
        let disability = flag(&mut cells, "disability");
        let chronic_illness = flag(&mut cells, "chronic_illness");
        let bedridden = flag(&mut cells, "bedridden");
        // One citizen ID, one person: the same ID under another person code is the same
        // person registered twice (often in two households), which the council must resolve.
        if let (Some(code), Some(Some(cid))) = (&person_code, &citizen_id)
            && let Some(owner) = refs.citizen_owner.get(cid)
            && owner != code.as_str()
        {
            let (th, en) = match self.seen.get(owner) {
                Some(first) => (
                    format!("เลขประจำตัวประชาชนนี้ซ้ำกับบุคคลในแถวที่ {first}"),
                    format!("this citizen ID is already given to the person on line {first}"),
                ),
                None => (
                    format!("เลขประจำตัวประชาชนนี้เป็นของบุคคลรหัส {owner} ในทะเบียนแล้ว"),
                    format!("this citizen ID already belongs to person {owner} in the registry"),
                ),
            };
            cells.errors.push((
                "citizen_id".into(),
                ParseError::new("citizen_id.duplicate", th, en),
            ));
        }
        let (
            Some(person_code),
            Some(household),
            Some(citizen_id),
            Some(first_name),
            Some(last_name),
            Some(sex),
            Some(birth_date),
            Some(relation),
            Some(education),
            Some(occupation),
            Some(income_year),
            Some(disability),
            Some(chronic_illness),
            Some(bedridden),
        ) = (
            person_code,
            household,
            citizen_id,
            first_name,
            last_name,
            sex,
            birth_date,
            relation,
            education,
            occupation,
            income_year,
            disability,
            chronic_illness,
            bedridden,
        )
        else {
            cells.ok(self.report);
            return;
        };
        if !cells.ok(self.report) || !self.first_time(person_code.to_string(), line, "person_code")
        {
            return;
        }
        // A person whose stored ID changes frees the old one.
        match refs.persons.get_mut(person_code.as_str()) {
            Some(stored) => {
                if let Some(old) = *stored
                    && citizen_id != Some(old)
                {
                    refs.citizen_owner.remove(&old);
                }
                *stored = citizen_id;
            }
            None => {
                refs.persons.insert(person_code.to_string(), citizen_id);
            }
        }
        if let Some(cid) = citizen_id {
            match refs.citizen_owner.get_mut(&cid) {
                Some(owner) if owner.as_str() == person_code.as_str() => {}
                Some(owner) => *owner = person_code.to_string(),
                None => {
                    refs.citizen_owner.insert(cid, person_code.to_string());
                }
            }
        }
        self.pending.persons.push(Person {
            person_code,
            household,
            citizen_id,
            first_name,
            last_name,
            sex,
            birth_date,
            relation,
            education,
            occupation,
            income_year,
            disability,
            chronic_illness,
            bedridden,
        });
    }
}

/// An 8-digit village code whose subdistrict exists.
fn village_code(s: &str) -> Result<AreaCode, ParseError> {
    let code = AreaTree::shipped().resolve(s)?;
    if code.level() != AreaLevel::Village {
        return Err(ParseError::new(
            "area.not_village",
            "รหัสหมู่บ้านต้องมี 8 หลัก (รหัสตำบล 6 หลัก + หมู่ที่ 2 หลัก)",
            "a village code has 8 digits (subdistrict code + village number)",
        ));
    }
    Ok(code)
}

fn known_house(s: &str, refs: &Refs) -> Result<Key, ParseError> {
    let key = Key::parse(s)?;
    if refs.houses.contains(key.as_str()) {
        Ok(key)
    } else {
        Err(ParseError::new(
            "household.unknown",
            "ไม่พบครัวเรือนนี้ในทะเบียน: นำเข้า households.csv ก่อน",
            "no household has this code in the registry: import households.csv first",
        ))
    }
}

fn known_person(s: &str, refs: &Refs) -> Result<Key, ParseError> {
    let key = Key::parse(s)?;
    if refs.persons.contains_key(key.as_str()) {
        Ok(key)
    } else {
        Err(ParseError::new(
            "person.unknown",
            "ไม่พบบุคคลนี้ในทะเบียน: นำเข้า persons.csv ก่อน",
            "no person has this code in the registry: import persons.csv first",
        ))
    }
}

/// The cells of one row, parsed column by column; every failure is kept so that a row with
/// three bad cells gets three messages.
struct Cells<'a> {
    record: &'a Record,
    columns: &'a [(&'static str, usize)],
    errors: Vec<(String, ParseError)>,
}

impl Cells<'_> {
    fn raw(&self, column: &str) -> &str {
        // A dozen short names at most: a scan beats hashing them.
        self.columns
            .iter()
            .find(|(name, _)| *name == column)
            .map_or("", |&(_, i)| self.record.get(i))
    }

    fn check<T>(&mut self, column: &str, result: Result<T, ParseError>) -> Option<T> {
        result
            .map_err(|e| self.errors.push((column.to_owned(), e)))
            .ok()
    }

    fn fail<T>(&mut self, column: &str, error: ParseError) -> Option<T> {
        self.errors.push((column.to_owned(), error));
        None
    }

    /// A required cell: blank is an error.
    fn req<T>(
        &mut self,
        column: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        let raw = self.raw(column);
        if raw.trim().is_empty() {
            return self.fail(
                column,
                ParseError::new("text.empty", "ต้องกรอกช่องนี้", "this field is required"),
            );
        }
        let result = parse(raw);
        self.check(column, result)
    }

    /// An optional cell: `Some(None)` when blank, `None` when present but invalid.
    fn opt<T>(
        &mut self,
        column: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<Option<T>> {
        let raw = self.raw(column);
        if raw.trim().is_empty() {
            return Some(None);
        }
        let result = parse(raw);
        self.check(column, result).map(Some)
    }

    /// Moves this row's errors into the report; true when there were none.
    fn ok(&mut self, report: &mut ErrorReport) -> bool {
        let ok = self.errors.is_empty();
        for (column, e) in self.errors.drain(..) {
            report.push(self.record.line, Some(&column), &e.th, &e.en);
        }
        ok
    }
}
