//! Changes to the registry made one at a time from the app (births, deaths, moves), each
//! checked, written in one transaction and audited with its before and after.
//!
//! The records written are the ones an import of the same facts would write, so that the
//! target engine (`target.rs`), the measures and the export read them without knowing where
//! they came from: a birth or an arrival from outside is a new person registered in the
//! household plus a `birth` or `move_in` event there; a death is a `death` event at the
//! household the person lived in (the person stays registered there, as the record of where
//! they last lived); a move out of the registry is a `move_out` event (likewise); a move within
//! the registry is a `move_out` at the old household and a `move_in` at the new one on the
//! same day, and the person is registered in the new one.
//!
//! Where a person lives is always what replaying their events says ([`standing`]), in the
//! order the target engine replays them: by date, and on one day a move out before a move in
//! and a death last. A new change must come after the person's recorded ones in that order;
//! otherwise the replay would not reach the state the change was checked against.
//!
//! The caller owns the transaction, so that it can spend its one-time form token there (a
//! double submit then writes once); refusals come back before anything is written, and the
//! caller rolls back. Messages are bilingual and never quote what was typed.

use halve_domain::{
    BeDate, BeYear, CitizenId, Key, MembershipEvent, MembershipKind, Person, Relation, Sex,
    parse_text,
};
use halve_store::{AuditEntry, StoreError, Tx};
use serde_json::{Value as Json, json};

/// Longest first or last name, as the import allows.
const NAME_MAX: usize = 100;
/// Longest note on an event, as the import allows.
const NOTE_MAX: usize = 500;
/// How many taken person codes a new person skips before giving up (codes taken by other
/// transactions committing meanwhile).
const CODE_ATTEMPTS: u32 = 50;

/// A child born into a household.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Birth {
    pub household: Key,
    pub date: BeDate,
    pub first_name: String,
    pub last_name: String,
    pub sex: Sex,
    /// Relation to the head of the household (a child or grandchild, usually).
    pub relation: Relation,
    pub citizen_id: Option<CitizenId>,
    pub note: String,
}

/// A member of a household has died.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Death {
    pub household: Key,
    pub person: Key,
    pub date: BeDate,
    pub note: String,
}

/// Where a person moves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Another household of the registry, with the person's relation to its head.
    Household { house_code: Key, relation: Relation },
    /// Out of the registry: another province, abroad, or a place not registered.
    Away,
}

/// A member leaves a household.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub household: Key,
    pub person: Key,
    pub date: BeDate,
    pub to: Destination,
    pub note: String,
}

/// A person arriving from outside the registry: a new person record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveIn {
    pub household: Key,
    pub date: BeDate,
    pub first_name: String,
    pub last_name: String,
    pub sex: Sex,
    pub birth_date: Option<BeDate>,
    pub relation: Relation,
    pub citizen_id: Option<CitizenId>,
    pub note: String,
}

/// What was written: the person as stored afterwards and the events added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub person: Person,
    pub events: Vec<MembershipEvent>,
}

/// Why a change was refused: the field of the request it concerns (`date`, `person`, `to`,
/// `citizen_id`, …), a stable code, and the reason in Thai and English, without the values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub code: &'static str,
    pub th: String,
    pub en: String,
}

impl Refusal {
    fn new(field: &'static str, code: &'static str, th: &str, en: &str) -> Refusal {
        Refusal {
            field,
            code,
            th: th.to_owned(),
            en: en.to_owned(),
        }
    }

