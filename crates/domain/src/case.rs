//! Case management's vocabulary and rules: the council's five strategies, case, plan item and
//! referral states with the moves allowed between them, partners and intervention types.
//!
//! The rules here are pure: a move between states is a function of the two states, and a
//! referral's deadline and lateness are functions of Unix seconds (the time it was sent, the
//! partner's deadline in days, and *now*), so that they are tested without a clock or a
//! database. Unix seconds rather than Buddhist Era dates because a referral is sent and
//! acknowledged at an instant, and a deadline "within 3 days" is 72 hours whatever the time
//! zone; pages show the instant as a Thai date. Who may make a move (a worker, a partner) is
//! said here too, as data, so the application layer and the pages agree.

use crate::registry::coded_enum;
use crate::{ParseError, VulnerabilityFlag, parse_indicator_name};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;

coded_enum!(
    /// The council's five strategies (2566): every intervention serves one.
    Strategy, "ยุทธศาสตร์", "strategy" {
    Wellbeing = "wellbeing", "กลุ่มเปราะบางมีสุขภาวะที่ดี", "1";
    Occupation = "occupation", "ผู้มีรายได้น้อยมีอาชีพมั่นคงและรายได้เพียงพอ", "2";
    HealthTourism = "health_tourism", "องค์กรชุมชนจัดการท่องเที่ยวเชิงสุขภาพที่เติบโต", "3";
    SocialEnterprise = "social_enterprise", "วิสาหกิจเพื่อสังคมใช้ทรัพยากรธรรมชาติอย่างยั่งยืน", "4";
    Governance = "governance", "ขบวนองค์กรชุมชนเป็นหุ้นส่วนการพัฒนาจังหวัด", "5";
});

impl Strategy {
    /// The strategy's number in the council's plan, 1 to 5.
    pub fn number(self) -> u8 {
        match self {
            Strategy::Wellbeing => 1,
            Strategy::Occupation => 2,
            Strategy::HealthTourism => 3,
            Strategy::SocialEnterprise => 4,
            Strategy::Governance => 5,
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Strategy::Wellbeing => "vulnerable people have good well-being",
            Strategy::Occupation => {
                "low-income people have stable occupations and sufficient income"
            }
            Strategy::HealthTourism => "community organizations run growing health tourism",
            Strategy::SocialEnterprise => "social enterprises use natural resources sustainably",
            Strategy::Governance => {
                "the community organization movement is a governance partner of the province"
            }
        }
    }
}

coded_enum!(
    /// Where a case stands. None is a dead end: see [`CaseState::move_to`].
    CaseState, "สถานะเคส", "case state" {
    Open = "open", "เปิดเคส";
    InProgress = "in_progress", "กำลังดำเนินการ";
    Graduated = "graduated", "พ้นความยากจน";
    Closed = "closed", "ปิดเคส";
});

coded_enum!(
    /// Why a case was closed without graduating.
    CloseReason, "เหตุผลที่ปิดเคส", "close reason" {
    Died = "died", "เสียชีวิต";
    MovedAway = "moved_away", "ย้ายออกนอกพื้นที่";
    Merged = "merged", "รวมกับครัวเรือนอื่น";
    DeclinedHelp = "declined_help", "ไม่ประสงค์รับความช่วยเหลือ";
    Duplicate = "duplicate", "เคสซ้ำ";
    RegisteredInError = "registered_in_error", "ลงทะเบียนผิดพลาด";
    NoLongerEligible = "no_longer_eligible", "ไม่เข้าเกณฑ์แล้ว";
    Other = "other", "อื่น ๆ";
});

coded_enum!(
    /// Where one intervention of a plan stands.
    PlanItemStatus, "สถานะรายการในแผน", "plan item status" {
    Planned = "planned", "วางแผนแล้ว";
    InProgress = "in_progress", "กำลังดำเนินการ";
    Done = "done", "เสร็จสิ้น";
    Cancelled = "cancelled", "ยกเลิก";
});

coded_enum!(
    /// Where a referral to a partner stands: sent, acknowledged by the partner, then done or
    /// declined with an outcome; the worker may withdraw it before it is closed.
    ReferralState, "สถานะการส่งต่อ", "referral state" {
    Sent = "sent", "ส่งแล้ว";
    Acknowledged = "acknowledged", "รับเรื่องแล้ว";
    Done = "done", "ดำเนินการแล้ว";
    Declined = "declined", "ปฏิเสธ";
    Withdrawn = "withdrawn", "ถอนเรื่อง";
});

