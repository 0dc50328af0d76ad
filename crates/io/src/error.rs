//! Errors from reading tables, and the row-level report shown to users.
//!
//! Data officers fix their files from these messages, so every problem
//! names the file, line and (when known) column, in Thai first and English
//! second. Messages never echo a cell's value: the files hold citizen IDs,
//! names and incomes, and error text ends up in logs, e-mails and
//! screenshots. Callers pushing their own validation errors must keep to the
//! same rule.
//!
//! [`ErrorReport`] caps the number of errors so that a file of garbage is
//! refused after a screenful of problems instead of being read to the end.

use std::fmt;
use std::io;

use thiserror::Error;

use crate::decode::DecodeError;
use crate::write::CsvWriter;

/// Errors collected by an [`ErrorReport`] before it stops.
pub const DEFAULT_ERROR_CAP: usize = 100;

/// What went wrong while reading a table. See [`ReadError`] for where.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadErrorKind {
    #[error("empty file")]
    Empty,
    #[error("UTF-16 text is not supported; save the file as \"CSV UTF-8\"")]
    Utf16,
    #[error("binary data, not text (control byte at byte offset {offset})")]
    Binary { offset: u64 },
    #[error(
        "not in a supported encoding (UTF-8, TIS-620/Windows-874): invalid byte at offset {offset}"
    )]
    Encoding { offset: u64 },
    #[error("record longer than {limit} bytes (unclosed quote?)")]
    RecordTooLong { limit: u64 },
    #[error("expected {expected} fields, found {found}")]
    Ragged { expected: usize, found: usize },
    #[error("missing required column(s): {}", .columns.join(", "))]
    MissingColumns { columns: Vec<String> },
    #[error("duplicate column name (columns {first} and {second})")]
    DuplicateColumn { first: String, second: String },
    #[error("cell holds an Excel error value such as #N/A")]
    ExcelErrorCell,
    #[error("unsupported file type (expected .csv, .tsv, .txt, .xlsx, .xlsm or .xls)")]
    UnsupportedFileType,
    #[error("no worksheet named {name:?}")]
    SheetNotFound { name: String },
    #[error("the workbook has no worksheets")]
    NoSheet,
    #[error(
        "the workbook unpacks to more than {limit_mib} MiB; split it, or save it as CSV (which is read as a stream)"
    )]
    WorkbookTooLarge { limit_mib: u64 },
    // calamine's own text stays in `source()` for operators' logs: some of
    // its variants quote fragments of the file.
    #[error("not a readable spreadsheet (damaged, or not .xlsx/.xls)")]
    Spreadsheet(#[source] Box<calamine::Error>),
    #[error("malformed CSV ({0})")]
    Csv(&'static str),
    #[error("cannot read the file: {0}")]
    Io(io::Error),
}

impl ReadErrorKind {
    /// The reason in Thai, for the people fixing the file.
    pub fn reason_th(&self) -> String {
        match self {
            ReadErrorKind::Empty => "ไฟล์ว่างเปล่า ไม่มีข้อมูล".to_owned(),
            ReadErrorKind::Utf16 => {
                "ไฟล์ใช้รหัสอักขระ UTF-16 ซึ่งไม่รองรับ กรุณาบันทึกเป็น CSV UTF-8".to_owned()
            }
            ReadErrorKind::Binary { offset } => {
                format!("ไฟล์นี้ไม่ใช่ไฟล์ข้อความ (พบอักขระควบคุมที่ไบต์ {offset})")
            }
            ReadErrorKind::Encoding { offset } => format!(
                "ไฟล์ไม่ได้ใช้รหัสอักขระที่รองรับ (UTF-8, TIS-620/Windows-874) พบไบต์ที่อ่านไม่ได้ที่ตำแหน่ง {offset}"
            ),
            ReadErrorKind::RecordTooLong { limit } => {
                format!("แถวข้อมูลยาวเกิน {limit} ไบต์ (อาจลืมปิดเครื่องหมายคำพูด)")
            }
            ReadErrorKind::Ragged { expected, found } => {
                format!("จำนวนช่องข้อมูลไม่ตรงกับหัวตาราง (ต้องมี {expected} ช่อง แต่พบ {found} ช่อง)")
            }
            ReadErrorKind::MissingColumns { columns } => {
                format!("ไม่พบคอลัมน์ที่จำเป็น: {}", columns.join(", "))
            }
            ReadErrorKind::DuplicateColumn { first, second } => {
                format!("ชื่อคอลัมน์ซ้ำกัน (คอลัมน์ {first} และ {second})")
            }
            ReadErrorKind::ExcelErrorCell => "ช่องนี้มีค่าผิดพลาดของ Excel เช่น #N/A".to_owned(),
            ReadErrorKind::UnsupportedFileType => {
                "ไม่รองรับไฟล์ประเภทนี้ (รองรับ .csv .tsv .txt .xlsx .xlsm .xls)".to_owned()
            }
            ReadErrorKind::SheetNotFound { name } => format!("ไม่พบแผ่นงานชื่อ {name:?}"),
            ReadErrorKind::NoSheet => "ไฟล์ Excel ไม่มีแผ่นงาน".to_owned(),
            ReadErrorKind::WorkbookTooLarge { limit_mib } => {
                format!("ไฟล์ Excel เมื่อแตกออกมีขนาดเกิน {limit_mib} MiB ให้แบ่งไฟล์ หรือบันทึกเป็น CSV")
            }
            ReadErrorKind::Spreadsheet(_) => {
                "เปิดไฟล์ Excel ไม่ได้ (ไฟล์เสียหาย หรือไม่ใช่ .xlsx/.xls)".to_owned()
            }
            ReadErrorKind::Csv(_) => "รูปแบบไฟล์ CSV ไม่ถูกต้อง".to_owned(),
            ReadErrorKind::Io(_) => "อ่านไฟล์ไม่ได้".to_owned(),
        }
    }

    /// The reason in English (same as `Display`).
    pub fn reason_en(&self) -> String {
        self.to_string()
    }
}

/// A problem reading a table, located by file, line and column.
///
/// Row-level problems ([`ReadError::is_row_level`]) spoil one record and
/// reading can go on; the rest end the file.
#[derive(Debug)]
pub struct ReadError {
    file: String,
    line: Option<u64>,
    column: Option<String>,
    kind: ReadErrorKind,
}

impl ReadError {
    pub(crate) fn new(file: &str, line: Option<u64>, kind: ReadErrorKind) -> Self {
        ReadError {
            file: file.to_owned(),
            line,
            column: None,
            kind,
        }
    }

    pub(crate) fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    pub(crate) fn from_decode(file: &str, err: DecodeError) -> Self {
        let line = err.line();
        let kind = match err {
            DecodeError::Empty => ReadErrorKind::Empty,
            DecodeError::Utf16 => ReadErrorKind::Utf16,
            DecodeError::Binary { offset, .. } => ReadErrorKind::Binary { offset },
            DecodeError::Unsupported { offset, .. } => ReadErrorKind::Encoding { offset },
        };
        ReadError::new(file, line, kind)
    }

    /// Wraps an I/O error from the decoding stack, recovering a decode
    /// error travelling inside it.
    pub(crate) fn from_io(file: &str, line: Option<u64>, err: io::Error) -> Self {
        match DecodeError::from_io(&err) {
            Some(decode) => ReadError::from_decode(file, decode.clone()),
            None => ReadError::new(file, line, ReadErrorKind::Io(err)),
        }
    }

    /// File name (no directories) the error belongs to.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// 1-based line (sheet row for spreadsheets), when the error has one.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// Column name, when the error concerns one cell.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }

    pub fn kind(&self) -> &ReadErrorKind {
        &self.kind
    }

    /// Whether only the current record is affected and reading may go on.
    pub fn is_row_level(&self) -> bool {
        matches!(
            self.kind,
            ReadErrorKind::Ragged { .. } | ReadErrorKind::ExcelErrorCell
        )
    }

    /// The error as a report entry; a missing line becomes 0 (whole file).
    pub fn to_row_error(&self) -> RowError {
        RowError {
            file: self.file.clone(),
            line: self.line.unwrap_or(0),
            column: self.column.clone(),
            reason_en: self.kind.reason_en(),
            reason_th: self.kind.reason_th(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": {column}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// One problem in one row, as shown to the people who sent the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// 1-based line (sheet row for spreadsheets); 0 means the whole file.
    pub line: u64,
    pub column: Option<String>,
    pub reason_en: String,
    pub reason_th: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(column) = &self.column {
            write!(f, ": {column}")?;
        }
        write!(f, ": {} ({})", self.reason_th, self.reason_en)
    }
}

/// Row errors for one file, capped so garbage input is refused early.
///
/// After `cap` errors the report adds a final "too many errors, stopped at
/// line N" entry, becomes full, and ignores further pushes;
/// [`crate::TableReader::next_record`] stops reading once it is full.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    file: String,
    cap: usize,
    errors: Vec<RowError>,
    full: bool,
}

impl ErrorReport {
    /// An empty report for `file` with the default cap of
    /// [`DEFAULT_ERROR_CAP`].
    pub fn new(file: impl Into<String>) -> Self {
        ErrorReport::with_cap(file, DEFAULT_ERROR_CAP)
    }

    /// An empty report that stops after `cap` errors (at least 1).
    pub fn with_cap(file: impl Into<String>, cap: usize) -> Self {
        ErrorReport {
            file: file.into(),
            cap: cap.max(1),
            errors: Vec::new(),
            full: false,
        }
    }

    /// Records a problem on `line` (0 for the whole file). Returns `false`
    /// when the report was already full and the error was dropped.
    ///
    /// The reasons must not contain the offending value.
    pub fn push(
        &mut self,
        line: u64,
        column: Option<&str>,
        reason_th: impl Into<String>,
        reason_en: impl Into<String>,
    ) -> bool {
        let error = RowError {
            file: self.file.clone(),
            line,
            column: column.map(str::to_owned),
            reason_en: reason_en.into(),
            reason_th: reason_th.into(),
        };
        self.push_row_error(error)
    }

    /// Records a ready-made entry (its `file` is kept as is).
    pub fn push_row_error(&mut self, error: RowError) -> bool {
        if self.full {
            return false;
        }
        let line = error.line;
        self.errors.push(error);
        if self.errors.len() >= self.cap {
            self.full = true;
            self.errors.push(RowError {
                file: self.file.clone(),
                line,
                column: None,
                reason_en: format!("too many errors, stopped at line {line}"),
                reason_th: format!("พบข้อผิดพลาดมากเกินไป หยุดตรวจที่บรรทัด {line}"),
            });
        }
        true
    }

    /// Records a [`ReadError`], row-level or not.
    pub fn push_read_error(&mut self, error: &ReadError) -> bool {
        self.push_row_error(error.to_row_error())
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Number of entries, including the final "stopped" entry when full.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Whether the cap was reached; no more errors are recorded.
    pub fn is_full(&self) -> bool {
        self.full
    }

    pub fn errors(&self) -> &[RowError] {
        &self.errors
    }

    pub fn iter(&self) -> std::slice::Iter<'_, RowError> {
        self.errors.iter()
    }

    pub fn into_errors(self) -> Vec<RowError> {
        self.errors
    }

    /// The report as CSV for download: `file,line,column,reason_th,reason_en`,
    /// same conventions as [`CsvWriter`]. Line 0 is written as an empty cell.
    pub fn to_csv(&self) -> String {
        let mut writer = CsvWriter::new(
            Vec::new(),
            &["file", "line", "column", "reason_th", "reason_en"],
        )
        .expect("writing to memory cannot fail");
        for e in &self.errors {
            let line = if e.line > 0 {
                e.line.to_string()
            } else {
                String::new()
            };
            writer
                .write_row([
                    e.file.as_str(),
                    line.as_str(),
                    e.column.as_deref().unwrap_or(""),
                    e.reason_th.as_str(),
                    e.reason_en.as_str(),
                ])
                .expect("writing to memory cannot fail");
        }
        let bytes = writer.finish().expect("writing to memory cannot fail");
        String::from_utf8(bytes).expect("all parts are UTF-8")
    }
}

impl fmt::Display for ErrorReport {
    /// One line per error, Thai first then English.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a ErrorReport {
    type Item = &'a RowError;
    type IntoIter = std::slice::Iter<'a, RowError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_thai_first() {
        let mut report = ErrorReport::new("persons.csv");
        report.push(
            12,
            Some("citizen_id"),
            "เลขประจำตัวประชาชนไม่ถูกต้อง",
            "check digit is wrong",
        );
        report.push(0, None, "ไฟล์ว่างเปล่า", "empty file");
        assert_eq!(
            report.to_string(),
            "persons.csv:12: citizen_id: เลขประจำตัวประชาชนไม่ถูกต้อง (check digit is wrong)\n\
             persons.csv: ไฟล์ว่างเปล่า (empty file)\n"
        );
    }

    #[test]
    fn cap_adds_a_final_entry_and_stops() {
        let mut report = ErrorReport::with_cap("a.csv", 3);
        for line in 2..10 {
            report.push(line, None, "ผิด", "wrong");
        }
        assert!(report.is_full());
        assert_eq!(report.len(), 4);
        assert_eq!(
            report.errors()[3].reason_en,
            "too many errors, stopped at line 4"
        );
        assert!(!report.push(11, None, "ผิด", "wrong"));
    }

    #[test]
    fn csv_export() {
        let mut report = ErrorReport::new("p.csv");
        report.push(3, Some("name"), "ว่าง", "blank, required");
        assert_eq!(
            report.to_csv(),
            "file,line,column,reason_th,reason_en\np.csv,3,name,ว่าง,\"blank, required\"\n"
        );
    }
}
