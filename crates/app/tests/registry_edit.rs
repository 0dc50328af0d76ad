//! Births, deaths and moves recorded one at a time (`halve_app::registry_edit`), on every
//! backend: what each writes (person codes in the registry's scheme, events as the import and
//! the target engine read them, the audit entry with who, when, before and after), what each
//! refuses with nothing written, and that an export of the result imports back unchanged.

use halve_app::NoProgress;
use halve_app::clock::FixedClock;
use halve_app::export::export_all;
use halve_app::import::import_paths;
use halve_app::registry_edit::{
    Birth, Death, Destination, EditError, Move, MoveIn, Recorded, Standing, record_birth,
    record_death, record_move, record_move_in, standing_after,
};
use halve_domain::{
    AreaTree, BeDate, CitizenId, Household, Key, MembershipEvent, MembershipKind, Person, Relation,
    Sex, Village,
};
use halve_store::testing::TestDb;
use halve_store::{AuditEntry, Counts, Store};
use serde_json::Value as Json;

/// 1 July 2568 BE, 07:00 in Thailand.
const AT: &str = "2025-07-01T00:00:00Z";
const ACTOR: &str = "test:clerk";
const H1: &str = "80010101-0001";
const H2: &str = "80010101-0002";
/// A house code with a `/`, as house numbers are written.
const H3: &str = "80010102-12/3";

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn date(s: &str) -> BeDate {
    BeDate::parse(s).unwrap()
}

fn person(code: &str, household: &str, relation: Relation, born: &str) -> Person {
    Person {
        person_code: key(code),
        household: key(household),
        citizen_id: None,
        first_name: "สมชาย".into(),
        last_name: "ใจดี".into(),
        sex: Sex::Male,
        birth_date: Some(date(born)),
        relation,
        education: None,
        occupation: None,
        income_year: None,
        disability: false,
        chronic_illness: false,
        bedridden: false,
    }
}

