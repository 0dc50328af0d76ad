//! `halve demo`: a synthetic Nakhon Si Thammarat province, so that every screen, report and
//! measurement can be tried at the province's real scale without anyone's personal data.
//!
//! The geography is real (the 23 districts and 170 subdistricts of province 80, the shipped
//! eco-zones); everything inside it is invented: villages, households, persons, vulnerability
//! flags, welfare cards, three yearly BMN (จปฐ.) rounds 2566–2568 and the births, deaths and
//! moves between them. Deprivations follow income, vulnerability and eco-zone, and fall at a
//! different pace in each zone, so that the plan's question ("is each zone on course to halve
//! by 2571?") has different answers to find.
//!
//! The same options always give the same database: one seeded ChaCha8 stream drives
//! everything, in a fixed order, and only IEEE-exact arithmetic (no `exp`, `ln` or `powf`,
//! whose last bit may differ between platforms' maths libraries) decides any value. The
//! province is simulated a few thousand households at a time (whole villages, so moves
//! between households stay within one batch), which keeps memory flat at 500,000 households,
//! and it is written in one transaction: a failed demo leaves the database as it was.

use crate::clock::{Clock, SystemClock};
use crate::{AppError, Progress};
use halve_domain::{
    AreaCode, AreaTree, Assessment, AssessmentRound, BeDate, BeYear, CitizenId, EcoZoneSet,
    Education, Household, IndicatorValue, Key, MembershipEvent, MembershipKind, Person, PersonFlag,
    Relation, Satang, Sex, Village, VulnerabilityFlag, WelfareCard, WelfareCardStatus,
};
use halve_store::{AuditEntry, Store, Tx};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// What to generate. The CLI defaults to [`DemoOptions::DEFAULT_HOUSEHOLDS`] households and
/// seed [`DemoOptions::DEFAULT_SEED`]; `Default` gives the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    /// Households at the 2566 baseline. Newcomers arriving in 2567 and 2568 come on top.
    pub households: usize,
    pub seed: u64,
}

impl DemoOptions {
    /// A province of realistic texture that builds in seconds; the real one has about 500,000.
    pub const DEFAULT_HOUSEHOLDS: usize = 20_000;
    /// The baseline year, as a memorable seed.
    pub const DEFAULT_SEED: u64 = 2566;
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            households: Self::DEFAULT_HOUSEHOLDS,
            seed: Self::DEFAULT_SEED,
        }
    }
}

/// How many households, persons and deprived households one round (province or zone) counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundTally {
    pub year: i32,
    /// Households assessed in the round.
    pub households: usize,
    /// Their members when assessed.
    pub persons: usize,
    /// Assessed households deprived in at least one BMN indicator, counting a household
    /// income below 38,000 baht per person per year as a deprivation (BMN 22).
    pub deprived_households: usize,
}

