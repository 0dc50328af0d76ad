//! The kinds of registry record that travel as files, and the columns of each.
//!
//! `halve export` writes one file per kind, named after it; `halve import` recognises a file's
//! kind from its header (whatever the file is called), so a spreadsheet exported by a district
//! office needs no renaming as long as its columns carry these names.

use halve_io::Header;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    // Declaration order is import order: every record refers only to kinds before it.
    Villages,
    Households,
    Persons,
    PersonFlags,
    WelfareCards,
    MembershipEvents,
    Rounds,
    Assessments,
    RecordChanges,
    // Case management's records (`cases::files`), after the registry they refer to.
    Partners,
    Cases,
    CaseNeeds,
    PlanItems,
    Referrals,
    Visits,
    CaseAlerts,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Villages,
        Kind::Households,
        Kind::Persons,
        Kind::PersonFlags,
        Kind::WelfareCards,
        Kind::MembershipEvents,
        Kind::Rounds,
        Kind::Assessments,
        Kind::RecordChanges,
        Kind::Partners,
        Kind::Cases,
        Kind::CaseNeeds,
        Kind::PlanItems,
        Kind::Referrals,
        Kind::Visits,
        Kind::CaseAlerts,
    ];

    /// Case management's kinds, read and written by `cases::files`.
    pub fn is_case(self) -> bool {
        self >= Kind::Partners
    }

    /// The file stem `halve export` uses.
    pub fn file_stem(self) -> &'static str {
        match self {
            Kind::Villages => "villages",
            Kind::Households => "households",
            Kind::Persons => "persons",
            Kind::PersonFlags => "person_flags",
            Kind::WelfareCards => "welfare_cards",
            Kind::MembershipEvents => "membership_events",
            Kind::Rounds => "rounds",
            Kind::Assessments => "assessments",
            Kind::RecordChanges => "record_changes",
            Kind::Partners => "partners",
            Kind::Cases => "cases",
            Kind::CaseNeeds => "case_needs",
            Kind::PlanItems => "plan_items",
            Kind::Referrals => "referrals",
            Kind::Visits => "visits",
            Kind::CaseAlerts => "case_alerts",
        }
    }

    pub fn label_th(self) -> &'static str {
        match self {
            Kind::Villages => "หมู่บ้าน",
            Kind::Households => "ครัวเรือน",
            Kind::Persons => "บุคคล",
            Kind::PersonFlags => "กลุ่มเปราะบาง",
            Kind::WelfareCards => "บัตรสวัสดิการแห่งรัฐ",
            Kind::MembershipEvents => "การเปลี่ยนแปลงสมาชิก",
            Kind::Rounds => "รอบการสำรวจ",
            Kind::Assessments => "ผลการสำรวจ",
            Kind::RecordChanges => "การรวมหรือแก้ไขระเบียน",
            Kind::Partners => "หน่วยงานภาคี",
            Kind::Cases => "เคส",
            Kind::CaseNeeds => "ความต้องการของเคส",
            Kind::PlanItems => "แผนความช่วยเหลือ",
            Kind::Referrals => "การส่งต่อ",
            Kind::Visits => "การเยี่ยมบ้าน",
            Kind::CaseAlerts => "การแจ้งเตือนของเคส",
        }
    }

    /// Columns every file of this kind must have.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Villages => &["village_code", "name_th"],
            Kind::Households => &["house_code", "village_code", "address"],
            Kind::Persons => &[
                "person_code",
                "house_code",
                "first_name",
                "last_name",
                "sex",
                "relation",
            ],
            Kind::PersonFlags => &["person_code", "flag", "source", "as_of"],
            Kind::WelfareCards => &["person_code", "status", "source", "as_of"],
            Kind::MembershipEvents => &["person_code", "house_code", "kind", "date"],
            Kind::Rounds => &["year", "date", "label"],
            Kind::Assessments => &["round", "house_code", "assessed_on", "members"],
            Kind::RecordChanges => &["entity", "code", "change", "date"],
            Kind::Partners => &["partner_code", "name_th", "name_en", "kind", "ack_days"],
            Kind::Cases => &["case_id", "house_code", "worker", "state", "opened_on"],
            Kind::CaseNeeds => &["case_id", "need", "source"],
            Kind::PlanItems => &["plan_item_id", "case_id", "intervention", "status"],
            Kind::Referrals => &[
                "referral_id",
                "case_id",
                "partner_code",
                "state",
                "sent_by",
                "sent_at",
                "deadline_at",
            ],
            Kind::Visits => &["visit_id", "case_id", "visited_on", "worker"],
            Kind::CaseAlerts => &["alert_id", "case_id", "kind", "alert_round", "raised_at"],
        }
    }

    /// Every column, in the order `halve export` writes them. Assessments add one column per
    /// indicator after these.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Villages => &["village_code", "name_th", "name_en"],
            Kind::Households => &["house_code", "village_code", "address", "lat", "lon"],
            Kind::Persons => &[
                "person_code",
                "house_code",
                "citizen_id",
                "first_name",
                "last_name",
                "sex",
                "birth_date",
                "relation",
                "education",
                "occupation",
                "income_year",
                "disability",
                "chronic_illness",
                "bedridden",
            ],
            Kind::PersonFlags => &["person_code", "flag", "source", "as_of"],
            Kind::WelfareCards => &["person_code", "status", "source", "as_of"],
            Kind::MembershipEvents => &["person_code", "house_code", "kind", "date", "note"],
            Kind::Rounds => &["year", "date", "label"],
            Kind::Assessments => &["round", "house_code", "assessed_on", "members"],
            Kind::RecordChanges => &["entity", "code", "change", "date", "into_code", "note"],
            Kind::Partners => &[
                "partner_code",
                "name_th",
                "name_en",
                "kind",
                "ack_days",
                "active",
            ],
            Kind::Cases => &[
                "case_id",
                "house_code",
                "worker",
                "state",
                "close_reason",
                "opened_on",
                "ended_on",
            ],
            Kind::CaseNeeds => &["case_id", "need", "source", "confirmed"],
            Kind::PlanItems => &[
                "plan_item_id",
                "case_id",
                "intervention",
                "partner_code",
                "status",
                "start_on",
                "end_on",
                "cost",
                "funding",
                "note",
            ],
            Kind::Referrals => &[
                "referral_id",
                "case_id",
                "plan_item_id",
                "partner_code",
                "state",
                "sent_by",
                "sent_at",
                "deadline_at",
                "acknowledged_at",
                "closed_at",
                "outcome",
                "note",
            ],
            Kind::Visits => &[
                "visit_id",
                "case_id",
                "visited_on",
                "worker",
                "note",
                "assessment_round",
            ],
            Kind::CaseAlerts => &[
                "alert_id",
                "case_id",
                "kind",
                "alert_round",
                "raised_at",
                "resolved_at",
            ],
        }
    }

    /// The column that tells this kind apart from every other.
    fn signature(self) -> &'static [&'static str] {
        match self {
            Kind::Villages => &["village_code", "name_th"],
            Kind::Households => &["house_code", "village_code", "address"],
            Kind::Persons => &["person_code", "first_name"],
            Kind::PersonFlags => &["person_code", "flag"],
            Kind::WelfareCards => &["person_code", "status"],
            Kind::MembershipEvents => &["person_code", "kind"],
            Kind::Rounds => &["year", "label"],
            Kind::Assessments => &["round", "house_code"],
            Kind::RecordChanges => &["entity", "change"],
            Kind::Partners => &["partner_code", "ack_days"],
            Kind::Cases => &["case_id", "worker", "opened_on"],
            Kind::CaseNeeds => &["case_id", "need"],
            Kind::PlanItems => &["plan_item_id", "intervention"],
            Kind::Referrals => &["referral_id", "sent_at"],
            Kind::Visits => &["visit_id", "visited_on"],
            Kind::CaseAlerts => &["alert_id", "alert_round"],
        }
    }

    /// The kind whose signature columns the header has; `None` when none or several match.
    pub fn detect(header: &Header) -> Option<Kind> {
        let mut matches = Kind::ALL
            .into_iter()
            .filter(|k| k.signature().iter().all(|c| header.contains(c)));
        let first = matches.next()?;
        matches.next().is_none().then_some(first)
    }

    pub fn from_stem(stem: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.file_stem() == stem)
    }
}