/// Two villages, three households; H1 has a head and a spouse, H2 a head, H3 nobody.
async fn registry(store: &Store) {
    let tree = AreaTree::shipped();
    let mut tx = store.begin().await.unwrap();
    tx.upsert_villages(&[
        Village {
            code: tree.resolve("80010101").unwrap(),
            name_th: "บ้านหนึ่ง".into(),
            name_en: None,
        },
        Village {
            code: tree.resolve("80010102").unwrap(),
            name_th: "บ้านสอง".into(),
            name_en: None,
        },
    ])
    .await
    .unwrap();
    let household = |code: &str, village: &str| Household {
        house_code: key(code),
        village: tree.resolve(village).unwrap(),
        address: "1 หมู่ 1".into(),
        location: None,
    };
    tx.upsert_households(&[
        household(H1, "80010101"),
        household(H2, "80010101"),
        household(H3, "80010102"),
    ])
    .await
    .unwrap();
    let mut spouse = person("80010101-0001-02", H1, Relation::Spouse, "2535-05-05");
    spouse.sex = Sex::Female;
    spouse.citizen_id = Some(CitizenId::parse("1101700230708").unwrap());
    tx.upsert_persons(&[
        person("80010101-0001-01", H1, Relation::Head, "2530-01-01"),
        spouse,
        person("80010101-0002-01", H2, Relation::Head, "2500-01-01"),
    ])
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

fn birth(household: &str, on: &str) -> Birth {
    Birth {
        household: key(household),
        date: date(on),
        first_name: "ด.ญ. ฟ้า".into(),
        last_name: "ใจดี".into(),
        sex: Sex::Female,
        relation: Relation::Child,
        citizen_id: None,
        note: String::new(),
    }
}

fn death(household: &str, person: &str, on: &str) -> Death {
    Death {
        household: key(household),
        person: key(person),
        date: date(on),
        note: "เสียชีวิตที่โรงพยาบาล".into(),
    }
}

fn move_to(household: &str, person: &str, on: &str, to: Destination) -> Move {
    Move {
        household: key(household),
        person: key(person),
        date: date(on),
        to,
        note: String::new(),
    }
}

fn to_household(code: &str) -> Destination {
    Destination::Household {
        house_code: key(code),
        relation: Relation::Relative,
    }
}

fn arrival(household: &str, on: &str) -> MoveIn {
    MoveIn {
        household: key(household),
        date: date(on),
        first_name: "มานี".into(),
        last_name: "มีนา".into(),
        sex: Sex::Female,
        birth_date: Some(date("2540-02-02")),
        relation: Relation::NonRelative,
        citizen_id: None,
        note: "ย้ายมาจากต่างจังหวัด".into(),
    }
}

/// One change of any kind, committed when it succeeds and rolled back when refused, as the
/// web app does.
enum Change {
    Birth(Birth),
    Death(Death),
    Move(Move),
    MoveIn(MoveIn),
}

async fn apply_at(store: &Store, at: &str, change: Change) -> Result<Recorded, EditError> {
    let mut tx = store.begin().await.unwrap();
    let done = match change {
        Change::Birth(b) => record_birth(&mut tx, ACTOR, at, b).await,
        Change::Death(d) => record_death(&mut tx, ACTOR, at, d).await,
        Change::Move(m) => record_move(&mut tx, ACTOR, at, m).await,
        Change::MoveIn(m) => record_move_in(&mut tx, ACTOR, at, m).await,
    };
    match &done {
        Ok(_) => tx.commit().await.unwrap(),
        Err(_) => tx.rollback().await.unwrap(),
    }
    done
}

async fn apply(store: &Store, change: Change) -> Result<Recorded, EditError> {
    apply_at(store, AT, change).await
}

/// The codes of the refusals of a change that must be refused.
async fn refused(store: &Store, change: Change) -> Vec<(&'static str, &'static str)> {
    let before = snapshot(store).await;
    let codes = match apply(store, change).await {
        Err(EditError::Refused(list)) => {
            for r in &list {
                // Reasons are bilingual and never empty.
                assert!(!r.th.is_empty() && !r.en.is_empty(), "{r:?}");
            }
            list.iter().map(|r| (r.field, r.code)).collect()
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(snapshot(store).await, before, "a refusal wrote something");
    codes
}

/// Everything a change could touch: the counts and the audit log's length.
async fn snapshot(store: &Store) -> (Counts, usize) {
    (
        store.counts().await.unwrap(),
        store.audit_log().await.unwrap().len(),
    )
}

async fn stored_person(store: &Store, code: &str) -> Person {
    let mut found = None;
    store
        .for_each_person(&mut |p| {
            if p.person_code.as_str() == code {
                found = Some(p);
            }
            Ok(())
        })
        .await
        .unwrap();
    found.unwrap_or_else(|| panic!("no person {code}"))
}

async fn events_of(store: &Store, code: &str) -> Vec<MembershipEvent> {
    let mut found = Vec::new();
    store
        .for_each_event(&mut |e| {
            if e.person_code.as_str() == code {
                found.push(e);
            }
            Ok(())
        })
        .await
        .unwrap();
    found
}

async fn standing_of(store: &Store, code: &str) -> Standing {
    let p = stored_person(store, code).await;
    standing_after(&p, &events_of(store, code).await)
}

async fn last_audit(store: &Store) -> (AuditEntry, Option<Json>, Json) {
    let entry = store.audit_log().await.unwrap().pop().unwrap();
    let before = entry
        .before
        .as_deref()
        .map(|b| serde_json::from_str(b).unwrap());
    let after = serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
    (entry, before, after)
}

#[tokio::test]
async fn a_birth_registers_a_child_under_the_next_code_and_audits_it() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let done = apply(store, Change::Birth(birth(H1, "2568-06-15")))
            .await
            .unwrap();
        assert_eq!(done.person.person_code.as_str(), "80010101-0001-03");
        assert_eq!(done.person.birth_date, Some(date("2568-06-15")));
        assert_eq!(stored_person(store, "80010101-0001-03").await, done.person);
        assert_eq!(
            events_of(store, "80010101-0001-03").await,
            [MembershipEvent {
                person_code: key("80010101-0001-03"),
                household: key(H1),
                kind: MembershipKind::Birth,
                date: date("2568-06-15"),
                note: String::new(),
            }]
        );
        assert_eq!(
            standing_of(store, "80010101-0001-03").await,
            Standing::Member(key(H1))
        );

        let (entry, before, after) = last_audit(store).await;
        assert_eq!(
            (
                entry.at.as_str(),
                entry.actor.as_str(),
                entry.action.as_str(),
                entry.entity.as_str(),
                entry.entity_key.as_str()
            ),
            (AT, ACTOR, "birth", "person", "80010101-0001-03")
        );
        assert_eq!(before, None);
        assert_eq!(after["person"]["household"], H1);
        assert_eq!(after["person"]["birth_date"], "2568-06-15");
        assert_eq!(after["standing"]["status"], "member");
        assert_eq!(after["events"][0]["kind"], "birth");

        // Numbering goes on after every code of the house's form, also one whose person now
        // lives elsewhere, and ignores codes of another form.
        let mut tx = store.begin().await.unwrap();
        tx.upsert_persons(&[
            person("80010101-0001-07", H2, Relation::Relative, "2550-01-01"),
            person("80010101-0001-x9", H2, Relation::Relative, "2550-01-01"),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let next = apply(store, Change::Birth(birth(H1, "2568-06-20")))
            .await
            .unwrap();
        assert_eq!(next.person.person_code.as_str(), "80010101-0001-08");
        // Inserting never overwrites: a taken code is reported, and the stored person stays.
        let mut tx = store.begin().await.unwrap();
        let clash = person("80010101-0001-01", H2, Relation::Child, "2560-01-01");
        assert!(!tx.insert_person(&clash).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(
            stored_person(store, "80010101-0001-01")
                .await
                .household
                .as_str(),
            H1
        );
        // A household without members starts at 01, its `/` kept.
        let first = apply(store, Change::Birth(birth(H3, "2568-06-20")))
            .await
            .unwrap();
        assert_eq!(first.person.person_code.as_str(), "80010102-12/3-01");
    }
}

#[tokio::test]
async fn births_and_arrivals_are_refused_with_every_reason_and_nothing_written() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        // Tomorrow in Thailand is the future.
        assert_eq!(
            refused(store, Change::Birth(birth(H1, "2568-07-02"))).await,
            [("date", "date.future")]
        );
        // 1 July begins in Thailand at 17:00 UTC on 30 June.
        assert!(matches!(
            apply_at(
                store,
                "2025-06-30T16:59:59Z",
                Change::Birth(birth(H1, "2568-07-01"))
            )
            .await,
            Err(EditError::Refused(_))
        ));
        apply_at(
            store,
            "2025-06-30T17:00:00Z",
            Change::Birth(birth(H1, "2568-07-01")),
        )
        .await
        .unwrap();
        let mut b = birth("80019999-0001", "2568-06-01");
        b.first_name = "  ".into();
        b.citizen_id = Some(CitizenId::parse("1101700230708").unwrap());
        assert_eq!(
            refused(store, Change::Birth(b)).await,
            [
                ("first_name", "text.empty"),
                ("household", "household.unknown"),
                ("citizen_id", "citizen_id.taken"),
            ]
        );
        let mut late = arrival(H2, "2568-06-01");
        late.birth_date = Some(date("2568-06-02"));
        late.last_name = "x\u{7}".into();
        assert_eq!(
            refused(store, Change::MoveIn(late)).await,
            [("last_name", "text.invalid"), ("date", "date.before_birth")]
        );
        let mut unborn = arrival(H2, "2568-06-01");
        unborn.date = date("2568-08-01");
        unborn.birth_date = Some(date("2568-07-15"));
        assert_eq!(
            refused(store, Change::MoveIn(unborn)).await,
            [("date", "date.future"), ("birth_date", "date.future")]
        );
    }
}

#[tokio::test]
async fn an_arrival_is_a_new_member_from_its_move_in_day() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let mut a = arrival(H2, "2568-05-01");
        a.citizen_id = Some(valid_id("310060000001"));
        let done = apply(store, Change::MoveIn(a)).await.unwrap();
        let code = done.person.person_code.to_string();
        assert_eq!(code, "80010101-0002-02");
        assert_eq!(done.person.birth_date, Some(date("2540-02-02")));
        let events = events_of(store, &code).await;
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].kind, events[0].date, events[0].household.as_str()),
            (MembershipKind::MoveIn, date("2568-05-01"), H2)
        );
        assert_eq!(events[0].note, "ย้ายมาจากต่างจังหวัด");
        let p = stored_person(store, &code).await;
        assert_eq!(
            halve_app::registry_edit::standing(&p, &events, date("2568-04-30")),
            Standing::Away
        );
        assert_eq!(standing_of(store, &code).await, Standing::Member(key(H2)));
        let (entry, before, after) = last_audit(store).await;
        assert_eq!(entry.action, "move_in");
        assert_eq!(before, None);
        // The audit log never holds a whole citizen ID.
        let id = after["person"]["citizen_id"].as_str().unwrap();
        assert!(id.contains('x'), "{id}");
        // The same ID again is someone else's now.
        let mut again = arrival(H1, "2568-05-02");
        again.citizen_id = p.citizen_id;
        assert_eq!(
            refused(store, Change::MoveIn(again)).await,
            [("citizen_id", "citizen_id.taken")]
        );
    }
}

