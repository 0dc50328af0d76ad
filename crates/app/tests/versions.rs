//! The rules of editing a spec or a target, on SQLite and (when `HALVE_TEST_POSTGRES_URL` is
//! set) PostgreSQL: the real parsers refuse invalid text with their line, the id stays, the
//! version is set to the next number, "nothing changed" is refused, every refusal writes
//! nothing, and a saved version is audited and becomes the newest.

use halve_app::measure::shipped_spec;
use halve_app::target::shipped_target;
use halve_app::versions::{self, Edit, EditError, Kind, Origin, Saved, newest_spec, newest_target};
use halve_store::Store;
use halve_store::testing::TestDb;

const AT: &str = "2025-07-01T00:00:00Z";

fn edit<'a>(kind: Kind, id: &'a str, text: &'a str) -> Edit<'a> {
    Edit {
        kind,
        id,
        text,
        note: "  raise\nthe   income line ",
        actor: "web:admin",
        at: AT,
    }
}

/// Runs one edit in its own transaction, committed only when it was accepted.
async fn save(store: &Store, e: &Edit<'_>) -> Result<Saved, EditError> {
    let mut tx = store.begin().await.unwrap();
    let result = versions::save(&mut tx, e).await;
    if result.is_ok() {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
    result
}

/// The shipped tpmap-5 with one income threshold changed.
fn tpmap_edited() -> String {
    let text = shipped_spec("tpmap-5").unwrap();
    assert!(text.contains("income_per_person_year < 38000"));
    text.replace(
        "income_per_person_year < 38000",
        "income_per_person_year < 40000",
    )
}

/// Asserts that nothing was stored and nothing audited since `head`.
async fn nothing_written(store: &Store, head: i64) {
    assert!(store.definition_versions().await.unwrap().is_empty());
    assert_eq!(store.audit_head().await.unwrap(), head);
}

#[tokio::test]
async fn an_edit_becomes_the_next_version_with_its_number_set_in_the_text_and_audited() {
    for db in TestDb::all().await {
        let store = &db.store;
        assert_eq!(
            newest_spec(store, "tpmap-5")
                .await
                .unwrap()
                .unwrap()
                .version,
            1
        );

        // The editor wrote version 99: the number is not theirs to choose, it becomes 2.
        let typed = tpmap_edited().replace("version = 1\n", "version = 99\n");
        let saved = save(store, &edit(Kind::Spec, "tpmap-5", &typed))
            .await
            .unwrap();
        assert_eq!((saved.before, saved.after), (1, 2));
        let stored = store
            .definition_version(Kind::Spec, "tpmap-5", 2)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.text.contains("\nversion = 2\n"));
        assert!(!stored.text.contains("version = 99"));
        assert_eq!(
            stored.text,
            typed.replace("version = 99\n", "version = 2\n")
        );
        assert_eq!(stored.note, "raise the income line");
        assert_eq!(stored.saved_by, "web:admin");

        let spec = newest_spec(store, "tpmap-5").await.unwrap().unwrap();
        assert_eq!(spec.version, 2);
        let income = spec
            .indicators
            .iter()
            .find(|i| i.rule.column() == "income_per_person_year")
            .unwrap();
        assert_eq!(income.rule.to_string(), "income_per_person_year < 40000");

        // The audit entry: who, when, what, and both versions with their texts.
        let log = store.audit_log().await.unwrap();
        let entry = log.last().unwrap();
        assert_eq!(
            (
                entry.at.as_str(),
                entry.actor.as_str(),
                entry.action.as_str()
            ),
            (AT, "web:admin", "new_version")
        );
        assert_eq!(
            (entry.entity.as_str(), entry.entity_key.as_str()),
            ("spec", "tpmap-5")
        );
        let before: serde_json::Value =
            serde_json::from_str(entry.before.as_deref().unwrap()).unwrap();
        let after: serde_json::Value =
            serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
        assert_eq!(before["version"], 1);
        assert_eq!(before["origin"], "shipped");
        assert_eq!(before["toml"], shipped_spec("tpmap-5").unwrap());
        assert_eq!(after["version"], 2);
        assert_eq!(after["toml"], stored.text.as_str());
        assert_eq!(after["note"], "raise the income line");

        // A second edit builds on the stored one: version 3, "before" is stored version 2.
        let again = stored.text.replace("< 40000", "< 41000");
        let saved = save(store, &edit(Kind::Spec, "tpmap-5", &again))
            .await
            .unwrap();
        assert_eq!((saved.before, saved.after), (2, 3));
        let before: serde_json::Value = serde_json::from_str(
            store
                .audit_log()
                .await
                .unwrap()
                .last()
                .unwrap()
                .before
                .as_deref()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (before["version"].as_u64(), before["origin"].as_str()),
            (Some(2), Some("stored"))
        );

        // Listing and reading back: the shipped version and both stored ones.
        let listed = versions::catalogue(store).await.unwrap();
        let tpmap = listed
            .iter()
            .find(|l| l.kind == Kind::Spec && l.id == "tpmap-5")
            .unwrap();
        let numbers: Vec<u32> = tpmap.versions.iter().map(|v| v.version).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
        assert_eq!(tpmap.versions[0].origin, Origin::Shipped);
        assert!(matches!(tpmap.versions[2].origin, Origin::Stored { .. }));
        let prev = versions::previous(store, Kind::Spec, "tpmap-5", 3)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(prev.version, 2);
        let prev = versions::previous(store, Kind::Spec, "tpmap-5", 2)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((prev.version, prev.origin), (1, Origin::Shipped));
        assert_eq!(
            versions::previous(store, Kind::Spec, "tpmap-5", 1)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            versions::latest(store, Kind::Spec, "tpmap-5")
                .await
                .unwrap()
                .unwrap()
                .version,
            3
        );
        // Other specs are untouched.
        assert_eq!(
            newest_spec(store, "global-mpi")
                .await
                .unwrap()
                .unwrap()
                .version,
            1
        );
        assert_eq!(newest_spec(store, "no-such-spec").await.unwrap(), None);
    }
}

