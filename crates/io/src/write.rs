//! Writers for exports: deterministic CSV and simple XLSX.
//!
//! Exports are compared and archived, so the same data must always give the
//! same bytes: UTF-8 without BOM, `\n` line endings, header first, quotes
//! only where a field needs them. XLSX exports write every cell as text so
//! that citizen IDs and codes keep their leading zeros and all 13 digits.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why an export could not be written. Never carries cell values.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot write CSV")]
    Csv(#[source] csv::Error),
    #[error("row {row}: expected {expected} fields, found {found}")]
    FieldCount {
        /// 1-based data row (the header is not counted).
        row: u64,
        expected: usize,
        found: usize,
    },
    #[error("cannot write XLSX")]
    Xlsx(#[source] rust_xlsxwriter::XlsxError),
}

/// Streams rows to CSV with fixed conventions, checking every row has as
/// many fields as the header.
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
    width: usize,
    rows: u64,
}

impl<W: Write> CsvWriter<W> {
    /// Starts the output with `header`.
    pub fn new<S: AsRef<str>>(writer: W, header: &[S]) -> Result<Self, WriteError> {
        let mut inner = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(writer);
        inner
            .write_record(header.iter().map(|h| h.as_ref()))
            .map_err(WriteError::Csv)?;
        Ok(CsvWriter {
            inner,
            width: header.len(),
            rows: 0,
        })
    }

    /// Writes one data row.
    pub fn write_row<I, S>(&mut self, fields: I) -> Result<(), WriteError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.rows += 1;
        let fields: Vec<S> = fields.into_iter().collect();
        if fields.len() != self.width {
            return Err(WriteError::FieldCount {
                row: self.rows,
                expected: self.width,
                found: fields.len(),
            });
        }
        self.inner
            .write_record(fields.iter().map(|f| f.as_ref()))
            .map_err(WriteError::Csv)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, WriteError> {
        self.inner
            .into_inner()
            .map_err(|e| WriteError::Csv(csv::Error::from(e.into_error())))
    }
}

/// Renders a whole table to CSV bytes in memory.
pub fn csv_to_bytes<H, R, S>(header: &[H], rows: R) -> Result<Vec<u8>, WriteError>
where
    H: AsRef<str>,
    R: IntoIterator,
    R::Item: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut writer = CsvWriter::new(Vec::new(), header)?;
    for row in rows {
        writer.write_row(row)?;
    }
    writer.finish()
}

/// Writes a CSV file. The data goes to a sibling temporary file renamed over
/// `path` at the end, so a failed export never leaves a half-written file
/// that looks complete.
pub fn write_csv<P, H, R, S>(path: P, header: &[H], rows: R) -> Result<(), WriteError>
where
    P: AsRef<Path>,
    H: AsRef<str>,
    R: IntoIterator,
    R::Item: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let path = path.as_ref();
    let partial = partial_path(path);
    let io_err = |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    };
    let result = (|| {
        let file = File::create(&partial).map_err(io_err)?;
        let mut writer = CsvWriter::new(BufWriter::new(file), header)?;
        for row in rows {
            writer.write_row(row)?;
        }
        let buffered = writer.finish()?;
        let file = buffered.into_inner().map_err(|e| io_err(e.into_error()))?;
        file.sync_all().map_err(io_err)?;
        fs::rename(&partial, path).map_err(io_err)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// One worksheet for [`write_xlsx`].
#[derive(Debug, Clone, Copy)]
pub struct XlsxSheet<'a> {
    /// Sheet name: at most 31 characters, none of `[]:*?/\`.
    pub name: &'a str,
    pub header: &'a [&'a str],
    pub rows: &'a [Vec<String>],
}

/// Writes a workbook with one sheet per entry, header in bold on row 1,
/// every cell as text.
pub fn write_xlsx<P: AsRef<Path>>(path: P, sheets: &[XlsxSheet<'_>]) -> Result<(), WriteError> {
    use rust_xlsxwriter::{Format, Workbook};

    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let ws = workbook.add_worksheet();
        ws.set_name(sheet.name).map_err(WriteError::Xlsx)?;
        for (c, name) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, col(c)?, *name, &bold)
                .map_err(WriteError::Xlsx)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            if row.len() != sheet.header.len() {
                return Err(WriteError::FieldCount {
                    row: r as u64 + 1,
                    expected: sheet.header.len(),
                    found: row.len(),
                });
            }
            let r = u32::try_from(r + 1).map_err(|_| too_big())?;
            for (c, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    ws.write_string(r, col(c)?, value)
                        .map_err(WriteError::Xlsx)?;
                }
            }
        }
    }
    workbook.save(path.as_ref()).map_err(WriteError::Xlsx)
}

fn col(c: usize) -> Result<u16, WriteError> {
    u16::try_from(c).map_err(|_| too_big())
}

fn too_big() -> WriteError {
    WriteError::Xlsx(rust_xlsxwriter::XlsxError::RowColumnLimitError)
}
