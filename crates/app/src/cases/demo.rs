//! Case management in the demo province: the kinds of partner agencies Nakhon Si Thammarat
//! has, and cases for a share of the target households, with needs, plans, referrals in every
//! state, visits, graduations by the target engine's rule and a few re-opened cases.
//!
//! Everything is drawn from its own ChaCha8 stream seeded from the demo's seed, so the same
//! options give the same cases; dates and instants are fixed days of 2566–2568, never "now".
//! Cases go to households of the baseline cohort, taken village by village in code order
//! until there are enough: households below the shipped target's income line in 2566, which
//! its rule (`low_income or …`) puts in the target population whatever else is true. A case
//! is graduated when the household was above the line in 2567 and 2568 and, each time, none
//! of its members carried a vulnerability flag or it was deprived in nothing (so not poor),
//! so that the rule is false in both rounds: out twice
//! in a row, the target's graduation. The target panel would say the same (a test checks it
//! on every graduated demo case), but building it reads the whole registry, which would make
//! `halve demo --households 500000` far slower; these facts cost three small reads for each
//! household looked at. Workers are named after
//! their eco-zone, `worker-<zone>` (the web demo creates those accounts). A household that
//! falls back after graduating needs a round after 2568, so the demo has no `fell_back`
//! alert; its re-opened cases are closed cases opened again.

use halve_domain::IndicatorValue;
use halve_domain::case::{
    CaseState, CloseReason, FundingSource, NeedCode, NeedSource, PartnerKind, PlanItemStatus,
    ReferralState, acknowledgement_deadline,
};
use halve_domain::{BeDate, BeYear, EcoZoneSet, Key, Satang};
use halve_measure::Spec;
use halve_store::{
    CaseNeed, CaseRecord, HouseholdFacts, Partner, PlanItem, Referral, Store, Tx, Visit,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{shipped_catalogue, suggest_needs};
use crate::AppError;
use crate::measure::shipped_spec;
use crate::target::{DEFAULT_TARGET, parse_target, shipped_target};

/// (code, Thai name, English name, kind, days to acknowledge, active).
const PARTNERS: &[(&str, &str, &str, PartnerKind, u32, bool)] = &[
    (
        "pao-nst",
        "องค์การบริหารส่วนจังหวัดนครศรีธรรมราช",
        "Nakhon Si Thammarat Provincial Administrative Organization",
        PartnerKind::LocalGovernment,
        7,
        true,
    ),
    (
        "muni-nst",
        "เทศบาลนครนครศรีธรรมราช",
        "Nakhon Si Thammarat City Municipality",
        PartnerKind::LocalGovernment,
        7,
        true,
    ),
    (
        "sao-network",
        "เครือข่ายองค์การบริหารส่วนตำบล",
        "Subdistrict Administrative Organizations network",
        PartnerKind::LocalGovernment,
        10,
        true,
    ),
    (
        "pso-nst",
        "สำนักงานพัฒนาสังคมและความมั่นคงของมนุษย์จังหวัดนครศรีธรรมราช (พมจ.)",
        "Provincial Office of Social Development and Human Security",
        PartnerKind::ProvincialOffice,
        5,
        true,
    ),
    (
        "labour-nst",
        "สำนักงานแรงงานจังหวัดนครศรีธรรมราช",
        "Provincial Labour Office",
        PartnerKind::ProvincialOffice,
        7,
        true,
    ),
    (
        "hospital-nst",
        "โรงพยาบาลมหาราชนครศรีธรรมราช",
        "Maharaj Nakhon Si Thammarat Hospital",
        PartnerKind::Hospital,
        3,
        true,
    ),
    (
        "baac-nst",
        "ธนาคารเพื่อการเกษตรและสหกรณ์การเกษตร สำนักงานจังหวัดนครศรีธรรมราช",
        "Bank for Agriculture and Agricultural Cooperatives, provincial office",
        PartnerKind::Bank,
        7,
        true,
    ),
    (
        "wu",
        "มหาวิทยาลัยวลัยลักษณ์",
        "Walailak University",
        PartnerKind::University,
        14,
        true,
    ),
    (
        "company-seafood",
        "บริษัท อาหารทะเลปากพนัง จำกัด (สมมติ)",
        "Pak Phanang Seafood Co., Ltd. (fictitious)",
        PartnerKind::Company,
        10,
        true,
    ),
    (
        "ce-network",
        "เครือข่ายวิสาหกิจชุมชนจังหวัดนครศรีธรรมราช",
        "Provincial community enterprise network",
        PartnerKind::Community,
        7,
        true,
    ),
    (
        "old-project",
        "โครงการนำร่อง 2565 (ปิดแล้ว)",
        "2565 pilot project (ended)",
        PartnerKind::Other,
        7,
        false,
    ),
];

/// The partner a plan item of this kind of help goes to in the demo.
fn partner_for(kind: PartnerKind, pick: u32) -> &'static str {
    match kind {
        PartnerKind::LocalGovernment => ["pao-nst", "muni-nst", "sao-network"][pick as usize % 3],
        PartnerKind::ProvincialOffice => ["pso-nst", "labour-nst"][pick as usize % 2],
        PartnerKind::Hospital => "hospital-nst",
        PartnerKind::Bank => "baac-nst",
        PartnerKind::University => "wu",
        PartnerKind::Company => "company-seafood",
        PartnerKind::Community | PartnerKind::Other => "ce-network",
    }
}