coded_enum!(
    /// What kind of agency a partner is.
    PartnerKind, "ประเภทหน่วยงาน", "partner kind" {
    LocalGovernment = "local_government", "องค์กรปกครองส่วนท้องถิ่น", "อปท.";
    ProvincialOffice = "provincial_office", "ส่วนราชการประจำจังหวัด";
    Hospital = "hospital", "โรงพยาบาล";
    Bank = "bank", "ธนาคาร";
    University = "university", "มหาวิทยาลัย";
    Company = "company", "บริษัท";
    Community = "community", "องค์กรชุมชน";
    Other = "other", "อื่น ๆ";
});

coded_enum!(
    /// Who pays for a plan item.
    FundingSource, "แหล่งงบประมาณ", "funding source" {
    Province = "province", "งบพัฒนาจังหวัด";
    LocalGovernment = "local_government", "งบองค์กรปกครองส่วนท้องถิ่น";
    Ministry = "ministry", "งบกระทรวง กรม";
    HealthFund = "health_fund", "กองทุนหลักประกันสุขภาพ";
    CommunityFund = "community_fund", "กองทุนชุมชน";
    BankLoan = "bank_loan", "สินเชื่อธนาคาร";
    Company = "company", "งบเพื่อสังคมของบริษัท", "csr";
    Donation = "donation", "เงินบริจาค";
    Other = "other", "อื่น ๆ";
});

coded_enum!(
    /// How a need came onto a case: suggested from the household's deprivations and flags,
    /// or added by the worker.
    NeedSource, "ที่มาของความต้องการ", "need source" {
    Suggested = "suggested", "ระบบเสนอ";
    Added = "added", "ผู้ดูแลเพิ่ม";
});

coded_enum!(
    /// Why a case asks for attention. `fell_back`: the household graduated and is back in
    /// the target population, so the case re-opened.
    CaseAlertKind, "ประเภทการแจ้งเตือน", "case alert" {
    FellBack = "fell_back", "กลับเข้าสู่กลุ่มเป้าหมาย";
});

/// A case move that the rules refuse, worded for the worker who tried it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} ({})", self.th(), self.en())]
pub struct MoveRefused {
    /// `case`, `plan_item` or `referral`.
    pub what: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

impl MoveRefused {
    fn what_th(&self) -> &'static str {
        match self.what {
            "case" => "เคส",
            "plan_item" => "รายการในแผน",
            _ => "การส่งต่อ",
        }
    }

    pub fn th(&self) -> String {
        if self.from == self.to {
            format!(
                "{}อยู่ในสถานะ {} แล้ว",
                self.what_th(),
                label_th(self.what, self.from)
            )
        } else {
            format!(
                "เปลี่ยน{}จาก {} เป็น {} ไม่ได้",
                self.what_th(),
                label_th(self.what, self.from),
                label_th(self.what, self.to)
            )
        }
    }

    pub fn en(&self) -> String {
        let what = self.what.replace('_', " ");
        if self.from == self.to {
            format!("the {what} is already {}", self.from)
        } else {
            format!("a {what} cannot move from {} to {}", self.from, self.to)
        }
    }
}

fn label_th(what: &str, code: &str) -> &'static str {
    let found = match what {
        "case" => CaseState::parse(code).ok().map(CaseState::label_th),
        "plan_item" => PlanItemStatus::parse(code)
            .ok()
            .map(PlanItemStatus::label_th),
        _ => ReferralState::parse(code).ok().map(ReferralState::label_th),
    };
    found.unwrap_or("?")
}

impl CaseState {
    /// The states a case may move to from this one. Open and in-progress cases may graduate
    /// (the target engine decides whether they really have) or close; a graduated case
    /// re-opens when its household falls back, or closes (a death after graduating); a closed
    /// case re-opens. A re-opened case starts again from open, so its needs are reviewed.
    pub fn next(self) -> &'static [CaseState] {
        use CaseState::*;
        match self {
            Open => &[InProgress, Graduated, Closed],
            InProgress => &[Graduated, Closed],
            Graduated => &[Open, Closed],
            Closed => &[Open],
        }
    }

    pub fn move_to(self, to: CaseState) -> Result<CaseState, MoveRefused> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(MoveRefused {
                what: "case",
                from: self.code(),
                to: to.code(),
            })
        }
    }

    /// Open or in progress: the household is still being helped.
    pub fn is_active(self) -> bool {
        matches!(self, CaseState::Open | CaseState::InProgress)
    }
}