fn valid_id(first12: &str) -> CitizenId {
    let digits: Vec<u32> = first12.chars().map(|c| c.to_digit(10).unwrap()).collect();
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| d * (13 - i as u32))
        .sum();
    CitizenId::parse(&format!("{first12}{}", (11 - sum % 11) % 10)).unwrap()
}

#[tokio::test]
async fn a_death_is_recorded_once_for_a_current_member_only() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let spouse = "80010101-0001-02";
        // Not before the person was born, not in the future, not in another household.
        assert_eq!(
            refused(store, Change::Death(death(H1, spouse, "2535-05-04"))).await,
            [("date", "date.before_birth")]
        );
        assert_eq!(
            refused(store, Change::Death(death(H1, spouse, "2568-07-02"))).await,
            [("date", "date.future")]
        );
        assert_eq!(
            refused(store, Change::Death(death(H2, spouse, "2568-06-01"))).await,
            [("person", "person.not_member")]
        );
        assert_eq!(
            refused(
                store,
                Change::Death(death(H1, "80010101-0001-99", "2568-06-01"))
            )
            .await,
            [("person", "person.unknown")]
        );

        let before = stored_person(store, spouse).await;
        let done = apply(store, Change::Death(death(H1, spouse, "2568-06-01")))
            .await
            .unwrap();
        // The person stays registered where they last lived; the event says they died.
        assert_eq!(done.person, before);
        assert_eq!(stored_person(store, spouse).await, before);
        assert_eq!(standing_of(store, spouse).await, Standing::Dead);
        let (entry, audit_before, after) = last_audit(store).await;
        assert_eq!(
            (
                entry.actor.as_str(),
                entry.action.as_str(),
                entry.entity_key.as_str()
            ),
            (ACTOR, "death", spouse)
        );
        let audit_before = audit_before.unwrap();
        assert_eq!(audit_before["standing"]["status"], "member");
        assert_eq!(audit_before["standing"]["household"], H1);
        assert_eq!(after["standing"]["status"], "dead");
        assert_eq!(after["events"][0]["date"], "2568-06-01");
        assert_eq!(after["events"][0]["note"], "เสียชีวิตที่โรงพยาบาล");

        // Dead once: not again, not later, and no move after it.
        assert_eq!(
            refused(store, Change::Death(death(H1, spouse, "2568-06-02"))).await,
            [("person", "person.dead")]
        );
        assert_eq!(
            refused(
                store,
                Change::Move(move_to(H1, spouse, "2568-06-10", Destination::Away))
            )
            .await,
            [("person", "person.dead")]
        );
        assert_eq!(events_of(store, spouse).await.len(), 1);
    }
}