fn funding_for(kind: PartnerKind) -> FundingSource {
    match kind {
        PartnerKind::LocalGovernment => FundingSource::LocalGovernment,
        PartnerKind::ProvincialOffice => FundingSource::Ministry,
        PartnerKind::Hospital => FundingSource::HealthFund,
        PartnerKind::Bank => FundingSource::BankLoan,
        PartnerKind::University => FundingSource::Province,
        PartnerKind::Company => FundingSource::Company,
        PartnerKind::Community | PartnerKind::Other => FundingSource::CommunityFund,
    }
}

/// Cases the demo opens: about one household in twenty, between 12 and 600.
fn wanted_cases(households: usize) -> usize {
    (households / 20).clamp(12, 600)
}

fn day(year: i32, month: u8, d: u8) -> BeDate {
    BeDate::new(BeYear::new(year).expect("demo year"), month, d).expect("demo day")
}

fn plus_days(d: BeDate, days: i64) -> BeDate {
    super::add_days(d, days)
}

/// Unix seconds at `hour`:00 Thai time on `d`.
fn at(d: BeDate, hour: i64) -> i64 {
    (d.ordinal() - 719_163) * 86_400 + (hour - 7) * 3600
}

/// What the demo's cases came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoCases {
    pub partners: usize,
    pub cases: usize,
    pub graduated: usize,
    pub referrals: usize,
    pub visits: usize,
}