impl PlanItemStatus {
    /// A planned item starts, is done at once (an enrolment), or is cancelled; one in
    /// progress is done or cancelled; a done item re-opens (the help did not hold) and a
    /// cancelled one is planned again.
    pub fn next(self) -> &'static [PlanItemStatus] {
        use PlanItemStatus::*;
        match self {
            Planned => &[InProgress, Done, Cancelled],
            InProgress => &[Done, Cancelled],
            Done => &[InProgress],
            Cancelled => &[Planned],
        }
    }

    pub fn move_to(self, to: PlanItemStatus) -> Result<PlanItemStatus, MoveRefused> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(MoveRefused {
                what: "plan_item",
                from: self.code(),
                to: to.code(),
            })
        }
    }

    /// Planned or in progress: the help is still coming.
    pub fn is_active(self) -> bool {
        matches!(self, PlanItemStatus::Planned | PlanItemStatus::InProgress)
    }
}

/// Who makes a referral move: the worker who sent it, or the partner it was sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferralSide {
    Worker,
    Partner,
}

impl ReferralState {
    /// The loop: sent → acknowledged → done or declined. A partner may decline without
    /// acknowledging first; the worker may withdraw until the partner has closed it. Done,
    /// declined and withdrawn are final: help needed again is a new referral, so the record
    /// of what each partner did stays true.
    pub fn next(self) -> &'static [ReferralState] {
        use ReferralState::*;
        match self {
            Sent => &[Acknowledged, Declined, Withdrawn],
            Acknowledged => &[Done, Declined, Withdrawn],
            Done | Declined | Withdrawn => &[],
        }
    }

    pub fn move_to(self, to: ReferralState) -> Result<ReferralState, MoveRefused> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(MoveRefused {
                what: "referral",
                from: self.code(),
                to: to.code(),
            })
        }
    }

    /// Who moves a referral into this state.
    pub fn made_by(self) -> ReferralSide {
        match self {
            ReferralState::Sent | ReferralState::Withdrawn => ReferralSide::Worker,
            ReferralState::Acknowledged | ReferralState::Done | ReferralState::Declined => {
                ReferralSide::Partner
            }
        }
    }

    /// Sent or acknowledged: the partner still owes an answer or the help.
    pub fn is_open(self) -> bool {
        matches!(self, ReferralState::Sent | ReferralState::Acknowledged)
    }

    /// Done or declined: the partner's answer carries an outcome.
    pub fn needs_outcome(self) -> bool {
        matches!(self, ReferralState::Done | ReferralState::Declined)
    }
}

/// Seconds in a day.
pub const DAY_SECONDS: i64 = 86_400;

/// The instant by which the partner must acknowledge a referral sent at `sent_at` (Unix
/// seconds): `deadline_days` whole days later, to the second.
pub fn acknowledgement_deadline(sent_at: i64, deadline_days: u32) -> i64 {
    sent_at.saturating_add(i64::from(deadline_days) * DAY_SECONDS)
}

/// Whether a referral is overdue at `now`: still only sent (not acknowledged, declined or
/// withdrawn) after its deadline has passed. At the deadline itself it is not yet late.
pub fn referral_overdue(state: ReferralState, deadline: i64, now: i64) -> bool {
    state == ReferralState::Sent && now > deadline
}

/// Whole days a referral is late at `now` (0 when it is not overdue); a referral one second
/// past its deadline is 1 day late, so a list sorted by it never shows "0 days late".
pub fn days_overdue(state: ReferralState, deadline: i64, now: i64) -> i64 {
    if referral_overdue(state, deadline, now) {
        (now - deadline + DAY_SECONDS - 1) / DAY_SECONDS
    } else {
        0
    }
}

/// What a need is about: an indicator of the measurement spec the household is deprived in,
/// or one of its members' vulnerabilities. Written `bmn08_housing` or `flag:bedridden`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NeedCode {
    Indicator(String),
    Flag(VulnerabilityFlag),
}

impl NeedCode {
    pub fn parse(raw: &str) -> Result<NeedCode, ParseError> {
        let s = raw.trim();
        match s.strip_prefix("flag:") {
            Some(flag) => Ok(NeedCode::Flag(VulnerabilityFlag::parse(flag)?)),
            None => Ok(NeedCode::Indicator(parse_indicator_name(s)?)),
        }
    }
}

