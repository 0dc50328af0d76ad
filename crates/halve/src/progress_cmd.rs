//! `halve progress`: the registry's progress towards a target ("more than half fewer by
//! 2571"), by area or eco-zone, printed as a table, CSV or JSON.
//!
//! Thin on purpose: this module reads the target (a file, or a shipped one by name) and hands
//! it to `halve_app::target`, which owns the panel, the figures and their formatting, so that
//! the web app shows the very same numbers.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use halve_app::measure::Grouping;

use crate::measure_cmd::LangArg;
use halve_app::target::{
    DEFAULT_TARGET, ProgressOptions, parse_target, progress_registry, shipped_target,
};
use halve_measure::Spec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people: stock against milestones, the cohort, the transitions.
    Table,
    /// One row per area and round (area_code, area_name, year, persons, households,
    /// milestone_persons, status, cohort columns, target and spec ids and versions).
    Csv,
    /// One object: the target and spec with their versions, `rows` and `transitions`.
    Json,
}

/// Progress of the registry towards a target, by area.
#[derive(Debug, Clone, clap::Args)]
pub struct ProgressArgs {
    /// Rows by province, zone, district, subdistrict or village.
    #[arg(long, default_value = "province")]
    pub by: String,
    /// Target definition: a TOML file, or a shipped target (nst-halve-2571,
    /// nst-halve-2571-literal).
    #[arg(long, value_name = "FILE.toml|NAME", default_value = DEFAULT_TARGET)]
    pub target: String,
    /// The measurement spec that decides `poor` (a TOML file or a shipped profile), instead of
    /// the shipped one the target names. It must have the id the target names.
    #[arg(long, value_name = "SPEC.toml|NAME")]
    pub spec: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Language of the table's labels.
    #[arg(long, value_enum, default_value_t = LangArg::Th)]
    pub lang: LangArg,
}

/// Reads a definition from a file, or else from the shipped ones by name.
fn read_named(
    arg: &str,
    shipped: impl Fn(&str) -> Option<&'static str>,
    what: &str,
) -> Result<(String, String)> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {arg}"))?;
        return Ok((text, arg.to_string()));
    }
    match shipped(arg) {
        Some(text) => Ok((text.to_string(), format!("{arg}.toml"))),
        None => Err(anyhow!(
            "ไม่พบ{what} \"{arg}\": ไม่ใช่ไฟล์และไม่ใช่ชื่อที่มากับโปรแกรม (no {what_en} \"{arg}\": \
             not a file, and not the name of a shipped one)",
            what_en = if what == "เป้าหมาย" {
                "target"
            } else {
                "spec"
            }
        )),
    }
}

pub async fn run(
    args: &ProgressArgs,
    database: &str,
    progress: &dyn halve_app::Progress,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    let (text, name) = read_named(&args.target, shipped_target, "เป้าหมาย")?;
    let target = parse_target(&text, &name)?;
    let spec = match &args.spec {
        None => None,
        Some(s) => {
            let (text, name) = read_named(s, halve_app::measure::shipped_spec, "เกณฑ์")?;
            Some(Spec::from_toml_str(&text, &name)?)
        }
    };
    let by = Grouping::parse(&args.by)?;
    let store = halve_store::Store::connect(database).await?;
    store.check_schema().await?;
    let options = ProgressOptions {
        by,
        spec,
        ..ProgressOptions::default()
    };
    let report = progress_registry(&store, &target, &options, progress).await;
    store.close().await;
    let report = report?;
    let written = match args.format {
        Format::Json => writeln!(out, "{}", report.to_json()),
        Format::Csv => report.write_csv(out),
        Format::Table => report.write_table(args.lang.into(), out),
    };
    match written {
        // A reader that stops early (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
