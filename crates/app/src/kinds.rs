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
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Villages,
        Kind::Households,
        Kind::Persons,
        Kind::PersonFlags,
        Kind::WelfareCards,
        Kind::MembershipEvents,
        Kind::Rounds,
        Kind::Assessments,
        Kind::RecordChanges,
    ];

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
