//! Stored versions of specs and targets, on SQLite and (when `HALVE_TEST_POSTGRES_URL` is
//! set) PostgreSQL: numbering after the shipped and the stored versions, reading back, and a
//! second save of a number that is taken writing nothing.

use halve_store::testing::TestDb;
use halve_store::{
    AuditEntry, DefinitionKind, NewDefinitionVersion, Store, StoreError, VersionSave,
};

fn new<'a>(
    kind: DefinitionKind,
    id: &'a str,
    version: u32,
    text: &'a str,
) -> NewDefinitionVersion<'a> {
    NewDefinitionVersion {
        kind,
        id,
        version,
        text,
        saved_by: "web:admin",
        saved_at: "2025-07-01T00:00:00Z",
        note: "ทดสอบ",
    }
}

/// Saves `text` as the next version after `shipped` in one transaction; returns its number.
async fn save_next(store: &Store, kind: DefinitionKind, id: &str, shipped: u32, text: &str) -> u32 {
    let mut tx = store.begin().await.unwrap();
    let n = tx.next_definition_number(kind, id, shipped).await.unwrap();
    assert_eq!(
        tx.save_definition_version(&new(kind, id, n, text))
            .await
            .unwrap(),
        VersionSave::Saved
    );
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn versions_are_numbered_after_the_shipped_and_the_stored_ones_and_read_back() {
    for db in TestDb::all().await {
        let store = &db.store;
        let spec = DefinitionKind::Spec;
        assert!(store.definition_versions().await.unwrap().is_empty());
        assert_eq!(
            store
                .latest_definition_version(spec, "tpmap-5")
                .await
                .unwrap(),
            None
        );

        // Shipped as version 3: the first stored one is 4, then 5.
        assert_eq!(save_next(store, spec, "tpmap-5", 3, "a = 4\n").await, 4);
        assert_eq!(save_next(store, spec, "tpmap-5", 3, "a = 5\n").await, 5);
        // Not shipped at all: numbering starts at 1.
        assert_eq!(save_next(store, spec, "local", 0, "x = 1\n").await, 1);
        // The same id as another kind is another definition.
        assert_eq!(
            save_next(store, DefinitionKind::Target, "tpmap-5", 1, "t = 2\n").await,
            2
        );
        // A shipped version newer than every stored one wins the numbering.
        assert_eq!(save_next(store, spec, "local", 7, "x = 8\n").await, 8);

        let v4 = store
            .definition_version(spec, "tpmap-5", 4)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v4.text, "a = 4\n");
        assert_eq!(v4.version, 4);
        assert_eq!(v4.saved_by, "web:admin");
        assert_eq!(v4.saved_at, "2025-07-01T00:00:00Z");
        assert_eq!(v4.note, "ทดสอบ");
        assert_eq!(
            store.definition_version(spec, "tpmap-5", 3).await.unwrap(),
            None
        );
        let latest = store
            .latest_definition_version(spec, "tpmap-5")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((latest.version, latest.text.as_str()), (5, "a = 5\n"));

        let listed: Vec<(DefinitionKind, String, u32)> = store
            .definition_versions()
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.kind, v.id, v.version))
            .collect();
        assert_eq!(
            listed,
            vec![
                (spec, "local".into(), 1),
                (spec, "local".into(), 8),
                (spec, "tpmap-5".into(), 4),
                (spec, "tpmap-5".into(), 5),
                (DefinitionKind::Target, "tpmap-5".into(), 2),
            ]
        );
    }
}

#[tokio::test]
async fn a_taken_or_stale_number_writes_nothing_and_a_rolled_back_save_leaves_nothing() {
    for db in TestDb::all().await {
        let store = &db.store;
        let spec = DefinitionKind::Spec;
        assert_eq!(save_next(store, spec, "s", 1, "first\n").await, 2);
        assert_eq!(save_next(store, spec, "s", 1, "second\n").await, 3);

        let mut tx = store.begin().await.unwrap();
        // The same number again, and an older one: both refused, nothing overwritten.
        for n in [3, 2] {
            assert_eq!(
                tx.save_definition_version(&new(spec, "s", n, "intruder\n"))
                    .await
                    .unwrap(),
                VersionSave::Taken
            );
        }
        tx.commit().await.unwrap();
        assert_eq!(
            store
                .definition_version(spec, "s", 2)
                .await
                .unwrap()
                .unwrap()
                .text,
            "first\n"
        );
        assert_eq!(
            store
                .definition_version(spec, "s", 3)
                .await
                .unwrap()
                .unwrap()
                .text,
            "second\n"
        );

        // A version saved with its audit entry and rolled back leaves neither.
        let head = store.audit_head().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.save_definition_version(&new(spec, "s", 4, "rolled back\n"))
                .await
                .unwrap(),
            VersionSave::Saved
        );
        tx.append_audit(&AuditEntry {
            at: "2025-07-01T00:00:00Z".into(),
            actor: "web:admin".into(),
            action: "new_version".into(),
            entity: "spec".into(),
            entity_key: "s".into(),
            before: None,
            after: None,
        })
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(store.definition_version(spec, "s", 4).await.unwrap(), None);
        assert_eq!(store.audit_head().await.unwrap(), head);
    }
}

#[tokio::test]
async fn of_two_saves_racing_for_one_number_only_the_first_lands() {
    for db in TestDb::all().await {
        let store = &db.store;
        let spec = DefinitionKind::Spec;
        // Both read the same next number before either writes.
        let mut a = store.begin().await.unwrap();
        let mut b = store.begin().await.unwrap();
        let na = a.next_definition_number(spec, "race", 1).await.unwrap();
        let nb = b.next_definition_number(spec, "race", 1).await.unwrap();
        assert_eq!((na, nb), (2, 2));
        assert_eq!(
            a.save_definition_version(&new(spec, "race", na, "from a\n"))
                .await
                .unwrap(),
            VersionSave::Saved
        );
        a.commit().await.unwrap();
        // PostgreSQL: the key is taken. SQLite: b's read snapshot is stale, so its write is
        // refused as busy. Either way b stores nothing and a's text stands.
        match b
            .save_definition_version(&new(spec, "race", nb, "from b\n"))
            .await
        {
            Ok(VersionSave::Taken) => b.commit().await.unwrap(),
            Ok(VersionSave::Saved) => panic!("a taken number was saved twice"),
            Err(StoreError::Database { .. } | StoreError::Constraint { .. }) => {
                b.rollback().await.unwrap()
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
        let stored = store.definition_versions().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(
            store
                .definition_version(spec, "race", 2)
                .await
                .unwrap()
                .unwrap()
                .text,
            "from a\n"
        );
    }
}

#[test]
fn kinds_read_back_from_their_codes() {
    for kind in DefinitionKind::ALL {
        assert_eq!(DefinitionKind::parse(kind.code()), Some(kind));
    }
    assert_eq!(DefinitionKind::parse("Spec"), None);
    assert_eq!(DefinitionKind::parse(""), None);
}