#[tokio::test]
async fn invalid_text_is_refused_with_the_parsers_message_and_line_and_nothing_is_written() {
    for db in TestDb::all().await {
        let store = &db.store;
        let head = store.audit_head().await.unwrap();
        let shipped = shipped_spec("tpmap-5").unwrap();

        // Broken TOML: the line is the one the editor typed.
        let lines: Vec<&str> = shipped.lines().collect();
        let k_line = lines.iter().position(|l| l.starts_with("k = ")).unwrap() + 1;
        let broken = shipped.replacen(lines[k_line - 1], "k = [5,", 1);
        match save(store, &edit(Kind::Spec, "tpmap-5", &broken)).await {
            Err(EditError::Invalid(r)) => {
                assert!(r.line.is_some_and(|l| l >= k_line), "{r:?}");
                assert!(!r.message.is_empty());
            }
            other => panic!("{other:?}"),
        }

        // Weights that do not sum to 1: the spec parser's exact-arithmetic refusal.
        let heavy = shipped.replacen("[[dimension]]", "[[dimension]]\nweight = \"1/2\"", 1);
        match save(store, &edit(Kind::Spec, "tpmap-5", &heavy)).await {
            Err(EditError::Invalid(r)) => assert!(
                r.message.contains("weight") || r.message.contains("dimension"),
                "{r:?}"
            ),
            other => panic!("{other:?}"),
        }

        // A line number after a `version` line the app had to add is the typed one.
        let no_version = shipped.replace("version = 1\n", "");
        let typo_line = no_version.lines().count() + 1;
        let typo = format!("{no_version}oops\n");
        match save(store, &edit(Kind::Spec, "tpmap-5", &typo)).await {
            Err(EditError::Invalid(r)) => assert_eq!(r.line, Some(typo_line), "{r:?}"),
            other => panic!("{other:?}"),
        }

        // A target's refusal is the target parser's, in Thai then English.
        let target = shipped_target("nst-halve-2571").unwrap();
        let bad = target.replace("reduction = \"1/2\"", "reduction = \"3/2\"");
        match save(store, &edit(Kind::Target, "nst-halve-2571", &bad)).await {
            Err(EditError::Invalid(r)) => {
                assert!(r.message.contains("reduction ต้องมากกว่า 0"), "{r:?}");
                assert_eq!(
                    r.line,
                    Some(
                        bad.lines()
                            .position(|l| l.starts_with("reduction"))
                            .unwrap()
                            + 1
                    )
                );
            }
            other => panic!("{other:?}"),
        }
        // An unknown vulnerability flag: refused by the application's check.
        let flag = target.replace("\"elderly\",", "\"elderly\", \"astronaut\",");
        assert!(matches!(
            save(store, &edit(Kind::Target, "nst-halve-2571", &flag)).await,
            Err(EditError::Invalid(_))
        ));

        for (text, want) in [("", "empty"), ("   \n", "empty")] {
            assert!(
                matches!(
                    save(store, &edit(Kind::Spec, "tpmap-5", text)).await,
                    Err(EditError::Empty)
                ),
                "{want}"
            );
        }
        let huge = format!("{shipped}\n# {}\n", "x".repeat(versions::MAX_TEXT_BYTES));
        assert!(matches!(
            save(store, &edit(Kind::Spec, "tpmap-5", &huge)).await,
            Err(EditError::TooLong)
        ));
        let mut long_note = edit(Kind::Spec, "tpmap-5", &broken);
        let note = "ก".repeat(versions::MAX_NOTE_CHARS + 1);
        long_note.note = &note;
        assert!(matches!(
            save(store, &long_note).await,
            Err(EditError::NoteTooLong)
        ));
        nothing_written(store, head).await;
    }
}

