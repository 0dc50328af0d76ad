//! Case management's storage on SQLite and (when `HALVE_TEST_POSTGRES_URL` is set)
//! PostgreSQL: records saved and read back field for field, one active case per household
//! enforced by the schema, a worker's caseload with its overdue facts, a partner's inbox
//! holding only its own referrals, a household's help, saving with explicit ids (an import)
//! followed by new inserts, and streams in id order.

use halve_domain::case::{
    CaseAlertKind, CaseState, CloseReason, FundingSource, NeedCode, NeedSource, PartnerKind,
    PlanItemStatus, ReferralState,
};
use halve_domain::{AreaCode, BeDate, BeYear, Household, Key, Satang, Village};
use halve_store::testing::TestDb;
use halve_store::{
    CaseAlert, CaseNeed, CaseRecord, Partner, PlanItem, Referral, Store, StoreError, Visit,
};

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn date(s: &str) -> BeDate {
    BeDate::parse(s).unwrap()
}

/// Two villages, households H1 and H2 in the first, H3 in the second, and two partners.
async fn seed(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    let villages: Vec<Village> = ["80010101", "80120101"]
        .iter()
        .map(|c| Village {
            code: AreaCode::parse_syntax(c).unwrap(),
            name_th: "บ้านทดสอบ".into(),
            name_en: None,
        })
        .collect();
    tx.upsert_villages(&villages).await.unwrap();
    let households: Vec<Household> = [("H1", 0), ("H2", 0), ("H3", 1)]
        .iter()
        .map(|&(h, v)| Household {
            house_code: key(h),
            village: villages[v].code,
            address: "1 หมู่ 1".into(),
            location: None,
        })
        .collect();
    tx.upsert_households(&households).await.unwrap();
    for (code, kind, days) in [
        ("hospital", PartnerKind::Hospital, 3),
        ("bank", PartnerKind::Bank, 7),
    ] {
        tx.save_partner(&Partner {
            code: key(code),
            name_th: "หน่วยงาน".into(),
            name_en: "agency".into(),
            kind,
            ack_days: days,
            active: true,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

fn case(household: &str, worker: &str) -> CaseRecord {
    CaseRecord {
        id: 0,
        household: key(household),
        worker: worker.into(),
        state: CaseState::Open,
        close_reason: None,
        opened_on: date("2567-06-01"),
        ended_on: None,
    }
}

fn referral(case_id: i64, partner: &str, state: ReferralState, sent_at: i64) -> Referral {
    Referral {
        id: 0,
        case_id,
        plan_item: None,
        partner: key(partner),
        state,
        sent_by: "somchai".into(),
        sent_at,
        deadline_at: sent_at + 3 * 86_400,
        acknowledged_at: None,
        closed_at: None,
        outcome: None,
        note: String::new(),
    }
}

#[tokio::test]
async fn records_are_saved_and_read_back() {
    for db in TestDb::all().await {
        let store = &db.store;
        seed(store).await;
        let mut tx = store.begin().await.unwrap();
        let mut c = case("H1", "somchai");
        c.id = tx.save_case(&c).await.unwrap();
        assert!(c.id > 0);
        let need = CaseNeed {
            case_id: c.id,
            need: NeedCode::parse("flag:bedridden").unwrap(),
            source: NeedSource::Suggested,
            confirmed: false,
        };
        tx.save_need(&need).await.unwrap();
        let mut item = PlanItem {
            id: 0,
            case_id: c.id,
            intervention: "bedridden_care".into(),
            partner: Some(key("hospital")),
            status: PlanItemStatus::InProgress,
            start_on: Some(date("2567-06-10")),
            end_on: None,
            cost: Satang(1_234_567),
            funding: Some(FundingSource::HealthFund),
            note: "เตียงลม".into(),
        };
        item.id = tx.save_plan_item(&item).await.unwrap();
        let mut r = referral(c.id, "hospital", ReferralState::Acknowledged, 1_720_000_000);
        r.plan_item = Some(item.id);
        r.acknowledged_at = Some(1_720_050_000);
        r.outcome = Some("รับเรื่อง".into());
        r.id = tx.save_referral(&r).await.unwrap();
        let mut v = Visit {
            id: 0,
            case_id: c.id,
            visited_on: date("2567-07-01"),
            worker: "somchai".into(),
            note: "เยี่ยม".into(),
            round: None,
        };
        v.id = tx.save_visit(&v).await.unwrap();
        tx.commit().await.unwrap();

        assert_eq!(store.case(c.id).await.unwrap(), Some(c.clone()));
        assert_eq!(store.needs_of_case(c.id).await.unwrap(), vec![need]);
        assert_eq!(store.plan_of_case(c.id).await.unwrap(), vec![item.clone()]);
        assert_eq!(store.referral(r.id).await.unwrap(), Some(r.clone()));
        assert_eq!(store.visits_of_case(c.id).await.unwrap(), vec![v]);
        assert_eq!(
            store.help_of_household("H1").await.unwrap(),
            (vec![item], vec![r])
        );
        assert_eq!(
            store.help_of_household("H2").await.unwrap(),
            (vec![], vec![])
        );

        // Rewriting by id changes the row, not the count.
        let mut tx = store.begin().await.unwrap();
        let closed = CaseRecord {
            state: CaseState::Closed,
            close_reason: Some(CloseReason::MovedAway),
            ended_on: Some(date("2567-12-31")),
            ..c.clone()
        };
        assert_eq!(tx.save_case(&closed).await.unwrap(), c.id);
        tx.commit().await.unwrap();
        assert_eq!(store.cases_of_household("H1").await.unwrap(), vec![closed]);
    }
}

#[tokio::test]
async fn a_household_has_at_most_one_active_case() {
    for db in TestDb::all().await {
        let store = &db.store;
        seed(store).await;
        let mut tx = store.begin().await.unwrap();
        let mut first = case("H1", "a");
        first.id = tx.save_case(&first).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let second = tx.save_case(&case("H1", "b")).await;
        // PostgreSQL names the index; SQLite reports a unique violation without a name.
        let unique = match &second {
            Err(StoreError::Constraint { .. }) => true,
            Err(StoreError::Database { summary, .. }) => summary == "UniqueViolation",
            _ => false,
        };
        assert!(unique, "{second:?}");
        drop(tx);

        // Once the first is closed, a new one may open; a closed case without a reason may not.
        let mut tx = store.begin().await.unwrap();
        let no_reason = CaseRecord {
            state: CaseState::Closed,
            ..first.clone()
        };
        assert!(tx.save_case(&no_reason).await.is_err());
        drop(tx);
        let mut tx = store.begin().await.unwrap();
        tx.save_case(&CaseRecord {
            state: CaseState::Closed,
            close_reason: Some(CloseReason::Duplicate),
            ..first
        })
        .await
        .unwrap();
        tx.save_case(&case("H1", "b")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.cases_of_household("H1").await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn caseload_and_inboxes_hold_only_their_own() {
    for db in TestDb::all().await {
        let store = &db.store;
        seed(store).await;
        let now = 1_720_000_000;
        let mut tx = store.begin().await.unwrap();
        let a = tx.save_case(&case("H1", "somchai")).await.unwrap();
        let b = tx.save_case(&case("H3", "somchai")).await.unwrap();
        let c = tx.save_case(&case("H2", "malee")).await.unwrap();
        // Case a: one referral 4 days old and never acknowledged (overdue), one acknowledged.
        tx.save_referral(&referral(
            a,
            "hospital",
            ReferralState::Sent,
            now - 4 * 86_400,
        ))
        .await
        .unwrap();
        tx.save_referral(&referral(
            a,
            "bank",
            ReferralState::Acknowledged,
            now - 9 * 86_400,
        ))
        .await
        .unwrap();
        // Case b: sent exactly 3 days ago: at its deadline, not yet late.
        tx.save_referral(&referral(
            b,
            "hospital",
            ReferralState::Sent,
            now - 3 * 86_400,
        ))
        .await
        .unwrap();
        tx.save_referral(&referral(c, "bank", ReferralState::Done, now - 20 * 86_400))
            .await
            .unwrap();
        tx.save_visit(&Visit {
            id: 0,
            case_id: a,
            visited_on: date("2567-06-20"),
            worker: "somchai".into(),
            note: String::new(),
            round: None,
        })
        .await
        .unwrap();
        tx.save_alert(&CaseAlert {
            id: 0,
            case_id: b,
            kind: CaseAlertKind::FellBack,
            round: BeYear::new(2568).unwrap(),
            raised_at: now,
            resolved_at: None,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let load = store.caseload("somchai", now).await.unwrap();
        let facts: Vec<_> = load
            .iter()
            .map(|r| {
                (
                    r.case.id,
                    r.village.to_string(),
                    r.last_visit.map(|d| d.to_string()),
                    r.open_referrals,
                    r.overdue_referrals,
                    r.open_alerts,
                )
            })
            .collect();
        assert_eq!(
            facts,
            vec![
                (a, "80010101".into(), Some("2567-06-20".into()), 2, 1, 0),
                (b, "80120101".into(), None, 1, 0, 1),
            ]
        );
        assert_eq!(store.caseload("nobody", now).await.unwrap(), vec![]);

        let hospital = store.partner_inbox("hospital", false).await.unwrap();
        assert_eq!(hospital.len(), 2);
        assert!(
            hospital
                .iter()
                .all(|r| r.referral.partner.as_str() == "hospital")
        );
        // Newest first.
        assert_eq!(hospital[0].household.as_str(), "H3");
        let bank_all = store.partner_inbox("bank", false).await.unwrap();
        let bank_open = store.partner_inbox("bank", true).await.unwrap();
        assert_eq!(bank_all.len(), 2);
        assert_eq!(bank_open.len(), 1);
        assert_eq!(bank_open[0].household.as_str(), "H1");
        assert!(
            store
                .partner_inbox("nobody", false)
                .await
                .unwrap()
                .is_empty()
        );

        // Raising the same alert again changes nothing.
        let mut tx = store.begin().await.unwrap();
        let again = tx
            .save_alert(&CaseAlert {
                id: 0,
                case_id: b,
                kind: CaseAlertKind::FellBack,
                round: BeYear::new(2568).unwrap(),
                raised_at: now + 10,
                resolved_at: None,
            })
            .await
            .unwrap();
        assert_eq!(again, None);
        tx.commit().await.unwrap();
        assert_eq!(store.alerts_of_case(b).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn explicit_ids_then_new_ones_and_streams_in_id_order() {
    for db in TestDb::all().await {
        let store = &db.store;
        seed(store).await;
        let mut tx = store.begin().await.unwrap();
        let imported = CaseRecord {
            id: 41,
            ..case("H2", "malee")
        };
        assert_eq!(tx.save_case(&imported).await.unwrap(), 41);
        tx.sync_case_ids().await.unwrap();
        let next = tx.save_case(&case("H1", "somchai")).await.unwrap();
        assert!(next > 41, "{next}");
        tx.commit().await.unwrap();

        let mut ids = Vec::new();
        store
            .for_each_case(&mut |c| {
                ids.push(c.id);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(ids, vec![41, next]);
        let mut partners = Vec::new();
        store
            .for_each_partner(&mut |p| {
                partners.push(p.code.to_string());
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(partners, vec!["bank", "hospital"]);
        assert_eq!(
            store.partner("bank").await.unwrap().map(|p| p.ack_days),
            Some(7)
        );
    }
}