    fn parse(field: &'static str, e: halve_domain::ParseError) -> Refusal {
        Refusal {
            field,
            code: e.code,
            th: e.th,
            en: e.en,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The change breaks a rule; nothing was written. Every reason found is listed.
    #[error("{}", refusals_text(.0))]
    Refused(Vec<Refusal>),
    /// The time given is not `YYYY-MM-DDTHH:MM:SSZ`.
    #[error("เวลาไม่ถูกต้อง (the time of the change is not YYYY-MM-DDTHH:MM:SSZ)")]
    BadTime,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refusals_text(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(|r| format!("{}: {} ({})", r.field, r.th, r.en))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<EditError> for crate::AppError {
    fn from(e: EditError) -> crate::AppError {
        match e {
            EditError::Store(e) => crate::AppError::Store(e),
            other => crate::AppError::Invalid(other.to_string()),
        }
    }
}

/// Where a person stands after their events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Living in this household.
    Member(Key),
    Dead,
    /// In no household of the registry: moved out of it, or not yet born or arrived.
    Away,
}

/// The order of events on one day, as the target engine replays them: a move out before a
/// move in (a move within the registry is one of each), and death last.
pub fn same_day_rank(kind: MembershipKind) -> u8 {
    match kind {
        MembershipKind::MoveOut => 0,
        MembershipKind::MoveIn | MembershipKind::Birth => 1,
        MembershipKind::Death => 2,
    }
}

/// Where `person` stands on `on` by replaying their events up to that day, exactly as the
/// target engine places persons: without events, in the household they are registered in;
/// before a first birth or move in, nowhere; before a first move out or death, in that
/// event's household. `events` may be all of the person's events or only those at one
/// household (enough for a person registered there); other persons' events are ignored.
pub fn standing(person: &Person, events: &[MembershipEvent], on: BeDate) -> Standing {
    let mut mine: Vec<&MembershipEvent> = events
        .iter()
        .filter(|e| e.person_code == person.person_code)
        .collect();
    mine.sort_by_key(|e| (e.date, same_day_rank(e.kind)));
    let mut now = match mine.first() {
        None => return Standing::Member(person.household.clone()),
        Some(e) if matches!(e.kind, MembershipKind::Birth | MembershipKind::MoveIn) => {
            Standing::Away
        }
        Some(e) => Standing::Member(e.household.clone()),
    };
    for e in mine.into_iter().take_while(|e| e.date <= on) {
        match e.kind {
            MembershipKind::Birth | MembershipKind::MoveIn => {
                if now != Standing::Dead {
                    now = Standing::Member(e.household.clone());
                }
            }
            MembershipKind::MoveOut => {
                if now == Standing::Member(e.household.clone()) {
                    now = Standing::Away;
                }
            }
            MembershipKind::Death => now = Standing::Dead,
        }
    }
    now
}

/// Where `person` stands after all of `events`.
pub fn standing_after(person: &Person, events: &[MembershipEvent]) -> Standing {
    match events.iter().map(|e| e.date).max() {
        Some(last) => standing(person, events, last),
        None => Standing::Member(person.household.clone()),
    }
}

/// The persons registered in a household who live there on `on`, by their events at it
/// (what the household page should list as members: the registered persons minus those who
/// died or moved out).
pub fn members_on<'a>(
    persons: &'a [Person],
    events_at_household: &[MembershipEvent],
    on: BeDate,
) -> Vec<&'a Person> {
    persons
        .iter()
        .filter(|p| standing(p, events_at_household, on) == Standing::Member(p.household.clone()))
        .collect()
}

/// The calendar day in Thailand (UTC+7, no daylight saving) at a UTC time written
/// `YYYY-MM-DDTHH:MM:SSZ`: a change dated today by a worker in the field is not "in the
/// future" because UTC has not reached that day yet.
pub fn thai_today(at: &str) -> Option<BeDate> {
    let day = BeDate::parse_ce(at.get(..10)?).ok()?;
    let hour: u8 = at.get(11..13)?.parse().ok()?;
    if at.as_bytes().get(10) != Some(&b'T') || hour > 23 {
        return None;
    }
    Some(if hour >= 17 { next_day(day) } else { day })
}

fn next_day(d: BeDate) -> BeDate {
    BeDate::new(d.year(), d.month(), d.day() + 1)
        .or_else(|_| BeDate::new(d.year(), d.month() + 1, 1))
        .or_else(|_| BeYear::new(d.year().be() + 1).and_then(|y| BeDate::new(y, 1, 1)))
        .unwrap_or(d)
}

/// Collects refusals; [`Checks::done`] fails with all of them.
#[derive(Default)]
struct Checks(Vec<Refusal>);

impl Checks {
    fn refuse(&mut self, r: Refusal) {
        self.0.push(r);
    }

    fn name(&mut self, field: &'static str, raw: &str) -> String {
        match parse_text(raw, NAME_MAX) {
            Ok(s) => s,
            Err(e) => {
                self.refuse(Refusal::parse(field, e));
                String::new()
            }
        }
    }

    fn note(&mut self, raw: &str) -> String {
        let s = raw.trim();
        if s.is_empty() {
            return String::new();
        }
        match parse_text(s, NOTE_MAX) {
            Ok(s) => s,
            Err(e) => {
                self.refuse(Refusal::parse("note", e));
                String::new()
            }
        }
    }

