//! `halve export`: the registry as one CSV file per kind of record.
//!
//! The files are exactly what `halve import` reads, in a fixed column order and key order with
//! dates in the Buddhist Era, so that exporting, importing into an empty database (of either
//! backend) and exporting again gives byte-identical files. Each file is written under a
//! temporary name and renamed when complete: a failed export never leaves a truncated file
//! that looks whole.

use crate::clock::Clock;
use crate::kinds::Kind;
use crate::{AppError, Progress};
use halve_domain::Assessment;
use halve_io::CsvWriter;
use halve_store::{AuditEntry, Store};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// (file path, rows written), in import order.
    pub files: Vec<(PathBuf, u64)>,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (path, rows) in &self.files {
            writeln!(f, "{}: {rows} แถว ({rows} rows)", path.display())?;
        }
        Ok(())
    }
}

fn yes_no(b: bool) -> String {
    if b { "1" } else { "0" }.to_owned()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A CSV file being written under a temporary name.
struct Output {
    writer: CsvWriter<BufWriter<File>>,
    partial: PathBuf,
    path: PathBuf,
    rows: u64,
}

fn to_io(e: halve_io::WriteError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl Output {
    fn create(dir: &Path, kind: Kind, header: &[String]) -> Result<Output, AppError> {
        let path = dir.join(format!("{}.csv", kind.file_stem()));
        let partial = dir.join(format!(".{}.csv.partial", kind.file_stem()));
        let file = BufWriter::with_capacity(1 << 20, File::create(&partial)?);
        let writer = CsvWriter::new(file, header).map_err(to_io)?;
        Ok(Output {
            writer,
            partial,
            path,
            rows: 0,
        })
    }

    fn row(&mut self, fields: Vec<String>) -> std::io::Result<()> {
        self.rows += 1;
        self.writer.write_row(fields).map_err(to_io)
    }

    fn finish(self) -> Result<(PathBuf, u64), AppError> {
        let mut file = self.writer.finish().map_err(to_io)?;
        file.flush()?;
        file.get_ref().sync_all()?;
        std::fs::rename(&self.partial, &self.path)?;
        Ok((self.path, self.rows))
    }
}

fn header(kind: Kind) -> Vec<String> {
    kind.columns().iter().map(|c| c.to_string()).collect()
}

/// Writes every kind of record into `dir` (created if needed).
pub async fn export_all(
    store: &Store,
    dir: &Path,
    actor: &str,
    clock: &dyn Clock,
    progress: &dyn Progress,
) -> Result<ExportSummary, AppError> {
    std::fs::create_dir_all(dir)?;
    let mut summary = ExportSummary::default();
    for kind in Kind::ALL {
        progress.start(kind.file_stem(), None);
        let done = export_kind(store, dir, kind, progress).await?;
        progress.finish();
        summary.files.push(done);
    }
    let mut tx = store.begin().await?;
    tx.append_audit(&AuditEntry {
        at: clock.now_iso(),
        actor: actor.to_owned(),
        action: "export".into(),
        entity: "registry".into(),
        entity_key: dir.display().to_string(),
        before: None,
        after: None,
    })
    .await?;
    tx.commit().await?;
    Ok(summary)
}

async fn export_kind(
    store: &Store,
    dir: &Path,
    kind: Kind,
    progress: &dyn Progress,
) -> Result<(PathBuf, u64), AppError> {
    let out = if kind == Kind::Assessments {
        // Indicators are data, not columns: the file gets one column per indicator seen in
        // any round, which takes a first pass to know.
        let mut names = BTreeSet::new();
        store
            .for_each_assessment(&mut |a| {
                names.extend(a.values.into_keys());
                Ok(())
            })
            .await?;
        let mut h = header(kind);
        h.extend(names.iter().cloned());
        let mut out = Output::create(dir, kind, &h)?;
        let names: Vec<String> = names.into_iter().collect();
        store
            .for_each_assessment(&mut |a| {
                progress.advance(1);
                out.row(assessment_row(&a, &names))
            })
            .await?;
        out
    } else {
        let mut out = Output::create(dir, kind, &header(kind))?;
        let o = &mut out;
        let mut tick = |fields: Vec<String>| {
            progress.advance(1);
            o.row(fields)
        };
        match kind {
            Kind::Villages => {
                store
                    .for_each_village(&mut |v| {
                        tick(vec![v.code.to_string(), v.name_th, opt(v.name_en)])
                    })
                    .await?
            }
            Kind::Households => {
                store
                    .for_each_household(&mut |h| {
                        tick(vec![
                            h.house_code.to_string(),
                            h.village.to_string(),
                            h.address,
                            opt(h.location.map(|p| p.lat)),
                            opt(h.location.map(|p| p.lon)),
                        ])
                    })
                    .await?
            }
            Kind::Persons => {
                store
                    .for_each_person(&mut |p| {
                        tick(vec![
                            p.person_code.to_string(),
                            p.household.to_string(),
                            opt(p.citizen_id.map(|c| c.as_digits())),
                            p.first_name,
                            p.last_name,
                            p.sex.code().to_owned(),
                            opt(p.birth_date),
                            p.relation.code().to_owned(),
                            opt(p.education.map(|e| e.code())),
                            opt(p.occupation),
                            opt(p.income_year.map(|s| s.to_plain())),
                            yes_no(p.disability),
                            yes_no(p.chronic_illness),
                            yes_no(p.bedridden),
                        ])
                    })
                    .await?
            }
            Kind::PersonFlags => {
                store
                    .for_each_flag(&mut |f| {
                        tick(vec![
                            f.person_code.to_string(),
                            f.flag.code().to_owned(),
                            f.source,
                            f.as_of.to_string(),
                        ])
                    })
                    .await?
            }
            Kind::WelfareCards => {
                store
                    .for_each_welfare_card(&mut |w| {
                        tick(vec![
                            w.person_code.to_string(),
                            w.status.code().to_owned(),
                            w.source,
                            w.as_of.to_string(),
                        ])
                    })
                    .await?
            }
            Kind::MembershipEvents => {
                store
                    .for_each_event(&mut |e| {
                        tick(vec![
                            e.person_code.to_string(),
                            e.household.to_string(),
                            e.kind.code().to_owned(),
                            e.date.to_string(),
                            e.note,
                        ])
                    })
                    .await?
            }
            Kind::Rounds => {
                for r in store.rounds().await? {
                    tick(vec![r.year.to_string(), r.date.to_string(), r.label])?;
                }
            }
            Kind::RecordChanges => {
                store
                    .for_each_record_change(&mut |c| {
                        tick(vec![
                            c.entity.code().to_owned(),
                            c.code.to_string(),
                            c.change.code().to_owned(),
                            c.date.to_string(),
                            opt(c.into),
                            c.note,
                        ])
                    })
                    .await?
            }
            Kind::Assessments => unreachable!("handled above"),
            kind => crate::cases::files::export_rows(store, kind, &mut tick).await?,
        }
        out
    };
    out.finish()
}

fn assessment_row(a: &Assessment, names: &[String]) -> Vec<String> {
    let mut row = vec![
        a.round.to_string(),
        a.household.to_string(),
        a.assessed_on.to_string(),
        a.members.to_string(),
    ];
    row.extend(names.iter().map(|n| opt(a.values.get(n))));
    row
}