impl fmt::Display for NeedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NeedCode::Indicator(name) => f.write_str(name),
            NeedCode::Flag(flag) => write!(f, "flag:{}", flag.code()),
        }
    }
}

/// One type of help in the intervention catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterventionType {
    /// Lower-case letters, digits and `_`.
    pub code: String,
    pub name_th: String,
    pub name_en: String,
    pub strategy: Strategy,
    /// Names of indicators (of the spec the catalogue is checked against) it is meant to
    /// solve; may be empty for help aimed only at a vulnerability.
    pub indicators: BTreeSet<String>,
    /// Vulnerabilities it serves.
    pub flags: BTreeSet<VulnerabilityFlag>,
    /// The kind of partner that usually gives it.
    pub partner_kind: PartnerKind,
}

impl InterventionType {
    /// The needs this help answers: its indicators and its flags.
    pub fn solves(&self, need: &NeedCode) -> bool {
        match need {
            NeedCode::Indicator(name) => self.indicators.contains(name),
            NeedCode::Flag(flag) => self.flags.contains(flag),
        }
    }

    /// Whether two types of help answer a need in common (the same indicator or flag).
    pub fn overlaps(&self, other: &InterventionType) -> bool {
        !self.indicators.is_disjoint(&other.indicators) || !self.flags.is_disjoint(&other.flags)
    }
}

/// The intervention catalogue: types of help, in the order of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catalogue {
    pub interventions: Vec<InterventionType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    intervention: Vec<RawIntervention>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntervention {
    code: String,
    name_th: String,
    name_en: String,
    strategy: String,
    #[serde(default)]
    indicators: Vec<String>,
    #[serde(default)]
    flags: Vec<String>,
    partner_kind: String,
}

fn catalogue_error(th: String, en: String) -> ParseError {
    ParseError::new("catalogue.invalid", th, en)
}

impl Catalogue {
    /// Reads the catalogue's TOML (`catalogue/interventions.toml`). Every code must be unique
    /// and well-formed, every strategy, flag and partner kind known, and each type must solve
    /// at least one indicator or flag. Whether the indicators exist is a question for a spec:
    /// see [`Catalogue::unknown_indicators`].
    pub fn from_toml(text: &str) -> Result<Catalogue, ParseError> {
        let raw: RawCatalogue = toml::from_str(text).map_err(|e| {
            catalogue_error(
                format!("อ่านแฟ้มรายการความช่วยเหลือไม่ได้: {}", e.message()),
                format!("cannot read the intervention catalogue: {}", e.message()),
            )
        })?;
        let mut seen = BTreeSet::new();
        let mut interventions = Vec::with_capacity(raw.intervention.len());
        for r in raw.intervention {
            let code = parse_indicator_name(&r.code).map_err(|_| {
                catalogue_error(
                    "รหัสความช่วยเหลือต้องเป็นอักษรอังกฤษตัวเล็ก ตัวเลข หรือ _".into(),
                    "an intervention code is lower-case letters, digits or _".into(),
                )
            })?;
            if !seen.insert(code.clone()) {
                return Err(catalogue_error(
                    format!("รหัสความช่วยเหลือ {code} ซ้ำ"),
                    format!("the intervention code {code} appears twice"),
                ));
            }
            let within = |e: ParseError| {
                catalogue_error(
                    format!("ความช่วยเหลือ {code}: {}", e.th),
                    format!("intervention {code}: {}", e.en),
                )
            };
            let strategy = Strategy::parse(&r.strategy).map_err(within)?;
            let partner_kind = PartnerKind::parse(&r.partner_kind).map_err(within)?;
            let indicators = r
                .indicators
                .iter()
                .map(|i| parse_indicator_name(i))
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(within)?;
            let flags = r
                .flags
                .iter()
                .map(|f| VulnerabilityFlag::parse(f))
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(within)?;
            if indicators.is_empty() && flags.is_empty() {
                return Err(catalogue_error(
                    format!("ความช่วยเหลือ {code} ต้องระบุตัวชี้วัดหรือกลุ่มเปราะบางที่แก้ได้"),
                    format!("intervention {code} names no indicator or flag it solves"),
                ));
            }
            if r.name_th.trim().is_empty() || r.name_en.trim().is_empty() {
                return Err(catalogue_error(
                    format!("ความช่วยเหลือ {code} ต้องมีชื่อภาษาไทยและภาษาอังกฤษ"),
                    format!("intervention {code} needs a Thai and an English name"),
                ));
            }
            interventions.push(InterventionType {
                code,
                name_th: r.name_th.trim().to_owned(),
                name_en: r.name_en.trim().to_owned(),
                strategy,
                indicators,
                flags,
                partner_kind,
            });
        }
        Ok(Catalogue { interventions })
    }