    fn not_future(&mut self, field: &'static str, date: BeDate, today: BeDate) {
        if date > today {
            self.refuse(Refusal::new(
                field,
                "date.future",
                "วันที่ต้องไม่เป็นวันในอนาคต",
                "the date cannot be in the future",
            ));
        }
    }

    fn done(self) -> Result<(), EditError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(EditError::Refused(self.0))
        }
    }
}

fn today_of(at: &str) -> Result<BeDate, EditError> {
    thai_today(at).ok_or(EditError::BadTime)
}

async fn check_household(
    tx: &mut Tx,
    checks: &mut Checks,
    field: &'static str,
    code: &Key,
) -> Result<(), EditError> {
    if !tx.household_exists(code.as_str()).await? {
        checks.refuse(Refusal::new(
            field,
            "household.unknown",
            "ไม่พบครัวเรือนนี้ในทะเบียน",
            "there is no such household in the registry",
        ));
    }
    Ok(())
}

async fn check_citizen_id(
    tx: &mut Tx,
    checks: &mut Checks,
    id: Option<CitizenId>,
) -> Result<(), EditError> {
    if let Some(id) = id
        && tx.citizen_id_holder(&id.as_digits()).await?.is_some()
    {
        checks.refuse(Refusal::new(
            "citizen_id",
            "citizen_id.taken",
            "เลขประจำตัวประชาชนนี้เป็นของบุคคลอื่นในทะเบียนแล้ว",
            "this citizen ID already belongs to another person in the registry",
        ));
    }
    Ok(())
}

/// A member of `household` now, with all their events, for a change of `kind` on `date`;
/// refusals go to `checks` (and `None` comes back when there is no such person at all).
async fn current_member(
    tx: &mut Tx,
    checks: &mut Checks,
    household: &Key,
    person: &Key,
    kind: MembershipKind,
    date: BeDate,
    today: BeDate,
) -> Result<Option<(Person, Vec<MembershipEvent>)>, EditError> {
    checks.not_future("date", date, today);
    let Some(found) = tx.person(person.as_str()).await? else {
        checks.refuse(Refusal::new(
            "person",
            "person.unknown",
            "ไม่พบบุคคลนี้ในทะเบียน",
            "there is no such person in the registry",
        ));
        return Ok(None);
    };
    let events = tx.events_of_person(person.as_str()).await?;
    let last = events.iter().map(|e| (e.date, same_day_rank(e.kind))).max();
    match standing_after(&found, &events) {
        Standing::Dead => checks.refuse(Refusal::new(
            "person",
            "person.dead",
            "บุคคลนี้ถูกบันทึกว่าเสียชีวิตแล้ว",
            "this person is already recorded as dead",
        )),
        Standing::Member(h) if h == *household => {
            if found.birth_date.is_some_and(|b| date < b) {
                checks.refuse(Refusal::new(
                    "date",
                    "date.before_birth",
                    "วันที่ต้องไม่ก่อนวันเกิดของบุคคลนี้",
                    "the date cannot be before the person's birth",
                ));
            } else if last.is_some_and(|l| l > (date, same_day_rank(kind))) {
                checks.refuse(Refusal::new(
                    "date",
                    "date.before_last_change",
                    "วันที่ต้องอยู่หลังการเกิด ตาย หรือย้ายครั้งล่าสุดที่บันทึกไว้ของบุคคลนี้",
                    "the date must come after the person's last recorded birth, death or move",
                ));
            }
        }
        _ => checks.refuse(Refusal::new(
            "person",
            "person.not_member",
            "บุคคลนี้ไม่ได้เป็นสมาชิกของครัวเรือนนี้ในตอนนี้",
            "this person is not a member of this household now",
        )),
    }
    Ok(Some((found, events)))
}