/// Adds partners and cases to a demo registry already committed in `store`.
pub async fn add_demo_cases(
    store: &Store,
    seed: u64,
    households: usize,
) -> Result<DemoCases, AppError> {
    let started = std::time::Instant::now();
    let spec = Spec::from_toml_str(
        shipped_spec("tpmap-5").expect("tpmap-5 ships"),
        "tpmap-5.toml",
    )
    .map_err(|e| AppError::Invalid(e.to_string()))?;
    let target = parse_target(
        shipped_target(DEFAULT_TARGET).expect("the default target ships"),
        "nst-halve-2571.toml",
    )?;
    let income = target
        .low_income
        .as_ref()
        .map(|l| l.column.clone())
        .ok_or_else(|| AppError::Invalid("the shipped target has no income line".into()))?;
    let line = |year: i32| target.threshold(year).map(|t| t.baht).ok();
    // Whether the household's income per person was below (`Some(true)`) or at or above the
    // line in the round of `year`; `None` when not assessed or not known.
    let below = |facts: &HouseholdFacts, year: i32| -> Option<bool> {
        let a = facts.assessments.iter().find(|a| a.round.be() == year)?;
        match a.values.get(&income)? {
            IndicatorValue::Number(x) => Some(*x < line(year)?),
            IndicatorValue::NotApplicable => None,
        }
    };
    let zones = EcoZoneSet::shipped_nakhon_si_thammarat();
    let catalogue = shipped_catalogue();
    let mut dice = ChaCha8Rng::seed_from_u64(seed ^ 0x6361_7365_7321);
    let mut out = DemoCases::default();

    let mut tx = store.begin().await?;
    for &(code, th, en, kind, ack_days, active) in PARTNERS {
        tx.save_partner(&Partner {
            code: Key::parse(code).expect("demo partner code"),
            name_th: th.into(),
            name_en: en.into(),
            kind,
            ack_days,
            active,
        })
        .await?;
        out.partners += 1;
    }

    let mut villages = Vec::new();
    store
        .for_each_village(&mut |v| {
            villages.push(v.code);
            Ok(())
        })
        .await?;
    let wanted = wanted_cases(households);
    'villages: for village in villages {
        for code in tx.house_codes_in_village(&village.to_string()).await? {
            if out.cases >= wanted {
                break 'villages;
            }
            let key = Key::parse(&code).expect("stored house code");
            let Some(facts) = tx.household_facts(&code).await? else {
                continue;
            };
            if below(&facts, 2566) != Some(true) {
                continue;
            }
            let graduated = [2567, 2568].iter().all(|&year| {
                below(&facts, year) == Some(false)
                    && (facts.flags.is_empty() || deprived_in_nothing(&spec, &facts, year))
            });
            let worker = zones
                .zone_of(village)
                .map_or_else(|| "worker".to_owned(), |z| format!("worker-{}", z.code));
            add_case(
                &mut tx,
                &mut dice,
                &mut out,
                CaseSeed {
                    household: key,
                    worker,
                    graduated,
                    needs: suggest_needs(&spec, &facts)?,
                },
                catalogue,
            )
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(
        cases = out.cases,
        graduated = out.graduated,
        referrals = out.referrals,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo cases added"
    );
    Ok(out)
}

/// Whether the household's assessment of `year` is complete under `spec` and deprived in no
/// indicator: then it is not poor at any cutoff, and `vulnerable and poor` is false.
fn deprived_in_nothing(spec: &Spec, facts: &HouseholdFacts, year: i32) -> bool {
    facts
        .assessments
        .iter()
        .find(|a| a.round.be() == year)
        .and_then(|a| crate::measure::deprivation_profile(spec, a).ok().flatten())
        == Some(0)
}

struct CaseSeed {
    household: Key,
    worker: String,
    graduated: bool,
    needs: Vec<NeedCode>,
}

async fn add_case(
    tx: &mut Tx,
    dice: &mut ChaCha8Rng,
    out: &mut DemoCases,
    seed: CaseSeed,
    catalogue: &halve_domain::case::Catalogue,
) -> Result<(), AppError> {
    let opened_on = plus_days(day(2566, 5, 1), i64::from(dice.random_range(0..300u32)));
    let roll = dice.random_range(0..100u32);
    // Graduation follows the target panel; the others are spread over the states.
    let (state, reason, reopened) = if seed.graduated {
        (CaseState::Graduated, None, false)
    } else if roll < 15 {
        (CaseState::Open, None, false)
    } else if roll < 80 {
        (CaseState::InProgress, None, false)
    } else if roll < 92 {
        let reasons = [
            CloseReason::DeclinedHelp,
            CloseReason::MovedAway,
            CloseReason::NoLongerEligible,
            CloseReason::Duplicate,
            CloseReason::Died,
        ];
        let r = reasons[dice.random_range(0..reasons.len() as u32) as usize];
        (CaseState::Closed, Some(r), false)
    } else {
        // Closed as declined, then opened again when the family asked for help.
        (CaseState::Open, None, true)
    };
    let mut case = CaseRecord {
        id: 0,
        household: seed.household,
        worker: seed.worker.clone(),
        state,
        close_reason: reason,
        opened_on,
        ended_on: match state {
            CaseState::Graduated => Some(day(2568, 4, 20)),
            CaseState::Closed => Some(plus_days(opened_on, 120)),
            _ => None,
        },
    };
    case.id = tx.save_case(&case).await?;
    out.cases += 1;
    out.graduated += usize::from(state == CaseState::Graduated);
    let _ = reopened;

    for need in &seed.needs {
        tx.save_need(&CaseNeed {
            case_id: case.id,
            need: need.clone(),
            source: NeedSource::Suggested,
            confirmed: state != CaseState::Open || dice.random_range(0..2u32) == 0,
        })
        .await?;
    }
    if state == CaseState::Open && !reopened {
        return Ok(());
    }

    // Up to two interventions, for the first needs some help solves.
    let mut chosen: Vec<&halve_domain::case::InterventionType> = Vec::new();
    for need in &seed.needs {
        if chosen.len() == 2 {
            break;
        }
        if let Some(t) = catalogue
            .solving(need)
            .find(|t| !chosen.iter().any(|c| c.code == t.code))
        {
            chosen.push(t);
        }
    }
    for (n, kind) in chosen.into_iter().enumerate() {
        let pick = dice.random_range(0..6u32);
        let partner = partner_for(kind.partner_kind, pick);
        let start_on = plus_days(opened_on, 14 + i64::from(dice.random_range(0..60u32)));
        let status = match (state, reopened, dice.random_range(0..10u32)) {
            (CaseState::Graduated, _, _) => PlanItemStatus::Done,
            (CaseState::Closed, _, 0..=4) => PlanItemStatus::Cancelled,
            (CaseState::Closed, _, _) => PlanItemStatus::Done,
            (_, true, _) => PlanItemStatus::Planned,
            (_, _, 0..=1) => PlanItemStatus::Planned,
            (_, _, 2..=6) => PlanItemStatus::InProgress,
            (_, _, 7..=8) => PlanItemStatus::Done,
            _ => PlanItemStatus::Cancelled,
        };
        let baht = i64::from(dice.random_range(5..=500u32)) * 100;
        let mut item = PlanItem {
            id: 0,
            case_id: case.id,
            intervention: kind.code.clone(),
            partner: Some(Key::parse(partner).expect("demo partner code")),
            status,
            start_on: (status != PlanItemStatus::Planned).then_some(start_on),
            end_on: (status == PlanItemStatus::Done).then(|| plus_days(start_on, 90)),
            cost: Satang::from_baht(baht),
            funding: Some(funding_for(kind.partner_kind)),
            note: String::new(),
        };
        item.id = tx.save_plan_item(&item).await?;

        if status == PlanItemStatus::Planned && n > 0 {
            continue;
        }
        let referral_state = match status {
            PlanItemStatus::Done => ReferralState::Done,
            PlanItemStatus::Cancelled => {
                if dice.random_range(0..2u32) == 0 {
                    ReferralState::Declined
                } else {
                    ReferralState::Withdrawn
                }
            }
            PlanItemStatus::InProgress => ReferralState::Acknowledged,
            PlanItemStatus::Planned => ReferralState::Sent,
        };
        let ack_days = PARTNERS.iter().find(|p| p.0 == partner).map_or(7, |p| p.4);
        let sent_at = at(start_on, 9 + i64::from(dice.random_range(0..8u32)));
        let acknowledged_at = matches!(
            referral_state,
            ReferralState::Acknowledged | ReferralState::Done
        )
        .then(|| sent_at + i64::from(dice.random_range(1..(ack_days.max(2) * 24 + 48))) * 3600);
        let closed_at = (!referral_state.is_open()).then(|| sent_at + 30 * 86_400);
        let outcome = match referral_state {
            ReferralState::Done => Some("ดำเนินการแล้วเสร็จตามแผน (done as planned)".to_owned()),
            ReferralState::Declined => {
                Some("ไม่อยู่ในเกณฑ์ของหน่วยงาน (outside the agency's criteria)".to_owned())
            }
            _ => None,
        };
        tx.save_referral(&Referral {
            id: 0,
            case_id: case.id,
            plan_item: Some(item.id),
            partner: item.partner.clone().expect("set above"),
            state: referral_state,
            sent_by: seed.worker.clone(),
            sent_at,
            deadline_at: acknowledgement_deadline(sent_at, ack_days),
            acknowledged_at,
            closed_at,
            outcome,
            note: String::new(),
        })
        .await?;
        out.referrals += 1;
    }

    // Visits: one to three, a month or more apart; a graduated household's last visit is the
    // one where the 2568 assessment was taken.
    let visits = 1 + dice.random_range(0..3u32);
    let mut on = plus_days(opened_on, 7);
    for v in 0..visits {
        let last = v + 1 == visits;
        let round =
            (last && state == CaseState::Graduated).then(|| BeYear::new(2568).expect("demo year"));
        let visited_on = if round.is_some() {
            day(2568, 3, 15)
        } else {
            on
        };
        tx.save_visit(&Visit {
            id: 0,
            case_id: case.id,
            visited_on,
            worker: seed.worker.clone(),
            note: if round.is_some() {
                "สำรวจ จปฐ. ประจำปีระหว่างเยี่ยม (yearly BMN survey taken during the visit)".into()
            } else {
                "เยี่ยมติดตามตามแผน (follow-up visit)".into()
            },
            round,
        })
        .await?;
        out.visits += 1;
        on = plus_days(on, 30 + i64::from(dice.random_range(0..40u32)));
    }
    Ok(())
}