    pub fn get(&self, code: &str) -> Option<&InterventionType> {
        self.interventions.iter().find(|i| i.code == code)
    }

    /// Indicator names the catalogue uses that are not in `known` (a spec's indicators).
    pub fn unknown_indicators<'a>(&'a self, known: &BTreeSet<&str>) -> Vec<&'a str> {
        let mut out: Vec<&str> = self
            .interventions
            .iter()
            .flat_map(|i| i.indicators.iter().map(String::as_str))
            .filter(|n| !known.contains(n))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The types of help that answer `need`, in catalogue order.
    pub fn solving<'a>(&'a self, need: &'a NeedCode) -> impl Iterator<Item = &'a InterventionType> {
        self.interventions.iter().filter(move |i| i.solves(need))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (from, to) pair: allowed exactly when listed in `allowed`.
    fn check_moves<S: Copy + PartialEq + fmt::Debug>(
        all: &[S],
        allowed: &[(S, S)],
        move_to: impl Fn(S, S) -> Result<S, MoveRefused>,
    ) {
        for &from in all {
            for &to in all {
                let expect = allowed.contains(&(from, to));
                let got = move_to(from, to);
                assert_eq!(got.is_ok(), expect, "{from:?} -> {to:?}");
                if let Ok(state) = got {
                    assert_eq!(state, to);
                }
            }
        }
    }

    #[test]
    fn case_moves_allowed_and_refused() {
        use CaseState::*;
        let allowed = [
            (Open, InProgress),
            (Open, Graduated),
            (Open, Closed),
            (InProgress, Graduated),
            (InProgress, Closed),
            (Graduated, Open),
            (Graduated, Closed),
            (Closed, Open),
        ];
        check_moves(CaseState::ALL, &allowed, CaseState::move_to);
    }

    #[test]
    fn no_case_state_is_a_dead_end() {
        // From every state, every other state can be reached by allowed moves.
        for &start in CaseState::ALL {
            let mut reached = vec![start];
            let mut i = 0;
            while i < reached.len() {
                for &n in reached[i].next() {
                    if !reached.contains(&n) {
                        reached.push(n);
                    }
                }
                i += 1;
            }
            assert_eq!(reached.len(), CaseState::ALL.len(), "from {start:?}");
        }
    }

    #[test]
    fn plan_item_moves_allowed_and_refused() {
        use PlanItemStatus::*;
        let allowed = [
            (Planned, InProgress),
            (Planned, Done),
            (Planned, Cancelled),
            (InProgress, Done),
            (InProgress, Cancelled),
            (Done, InProgress),
            (Cancelled, Planned),
        ];
        check_moves(PlanItemStatus::ALL, &allowed, PlanItemStatus::move_to);
        for s in PlanItemStatus::ALL {
            assert!(!s.next().is_empty(), "{s:?} is a dead end");
        }
    }

    #[test]
    fn referral_moves_allowed_and_refused() {
        use ReferralState::*;
        let allowed = [
            (Sent, Acknowledged),
            (Sent, Declined),
            (Sent, Withdrawn),
            (Acknowledged, Done),
            (Acknowledged, Declined),
            (Acknowledged, Withdrawn),
        ];
        check_moves(ReferralState::ALL, &allowed, ReferralState::move_to);
        assert_eq!(Acknowledged.made_by(), ReferralSide::Partner);
        assert_eq!(Done.made_by(), ReferralSide::Partner);
        assert_eq!(Declined.made_by(), ReferralSide::Partner);
        assert_eq!(Withdrawn.made_by(), ReferralSide::Worker);
        assert!(Done.needs_outcome() && Declined.needs_outcome() && !Withdrawn.needs_outcome());
    }

    #[test]
    fn refusals_are_bilingual_and_name_both_states() {
        let e = CaseState::Closed.move_to(CaseState::Graduated).unwrap_err();
        assert_eq!(e.en(), "a case cannot move from closed to graduated");
        assert!(e.th().contains("ปิดเคส") && e.th().contains("พ้นความยากจน"));
        let same = ReferralState::Sent
            .move_to(ReferralState::Sent)
            .unwrap_err();
        assert_eq!(same.en(), "the referral is already sent");
        assert!(same.th().contains("ส่งแล้ว"));
        let item = PlanItemStatus::Done
            .move_to(PlanItemStatus::Cancelled)
            .unwrap_err();
        assert_eq!(item.en(), "a plan item cannot move from done to cancelled");
    }

    #[test]
    fn deadlines_and_lateness() {
        let sent = 1_700_000_000;
        let deadline = acknowledgement_deadline(sent, 3);
        assert_eq!(deadline, sent + 3 * 86_400);
        let s = ReferralState::Sent;
        assert!(!referral_overdue(s, deadline, deadline));
        assert!(referral_overdue(s, deadline, deadline + 1));
        assert_eq!(days_overdue(s, deadline, deadline), 0);
        assert_eq!(days_overdue(s, deadline, deadline + 1), 1);
        assert_eq!(days_overdue(s, deadline, deadline + 86_400), 1);
        assert_eq!(days_overdue(s, deadline, deadline + 86_401), 2);
        // Acknowledged, closed or withdrawn referrals are never late for acknowledgement.
        for state in [
            ReferralState::Acknowledged,
            ReferralState::Done,
            ReferralState::Declined,
            ReferralState::Withdrawn,
        ] {
            assert!(!referral_overdue(state, deadline, deadline + 10 * 86_400));
        }
        assert_eq!(acknowledgement_deadline(sent, 0), sent);
    }

    #[test]
    fn strategies_by_code_label_or_number() {
        for (i, s) in Strategy::ALL.iter().enumerate() {
            assert_eq!(usize::from(s.number()), i + 1);
            assert_eq!(Strategy::parse(&s.number().to_string()).unwrap(), *s);
            assert_eq!(Strategy::parse(s.code()).unwrap(), *s);
            assert_eq!(Strategy::parse(s.label_th()).unwrap(), *s);
        }
        assert!(Strategy::parse("6").is_err());
    }

    #[test]
    fn need_codes_round_trip() {
        for raw in ["bmn08_housing", "flag:bedridden"] {
            assert_eq!(NeedCode::parse(raw).unwrap().to_string(), raw);
        }
        assert!(NeedCode::parse("flag:nothing").is_err());
        assert!(NeedCode::parse("8 housing").is_err());
    }

    #[test]
    fn catalogue_parses_and_refuses() {
        let good = r#"
            [[intervention]]
            code = "housing_repair"
            name_th = "ซ่อมบ้าน"
            name_en = "housing repair"
            strategy = "1"
            indicators = ["bmn08_housing"]
            partner_kind = "local_government"

            [[intervention]]
            code = "bed_care"
            name_th = "ดูแลผู้ป่วยติดเตียง"
            name_en = "care for a bedridden person"
            strategy = "wellbeing"
            flags = ["bedridden"]
            partner_kind = "hospital"
        "#;
        let c = Catalogue::from_toml(good).unwrap();
        assert_eq!(c.interventions.len(), 2);
        let repair = c.get("housing_repair").unwrap();
        assert_eq!(repair.strategy, Strategy::Wellbeing);
        assert!(repair.solves(&NeedCode::parse("bmn08_housing").unwrap()));
        assert!(!repair.overlaps(c.get("bed_care").unwrap()));
        let known: BTreeSet<&str> = ["bmn09_drinking_water"].into();
        assert_eq!(c.unknown_indicators(&known), vec!["bmn08_housing"]);

        let twice = format!(
            "{good}\n{}",
            &good[good.find("[[intervention]]").unwrap()..]
        );
        assert!(
            Catalogue::from_toml(&twice)
                .unwrap_err()
                .en
                .contains("twice")
        );
        let nothing = "[[intervention]]\ncode=\"x\"\nname_th=\"ก\"\nname_en=\"x\"\n\
                       strategy=\"1\"\npartner_kind=\"bank\"\n";
        assert!(
            Catalogue::from_toml(nothing)
                .unwrap_err()
                .en
                .contains("no indicator")
        );
        let bad_strategy = nothing.replace("strategy=\"1\"", "strategy=\"9\"");
        assert!(Catalogue::from_toml(&bad_strategy).is_err());
    }
}
