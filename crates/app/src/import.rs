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
    AreaLevel, AreaTree, Assessment, AssessmentRound, BeDate, BeYear, CitizenId, Education,
    GeoPoint, Household, IndicatorValue, Key, MembershipEvent, MembershipKind, ParseError, Person,
    PersonFlag, Relation, Satang, Sex, Village, VulnerabilityFlag, WelfareCard, WelfareCardStatus,
    parse_bool, parse_indicator_name, parse_text,
};
use halve_io::{ErrorReport, Header, OpenOptions, Record, TableReader};
use halve_store::{AuditEntry, Store, Tx};
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
        Ok(())
    }
}

/// Imports files, or folders of files named as `halve export` names them, in one transaction.
pub async fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    actor: &str,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<ImportSummary, AppError> {
    let mut tables = Vec::new();
    for path in paths {
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
        Some("csv" | "tsv" | "txt") => std::fs::read(path)
            .ok()
            .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64),
        _ => None,
    };
    Ok((reader, lines))
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
                     membership_events, rounds, assessments)",
                );
                reports.push(report);
            }
        }
    }
    if !reports.is_empty() {
        return Err(AppError::Rejected(reports));
    }
    kinded.sort_by_key(|(kind, _, _)| *kind);

    let mut tx = store.begin().await?;
    let mut refs = Refs::load(&mut tx).await?;
    let mut summary = ImportSummary::default();
    let mut failed = false;
    for (kind, mut table, lines) in kinded {
        let mut report = table.new_report();
        progress.start(table.file(), lines);
        let missing = table.header().require(kind.required());
        let (rows, written) = match missing {
            Err(e) => {
                report.push_read_error(&e);
                (0, 0)
            }
            Ok(_) => {
                let mut file = FileImport::new(kind, table.header(), &mut report)?;
                let mut rows = 0;
                loop {
                    let record = match table.next_record(file.report) {
                        Ok(Some(r)) => r,
                        Ok(None) => break,
                        Err(e) => {
                            file.report.push_read_error(&e);
                            break;
                        }
                    };
                    rows += 1;
                    file.row(&record, &mut refs);
                    if rows % 1024 == 0 {
                        progress.advance(1024);
                    }
                    if !failed && file.report.is_empty() && file.pending() >= BATCH {
                        file.flush(&mut tx).await?;
                    }
                }
                if !failed && file.report.is_empty() {
                    file.flush(&mut tx).await?;
                }
                (rows, file.written)
            }
        };
        progress.finish();
        if report.is_empty() {
            summary.files.push(FileSummary {
                file: table.file().to_owned(),
                kind,
                rows,
                written,
            });
        } else {
            failed = true;
            reports.push(report);
        }
    }
    if failed {
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

/// What the registry already holds, plus what this import has added so far: the keys that
/// rows may refer to.
struct Refs {
    villages: HashSet<String>,
    houses: HashSet<String>,
    /// Person code → citizen ID digits.
    persons: HashMap<String, Option<String>>,
    /// Citizen ID digits → person code: one person per ID.
    citizen_owner: HashMap<String, String>,
    rounds: HashSet<String>,
}

impl Refs {
    async fn load(tx: &mut Tx) -> Result<Refs, AppError> {
        let index = tx.person_index().await?;
        let mut persons = HashMap::with_capacity(index.len());
        let mut citizen_owner = HashMap::with_capacity(index.len());
        for (person, (_, cid)) in index {
            if let Some(cid) = &cid {
                citizen_owner.insert(cid.clone(), person.clone());
            }
            persons.insert(person, cid);
        }
        Ok(Refs {
            villages: tx.village_codes().await?,
            houses: tx.house_codes().await?,
            persons,
            citizen_owner,
            rounds: tx.round_years().await?,
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
}

struct FileImport<'r> {
    kind: Kind,
    report: &'r mut ErrorReport,
    columns: Rc<HashMap<&'static str, usize>>,
    /// Assessment indicator columns: (index, indicator name).
    indicators: Vec<(usize, String)>,
    /// Key of each row seen in this file → its line, to catch duplicates.
    seen: HashMap<String, u64>,
    pending: Pending,
    written: u64,
}

impl<'r> FileImport<'r> {
    fn new(kind: Kind, header: &Header, report: &'r mut ErrorReport) -> Result<Self, AppError> {
        let columns = Rc::new(
            kind.columns()
                .iter()
                .filter_map(|&c| header.index(c).map(|i| (c, i)))
                .collect(),
        );
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
        Ok(FileImport {
            kind,
            report,
            columns,
            indicators,
            seen: HashMap::new(),
            pending: Pending::default(),
            written: 0,
        })
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
    }

    async fn flush(&mut self, tx: &mut Tx) -> Result<(), AppError> {
        let p = std::mem::take(&mut self.pending);
        self.written += tx.upsert_villages(&p.villages).await?
            + tx.upsert_households(&p.households).await?
            + tx.upsert_persons(&p.persons).await?
            + tx.upsert_flags(&p.flags).await?
            + tx.upsert_welfare_cards(&p.welfare).await?
            + tx.upsert_events(&p.events).await?
            + tx.upsert_rounds(&p.rounds).await?
            + tx.upsert_assessments(&p.assessments).await?;
        Ok(())
    }

    /// Marks `key` as seen on `line`; reports a duplicate if it was seen before.
    fn first_time(&mut self, key: String, line: u64, column: &str) -> bool {
        if let Some(first) = self.seen.get(&key) {
            let first = *first;
            self.report.push(
                line,
                Some(column),
                &format!("ซ้ำกับแถวที่ {first} ในไฟล์เดียวกัน"),
                &format!("the same record as line {first} of this file"),
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
                let code = cells.req("village_code", |s| {
                    let code = AreaTree::shipped().resolve(s)?;
                    if code.level() != AreaLevel::Village {
                        return Err(ParseError::new(
                            "area.not_village",
                            "รหัสหมู่บ้านต้องมี 8 หลัก (รหัสตำบล 6 หลัก + หมู่ที่ 2 หลัก)",
                            "a village code has 8 digits (subdistrict code + village number)",
                        ));
                    }
                    Ok(code)
                });
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
                    let code = AreaTree::shipped().resolve(s)?;
                    if code.level() != AreaLevel::Village {
                        return Err(ParseError::new(
                            "area.not_village",
                            "รหัสหมู่บ้านต้องมี 8 หลัก",
                            "a village code has 8 digits",
                        ));
                    }
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
        if let (Some(code), Some(Some(cid))) = (&person_code, &citizen_id) {
            let digits = cid.as_digits();
            if let Some(owner) = refs.citizen_owner.get(&digits)
                && owner != code.as_str()
            {
                let (th, en) = match self.seen.get(owner) {
                    Some(first) => (
                        format!("เลขประจำตัวประชาชนนี้ซ้ำกับบุคคลในแถวที่ {first}"),
                        format!("this citizen ID is already given to the person on line {first}"),
                    ),
                    None => (
                        format!("เลขประจำตัวประชาชนนี้เป็นของบุคคลรหัส {owner} ในทะเบียนแล้ว"),
                        format!(
                            "this citizen ID already belongs to person {owner} in the registry"
                        ),
                    ),
                };
                cells.errors.push((
                    "citizen_id".into(),
                    ParseError::new("citizen_id.duplicate", th, en),
                ));
            }
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
        if let Some(Some(old)) = refs.persons.get(person_code.as_str())
            && citizen_id.map(|c| c.as_digits()).as_ref() != Some(old)
        {
            refs.citizen_owner.remove(old);
        }
        let digits = citizen_id.map(|c| c.as_digits());
        if let Some(d) = &digits {
            refs.citizen_owner
                .insert(d.clone(), person_code.to_string());
        }
        refs.persons.insert(person_code.to_string(), digits);
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
    columns: &'a HashMap<&'static str, usize>,
    errors: Vec<(String, ParseError)>,
}

impl Cells<'_> {
    fn raw(&self, column: &str) -> &str {
        self.columns.get(column).map_or("", |&i| self.record.get(i))
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
