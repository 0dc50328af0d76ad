//! The `halve` command: thin wiring from the shell to the application layer.
//!
//! Each subcommand parses its arguments, opens the store named by `--database` (or
//! `HALVE_DATABASE_URL`, or `halve.db` here), calls one function of `halve-app` and prints
//! its result. No rule of the registry or of measurement lives here.

mod measure_cmd;
mod progress;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use halve_app::clock::SystemClock;
use halve_app::demo::{DemoOptions, build_demo};
use halve_store::Store;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "halve",
    version,
    about = "ระบบทะเบียนและการวัดความยากจนหลายมิติ ของแผนลดคนเปราะบางและคนรายได้น้อยลงครึ่งหนึ่งใน 5 ปี\n\
             Registry and multidimensional poverty measurement for the plan to halve the \
             number of vulnerable and low-income people in five years."
)]
struct Cli {
    /// Database URL: sqlite://PATH (or a file path) or postgres://USER:PASS@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "HALVE_DATABASE_URL",
        default_value = "sqlite://halve.db"
    )]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// สร้างหรือปรับปรุงฐานข้อมูล (create or migrate the database)
    Init,
    /// นำเข้าข้อมูลจาก CSV/XLSX หรือโฟลเดอร์ (import CSV/XLSX files or an export folder; all or nothing)
    Import {
        /// Files, or folders written by `halve export`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// ส่งออกทะเบียนเป็น CSV หนึ่งไฟล์ต่อชนิดข้อมูล (export the registry, one CSV per kind of record)
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// วัดความยากจนหลายมิติ จากไฟล์ CSV หรือจากทะเบียน (Alkire–Foster measures of a plain CSV, or of the registry)
    Measure(measure_cmd::MeasureArgs),
    /// สร้างจังหวัดนครศรีธรรมราชจำลอง (build a deterministic synthetic Nakhon Si Thammarat)
    Demo {
        #[arg(long, default_value_t = DemoOptions::DEFAULT_HOUSEHOLDS)]
        households: usize,
        #[arg(long, default_value_t = DemoOptions::DEFAULT_SEED)]
        seed: u64,
        /// Build and print the summary only; do not start the web app.
        #[arg(long)]
        no_serve: bool,
    },
}

/// The actor named in the audit log for work done from the shell.
fn actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

async fn open(url: &str) -> Result<Store> {
    let store = Store::connect(url).await?;
    store.check_schema().await?;
    Ok(store)
}

async fn run(cli: Cli) -> Result<()> {
    let progress = progress::Bars::new();
    match cli.command {
        Command::Measure(args) => {
            measure_cmd::run(&args, &cli.database, &mut std::io::stdout().lock()).await?;
        }
        Command::Init => {
            let store = Store::connect(&cli.database).await?;
            let applied = store.migrate().await?;
            println!(
                "ฐานข้อมูล {} พร้อมใช้ (database ready; {applied} migrations applied)",
                store.backend().name()
            );
            store.close().await;
        }
        Command::Import { paths } => {
            let store = open(&cli.database).await?;
            let summary =
                halve_app::import::import_paths(&store, &paths, &actor(), &SystemClock, &progress)
                    .await?;
            print!("{summary}");
            store.close().await;
        }
        Command::Export { out } => {
            let store = open(&cli.database).await?;
            let summary =
                halve_app::export::export_all(&store, &out, &actor(), &SystemClock, &progress)
                    .await?;
            print!("{summary}");
            store.close().await;
        }
        Command::Demo {
            households,
            seed,
            no_serve: _,
        } => {
            let store = Store::connect(&cli.database).await?;
            store.migrate().await?;
            let counts = store.counts().await?;
            if counts.households > 0 {
                println!(
                    "ฐานข้อมูลนี้มีข้อมูลอยู่แล้ว: ไม่สร้างจังหวัดจำลองซ้ำ (the database already holds \
                     {} households; the demo was not rebuilt)",
                    counts.households
                );
            } else {
                let options = DemoOptions { households, seed };
                let summary = build_demo(&store, &options, &progress)
                    .await
                    .context("building the demo province")?;
                print!("{summary}");
            }
            store.close().await;
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("halve: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("halve: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