impl RoundTally {
    /// `deprived_households / households`, 0 when nothing was assessed.
    pub fn deprived_share(&self) -> f64 {
        if self.households == 0 {
            0.0
        } else {
            self.deprived_households as f64 / self.households as f64
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneSummary {
    pub code: String,
    pub name_th: String,
    pub name_en: String,
    /// Every household ever registered in the zone (baseline and newcomers).
    pub households: usize,
    pub persons: usize,
    pub rounds: Vec<RoundTally>,
}

/// What the demo wrote, for the printed summary and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    pub seed: u64,
    pub villages: usize,
    /// Every household written: the baseline ones plus newcomers.
    pub households: usize,
    pub newcomer_households: usize,
    /// Households whose members all moved out of the province (not assessed afterwards).
    pub departed_households: usize,
    /// Every person written, including those who have since died or moved away.
    pub persons: usize,
    pub persons_without_citizen_id: usize,
    pub flags: usize,
    pub welfare_cards: usize,
    pub welfare_card_holders: usize,
    pub births: usize,
    pub deaths: usize,
    pub moves_out: usize,
    pub moves_in: usize,
    /// Whether the shipped eco-zone set was stored now (false: it was there already).
    pub ecozone_set_added: bool,
    pub rounds: Vec<RoundTally>,
    pub zones: Vec<ZoneSummary>,
}

impl DemoSummary {
    pub fn events(&self) -> usize {
        self.births + self.deaths + self.moves_out + self.moves_in
    }
}

fn grouped(n: usize) -> String {
    halve_domain::text::group_thousands(n as u64)
}

fn percent(t: &RoundTally) -> String {
    format!("{:.1}%", t.deprived_share() * 100.0)
}

fn trend(rounds: &[RoundTally]) -> String {
    rounds
        .iter()
        .map(|t| format!("{} {}", t.year, percent(t)))
        .collect::<Vec<_>>()
        .join(" → ")
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "ข้อมูลสาธิตจังหวัดนครศรีธรรมราช (สังเคราะห์ทั้งหมด ไม่ใช่ข้อมูลบุคคลจริง) seed {}",
            self.seed
        )?;
        writeln!(
            f,
            "  หมู่บ้าน {} · ครัวเรือน {} (ย้ายเข้าใหม่ {} · ย้ายออกทั้งครัวเรือน {}) · บุคคล {} \
             (ไม่มีเลขประจำตัวประชาชน {})",
            grouped(self.villages),
            grouped(self.households),
            grouped(self.newcomer_households),
            grouped(self.departed_households),
            grouped(self.persons),
            grouped(self.persons_without_citizen_id)
        )?;
        writeln!(
            f,
            "  กลุ่มเปราะบาง {} รายการ · บัตรสวัสดิการแห่งรัฐ {} รายการ (ถือบัตร {} คน)",
            grouped(self.flags),
            grouped(self.welfare_cards),
            grouped(self.welfare_card_holders)
        )?;
        writeln!(
            f,
            "  การเปลี่ยนแปลงสมาชิก {} รายการ: เกิด {} · ตาย {} · ย้ายออก {} · ย้ายเข้า {}",
            grouped(self.events()),
            grouped(self.births),
            grouped(self.deaths),
            grouped(self.moves_out),
            grouped(self.moves_in)
        )?;
        writeln!(
            f,
            "  ครัวเรือนที่ขาดอย่างน้อย 1 ตัวชี้วัด จปฐ. (รวมรายได้ต่ำกว่า 38,000 บาท/คน/ปี):"
        )?;
        writeln!(f, "    ทั้งจังหวัด: {}", trend(&self.rounds))?;
        for z in &self.zones {
            writeln!(
                f,
                "    {}: {} ({} ครัวเรือน)",
                z.name_th,
                trend(&z.rounds),
                grouped(z.households)
            )?;
        }
        writeln!(
            f,
            "Demo data for Nakhon Si Thammarat (entirely synthetic, no real person) seed {}",
            self.seed
        )?;
        writeln!(
            f,
            "  {} villages · {} households ({} newcomers · {} left the province) · {} persons \
             ({} without a citizen ID)",
            grouped(self.villages),
            grouped(self.households),
            grouped(self.newcomer_households),
            grouped(self.departed_households),
            grouped(self.persons),
            grouped(self.persons_without_citizen_id)
        )?;
        writeln!(
            f,
            "  {} vulnerability flags · {} welfare card records ({} holders)",
            grouped(self.flags),
            grouped(self.welfare_cards),
            grouped(self.welfare_card_holders)
        )?;
        writeln!(
            f,
            "  {} membership events: {} births · {} deaths · {} moves out · {} moves in",
            grouped(self.events()),
            grouped(self.births),
            grouped(self.deaths),
            grouped(self.moves_out),
            grouped(self.moves_in)
        )?;
        writeln!(
            f,
            "  Households deprived in at least one BMN indicator (income below 38,000 baht per \
             person per year included):"
        )?;
        writeln!(f, "    province: {}", trend(&self.rounds))?;
        for z in &self.zones {
            writeln!(
                f,
                "    {}: {} ({} households)",
                z.name_en,
                trend(&z.rounds),
                grouped(z.households)
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The model: what makes the invented province look like Nakhon Si Thammarat.

const PROVINCE: &str = "80";
const ROUND_YEARS: [i32; 3] = [2566, 2567, 2568];
/// BMN indicator 22's line for 2560–2564, the one the council quotes.
const INCOME_LINE_BAHT: i64 = 38_000;
/// Baseline households simulated together. Whole villages go into one batch, so a batch is
/// this size or a little more.
const BATCH_HOUSEHOLDS: usize = 2_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Occupation {
    RubberTapping,
    FruitFarming,
    Fishing,
    RiceFarming,
    GeneralLabour,
    Trade,
    CivilService,
    Jobless,
    Student,
}

/// Adult occupations in the order of [`ZoneModel::occupations`].
const ADULT_OCCUPATIONS: [Occupation; 8] = [
    Occupation::RubberTapping,
    Occupation::FruitFarming,
    Occupation::Fishing,
    Occupation::RiceFarming,
    Occupation::GeneralLabour,
    Occupation::Trade,
    Occupation::CivilService,
    Occupation::Jobless,
];

impl Occupation {
    fn label_th(self) -> &'static str {
        match self {
            Occupation::RubberTapping => "กรีดยาง",
            Occupation::FruitFarming => "ทำสวนผลไม้",
            Occupation::Fishing => "ประมง",
            Occupation::RiceFarming => "ทำนา",
            Occupation::GeneralLabour => "รับจ้างทั่วไป",
            Occupation::Trade => "ค้าขาย",
            Occupation::CivilService => "รับราชการ",
            Occupation::Jobless => "ไม่มีอาชีพ",
            Occupation::Student => "นักเรียน/นักศึกษา",
        }
    }

    /// Typical yearly income in baht before the zone's level and the person's luck.
    fn median_baht(self) -> i64 {
        match self {
            Occupation::RubberTapping => 150_000,
            Occupation::FruitFarming => 170_000,
            Occupation::Fishing => 140_000,
            Occupation::RiceFarming => 100_000,
            Occupation::GeneralLabour => 120_000,
            Occupation::Trade => 200_000,
            Occupation::CivilService => 360_000,
            Occupation::Jobless | Occupation::Student => 0,
        }
    }
}

/// The demo's assumptions about one eco-zone. The numbers are invented to give the demo a
/// story, not estimates of anything.
struct ZoneModel {
    code: &'static str,
    /// Deprivation odds relative to the province.
    hardship: f64,
    /// Extra odds on the living-condition indicators (housing, water, home).
    living: f64,
    /// Yearly factor on every deprivation probability. Halving in five years needs about
    /// 0.87 on the headcount, so zones below it are on course and zones above it are not.
    pace: f64,
    /// Yearly growth of earned incomes.
    income_growth: f64,
    /// Extra yearly growth for households under 60,000 baht per person: the reach of the
    /// zone's livelihood work among the poor.
    lift: f64,
    income_level: f64,
    /// Weights of [`ADULT_OCCUPATIONS`].
    occupations: [u32; 8],
    /// Households per village relative to a rural village.
    density: f64,
    /// First parts of village names: (Thai, romanised).
    name_parts: &'static [(&'static str, &'static str)],
}

const ZONES: [ZoneModel; 6] = [
    ZoneModel {
        code: "mountain",
        hardship: 1.3,
        living: 1.4,
        pace: 0.95,
        income_growth: 0.02,
        lift: 0.0,
        income_level: 0.85,
        occupations: [42, 25, 0, 3, 14, 6, 3, 7],
        density: 0.9,
        name_parts: &[
            ("เขา", "Khao"),
            ("ห้วย", "Huai"),
            ("วัง", "Wang"),
            ("ควน", "Khuan"),
            ("ถ้ำ", "Tham"),
            ("ลำ", "Lam"),
            ("ไส", "Sai"),
        ],
    },
    ZoneModel {
        code: "uplands",
        hardship: 1.0,
        living: 1.0,
        pace: 0.88,
        income_growth: 0.035,
        lift: 0.04,
        income_level: 1.0,
        occupations: [40, 20, 0, 5, 15, 10, 4, 6],
        density: 1.0,
        name_parts: &[
            ("ควน", "Khuan"),
            ("ทุ่ง", "Thung"),
            ("วัง", "Wang"),
            ("ห้วย", "Huai"),
            ("นา", "Na"),
            ("ไส", "Sai"),
            ("โคก", "Khok"),
        ],
    },
    ZoneModel {
        code: "coast",
        hardship: 1.1,
        living: 1.0,
        pace: 0.70,
        income_growth: 0.08,
        lift: 0.15,
        income_level: 0.95,
        occupations: [15, 8, 25, 8, 20, 12, 5, 7],
        density: 1.1,
        name_parts: &[
            ("ท่า", "Tha"),
            ("บาง", "Bang"),
            ("ปาก", "Pak"),
            ("แหลม", "Laem"),
            ("หาด", "Hat"),
            ("เกาะ", "Ko"),
            ("คลอง", "Khlong"),
        ],
    },
    ZoneModel {
        code: "basin",
        hardship: 1.0,
        living: 1.0,
        pace: 0.86,
        income_growth: 0.04,
        lift: 0.05,
        income_level: 0.95,
        occupations: [20, 8, 3, 30, 20, 9, 4, 6],
        density: 1.0,
        name_parts: &[
            ("คลอง", "Khlong"),
            ("ท่า", "Tha"),
            ("นา", "Na"),
            ("บาง", "Bang"),
            ("ทุ่ง", "Thung"),
            ("หนอง", "Nong"),
        ],
    },
    ZoneModel {
        code: "peat",
        hardship: 1.4,
        living: 1.5,
        pace: 0.96,
        income_growth: 0.015,
        lift: 0.0,
        income_level: 0.8,
        occupations: [15, 5, 10, 30, 25, 7, 2, 6],
        density: 0.9,
        name_parts: &[
            ("พรุ", "Phru"),
            ("หนอง", "Nong"),
            ("ทุ่ง", "Thung"),
            ("คลอง", "Khlong"),
            ("บาง", "Bang"),
        ],
    },
    ZoneModel {
        code: "city",
        hardship: 0.8,
        living: 0.7,
        pace: 0.72,
        income_growth: 0.07,
        lift: 0.12,
        income_level: 1.25,
        occupations: [3, 2, 2, 2, 33, 33, 19, 6],
        density: 3.0,
        name_parts: &[
            ("ท่า", "Tha"),
            ("วัด", "Wat"),
            ("นา", "Na"),
            ("โพธิ์", "Pho"),
            ("บ่อ", "Bo"),
            ("ไชย", "Chai"),
        ],
    },
];

/// Used for an area the eco-zone set does not place (none in the shipped set).
const FALLBACK_ZONE: usize = 1;

const NAME_ENDS: &[(&str, &str)] = &[
    ("ใหญ่", "Yai"),
    ("ยาง", "Yang"),
    ("ขาม", "Kham"),
    ("ไทร", "Sai"),
    ("เคียน", "Khian"),
    ("หว้า", "Wa"),
    ("ทอง", "Thong"),
    ("ลึก", "Luek"),
    ("กลาง", "Klang"),
    ("เหนือ", "Nuea"),
    ("ใต้", "Tai"),
    ("แดง", "Daeng"),
    ("หิน", "Hin"),
    ("ตะเคียน", "Takhian"),
    ("ม่วง", "Muang"),
    ("ยูง", "Yung"),
    ("จันทร์", "Chan"),
    ("พร้าว", "Phrao"),
    ("สะท้อน", "Sathon"),
    ("มะปราง", "Maprang"),
    ("ช้าง", "Chang"),
    ("เตย", "Toei"),
    ("หลวง", "Luang"),
    ("ใน", "Nai"),
    ("นอก", "Nok"),
    ("โพธิ์", "Pho"),
];

const MALE_NAMES: &[&str] = &[
    "สมชาย",
    "สมศักดิ์",
    "ประเสริฐ",
    "วิชัย",
    "สุรชัย",
    "อนุชา",
    "ธนากร",
    "กิตติพงษ์",
    "ณัฐพล",
    "วีระ",
    "สมพงษ์",
    "บุญเลิศ",
    "ประยุทธ",
    "ชาตรี",
    "สุเมธ",
    "อำนาจ",
    "ไพโรจน์",
    "ธีระ",
    "สุริยา",
    "ปรีชา",
    "มานพ",
    "เอกชัย",
    "ศักดิ์ชัย",
    "ธวัชชัย",
    "จักรพันธ์",
    "พงศกร",
    "ภานุวัฒน์",
    "ศุภชัย",
    "อภิชาติ",
    "วรวุฒิ",
    "ชยพล",
    "ปกรณ์",
    "ธนพล",
    "กฤษดา",
    "นพดล",
    "สมบูรณ์",
    "บุญส่ง",
    "เฉลิม",
    "จำนงค์",
    "ดำรง",
    "ยุทธนา",
    "สมนึก",
    "อดิศักดิ์",
    "ธนวัฒน์",
    "ภูมิพัฒน์",
    "กันตภณ",
    "ปัณณวัฒน์",
    "ณภัทร",
    "ธีรเดช",
    "วรพล",
];

const FEMALE_NAMES: &[&str] = &[
    "สมหญิง",
    "มาลี",
    "สุดารัตน์",
    "วันเพ็ญ",
    "กาญจนา",
    "ศิริพร",
    "นงลักษณ์",
    "จันทร์เพ็ญ",
    "ปราณี",
    "สุภาพร",
    "อรุณี",
    "พรทิพย์",
    "รัตนา",
    "วิไลวรรณ",
    "สายสุนีย์",
    "บุญเรือน",
    "ละเอียด",
    "ประไพ",
    "สมศรี",
    "จินตนา",
    "เยาวลักษณ์",
    "ลัดดา",
    "ศศิธร",
    "นภัสสร",
    "ณัฐธิดา",
    "กนกวรรณ",
    "ปิยะนุช",
    "อัญชลี",
    "ธิดารัตน์",
    "สุนิสา",
    "พิมพ์ชนก",
    "ชนิดา",
    "วรรณา",
    "อำไพ",
    "บุญมี",
    "เพ็ญศรี",
    "สุพัตรา",
    "อุไรวรรณ",
    "ณิชาภัทร",
    "กัญญารัตน์",
    "ปวีณา",
    "ภัทรวดี",
    "ศิรินทร์",
    "ธัญญาเรศ",
    "พัชราภรณ์",
    "รุ่งนภา",
    "ยุพิน",
    "ทองใบ",
    "ฉวีวรรณ",
    "มณีรัตน์",
];

const SURNAMES: &[&str] = &[
    "ทองคำ",
    "แก้วมณี",
    "ศรีสุข",
    "บุญมา",
    "ชูช่วย",
    "เพชรรัตน์",
    "จันทร์แก้ว",
    "คงแก้ว",
    "สุวรรณรัตน์",
    "ชูแก้ว",
    "ทองเนื้อแข็ง",
    "ขุนทอง",
    "หนูแก้ว",
    "ด้วงทอง",
    "พรหมแก้ว",
    "รักษ์ทอง",
    "ศรีทอง",
    "บัวทอง",
    "แก้วประดิษฐ์",
    "ทองสุข",
    "ชูศรี",
    "นาคแก้ว",
    "คงทอง",
    "จันทร์หอม",
    "เพ็งแก้ว",
    "ไชยรัตน์",
    "ศรีเมือง",
    "วงศ์สวัสดิ์",
    "ทองขาว",
    "มณีโชติ",
    "บุญช่วย",
    "ชูเกลี้ยง",
    "ขวัญแก้ว",
    "อินทร์แก้ว",
    "สงค์ประเสริฐ",
    "ทิพย์มณี",
    "เรืองศรี",
    "สุขเกษม",
    "ช่วยชู",
    "นุ้ยผอม",
    "หนูนุ่ม",
    "แสงจันทร์",
    "พรหมทอง",
    "ทองรักษ์",
    "กาญจนรัตน์",
    "ศิริรัตน์",
    "สุขสวัสดิ์",
    "นิลรัตน์",
    "ปานแก้ว",
    "ยอดแก้ว",
    "ชุมทอง",
    "แป้นแก้ว",
    "เอียดแก้ว",
    "ทองนวล",
    "สังข์ทอง",
    "ขาวผ่อง",
    "รัตนพันธ์",
    "จิตรหลัง",
    "ศรีสุวรรณ",
    "บุญทอง",
    "อ่อนแก้ว",
    "เกื้อกูล",
    "คงเพชร",
    "พุ่มทอง",
    "มีชัย",
    "ดำแก้ว",
    "เพชรชู",
    "แก้วทอง",
    "ศักดิ์แก้ว",
    "นวลแก้ว",
];

/// Household sizes 1..=8 at the baseline, per mille: mean 3.08, the province's ≈ 1.55M
/// people in ≈ 0.5M households.
const SIZE_WEIGHTS: [u32; 8] = [160, 240, 240, 190, 100, 40, 20, 10];

/// The BMN indicators the demo fills, with their base probability of deprivation where they
/// apply, for a household of average risk.
/// The names of the indicator values the demo's assessments carry: the 0/1 BMN indicators and
/// the raw income per person.
pub fn indicator_names() -> impl Iterator<Item = &'static str> {
    INDICATORS
        .iter()
        .map(|(name, _)| *name)
        .chain(std::iter::once(INCOME_INDICATOR))
}

const INDICATORS: [(&str, f64); 16] = [
    ("bmn01_birth_weight", 0.03),
    ("bmn04_safe_food", 0.012),
    ("bmn05_medicine", 0.012),
    ("bmn07_exercise", 0.024),
    ("bmn08_housing", 0.015),
    ("bmn09_drinking_water", 0.009),
    ("bmn10_water_use", 0.009),
    ("bmn11_tidy_home", 0.018),
    ("bmn15_preschool", 0.018),
    ("bmn16_compulsory", 0.009),
    ("bmn17_upper_secondary", 0.042),
    ("bmn19_literacy", 0.009),
    ("bmn20_work_15_59", 0.018),
    ("bmn21_work_60", 0.03),
    ("bmn27_elder_care", 0.018),
    ("bmn28_disability_care", 0.036),
];
const INCOME_INDICATOR: &str = "income_per_person_year";
/// Share of indicator values left out, as a survey leaves some unanswered. Complete-case
/// measurement drops a household with any missing value, so with 17 indicators this leaves
/// about 3% of households out of the measures, as in a well-kept census.
const MISSING: f64 = 0.002;

const SOURCE_BMN: &str = "จปฐ.";
const SOURCE_SOCIAL: &str = "พมจ.";
const SOURCE_HEALTH: &str = "รพ.สต.";
const SOURCE_VOLUNTEER: &str = "อสม.";
const SOURCE_WELFARE: &str = "กระทรวงการคลัง";

// ---------------------------------------------------------------------------------------------
// Randomness. Everything goes through these helpers so that the stream is consumed the same
// way on every platform: integer ranges on u32, floats only in +, −, ×, ÷ and comparisons.

struct Dice(ChaCha8Rng);

impl Dice {
    fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u32, hi: u32) -> u32 {
        self.0.random_range(lo..=hi)
    }

    fn index(&mut self, len: usize) -> usize {
        self.0.random_range(0..len as u32) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }

    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.0.random_range(0..total);
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// A right-skewed factor with median a little under 1 and mean about 1.1: the product of
    /// uniforms, with a rare large multiplier for the long tail of incomes.
    fn skewed(&mut self) -> f64 {
        let body = (0.5 + self.unit()) * (0.5 + self.unit()) * (0.7 + 0.6 * self.unit());
        if self.chance(0.03) {
            body * (2.0 + 4.0 * self.unit())
        } else {
            body
        }
    }

    /// A date in `year`, months `months`, day clamped to the month.
    fn date_in(&mut self, year: i32, months: (u32, u32)) -> BeDate {
        let month = self.between(months.0, months.1) as u8;
        let day = self.between(1, 31) as u8;
        make_date(year, month, day)
    }
}

fn make_date(year: i32, month: u8, day: u8) -> BeDate {
    let y = BeYear::new(year).expect("demo years are in range");
    BeDate::new(y, month, day)
        .or_else(|_| BeDate::new(y, month, 28))
        .expect("day 28 exists in every month")
}

/// The reference date of round `t` (0 = 2566): the end of the survey season.
fn round_date(t: usize) -> BeDate {
    make_date(ROUND_YEARS[t], 3, 31)
}

// ---------------------------------------------------------------------------------------------
// Geography.

struct DemoVillage {
    code: AreaCode,
    zone: usize,
    moo: u8,
    district_digits: u8,
    subdistrict_th: String,
    district_th: String,
    /// Baseline households allotted to the village.
    households: usize,
    /// Last house number used.
    last_house: u32,
}

/// Villages of every subdistrict of the province, in code order, with their baseline
/// households allotted (the city denser).
fn make_villages(
    dice: &mut Dice,
    tree: &AreaTree,
    zones: &EcoZoneSet,
    households: usize,
) -> Result<(Vec<DemoVillage>, Vec<Village>), AppError> {
    let province = tree
        .resolve(PROVINCE)
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let mut demo = Vec::new();
    let mut rows = Vec::new();
    let mut weights = Vec::new();
    for district in tree.children(province) {
        for sub in tree.children(district.code) {
            let zone = zones
                .zone_of(sub.code)
                .and_then(|z| ZONES.iter().position(|m| m.code == z.code))
                .unwrap_or(FALLBACK_ZONE);
            let model = &ZONES[zone];
            let count = dice.between(6, 14) as u8;
            let mut names = HashSet::new();
            for moo in 1..=count {
                let (th, en) = loop {
                    let (a_th, a_en) = dice.pick(model.name_parts);
                    let (b_th, b_en) = dice.pick(NAME_ENDS);
                    if names.insert((a_th, b_th)) {
                        break (format!("บ้าน{a_th}{b_th}"), format!("Ban {a_en} {b_en}"));
                    }
                };
                let code = AreaCode::village(sub.code, moo)
                    .map_err(|e| AppError::Invalid(e.to_string()))?;
                weights.push(model.density * (0.5 + dice.unit()));
                rows.push(Village {
                    code,
                    name_th: th,
                    name_en: Some(en),
                });
                demo.push(DemoVillage {
                    code,
                    zone,
                    moo,
                    district_digits: (district.code.number() % 100) as u8,
                    subdistrict_th: sub.name_th.clone(),
                    district_th: district.name_th.clone(),
                    households: 0,
                    last_house: 0,
                });
            }
        }
    }
    // Largest remainder: the allotment sums to exactly the households asked for.
    let total: f64 = weights.iter().sum();
    let quotas: Vec<f64> = weights
        .iter()
        .map(|w| households as f64 * w / total)
        .collect();
    let mut given = 0;
    for (v, q) in demo.iter_mut().zip(&quotas) {
        v.households = *q as usize;
        given += v.households;
    }
    let mut order: Vec<usize> = (0..demo.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = quotas[a] - quotas[a].floor();
        let fb = quotas[b] - quotas[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().take(households - given) {
        demo[i].households += 1;
    }
    Ok((demo, rows))
}

/// Issues citizen IDs: category, province 80, district, then a per-district serial spread by a
/// bijection of 0..10⁷, so IDs look scattered yet never repeat.
struct IdIssuer {
    next: [u32; 100],
}

impl IdIssuer {
    fn issue(&mut self, category: u8, district: u8) -> CitizenId {
        let serial = self.next[usize::from(district)];
        self.next[usize::from(district)] += 1;
        // 7,654,321 is coprime with 10⁷, so this is a permutation of 0..10⁷.
        let spread = (u64::from(serial) * 7_654_321 + 1_234_567) % 10_000_000;
        let mut d = [0u8; 13];
        d[0] = category;
        d[1] = 8;
        d[2] = 0;
        d[3] = district / 10;
        d[4] = district % 10;
        let mut s = spread;
        for slot in d[5..12].iter_mut().rev() {
            *slot = (s % 10) as u8;
            s /= 10;
        }
        let sum: u32 = d[..12]
            .iter()
            .enumerate()
            .map(|(i, &x)| u32::from(x) * (13 - i as u32))
            .sum();
        d[12] = ((11 - sum % 11) % 10) as u8;
        let text: String = d.iter().map(|x| char::from(b'0' + x)).collect();
        CitizenId::parse(&text).expect("the check digit was just computed")
    }
}

// ---------------------------------------------------------------------------------------------
// Simulation of one batch of villages through the three rounds.

struct SimPerson {
    code: Key,
    home: usize,
    citizen_id: Option<CitizenId>,
    first_name: &'static str,
    last_name: &'static str,
    sex: Sex,
    birth: BeDate,
    relation: Relation,
    education: Option<Education>,
    occupation: Occupation,
    /// Own yearly income now, in satang.
    income: i64,
    /// Allowances that do not grow with the economy.
    allowance: i64,
    disability: bool,
    chronic_illness: bool,
    bedridden: bool,
    dementia: bool,
    psychiatric: bool,
    alive: bool,
}

struct SimHousehold {
    code: Key,
    village: usize,
    residents: Vec<usize>,
    next_member: u32,
    /// Fixed per household: whether a deprivation shows depends on whether this falls under
    /// the (falling) probability, so a household that escapes stays out unless its risk rises.
    luck: [f64; 16],
    frailty: f64,
    departed: bool,
}

#[derive(Default)]
struct Batch {
    households: Vec<Household>,
    persons: Vec<Person>,
    flags: Vec<PersonFlag>,
    cards: Vec<WelfareCard>,
    events: Vec<MembershipEvent>,
    assessments: Vec<Assessment>,
}

/// The spec of one member before names and papers: relation, sex, age at the reference date.
type Slot = (Relation, Sex, u32);

struct Sim<'a> {
    dice: &'a mut Dice,
    ids: &'a mut IdIssuer,
    villages: &'a mut [DemoVillage],
    persons: Vec<SimPerson>,
    households: Vec<SimHousehold>,
    out: Batch,
    tally: &'a mut Tally,
}

/// Running totals for the summary.
#[derive(Default)]
struct Tally {
    households: usize,
    newcomers: usize,
    departed: usize,
    persons: usize,
    without_id: usize,
    flags: usize,
    cards: usize,
    holders: usize,
    births: usize,
    deaths: usize,
    moves_out: usize,
    moves_in: usize,
    rounds: [RoundTally; 3],
    zone_households: [usize; 6],
    zone_persons: [usize; 6],
    zone_rounds: [[RoundTally; 3]; 6],
}

fn other_sex(sex: Sex) -> Sex {
    match sex {
        Sex::Male => Sex::Female,
        Sex::Female => Sex::Male,
    }
}

impl Sim<'_> {
    fn zone(&self, household: usize) -> usize {
        self.villages[self.households[household].village].zone
    }

    /// Who lives in a household of `size`: a head, often a spouse, then either the head's
    /// adult child and grandchildren (older heads), or the head's parents and children.
    fn compose(&mut self, size: usize) -> Vec<Slot> {
        let d = &mut *self.dice;
        let head_sex = if d.chance(0.65) {
            Sex::Male
        } else {
            Sex::Female
        };
        let head_age = if size == 1 {
            if d.chance(0.5) {
                d.between(60, 92)
            } else {
                d.between(22, 59)
            }
        } else {
            (d.between(25, 80) + d.between(25, 80)) / 2
        };
        let mut slots = vec![(Relation::Head, head_sex, head_age)];
        let mut youngest_parent = head_age;
        if size > 1 && d.chance(0.78) {
            let gap = d.between(0, 8);
            let age = if head_sex == Sex::Male {
                head_age.saturating_sub(gap).max(20)
            } else {
                head_age + gap
            };
            youngest_parent = youngest_parent.min(age);
            slots.push((Relation::Spouse, other_sex(head_sex), age));
        }
        if slots.len() < size && head_age >= 55 && size - slots.len() >= 2 && d.chance(0.55) {
            let child_age = head_age - d.between(22, 32);
            let child_sex = if d.chance(0.5) {
                Sex::Male
            } else {
                Sex::Female
            };
            slots.push((Relation::Child, child_sex, child_age));
            if size - slots.len() >= 2 && d.chance(0.4) {
                let age = (child_age + d.between(0, 6)).saturating_sub(3).max(20);
                slots.push((Relation::Relative, other_sex(child_sex), age));
            }
            while slots.len() < size {
                let max = child_age.saturating_sub(18).min(17);
                slots.push((
                    Relation::Grandchild,
                    d.pick(&[Sex::Male, Sex::Female]),
                    d.between(0, max),
                ));
            }
        } else {
            if slots.len() < size && head_age <= 48 && size - slots.len() >= 2 && d.chance(0.25) {
                let age = (head_age + d.between(22, 32)).min(96);
                slots.push((Relation::Parent, d.pick(&[Sex::Male, Sex::Female]), age));
            }
            while slots.len() < size {
                if d.chance(0.03) {
                    let age = d.between(18, 60);
                    slots.push((Relation::Relative, d.pick(&[Sex::Male, Sex::Female]), age));
                    continue;
                }
                let max = youngest_parent.saturating_sub(18).min(35);
                slots.push((
                    Relation::Child,
                    d.pick(&[Sex::Male, Sex::Female]),
                    d.between(0, max),
                ));
            }
        }
        slots
    }

    /// A birth date giving `age` on `reference`.
    fn birth_date(&mut self, age: u32, reference: BeDate) -> BeDate {
        let month = self.dice.between(1, 12) as u8;
        let day = self.dice.between(1, 31) as u8;
        let later_in_year = (month, day) > (reference.month(), reference.day());
        let year = reference.year().be() - age as i32 - i32::from(later_in_year);
        make_date(year, month, day)
    }

    fn education(&mut self, age: u32, zone: usize) -> Option<Education> {
        use Education::*;
        let d = &mut *self.dice;
        let level = match age {
            0..=5 => return None,
            6..=11 => Primary,
            12..=14 => LowerSecondary,
            15..=17 => {
                if d.chance(0.25) {
                    Vocational
                } else if d.chance(0.1) {
                    LowerSecondary
                } else {
                    UpperSecondary
                }
            }
            _ => {
                let city = ZONES[zone].code == "city";
                let weights: [u32; 6] = match age {
                    18..=39 if city => [0, 6, 14, 28, 17, 35],
                    18..=39 => [0, 10, 22, 32, 15, 21],
                    40..=59 => [2, 36, 20, 20, 10, 12],
                    _ => [10, 70, 8, 5, 2, 5],
                };
                [
                    NoSchooling,
                    Primary,
                    LowerSecondary,
                    UpperSecondary,
                    Vocational,
                    Higher,
                ][d.weighted(&weights)]
            }
        };
        Some(level)
    }

    fn occupation(&mut self, age: u32, education: Option<Education>, zone: usize) -> Occupation {
        let d = &mut *self.dice;
        match age {
            0..=5 => Occupation::Jobless,
            6..=17 => Occupation::Student,
            18..=22 if d.chance(0.45) => Occupation::Student,
            _ => {
                if education == Some(Education::Higher) && d.chance(0.35) {
                    return if d.chance(0.6) {
                        Occupation::CivilService
                    } else {
                        Occupation::Trade
                    };
                }
                if age >= 60 && d.chance(0.5 + f64::from(age.min(90) - 60) * 0.015) {
                    return Occupation::Jobless;
                }
                ADULT_OCCUPATIONS[d.weighted(&ZONES[zone].occupations)]
            }
        }
    }

    /// Adds a person to `home` and gives them a code, papers, health and income.
    fn add_person(
        &mut self,
        home: usize,
        slot: Slot,
        surname: &'static str,
        reference: BeDate,
    ) -> usize {
        let (relation, sex, age) = slot;
        let zone = self.zone(home);
        let birth = self.birth_date(age, reference);
        let education = self.education(age, zone);
        let occupation = self.occupation(age, education, zone);
        let d = &mut *self.dice;
        let first_name = match sex {
            Sex::Male => d.pick(MALE_NAMES),
            Sex::Female => d.pick(FEMALE_NAMES),
        };
        let last_name = surname;
        // Elderly people without work live on family support besides their allowance.
        let median = match occupation {
            Occupation::Jobless if age >= 60 => 18_000,
            o => o.median_baht(),
        };
        let base = median as f64 * ZONES[zone].income_level * d.skewed();
        // People state incomes in round hundreds of baht.
        let income = (base / 100.0) as i64 * 100 * 100;
        let disability = d.chance(match age {
            0..=17 => 0.01,
            18..=59 => 0.02,
            60..=79 => 0.07,
            _ => 0.15,
        });
        let bedridden = d.chance(match age {
            0..=59 => 0.001,
            60..=79 => 0.015,
            _ => 0.06,
        });
        let chronic_illness = d.chance(match age {
            0..=39 => 0.02,
            40..=59 => 0.12,
            _ => 0.35,
        });
        let dementia = age >= 65 && d.chance(0.03);
        let psychiatric = age >= 15 && d.chance(0.004);
        // The old-age allowance by age band, and the disability allowance.
        let mut allowance = match age {
            0..=59 => 0,
            60..=69 => 600,
            70..=79 => 700,
            80..=89 => 800,
            _ => 1_000,
        } * 12;
        if disability {
            allowance += 800 * 12;
        }
        let citizen_id = if d.chance(0.01) {
            None
        } else {
            let category = if d.chance(0.003) {
                0
            } else if birth.year().ce() < 1984 {
                3
            } else {
                1
            };
            Some(category)
        };
        let village = &self.villages[self.households[home].village];
        let district = village.district_digits;
        let citizen_id = citizen_id.map(|category| self.ids.issue(category, district));
        let h = &mut self.households[home];
        h.next_member += 1;
        let code = Key::parse(&format!("{}-{:02}", h.code, h.next_member))
            .expect("house codes and member numbers make valid keys");
        h.residents.push(self.persons.len());
        self.persons.push(SimPerson {
            code,
            home,
            citizen_id,
            first_name,
            last_name,
            sex,
            birth,
            relation,
            education,
            occupation,
            income,
            allowance: i64::from(allowance) * 100,
            disability,
            chronic_illness,
            bedridden,
            dementia,
            psychiatric,
            alive: true,
        });
        self.persons.len() - 1
    }

    /// A new household in `village`, with members of `size`, at `reference`.
    fn add_household(&mut self, village: usize, size: usize, reference: BeDate) -> usize {
        let v = &mut self.villages[village];
        v.last_house += 1;
        let code = Key::parse(&format!("{}-{:04}", v.code, v.last_house))
            .expect("village codes and house numbers make valid keys");
        let number = if self.dice.chance(0.15) {
            format!("{}/{}", v.last_house, self.dice.between(1, 9))
        } else {
            v.last_house.to_string()
        };
        self.out.households.push(Household {
            house_code: code.clone(),
            village: v.code,
            address: format!(
                "{number} หมู่ {} ต.{} อ.{} จ.นครศรีธรรมราช",
                v.moo, v.subdistrict_th, v.district_th
            ),
            location: None,
        });
        let zone = v.zone;
        let mut luck = [0.0; 16];
        for l in &mut luck {
            *l = self.dice.unit();
        }
        let frailty = self.dice.skewed();
        self.households.push(SimHousehold {
            code,
            village,
            residents: Vec::new(),
            next_member: 0,
            luck,
            frailty,
            departed: false,
        });
        let home = self.households.len() - 1;
        self.tally.households += 1;
        self.tally.zone_households[zone] += 1;
        let slots = self.compose(size);
        let surname = self.dice.pick(SURNAMES);
        for slot in slots {
            let own = slot.0 == Relation::Relative
                || (slot.0 == Relation::Spouse && self.dice.chance(0.4));
            let name = if own {
                self.dice.pick(SURNAMES)
            } else {
                surname
            };
            self.add_person(home, slot, name, reference);
        }
        home
    }

    fn size(&mut self) -> usize {
        self.dice.weighted(&SIZE_WEIGHTS) + 1
    }

    fn flag(&mut self, person: usize, flag: VulnerabilityFlag, source: &str, as_of: BeDate) {
        self.out.flags.push(PersonFlag {
            person_code: self.persons[person].code.clone(),
            flag,
            source: source.to_owned(),
            as_of,
        });
    }

    fn event(
        &mut self,
        person: usize,
        household: usize,
        kind: MembershipKind,
        date: BeDate,
        note: String,
    ) {
        match kind {
            MembershipKind::Birth => self.tally.births += 1,
            MembershipKind::Death => self.tally.deaths += 1,
            MembershipKind::MoveIn => self.tally.moves_in += 1,
            MembershipKind::MoveOut => self.tally.moves_out += 1,
        }
        self.out.events.push(MembershipEvent {
            person_code: self.persons[person].code.clone(),
            household: self.households[household].code.clone(),
            kind,
            date,
            note,
        });
    }

    /// Household income per person per year, in whole baht.
    fn income_per_person(&self, household: usize) -> i64 {
        let residents = &self.households[household].residents;
        if residents.is_empty() {
            return 0;
        }
        let total: i64 = residents
            .iter()
            .map(|&p| self.persons[p].income + self.persons[p].allowance)
            .sum();
        total / residents.len() as i64 / 100
    }

    /// Flags of the persons in `people` as the survey of round `t` establishes them. Lasting
    /// conditions (disability, chronic illness…) are recorded when a person is first seen
    /// (`first`); age and income are re-established every round, as the survey does.
    fn flag_people(&mut self, people: &[usize], t: usize, first: bool) {
        use VulnerabilityFlag as F;
        let as_of = round_date(t);
        for &p in people {
            let person = &self.persons[p];
            if !person.alive {
                continue;
            }
            let age = as_of.years_since(person.birth);
            let turned_60 = t > 0 && round_date(t - 1).years_since(person.birth) < 60;
            let home = person.home;
            let lasting = [
                (person.disability, F::Disabled, SOURCE_SOCIAL),
                (person.bedridden, F::Bedridden, SOURCE_HEALTH),
                (person.chronic_illness, F::ChronicIllness, SOURCE_HEALTH),
                (person.dementia, F::Dementia, SOURCE_HEALTH),
                (person.psychiatric, F::Psychiatric, SOURCE_HEALTH),
            ];
            if age >= 60 && (first || turned_60) {
                self.flag(p, F::Elderly, SOURCE_BMN, as_of);
            }
            if age < 18 && first {
                self.flag(p, F::Child, SOURCE_BMN, as_of);
            }
            if first {
                for (has, flag, source) in lasting {
                    if has {
                        self.flag(p, flag, source, as_of);
                    }
                }
            }
            if age >= 18 && self.income_per_person(home) < INCOME_LINE_BAHT {
                self.flag(p, F::LowIncome, SOURCE_BMN, as_of);
            }
            if self.persons[p].relation == Relation::Head && self.is_single_parent(home, as_of) {
                self.flag(p, F::SingleParent, SOURCE_SOCIAL, as_of);
            }
        }
    }

    /// A head with a child under 18 at home and no spouse.
    fn is_single_parent(&self, household: usize, on: BeDate) -> bool {
        let residents = &self.households[household].residents;
        let spouse = residents
            .iter()
            .any(|&p| self.persons[p].relation == Relation::Spouse);
        let young_child = residents.iter().any(|&p| {
            let q = &self.persons[p];
            q.relation == Relation::Child && on.years_since(q.birth) < 18
        });
        !spouse && young_child
    }

    /// Welfare card statuses from the 2565 registration, as announced before the baseline.
    fn welfare_cards(&mut self, people: &[usize]) {
        let as_of = make_date(2566, 2, 1);
        for &p in people {
            let person = &self.persons[p];
            if as_of.years_since(person.birth) < 18 || person.citizen_id.is_none() {
                continue;
            }
            let own = (person.income + person.allowance) / 100;
            let per_head = self.income_per_person(person.home);
            let roll = self.dice.unit();
            let status = if own <= 100_000 && per_head < INCOME_LINE_BAHT {
                match roll {
                    r if r < 0.80 => Some(WelfareCardStatus::Holder),
                    r if r < 0.84 => Some(WelfareCardStatus::Applied),
                    _ => None,
                }
            } else if own <= 100_000 && per_head <= 100_000 {
                match roll {
                    r if r < 0.45 => Some(WelfareCardStatus::Holder),
                    r if r < 0.48 => Some(WelfareCardStatus::Applied),
                    r if r < 0.50 => Some(WelfareCardStatus::NotEligible),
                    _ => None,
                }
            } else {
                (roll < 0.04).then_some(WelfareCardStatus::NotEligible)
            };
            if let Some(status) = status {
                self.tally.cards += 1;
                if status == WelfareCardStatus::Holder {
                    self.tally.holders += 1;
                }
                self.out.cards.push(WelfareCard {
                    person_code: self.persons[p].code.clone(),
                    status,
                    source: SOURCE_WELFARE.to_owned(),
                    as_of,
                });
            }
        }
    }

    /// The BMN survey of round `t` in every household that still has someone living in it.
    fn assess(&mut self, t: usize) {
        let year = ROUND_YEARS[t];
        for h in 0..self.households.len() {
            if self.households[h].departed || self.households[h].residents.is_empty() {
                continue;
            }
            let assessed_on = self.dice.date_in(year, (1, 4));
            let zone = self.zone(h);
            let model = &ZONES[zone];
            let per_head = self.income_per_person(h);
            let household = &self.households[h];
            let mut ages = Vec::with_capacity(household.residents.len());
            let (mut disabled, mut bedridden) = (false, false);
            for &p in &household.residents {
                let person = &self.persons[p];
                ages.push(assessed_on.years_since(person.birth));
                disabled |= person.disability;
                bedridden |= person.bedridden;
            }
            let any = |lo: i32, hi: i32| ages.iter().any(|a| (lo..=hi).contains(a));
            let elderly_alone = ages.len() == 1 && ages[0] >= 60;
            let income_risk = match per_head {
                x if x < INCOME_LINE_BAHT => 3.0,
                x if x < 60_000 => 1.5,
                x if x < 120_000 => 1.0,
                _ => 0.5,
            };
            let vulnerability = 1.0
                + if bedridden { 0.8 } else { 0.0 }
                + if disabled { 0.5 } else { 0.0 }
                + if elderly_alone { 0.4 } else { 0.0 }
                + if self.is_single_parent(h, assessed_on) {
                    0.3
                } else {
                    0.0
                };
            let mut pace = 1.0;
            for _ in 0..t {
                pace *= model.pace;
            }
            let risk = model.hardship * household.frailty * income_risk * vulnerability * pace;
            let applies = [
                any(0, 0),
                true,
                true,
                any(6, 200),
                true,
                true,
                true,
                true,
                any(3, 5),
                any(6, 14),
                any(15, 17),
                any(15, 59),
                any(15, 59),
                any(60, 200),
                any(60, 200),
                disabled,
            ];
            let mut values = BTreeMap::new();
            // Counted from the recorded values only, as a measurement of the store would.
            let mut deprived = false;
            for (j, &(name, base)) in INDICATORS.iter().enumerate() {
                let missing = self.dice.chance(MISSING);
                let value = if !applies[j] {
                    IndicatorValue::NotApplicable
                } else {
                    let living = if (4..8).contains(&j) {
                        model.living
                    } else {
                        1.0
                    };
                    let p = (base * risk * living).min(0.9);
                    let hit = household.luck[j] < p;
                    if hit && !missing {
                        deprived = true;
                    }
                    IndicatorValue::Number(if hit { 1.0 } else { 0.0 })
                };
                if !missing {
                    values.insert(name.to_owned(), value);
                }
            }
            if !self.dice.chance(MISSING) {
                deprived |= per_head < INCOME_LINE_BAHT;
                values.insert(
                    INCOME_INDICATOR.to_owned(),
                    IndicatorValue::Number(per_head as f64),
                );
            }
            let members = household.residents.len();
            for tally in [
                &mut self.tally.rounds[t],
                &mut self.tally.zone_rounds[zone][t],
            ] {
                tally.households += 1;
                tally.persons += members;
                tally.deprived_households += usize::from(deprived);
            }
            self.out.assessments.push(Assessment {
                round: BeYear::new(year).expect("round years are in range"),
                household: self.households[h].code.clone(),
                assessed_on,
                members: members as u16,
                values,
            });
        }
    }

    /// Births, deaths and moves in the half-year (June–December) before round `t`.
    fn churn(&mut self, t: usize) {
        let year = ROUND_YEARS[t] - 1;
        let reference = round_date(t);
        let mut joined = Vec::new();

        // Whole households leaving the province.
        for h in 0..self.households.len() {
            if self.households[h].departed || self.households[h].residents.is_empty() {
                continue;
            }
            if self.dice.chance(0.008) {
                let date = self.dice.date_in(year, (6, 12));
                let residents = std::mem::take(&mut self.households[h].residents);
                for p in residents {
                    self.event(
                        p,
                        h,
                        MembershipKind::MoveOut,
                        date,
                        "ย้ายออกนอกจังหวัดทั้งครัวเรือน".into(),
                    );
                }
                self.households[h].departed = true;
                self.tally.departed += 1;
            }
        }

        // Each resident at the start of the period: death, a move away, or a move next door.
        let people: Vec<usize> = self
            .households
            .iter()
            .flat_map(|h| h.residents.iter().copied())
            .collect();
        let mut moved = HashSet::new();
        for p in people {
            let person = &self.persons[p];
            let age = reference.years_since(person.birth);
            let home = person.home;
            let mut death = match age {
                0 => 0.005,
                1..=39 => 0.001,
                40..=59 => 0.005,
                60..=69 => 0.015,
                70..=79 => 0.035,
                _ => 0.10,
            };
            if person.bedridden {
                death *= 4.0;
            }
            let is_head = person.relation == Relation::Head;
            let move_away = match age {
                _ if is_head => 0.0,
                18..=35 => 0.04,
                15.. => 0.005,
                _ => 0.0,
            };
            let move_near = if !is_head && (20..=40).contains(&age) {
                0.02
            } else {
                0.0
            };
            let roll = self.dice.unit();
            let date = self.dice.date_in(year, (6, 12));
            if roll < death {
                self.persons[p].alive = false;
                self.households[home].residents.retain(|&q| q != p);
                self.event(p, home, MembershipKind::Death, date, "เสียชีวิต".into());
            } else if roll < death + move_away {
                self.households[home].residents.retain(|&q| q != p);
                self.event(
                    p,
                    home,
                    MembershipKind::MoveOut,
                    date,
                    "ย้ายออกนอกจังหวัด".into(),
                );
            } else if roll < death + move_away + move_near {
                // The person keeps the code of the house that first registered them: a
                // person code names a person, not an address.
                let to = self.dice.index(self.households.len());
                let target = &self.households[to];
                if to == home || target.departed || target.residents.is_empty() {
                    continue;
                }
                self.households[home].residents.retain(|&q| q != p);
                let from_code = self.households[home].code.to_string();
                let to_code = self.households[to].code.to_string();
                self.event(
                    p,
                    home,
                    MembershipKind::MoveOut,
                    date,
                    format!("ย้ายไปอยู่บ้านรหัส {to_code}"),
                );
                self.event(
                    p,
                    to,
                    MembershipKind::MoveIn,
                    date,
                    format!("ย้ายมาจากบ้านรหัส {from_code}"),
                );
                let head = self.households[to]
                    .residents
                    .iter()
                    .copied()
                    .find(|&q| self.persons[q].relation == Relation::Head);
                let has_spouse = self.households[to]
                    .residents
                    .iter()
                    .any(|&q| self.persons[q].relation == Relation::Spouse);
                let relation = match head {
                    Some(hd)
                        if !has_spouse
                            && self.persons[hd].sex != self.persons[p].sex
                            && (reference.years_since(self.persons[hd].birth) - age).abs()
                                <= 10 =>
                    {
                        Relation::Spouse
                    }
                    _ => Relation::Relative,
                };
                self.persons[p].relation = relation;
                self.persons[p].home = to;
                self.households[to].residents.push(p);
                moved.insert(p);
            }
        }

        // Births to women living at home all period long.
        let mothers: Vec<usize> = self
            .households
            .iter()
            .flat_map(|h| h.residents.iter().copied())
            .filter(|p| !moved.contains(p))
            .collect();
        for m in mothers {
            let mother = &self.persons[m];
            if mother.sex != Sex::Female {
                continue;
            }
            let p = match reference.years_since(mother.birth) {
                18..=24 => 0.04,
                25..=34 => 0.07,
                35..=44 => 0.025,
                _ => continue,
            };
            if !self.dice.chance(p) {
                continue;
            }
            let home = mother.home;
            let relation = match mother.relation {
                Relation::Head | Relation::Spouse => Relation::Child,
                Relation::Child | Relation::Relative => Relation::Grandchild,
                _ => Relation::Relative,
            };
            let surname = mother.last_name;
            let date = self.dice.date_in(year, (6, 12));
            let sex = if self.dice.chance(0.51) {
                Sex::Male
            } else {
                Sex::Female
            };
            let baby = self.add_person(home, (relation, sex, 0), surname, reference);
            let b = &mut self.persons[baby];
            b.birth = date;
            b.income = 0;
            b.allowance = 0;
            b.occupation = Occupation::Jobless;
            b.education = None;
            b.bedridden = false;
            b.chronic_illness = false;
            if b.citizen_id.is_none() {
                // Births are registered: every newborn gets an ID.
                let district = self.villages[self.households[home].village].district_digits;
                self.persons[baby].citizen_id = Some(self.ids.issue(1, district));
            }
            self.event(baby, home, MembershipKind::Birth, date, "เกิด".into());
            let months_before = if date.month() > 4 {
                make_date(year, date.month() - 4, date.day())
            } else {
                make_date(year - 1, date.month() + 8, date.day())
            };
            self.flag(
                m,
                VulnerabilityFlag::Pregnant,
                SOURCE_VOLUNTEER,
                months_before,
            );
            joined.push(baby);
        }

        // Newcomer households from other provinces, in villages of this batch.
        let baseline: usize = self.households.len();
        let expected = baseline as f64 * 0.012;
        let count = expected as usize + usize::from(self.dice.chance(expected - expected.floor()));
        for _ in 0..count {
            let village = self.households[self.dice.index(baseline)].village;
            let size = self.size();
            let date = self.dice.date_in(year, (6, 12));
            let h = self.add_household(village, size, reference);
            self.tally.newcomers += 1;
            for p in self.households[h].residents.clone() {
                self.event(
                    p,
                    h,
                    MembershipKind::MoveIn,
                    date,
                    "ย้ายเข้าจากต่างจังหวัด".into(),
                );
                joined.push(p);
            }
        }

        // Incomes move with the zone's economy, poorer households' faster where the zone's
        // livelihood work reaches them.
        let poorer: Vec<bool> = (0..self.households.len())
            .map(|h| self.income_per_person(h) < 60_000)
            .collect();
        for p in 0..self.persons.len() {
            if self.persons[p].income > 0 {
                let model = &ZONES[self.zone(self.persons[p].home)];
                let lift = if poorer[self.persons[p].home] {
                    model.lift
                } else {
                    0.0
                };
                let g = 1.0 + model.income_growth + lift + 0.16 * (self.dice.unit() - 0.5);
                let income = self.persons[p].income as f64 * g.max(0.7);
                self.persons[p].income = (income / 10_000.0) as i64 * 10_000;
            }
        }

        self.flag_people(&joined, t, true);
        let joined: HashSet<usize> = joined.into_iter().collect();
        let stayed: Vec<usize> = self
            .households
            .iter()
            .flat_map(|h| h.residents.iter().copied())
            .filter(|p| !joined.contains(p))
            .collect();
        self.flag_people(&stayed, t, false);
    }

    /// The batch's households through the three rounds; returns the records to write.
    fn run(mut self, villages: std::ops::Range<usize>) -> Batch {
        let reference = round_date(0);
        for v in villages {
            for _ in 0..self.villages[v].households {
                let size = self.size();
                self.add_household(v, size, reference);
            }
        }
        let everyone: Vec<usize> = (0..self.persons.len()).collect();
        self.flag_people(&everyone, 0, true);
        self.welfare_cards(&everyone);
        self.assess(0);
        for t in 1..ROUND_YEARS.len() {
            self.churn(t);
            self.assess(t);
        }
        self.tally.persons += self.persons.len();
        for p in &self.persons {
            let zone = self.villages[self.households[p.home].village].zone;
            self.tally.zone_persons[zone] += 1;
            self.tally.without_id += usize::from(p.citizen_id.is_none());
        }
        self.tally.flags += self.out.flags.len();
        let mut out = self.out;
        out.persons = self
            .persons
            .into_iter()
            .map(|p| Person {
                person_code: p.code,
                household: self.households[p.home].code.clone(),
                citizen_id: p.citizen_id,
                first_name: p.first_name.to_owned(),
                last_name: p.last_name.to_owned(),
                sex: p.sex,
                birth_date: Some(p.birth),
                relation: p.relation,
                education: p.education,
                occupation: (p.occupation != Occupation::Jobless
                    || p.birth.year().be() <= ROUND_YEARS[0] - 15)
                    .then(|| p.occupation.label_th().to_owned()),
                income_year: Some(Satang(p.income + p.allowance)),
                disability: p.disability,
                chronic_illness: p.chronic_illness,
                bedridden: p.bedridden,
            })
            .collect();
        out
    }
}

/// The state that carries over from one batch to the next.
struct Generator {
    dice: Dice,
    ids: IdIssuer,
    villages: Vec<DemoVillage>,
    tally: Tally,
}

/// Simulates the villages of `range` on a blocking thread, handing the state back with them.
fn generate(
    mut g: Generator,
    range: std::ops::Range<usize>,
) -> tokio::task::JoinHandle<(Generator, Batch)> {
    tokio::task::spawn_blocking(move || {
        let sim = Sim {
            dice: &mut g.dice,
            ids: &mut g.ids,
            villages: &mut g.villages,
            persons: Vec::new(),
            households: Vec::new(),
            out: Batch::default(),
            tally: &mut g.tally,
        };
        let batch = sim.run(range);
        (g, batch)
    })
}

async fn write_batch(tx: &mut Tx, batch: &Batch) -> Result<(), AppError> {
    // Referenced before referring: households, persons, then what hangs on them.
    tx.upsert_households(&batch.households).await?;
    tx.upsert_persons(&batch.persons).await?;
    tx.upsert_flags(&batch.flags).await?;
    tx.upsert_welfare_cards(&batch.cards).await?;
    tx.upsert_events(&batch.events).await?;
    tx.upsert_assessments(&batch.assessments).await?;
    Ok(())
}

/// Writes the demo province into `store`, which must hold no registry data yet (the demo
/// must never mix invented people into a real registry). All or nothing.
pub async fn build_demo(
    store: &Store,
    options: &DemoOptions,
    progress: &dyn Progress,
) -> Result<DemoSummary, AppError> {
    if options.households == 0 {
        return Err(AppError::Invalid(
            "จำนวนครัวเรือนสาธิตต้องมากกว่า 0 (the demo needs at least one household)".into(),
        ));
    }
    let counts = store.counts().await?;
    if counts.villages + counts.households + counts.persons + counts.rounds + counts.assessments > 0
    {
        return Err(AppError::Invalid(
            "ฐานข้อมูลนี้มีข้อมูลทะเบียนอยู่แล้ว ข้อมูลสาธิตสร้างได้เฉพาะในฐานข้อมูลว่าง \
             (this database already holds registry data; the demo only writes into an empty one)"
                .into(),
        ));
    }

    let tree = AreaTree::shipped();
    let zone_set = EcoZoneSet::shipped_nakhon_si_thammarat();
    // Its own transaction: done before ours so SQLite never sees two writers at once.
    let ecozone_set_added = store.add_ecozone_set(&zone_set).await?;

    let mut dice = Dice(ChaCha8Rng::seed_from_u64(options.seed));
    let (villages, village_rows) = make_villages(&mut dice, tree, &zone_set, options.households)?;
    let rounds: Vec<AssessmentRound> = ROUND_YEARS
        .iter()
        .enumerate()
        .map(|(t, &year)| AssessmentRound {
            year: BeYear::new(year).expect("round years are in range"),
            date: round_date(t),
            label: format!("จปฐ. {year}"),
        })
        .collect();

    let mut tx = store.begin().await?;
    progress.start(
        "หมู่บ้านและรอบสำรวจ (villages and rounds)",
        Some(village_rows.len() as u64),
    );
    tx.upsert_villages(&village_rows).await?;
    tx.upsert_rounds(&rounds).await?;
    progress.advance(village_rows.len() as u64);
    progress.finish();

    progress.start(
        "ครัวเรือนสาธิต (demo households)",
        Some(options.households as u64),
    );
    let mut tally = Tally::default();
    for (i, t) in ROUND_YEARS.iter().enumerate() {
        tally.rounds[i].year = *t;
        for z in &mut tally.zone_rounds {
            z[i].year = *t;
        }
    }
    let mut batches = Vec::new();
    let mut start = 0;
    while start < villages.len() {
        let mut end = start;
        let mut baseline = 0;
        while end < villages.len() && baseline < BATCH_HOUSEHOLDS {
            baseline += villages[end].households;
            end += 1;
        }
        batches.push((start..end, baseline));
        start = end;
    }
    let generator = Generator {
        dice,
        ids: IdIssuer { next: [0; 100] },
        villages,
        tally,
    };
    // The next batch is invented on a blocking thread while this one is written: the order
    // of draws is unchanged, so the output is too.
    let mut pending = generate(generator, batches[0].0.clone());
    let mut i = 0;
    let generator = loop {
        let (generator, batch) = pending
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        let last = i + 1 == batches.len();
        if last {
            write_batch(&mut tx, &batch).await?;
            progress.advance(batches[i].1 as u64);
            break generator;
        }
        pending = generate(generator, batches[i + 1].0.clone());
        write_batch(&mut tx, &batch).await?;
        progress.advance(batches[i].1 as u64);
        i += 1;
    };
    let Generator { tally, .. } = generator;
    progress.finish();

    let summary = DemoSummary {
        seed: options.seed,
        villages: village_rows.len(),
        households: tally.households,
        newcomer_households: tally.newcomers,
        departed_households: tally.departed,
        persons: tally.persons,
        persons_without_citizen_id: tally.without_id,
        flags: tally.flags,
        welfare_cards: tally.cards,
        welfare_card_holders: tally.holders,
        births: tally.births,
        deaths: tally.deaths,
        moves_out: tally.moves_out,
        moves_in: tally.moves_in,
        ecozone_set_added,
        rounds: tally.rounds.to_vec(),
        zones: zone_set
            .zones
            .iter()
            .filter_map(|z| {
                let i = ZONES.iter().position(|m| m.code == z.code)?;
                Some(ZoneSummary {
                    code: z.code.clone(),
                    name_th: z.name_th.clone(),
                    name_en: z.name_en.clone(),
                    households: tally.zone_households[i],
                    persons: tally.zone_persons[i],
                    rounds: tally.zone_rounds[i].to_vec(),
                })
            })
            .collect(),
    };
    tx.append_audit(&AuditEntry {
        at: SystemClock.now_iso(),
        actor: "halve demo".into(),
        action: "demo".into(),
        entity: "registry".into(),
        entity_key: format!("seed={} households={}", options.seed, options.households),
        before: None,
        after: Some(
            serde_json::json!({
                "villages": summary.villages,
                "households": summary.households,
                "persons": summary.persons,
                "flags": summary.flags,
                "welfare_cards": summary.welfare_cards,
                "events": summary.events(),
                "rounds": summary.rounds.len(),
            })
            .to_string(),
        ),
    })
    .await?;
    tx.commit().await?;
    // Case management: partner agencies and cases for a share of the target households.
    crate::cases::demo::add_demo_cases(store, options.seed, options.households).await?;
    Ok(summary)
}
