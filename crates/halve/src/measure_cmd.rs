//! `halve measure`: Alkire–Foster measures of a CSV file, or of the registry, under a spec,
//! printed as a table, CSV or JSON.
//!
//! Thin on purpose: this module reads the two files and hands text and records to
//! `halve_measure`, which owns parsing, estimation and formatting, so that the web app and
//! the API produce the very same figures.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use halve_app::measure::{Grouping, MeasureOptions, RegistrySnapshot};
use halve_measure::{Columns, Lang, Loader, Spec, parse_cutoffs, write_table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// Long-format records: measure,k,year,by,group,indicator,value,spec,spec_version.
    Csv,
    /// One object with the spec, `results` and `changes`.
    Json,
}

/// The language of a table's labels (`--lang`), for every command that prints tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    Th,
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Th => Lang::Th,
            LangArg::En => Lang::En,
        }
    }
}

/// Compute multidimensional poverty (Alkire–Foster, as OPHI) for a data file.
#[derive(Debug, Clone, clap::Args)]
pub struct MeasureArgs {
    /// CSV file with one row per unit of identification (e.g. household). Without it, the
    /// registry in --database is measured (--by then takes province, district, subdistrict,
    /// village, zone, sex, age or flag).
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    /// Measurement spec (TOML): indicators, rules, weights, cutoffs; or the name of a shipped
    /// profile (tpmap-5, global-mpi, ppaos-5-capitals, council-5).
    #[arg(long, value_name = "SPEC.toml")]
    pub spec: PathBuf,
    /// Poverty cutoffs in percent, e.g. 20,33 or 100/3 (default: the spec's `k`).
    #[arg(long, value_name = "K[,K...]")]
    pub k: Option<String>,
    /// Subgroup columns; each is reported separately.
    #[arg(long, value_name = "COL[,COL...]", value_delimiter = ',')]
    pub by: Vec<String>,
    /// Column with the round's year (may be fractional, e.g. 2018.5).
    #[arg(long, value_name = "COL")]
    pub year: Option<String>,
    /// Column of sample weights (default: the spec's `weight`, else none).
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,
    /// Column giving how many persons each row stands for (default: the spec's `members`).
    #[arg(long, value_name = "COL")]
    pub members: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Language of the table's labels.
    #[arg(long, value_enum, default_value_t = LangArg::Th)]
    pub lang: LangArg,
}

/// Measures a CSV file (`--data`) or, without one, the registry at `database`.
pub async fn run(args: &MeasureArgs, database: &str, out: &mut dyn std::io::Write) -> Result<()> {
    let spec_name = args.spec.display().to_string();
    let text = match halve_app::measure::shipped_spec(&spec_name) {
        Some(text) if !args.spec.exists() => text.to_owned(),
        _ => std::fs::read_to_string(&args.spec)
            .with_context(|| format!("cannot read spec {spec_name}"))?,
    };
    let spec = Spec::from_toml_str(&text, &spec_name)?;
    let cutoffs = args
        .k
        .as_deref()
        .map(parse_cutoffs)
        .transpose()
        .context("--k")?;
    if cutoffs.as_ref().is_some_and(Vec::is_empty) {
        bail!("--k: give at least one cutoff, e.g. --k 33");
    }

    let result = match &args.data {
        Some(data) => measure_csv(args, &spec, data, cutoffs)?,
        None => {
            if args.year.is_some() || args.weight.is_some() || args.members.is_some() {
                bail!(
                    "--year, --weight and --members name CSV columns: give --data, or leave \
                     them out to measure the registry"
                );
            }
            let store = halve_store::Store::connect(database).await?;
            store.check_schema().await?;
            let by = args
                .by
                .iter()
                .map(|b| Grouping::parse(b))
                .collect::<Result<Vec<_>, _>>()?;
            let options = MeasureOptions {
                cutoffs: cutoffs.clone(),
                by,
                zone_sets: Vec::new(),
            };
            let snapshot = RegistrySnapshot::build(&store, &spec, &options).await?;
            store.close().await;
            snapshot.run(cutoffs)?
        }
    };
    write_result(args, &spec, &result, out)
}

fn measure_csv(
    args: &MeasureArgs,
    spec: &Spec,
    data: &std::path::Path,
    cutoffs: Option<Vec<halve_measure::Cutoff>>,
) -> Result<halve_measure::Run> {
    let data_name = data.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        // Field-count errors are reported by the loader, with the line.
        .flexible(true)
        .from_path(data)
        .with_context(|| format!("cannot read data {data_name}"))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{data_name}: cannot read the header"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let columns = Columns {
        year: args.year.clone(),
        by: args.by.clone(),
        weight: args.weight.clone(),
        members: args.members.clone(),
    };
    let mut loader = Loader::new(spec, &columns, &header_refs, &data_name)?;
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).with_context(|| {
            let line = reader.position().line();
            format!("{data_name}:{line}: not valid CSV")
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let fields: Vec<&str> = record.iter().collect();
        loader.push(line, &fields)?;
    }
    let snapshot = loader.finish();
    Ok(halve_measure::run(spec, &snapshot, cutoffs)?)
}

fn write_result(
    args: &MeasureArgs,
    spec: &Spec,
    result: &halve_measure::Run,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    let written = match args.format {
        Format::Json => writeln!(out, "{}", result.report.to_json()),
        Format::Csv => result.report.write_csv(out),
        Format::Table => write_table(
            spec,
            &result.report,
            &result.estimates,
            args.lang.into(),
            out,
        ),
    };
    match written {
        // A reader that stops early (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