#[tokio::test]
async fn the_id_cannot_change_unchanged_text_is_refused_and_unknown_ids_are_not_created() {
    for db in TestDb::all().await {
        let store = &db.store;
        let head = store.audit_head().await.unwrap();
        let shipped = shipped_spec("tpmap-5").unwrap();

        let renamed = tpmap_edited().replace("id = \"tpmap-5\"", "id = \"tpmap-6\"");
        match save(store, &edit(Kind::Spec, "tpmap-5", &renamed)).await {
            Err(EditError::IdChanged { expected, found }) => {
                assert_eq!((expected.as_str(), found.as_str()), ("tpmap-5", "tpmap-6"))
            }
            other => panic!("{other:?}"),
        }
        // A spec under a target's id, or the other way round, is the wrong kind.
        assert!(matches!(
            save(store, &edit(Kind::Target, "tpmap-5", &tpmap_edited())).await,
            Err(EditError::Unknown)
        ));
        assert!(matches!(
            save(store, &edit(Kind::Spec, "new-spec", &tpmap_edited())).await,
            Err(EditError::Unknown)
        ));

        // The same text, as a browser sends it (CRLF), or with only the version changed.
        let crlf = shipped.replace('\n', "\r\n");
        let bumped = shipped.replace("version = 1\n", "version = 2\n");
        for same in [shipped.to_owned(), crlf, bumped] {
            match save(store, &edit(Kind::Spec, "tpmap-5", &same)).await {
                Err(EditError::NothingChanged { latest }) => assert_eq!(latest, 1),
                other => panic!("{other:?}"),
            }
        }
        nothing_written(store, head).await;

        // After a save, "nothing changed" compares with the stored version.
        let saved = save(store, &edit(Kind::Spec, "tpmap-5", &tpmap_edited()))
            .await
            .unwrap();
        assert_eq!(saved.after, 2);
        match save(store, &edit(Kind::Spec, "tpmap-5", &tpmap_edited())).await {
            Err(EditError::NothingChanged { latest }) => assert_eq!(latest, 2),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_target_must_name_a_spec_version_that_exists() {
    for db in TestDb::all().await {
        let store = &db.store;
        let target = shipped_target("nst-halve-2571").unwrap();
        assert!(target.contains("spec_version = 1\n"));
        let pinned_2 = target.replace("spec_version = 1\n", "spec_version = 2\n");
        match save(store, &edit(Kind::Target, "nst-halve-2571", &pinned_2)).await {
            Err(EditError::UnknownSpec { spec, version }) => {
                assert_eq!((spec.as_str(), version), ("tpmap-5", Some(2)))
            }
            other => panic!("{other:?}"),
        }
        let other_spec = target.replace("spec = \"tpmap-5\"", "spec = \"tpmap-9\"");
        assert!(matches!(
            save(store, &edit(Kind::Target, "nst-halve-2571", &other_spec)).await,
            Err(EditError::UnknownSpec { .. })
        ));

        // Once tpmap-5 version 2 is saved, a target may pin it.
        save(store, &edit(Kind::Spec, "tpmap-5", &tpmap_edited()))
            .await
            .unwrap();
        let saved = save(store, &edit(Kind::Target, "nst-halve-2571", &pinned_2))
            .await
            .unwrap();
        assert_eq!((saved.before, saved.after), (1, 2));
        let target = newest_target(store, "nst-halve-2571")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(target.version, 2);
        assert_eq!(target.poor.unwrap().spec_version, Some(2));
        // The other shipped target is untouched.
        assert_eq!(
            newest_target(store, "nst-halve-2571-literal")
                .await
                .unwrap()
                .unwrap()
                .version,
            1
        );
    }
}