#[tokio::test]
async fn a_move_within_the_registry_re_registers_the_person_and_keeps_the_order_of_events() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let head = "80010101-0001-01";
        assert_eq!(
            refused(
                store,
                Change::Move(move_to(
                    H1,
                    head,
                    "2568-06-01",
                    to_household("80010101-9999")
                ))
            )
            .await,
            [("to", "household.unknown")]
        );
        assert_eq!(
            refused(
                store,
                Change::Move(move_to(H1, head, "2568-06-01", to_household(H1)))
            )
            .await,
            [("to", "destination.same")]
        );

        let done = apply(
            store,
            Change::Move(move_to(H1, head, "2568-06-01", to_household(H3))),
        )
        .await
        .unwrap();
        assert_eq!(done.person.household.as_str(), H3);
        assert_eq!(done.person.relation, Relation::Relative);
        let stored = stored_person(store, head).await;
        assert_eq!(stored, done.person);
        let mut events = events_of(store, head).await;
        events.sort_by_key(|e| e.kind.code());
        assert_eq!(
            events
                .iter()
                .map(|e| (e.kind, e.household.as_str(), e.date))
                .collect::<Vec<_>>(),
            [
                (MembershipKind::MoveIn, H3, date("2568-06-01")),
                (MembershipKind::MoveOut, H1, date("2568-06-01")),
            ]
        );
        assert_eq!(standing_of(store, head).await, Standing::Member(key(H3)));
        let (entry, before, after) = last_audit(store).await;
        assert_eq!(entry.action, "move");
        let before = before.unwrap();
        assert_eq!(before["person"]["household"], H1);
        assert_eq!(before["person"]["relation"], "head");
        assert_eq!(after["person"]["household"], H3);
        assert_eq!(after["person"]["relation"], "relative");
        assert_eq!(after["events"].as_array().unwrap().len(), 2);

        // From H1 no more; from H3 not back on the day of arrival (the move out would replay
        // before the move in), but the day after.
        assert_eq!(
            refused(
                store,
                Change::Move(move_to(H1, head, "2568-06-05", Destination::Away))
            )
            .await,
            [("person", "person.not_member")]
        );
        assert_eq!(
            refused(
                store,
                Change::Move(move_to(H3, head, "2568-06-01", to_household(H1)))
            )
            .await,
            [("date", "date.before_last_change")]
        );
        assert_eq!(
            refused(
                store,
                Change::Move(move_to(H3, head, "2568-05-31", to_household(H1)))
            )
            .await,
            [("date", "date.before_last_change")]
        );
        // Dying on the day of arrival replays after it, so it is accepted.
        apply(store, Change::Death(death(H3, head, "2568-06-01")))
            .await
            .unwrap();
        assert_eq!(standing_of(store, head).await, Standing::Dead);
    }
}