/// Registers `person` under the next free code of its household's scheme (the house code,
/// `-`, a member number of at least two digits: `80010101-0001-03`), numbering after every
/// code of that form ever given, so that the code of a person who has left is never reused.
async fn insert_with_new_code(tx: &mut Tx, person: &mut Person) -> Result<(), EditError> {
    let prefix = format!("{}-", person.household);
    let taken = tx.person_codes_starting_with(&prefix).await?;
    let highest = taken
        .iter()
        .filter_map(|c| {
            let n = &c[prefix.len()..];
            (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .then(|| n.parse::<u64>().ok())
                .flatten()
        })
        .max()
        .unwrap_or(0);
    for n in (highest + 1..).take(CODE_ATTEMPTS as usize) {
        let Ok(code) = Key::parse(&format!("{prefix}{n:02}")) else {
            break;
        };
        person.person_code = code;
        if tx.insert_person(person).await? {
            return Ok(());
        }
    }
    Err(EditError::Refused(vec![Refusal::new(
        "household",
        "person_code.exhausted",
        "สร้างรหัสบุคคลใหม่ในครัวเรือนนี้ไม่ได้ (รหัสบ้านยาวเกินไป) กรุณาแจ้งผู้ดูแลระบบ",
        "no new person code can be made in this household (the house code is too long); \
         please tell an administrator",
    )]))
}

fn event(
    person: &Person,
    household: &Key,
    kind: MembershipKind,
    date: BeDate,
    note: &str,
) -> MembershipEvent {
    MembershipEvent {
        person_code: person.person_code.clone(),
        household: household.clone(),
        kind,
        date,
        note: note.to_owned(),
    }
}

/// A person as the audit log keeps them: the record's fields, with the citizen ID masked (the
/// log is read by roles that may not see whole IDs; the person table holds it).
pub fn person_json(p: &Person) -> Json {
    json!({
        "person_code": p.person_code.as_str(),
        "household": p.household.as_str(),
        "citizen_id": p.citizen_id.map(|c| c.masked()),
        "first_name": p.first_name,
        "last_name": p.last_name,
        "sex": p.sex.code(),
        "birth_date": p.birth_date.map(|d| d.to_string()),
        "relation": p.relation.code(),
    })
}

fn standing_json(s: &Standing) -> Json {
    match s {
        Standing::Member(h) => json!({"status": "member", "household": h.as_str()}),
        Standing::Dead => json!({"status": "dead"}),
        Standing::Away => json!({"status": "away"}),
    }
}

fn event_json(e: &MembershipEvent) -> Json {
    json!({
        "kind": e.kind.code(),
        "household": e.household.as_str(),
        "date": e.date.to_string(),
        "note": e.note,
    })
}

/// Writes `events` (and the person, when `person_changed`), then the audit entry.
async fn write(
    tx: &mut Tx,
    actor: &str,
    at: &str,
    action: &str,
    before: Option<(&Person, Vec<MembershipEvent>)>,
    person: Person,
    events: Vec<MembershipEvent>,
) -> Result<Recorded, EditError> {
    tx.upsert_events(&events).await?;
    let mut all: Vec<MembershipEvent> = before.as_ref().map(|b| b.1.clone()).unwrap_or_default();
    all.extend(events.iter().cloned());
    let after_standing = standing_after(&person, &all);
    let before_json = before.map(|(p, evs)| {
        json!({"person": person_json(p), "standing": standing_json(&standing_after(p, &evs))})
            .to_string()
    });
    tx.append_audit(&AuditEntry {
        at: at.to_owned(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        entity: "person".into(),
        entity_key: person.person_code.to_string(),
        before: before_json,
        after: Some(
            json!({
                "person": person_json(&person),
                "standing": standing_json(&after_standing),
                "events": events.iter().map(event_json).collect::<Vec<_>>(),
            })
            .to_string(),
        ),
    })
    .await?;
    Ok(Recorded { person, events })
}

/// Records a birth: a new person registered in the household, born on the day of the event.
pub async fn record_birth(
    tx: &mut Tx,
    actor: &str,
    at: &str,
    birth: Birth,
) -> Result<Recorded, EditError> {
    let today = today_of(at)?;
    let mut checks = Checks::default();
    let first_name = checks.name("first_name", &birth.first_name);
    let last_name = checks.name("last_name", &birth.last_name);
    let note = checks.note(&birth.note);
    checks.not_future("date", birth.date, today);
    check_household(tx, &mut checks, "household", &birth.household).await?;
    check_citizen_id(tx, &mut checks, birth.citizen_id).await?;
    checks.done()?;
    let mut person = new_person(
        &birth.household,
        birth.citizen_id,
        first_name,
        last_name,
        birth.sex,
        Some(birth.date),
        birth.relation,
    );
    insert_with_new_code(tx, &mut person).await?;
    let events = vec![event(
        &person,
        &birth.household,
        MembershipKind::Birth,
        birth.date,
        &note,
    )];
    write(tx, actor, at, "birth", None, person, events).await
}

/// Records an arrival from outside the registry: a new person registered in the household.
pub async fn record_move_in(
    tx: &mut Tx,
    actor: &str,
    at: &str,
    arrival: MoveIn,
) -> Result<Recorded, EditError> {
    let today = today_of(at)?;
    let mut checks = Checks::default();
    let first_name = checks.name("first_name", &arrival.first_name);
    let last_name = checks.name("last_name", &arrival.last_name);
    let note = checks.note(&arrival.note);
    checks.not_future("date", arrival.date, today);
    if let Some(born) = arrival.birth_date {
        checks.not_future("birth_date", born, today);
        if born > arrival.date {
            checks.refuse(Refusal::new(
                "date",
                "date.before_birth",
                "วันที่ย้ายเข้าต้องไม่ก่อนวันเกิด",
                "the move-in date cannot be before the birth date",
            ));
        }
    }
    check_household(tx, &mut checks, "household", &arrival.household).await?;
    check_citizen_id(tx, &mut checks, arrival.citizen_id).await?;
    checks.done()?;
    let mut person = new_person(
        &arrival.household,
        arrival.citizen_id,
        first_name,
        last_name,
        arrival.sex,
        arrival.birth_date,
        arrival.relation,
    );
    insert_with_new_code(tx, &mut person).await?;
    let events = vec![event(
        &person,
        &arrival.household,
        MembershipKind::MoveIn,
        arrival.date,
        &note,
    )];
    write(tx, actor, at, "move_in", None, person, events).await
}

fn new_person(
    household: &Key,
    citizen_id: Option<CitizenId>,
    first_name: String,
    last_name: String,
    sex: Sex,
    birth_date: Option<BeDate>,
    relation: Relation,
) -> Person {
    Person {
        // Replaced by the next free code when inserted.
        person_code: household.clone(),
        household: household.clone(),
        citizen_id,
        first_name,
        last_name,
        sex,
        birth_date,
        relation,
        education: None,
        occupation: None,
        income_year: None,
        disability: false,
        chronic_illness: false,
        bedridden: false,
    }
}

/// Records a death of a current member of the household. The person stays registered there:
/// the event says they no longer live anywhere.
pub async fn record_death(
    tx: &mut Tx,
    actor: &str,
    at: &str,
    death: Death,
) -> Result<Recorded, EditError> {
    let today = today_of(at)?;
    let mut checks = Checks::default();
    let note = checks.note(&death.note);
    let found = current_member(
        tx,
        &mut checks,
        &death.household,
        &death.person,
        MembershipKind::Death,
        death.date,
        today,
    )
    .await?;
    checks.done()?;
    let (person, before) = found.expect("a refusal when the person is missing");
    let events = vec![event(
        &person,
        &death.household,
        MembershipKind::Death,
        death.date,
        &note,
    )];
    let after = person.clone();
    write(
        tx,
        actor,
        at,
        "death",
        Some((&person, before)),
        after,
        events,
    )
    .await
}

/// Records a move of a current member out of the household: into another household of the
/// registry (where they are registered from then on) or out of the registry.
pub async fn record_move(
    tx: &mut Tx,
    actor: &str,
    at: &str,
    change: Move,
) -> Result<Recorded, EditError> {
    let today = today_of(at)?;
    let mut checks = Checks::default();
    let note = checks.note(&change.note);
    let found = current_member(
        tx,
        &mut checks,
        &change.household,
        &change.person,
        MembershipKind::MoveOut,
        change.date,
        today,
    )
    .await?;
    if let Destination::Household { house_code, .. } = &change.to {
        if *house_code == change.household {
            checks.refuse(Refusal::new(
                "to",
                "destination.same",
                "ครัวเรือนปลายทางต้องไม่ใช่ครัวเรือนเดิม",
                "the destination must be another household",
            ));
        } else {
            check_household(tx, &mut checks, "to", house_code).await?;
        }
    }
    checks.done()?;
    let (person, before) = found.expect("a refusal when the person is missing");
    let mut events = vec![event(
        &person,
        &change.household,
        MembershipKind::MoveOut,
        change.date,
        &note,
    )];
    let mut after = person.clone();
    if let Destination::Household {
        house_code,
        relation,
    } = change.to
    {
        events.push(event(
            &person,
            &house_code,
            MembershipKind::MoveIn,
            change.date,
            &note,
        ));
        after.household = house_code;
        after.relation = relation;
        tx.upsert_persons(std::slice::from_ref(&after)).await?;
    }
    write(
        tx,
        actor,
        at,
        "move",
        Some((&person, before)),
        after,
        events,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> BeDate {
        BeDate::parse(s).unwrap()
    }

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    fn person(code: &str, household: &str) -> Person {
        let mut p = new_person(
            &key(household),
            None,
            "ก".into(),
            "ข".into(),
            Sex::Female,
            None,
            Relation::Child,
        );
        p.person_code = key(code);
        p
    }

    fn ev(code: &str, household: &str, kind: MembershipKind, on: &str) -> MembershipEvent {
        MembershipEvent {
            person_code: key(code),
            household: key(household),
            kind,
            date: date(on),
            note: String::new(),
        }
    }

    #[test]
    fn standing_replays_events_like_the_target_engine() {
        let p = person("A-01", "B");
        let member = |h: &str| Standing::Member(key(h));
        // Without events: where registered.
        assert_eq!(standing(&p, &[], date("2568-01-01")), member("B"));
        // Moved from A to B on one day: the move out comes first whatever the stored order.
        let moved = [
            ev("A-01", "B", MembershipKind::MoveIn, "2567-07-01"),
            ev("A-01", "A", MembershipKind::MoveOut, "2567-07-01"),
        ];
        assert_eq!(standing(&p, &moved, date("2567-06-30")), member("A"));
        assert_eq!(standing(&p, &moved, date("2567-07-01")), member("B"));
        // Born on a day: away before it.
        let born = [ev("A-01", "B", MembershipKind::Birth, "2567-03-01")];
        assert_eq!(standing(&p, &born, date("2567-02-28")), Standing::Away);
        assert_eq!(standing(&p, &born, date("2567-03-01")), member("B"));
        // A death ends everything, a later move in included.
        let died = [
            ev("A-01", "B", MembershipKind::Death, "2567-03-01"),
            ev("A-01", "C", MembershipKind::MoveIn, "2567-04-01"),
        ];
        assert_eq!(standing(&p, &died, date("2568-01-01")), Standing::Dead);
        // A move out of another household does not move the person out of this one.
        let elsewhere = [ev("A-01", "C", MembershipKind::MoveOut, "2567-05-01")];
        assert_eq!(standing(&p, &elsewhere, date("2567-04-01")), member("C"));
        // Events of other persons are ignored.
        let others = [ev("A-02", "B", MembershipKind::Death, "2567-01-01")];
        assert_eq!(standing(&p, &others, date("2568-01-01")), member("B"));
    }

    #[test]
    fn members_on_leaves_out_the_dead_and_the_departed() {
        let persons = [
            person("H-01", "H"),
            person("H-02", "H"),
            person("H-03", "H"),
            person("X-09", "H"),
        ];
        let events = [
            ev("H-02", "H", MembershipKind::Death, "2567-05-01"),
            ev("H-03", "H", MembershipKind::MoveOut, "2567-05-01"),
            ev("X-09", "H", MembershipKind::MoveIn, "2567-06-01"),
        ];
        let codes = |on: &str| -> Vec<String> {
            members_on(&persons, &events, date(on))
                .iter()
                .map(|p| p.person_code.to_string())
                .collect()
        };
        assert_eq!(codes("2567-04-30"), ["H-01", "H-02", "H-03"]);
        assert_eq!(codes("2567-06-01"), ["H-01", "X-09"]);
    }

    #[test]
    fn the_day_in_thailand_turns_at_17_utc() {
        assert_eq!(thai_today("2025-06-30T16:59:59Z"), Some(date("2568-06-30")));
        assert_eq!(thai_today("2025-06-30T17:00:00Z"), Some(date("2568-07-01")));
        assert_eq!(thai_today("2025-12-31T23:00:00Z"), Some(date("2569-01-01")));
        assert_eq!(thai_today("2024-02-28T18:00:00Z"), Some(date("2567-02-29")));
        assert_eq!(thai_today("2025-06-30 10:00"), None);
        assert_eq!(thai_today("yesterday"), None);
    }
}