#[tokio::test]
async fn a_move_out_of_the_registry_leaves_the_person_registered_but_away() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        let head = "80010101-0002-01";
        let before = stored_person(store, head).await;
        apply(
            store,
            Change::Move(move_to(H2, head, "2568-06-01", Destination::Away)),
        )
        .await
        .unwrap();
        assert_eq!(stored_person(store, head).await, before);
        assert_eq!(standing_of(store, head).await, Standing::Away);
        let events = events_of(store, head).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, MembershipKind::MoveOut);
        let (_, _, after) = last_audit(store).await;
        assert_eq!(after["standing"]["status"], "away");
        // Gone from the household: neither dies nor moves from it.
        assert_eq!(
            refused(store, Change::Death(death(H2, head, "2568-06-20"))).await,
            [("person", "person.not_member")]
        );
    }
}

#[tokio::test]
async fn the_export_of_edited_records_imports_back_into_the_same_registry() {
    for db in TestDb::all().await {
        let store = &db.store;
        registry(store).await;
        apply(store, Change::Birth(birth(H1, "2568-06-15")))
            .await
            .unwrap();
        apply(store, Change::MoveIn(arrival(H3, "2568-05-01")))
            .await
            .unwrap();
        apply(
            store,
            Change::Move(move_to(
                H1,
                "80010101-0001-02",
                "2568-06-01",
                to_household(H2),
            )),
        )
        .await
        .unwrap();
        apply(
            store,
            Change::Death(death(H2, "80010101-0002-01", "2568-06-20")),
        )
        .await
        .unwrap();

        let clock = FixedClock(1_751_328_000);
        let first = tempfile::tempdir().unwrap();
        export_all(store, first.path(), "test", &clock, &NoProgress)
            .await
            .unwrap();
        let other = TestDb::new(store.backend()).await.unwrap();
        import_paths(
            &other.store,
            &[first.path().to_path_buf()],
            "test",
            &clock,
            &NoProgress,
        )
        .await
        .unwrap();
        assert_eq!(
            other.store.counts().await.unwrap(),
            store.counts().await.unwrap()
        );
        let second = tempfile::tempdir().unwrap();
        export_all(&other.store, second.path(), "test", &clock, &NoProgress)
            .await
            .unwrap();
        for file in ["persons.csv", "membership_events.csv"] {
            let a = std::fs::read(first.path().join(file)).unwrap();
            let b = std::fs::read(second.path().join(file)).unwrap();
            assert!(!a.is_empty());
            assert_eq!(a, b, "{file} differs after a round trip");
        }
        let events = std::fs::read_to_string(first.path().join("membership_events.csv")).unwrap();
        // Birth, move in, move out, move in, death.
        assert_eq!(events.lines().count(), 1 + 5, "{events}");
    }
}
