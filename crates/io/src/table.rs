//! One reader for tabular files, whether CSV or spreadsheet.
//!
//! Import code should not care how a file reached us: it asks for the header,
//! checks the columns it needs, then pulls records one at a time. CSV is
//! streamed through [`DecodingReader`] so a multi-gigabyte upload costs a few
//! hundred kilobytes of memory, and one runaway record (an unclosed quote, a
//! file with no line breaks) is cut off at [`MAX_RECORD_BYTES`] instead of
//! being buffered whole. Spreadsheets are loaded a sheet at a time by
//! calamine, so they are bounded by the sheet's size instead.
//!
//! Cells are trimmed and otherwise left alone; in particular Thai digits are
//! *not* rewritten here, because names and addresses must keep their Thai
//! text. Callers apply [`crate::normalize_digits`] to numeric and code fields.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use calamine::{Data, Range};

use crate::decode::{DecodingReader, read_up_to};
use crate::error::{ErrorReport, ReadError, ReadErrorKind};
use crate::xlsx;

/// Longest CSV record accepted, in decoded bytes.
pub const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// Optional settings for opening a table.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OpenOptions {
    /// Worksheet to read (exact name, else case-insensitive); default the
    /// first sheet. Ignored for CSV.
    pub sheet: Option<String>,
    /// CSV field delimiter. Default: tab for `.tsv`/`.tab`, comma for
    /// `.csv`, and for anything else a guess from the first line among
    /// comma, tab, semicolon and `|`.
    pub delimiter: Option<u8>,
}

impl OpenOptions {
    pub fn new() -> Self {
        OpenOptions::default()
    }

    pub fn sheet(mut self, name: impl Into<String>) -> Self {
        self.sheet = Some(name.into());
        self
    }

    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = Some(delimiter);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Delimited(Option<u8>),
    Spreadsheet,
}

fn format_of(name: &str) -> Option<Format> {
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Some(Format::Delimited(Some(b','))),
        Some("tsv" | "tab") => Some(Format::Delimited(Some(b'\t'))),
        Some("txt") => Some(Format::Delimited(None)),
        Some("xlsx" | "xlsm" | "xls") => Some(Format::Spreadsheet),
        _ => None,
    }
}

/// Zip (xlsx, xlsm) or OLE2 (xls) signature.
fn looks_like_workbook(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
}

/// The extension decides, except that a workbook renamed to `.csv` (a
/// common slip) is still read as a workbook instead of refused as binary.
fn choose_format(file: &str, head: &[u8]) -> Result<Format, ReadError> {
    match format_of(file) {
        Some(Format::Delimited(_)) | None if looks_like_workbook(head) => Ok(Format::Spreadsheet),
        Some(format) => Ok(format),
        None => Err(ReadError::new(
            file,
            None,
            ReadErrorKind::UnsupportedFileType,
        )),
    }
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Picks the delimiter that occurs most often on the first non-blank line.
fn guess_delimiter(head: &[u8]) -> u8 {
    let first_line = head
        .split(|&b| b == b'\n')
        .find(|line| !line.trim_ascii().is_empty())
        .unwrap_or_default();
    let mut best = (0, b',');
    for candidate in [b',', b'\t', b';', b'|'] {
        let count = first_line.iter().filter(|&&b| b == candidate).count();
        if count > best.0 {
            best = (count, candidate);
        }
    }
    best.1
}

/// Spreadsheet-style column letter (0 → A, 26 → AA), for messages that must
/// not quote header text.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// The column names of a table.
///
/// Names are trimmed with any BOM removed and are matched
/// case-insensitively. Blank names are allowed (spreadsheets often have
/// stray empty columns) but can never be looked up or required.
#[derive(Debug, Clone)]
pub struct Header {
    file: String,
    line: u64,
    names: Vec<String>,
    keys: Vec<String>,
}

fn clean_name(name: &str) -> &str {
    name.trim().trim_start_matches('\u{FEFF}').trim()
}

fn key(name: &str) -> String {
    clean_name(name).to_lowercase()
}

impl Header {
    fn new(file: &str, line: u64, raw: Vec<String>) -> Result<Self, ReadError> {
        let names: Vec<String> = raw.iter().map(|n| clean_name(n).to_owned()).collect();
        let keys: Vec<String> = names.iter().map(|n| key(n)).collect();
        for (i, k) in keys.iter().enumerate() {
            if k.is_empty() {
                continue;
            }
            if let Some(j) = keys[..i].iter().position(|other| other == k) {
                // Positions, not the name: a file without a header row would
                // make its first record the "header", and that is personal data.
                return Err(ReadError::new(
                    file,
                    Some(line),
                    ReadErrorKind::DuplicateColumn {
                        first: column_letter(j),
                        second: column_letter(i),
                    },
                ));
            }
        }
        Ok(Header {
            file: file.to_owned(),
            line,
            names,
            keys,
        })
    }

    /// Column names as written (trimmed).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Line (sheet row) the header was found on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Position of the column called `name`, ignoring case and surrounding
    /// spaces.
    pub fn index(&self, name: &str) -> Option<usize> {
        let wanted = key(name);
        if wanted.is_empty() {
            return None;
        }
        self.keys.iter().position(|k| *k == wanted)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index(name).is_some()
    }

    /// Positions of all `names`, in order, or one error listing every
    /// missing column so the sender can fix the file in a single pass.
    pub fn require(&self, names: &[&str]) -> Result<Vec<usize>, ReadError> {
        let mut found = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for name in names {
            match self.index(name) {
                Some(i) => found.push(i),
                None => missing.push((*name).to_owned()),
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(ReadError::new(
                &self.file,
                Some(self.line),
                ReadErrorKind::MissingColumns { columns: missing },
            ))
        }
    }
}

/// One data row: trimmed cells, as many as the header has columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based physical line where the record starts (header = its own
    /// line, usually 1); the sheet row number for spreadsheets.
    pub line: u64,
    pub fields: Vec<String>,
}

impl Record {
    /// The cell at `index`, or "" past the end.
    pub fn get(&self, index: usize) -> &str {
        self.fields.get(index).map_or("", String::as_str)
    }
}

/// Marker travelling inside an `io::Error` from [`Tracker`].
#[derive(Debug, thiserror::Error)]
#[error("record too long")]
struct RecordTooLong;

/// A maximal run of `\r`/`\n` bytes in the decoded stream.
#[derive(Debug, Clone, Copy)]
struct BreakRun {
    start: u64,
    end: u64,
    /// Line breaks in the run: CRLF, LF and a lone CR each count once.
    newlines: u64,
    ends_with_cr: bool,
}

/// Sits between the decoder and the CSV parser to do two jobs the parser
/// does not do for us.
///
/// It refuses to hand over more than [`MAX_RECORD_BYTES`] past the start of
/// the current record, because the parser buffers a record whole.
///
/// It also works out physical line numbers. The parser's own count is off
/// for CRLF files and after blank lines (it places a record's start on the
/// preceding line break), so we remember where the runs of line-break bytes
/// are and place each record after the run its start offset falls in.
struct Tracker<R> {
    inner: R,
    delivered: u64,
    record_start: u64,
    /// Runs not yet behind the last record looked up.
    runs: std::collections::VecDeque<BreakRun>,
    /// Newlines in runs already dropped from `runs`.
    newlines_before: u64,
}

impl<R> Tracker<R> {
    fn new(inner: R) -> Self {
        Tracker {
            inner,
            delivered: 0,
            record_start: 0,
            runs: std::collections::VecDeque::new(),
            newlines_before: 0,
        }
    }

    /// Line on which content starting at or after `offset` begins; offsets
    /// must not go backwards between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        while let Some(run) = self.runs.front() {
            if run.end > offset {
                break;
            }
            self.newlines_before += run.newlines;
            self.runs.pop_front();
        }
        let inside = self.runs.front().filter(|run| run.start <= offset);
        1 + self.newlines_before + inside.map_or(0, |run| run.newlines)
    }

    fn note(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            if b != b'\n' && b != b'\r' {
                continue;
            }
            let at = self.delivered + i as u64;
            let is_cr = b == b'\r';
            match self.runs.back_mut() {
                Some(run) if run.end == at => {
                    run.end += 1;
                    // The LF of a CRLF was counted with its CR.
                    run.newlines += u64::from(is_cr || !run.ends_with_cr);
                    run.ends_with_cr = is_cr;
                }
                _ => self.runs.push_back(BreakRun {
                    start: at,
                    end: at + 1,
                    newlines: 1,
                    ends_with_cr: is_cr,
                }),
            }
        }
    }
}

impl<R: Read> Read for Tracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.delivered - self.record_start > MAX_RECORD_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong));
        }
        let n = self.inner.read(buf)?;
        self.note(&buf[..n]);
        self.delivered += n as u64;
        Ok(n)
    }
}

type CsvSource = csv::Reader<Tracker<DecodingReader<Box<dyn Read + Send>>>>;

enum Source {
    Csv {
        reader: Box<CsvSource>,
        record: csv::StringRecord,
    },
    Sheet {
        range: Range<Data>,
        next_row: usize,
        first_row: u64,
    },
}

/// Reads a header and then records, lazily, from CSV or a spreadsheet.
///
/// Blank rows (all cells empty) are skipped everywhere. Iterating yields
/// `Result<Record, ReadError>`; after a fatal error iteration ends. Most
/// callers want [`TableReader::next_record`], which files row-level
/// problems into an [`ErrorReport`] and stops when it is full.
pub struct TableReader {
    file: String,
    header: Header,
    source: Source,
    done: bool,
}

impl TableReader {
    /// Opens a file, choosing CSV or spreadsheet by extension.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        TableReader::open_with(path, &OpenOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Self, ReadError> {
        let path = path.as_ref();
        let file = display_name(path);
        let io_err = |e| ReadError::new(&file, None, ReadErrorKind::Io(e));
        let mut handle = File::open(path).map_err(io_err)?;
        let mut head = [0u8; 8];
        let n = read_up_to(&mut handle, &mut head).map_err(io_err)?;
        match choose_format(&file, &head[..n])? {
            Format::Delimited(default) => {
                handle.seek(SeekFrom::Start(0)).map_err(io_err)?;
                TableReader::csv(&file, Box::new(handle), options.delimiter.or(default))
            }
            Format::Spreadsheet => {
                drop(handle);
                let bytes = std::fs::read(path).map_err(io_err)?;
                TableReader::from_xlsx_bytes(&file, &bytes, options)
            }
        }
    }

    /// Reads uploaded bytes, choosing CSV or spreadsheet like
    /// [`TableReader::open`]; `file_name` supplies the extension and labels
    /// errors.
    pub fn from_upload(
        file_name: &str,
        bytes: Vec<u8>,
        options: &OpenOptions,
    ) -> Result<Self, ReadError> {
        match choose_format(file_name, &bytes)? {
            Format::Spreadsheet => TableReader::from_xlsx_bytes(file_name, &bytes, options),
            Format::Delimited(default) => TableReader::csv(
                file_name,
                Box::new(io::Cursor::new(bytes)),
                options.delimiter.or(default),
            ),
        }
    }

    /// Reads CSV from any byte source, streaming. `file_name` labels errors
    /// and, through its extension, picks the default delimiter.
    pub fn from_csv_reader<R: Read + Send + 'static>(
        file_name: &str,
        reader: R,
        options: &OpenOptions,
    ) -> Result<Self, ReadError> {
        let default = match format_of(file_name) {
            Some(Format::Delimited(d)) => d,
            _ => None,
        };
        TableReader::csv(file_name, Box::new(reader), options.delimiter.or(default))
    }

    fn csv(
        file: &str,
        source: Box<dyn Read + Send>,
        delimiter: Option<u8>,
    ) -> Result<Self, ReadError> {
        let decoder = DecodingReader::new(source).map_err(|e| ReadError::from_io(file, None, e))?;
        let delimiter = delimiter.unwrap_or_else(|| guess_delimiter(decoder.peek_raw()));
        let limited = Tracker::new(decoder);
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(limited);
        let mut source = Source::Csv {
            reader: Box::new(reader),
            record: csv::StringRecord::new(),
        };
        let mut fields = Vec::new();
        let header = match next_raw_row(file, &mut source, &[], &mut fields) {
            Some(Ok(line)) => Header::new(file, line, fields)?,
            Some(Err(e)) => return Err(e),
            None => return Err(ReadError::new(file, None, ReadErrorKind::Empty)),
        };
        Ok(TableReader {
            file: file.to_owned(),
            header,
            source,
            done: false,
        })
    }

    /// Reads a workbook held in memory (`.xlsx`, `.xlsm` or `.xls`).
    pub fn from_xlsx_bytes(
        file_name: &str,
        bytes: &[u8],
        options: &OpenOptions,
    ) -> Result<Self, ReadError> {
        let range = xlsx::load_sheet(file_name, bytes, options.sheet.as_deref())?;
        let first_row = range.start().map_or(0, |(row, _)| u64::from(row));
        let mut source = Source::Sheet {
            range,
            next_row: 0,
            first_row,
        };
        let mut fields = Vec::new();
        let header = match next_raw_row(file_name, &mut source, &[], &mut fields) {
            Some(Ok(line)) => Header::new(file_name, line, fields)?,
            Some(Err(e)) => return Err(e),
            None => return Err(ReadError::new(file_name, None, ReadErrorKind::Empty)),
        };
        Ok(TableReader {
            file: file_name.to_owned(),
            header,
            source,
            done: false,
        })
    }

    /// File name used in errors.
    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// An empty [`ErrorReport`] labelled with this file.
    pub fn new_report(&self) -> ErrorReport {
        ErrorReport::new(self.file.clone())
    }

    /// The next good record, filing row-level problems (ragged rows, Excel
    /// error cells) into `report` and skipping them.
    ///
    /// Returns `Ok(None)` at the end of the file *or* once `report` is full,
    /// so a loop that also pushes its own validation errors stops early on
    /// garbage. Fatal problems (encoding, I/O, runaway record) are returned
    /// as `Err`; add them with [`ErrorReport::push_read_error`] if the
    /// report should show them.
    pub fn next_record(&mut self, report: &mut ErrorReport) -> Result<Option<Record>, ReadError> {
        let mut record = Record {
            line: 0,
            fields: Vec::new(),
        };
        Ok(self
            .next_record_into(report, &mut record)?
            .then_some(record))
    }

    /// [`TableReader::next_record`] into a record the caller keeps, reusing its cells'
    /// memory: a loop over millions of rows then allocates nothing per row. Returns `false`
    /// (leaving `record` unspecified) where `next_record` returns `None`.
    pub fn next_record_into(
        &mut self,
        report: &mut ErrorReport,
        record: &mut Record,
    ) -> Result<bool, ReadError> {
        loop {
            if report.is_full() || self.done {
                return Ok(false);
            }
            let Some(item) = next_raw_row(
                &self.file,
                &mut self.source,
                &self.header.names,
                &mut record.fields,
            ) else {
                return Ok(false);
            };
            match self.check_width(item, record.fields.len()) {
                Ok(line) => {
                    record.line = line;
                    return Ok(true);
                }
                Err(e) if e.is_row_level() => {
                    report.push_read_error(&e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A raw row's line if it has as many cells as the header; a fatal error ends reading.
    fn check_width(
        &mut self,
        item: Result<u64, ReadError>,
        found: usize,
    ) -> Result<u64, ReadError> {
        match item {
            Ok(line) if found == self.header.len() => Ok(line),
            Ok(line) => Err(ReadError::new(
                &self.file,
                Some(line),
                ReadErrorKind::Ragged {
                    expected: self.header.len(),
                    found,
                },
            )),
            Err(e) => {
                if !e.is_row_level() {
                    self.done = true;
                }
                Err(e)
            }
        }
    }
}

impl Iterator for TableReader {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut fields = Vec::new();
        let item = next_raw_row(
            &self.file,
            &mut self.source,
            &self.header.names,
            &mut fields,
        )?;
        Some(
            self.check_width(item, fields.len())
                .map(|line| Record { line, fields }),
        )
    }
}

/// The next non-blank row: its line, with its trimmed cells in `fields` (whose
/// strings are reused). `names` (the header, once known) labels cell errors;
/// unnamed columns get their letter.
fn next_raw_row(
    file: &str,
    source: &mut Source,
    names: &[String],
    fields: &mut Vec<String>,
) -> Option<Result<u64, ReadError>> {
    match source {
        Source::Csv { reader, record } => loop {
            let start = reader.position().byte();
            match reader.read_record(record) {
                Ok(false) => return None,
                Ok(true) => {
                    let start = record.position().map_or(start, |p| p.byte());
                    let next = reader.position().byte();
                    let tracker = reader.get_mut();
                    let line = tracker.line_at(start);
                    tracker.record_start = next;
                    if record.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    let mut n = 0;
                    for f in record.iter() {
                        let f = f.trim();
                        match fields.get_mut(n) {
                            Some(cell) => {
                                cell.clear();
                                cell.push_str(f);
                            }
                            None => fields.push(f.to_owned()),
                        }
                        n += 1;
                    }
                    fields.truncate(n);
                    return Some(Ok(line));
                }
                Err(e) => {
                    let line = reader.get_mut().line_at(start);
                    return Some(Err(csv_error(file, line, e)));
                }
            }
        },
        Source::Sheet {
            range,
            next_row,
            first_row,
        } => {
            let (height, width) = range.get_size();
            while *next_row < height {
                let r = *next_row;
                *next_row += 1;
                let line = *first_row + r as u64 + 1;
                fields.clear();
                let mut bad_column = None;
                for c in 0..width {
                    let cell = range.get((r, c)).unwrap_or(&Data::Empty);
                    match xlsx::cell_text(cell) {
                        Ok(text) => fields.push(text),
                        Err(xlsx::ErrorCell) => {
                            bad_column.get_or_insert(c);
                            fields.push(String::new());
                        }
                    }
                }
                if let Some(c) = bad_column {
                    let column = match names.get(c) {
                        Some(name) if !name.is_empty() => name.clone(),
                        _ => column_letter(c),
                    };
                    let err = ReadError::new(file, Some(line), ReadErrorKind::ExcelErrorCell)
                        .with_column(column);
                    return Some(Err(err));
                }
                if fields.iter().all(String::is_empty) {
                    continue;
                }
                return Some(Ok(line));
            }
            None
        }
    }
}

fn csv_error(file: &str, line: u64, err: csv::Error) -> ReadError {
    match err.into_kind() {
        csv::ErrorKind::Io(io) => {
            let too_long = io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<RecordTooLong>().is_some());
            if too_long {
                ReadError::new(
                    file,
                    Some(line),
                    ReadErrorKind::RecordTooLong {
                        limit: MAX_RECORD_BYTES,
                    },
                )
            } else {
                ReadError::from_io(file, Some(line), io)
            }
        }
        kind => ReadError::new(file, Some(line), ReadErrorKind::Csv(csv_kind_name(&kind))),
    }
}

/// Names a csv error kind without its payload, which may quote the data.
fn csv_kind_name(kind: &csv::ErrorKind) -> &'static str {
    match kind {
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "unequal record lengths",
        csv::ErrorKind::Seek => "seek",
        csv::ErrorKind::Serialize(_) => "serialize",
        csv::ErrorKind::Deserialize { .. } => "deserialize",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn delimiter_guess() {
        assert_eq!(guess_delimiter(b"a\tb\tc\n1,2\t3"), b'\t');
        assert_eq!(guess_delimiter(b"a;b;c"), b';');
        assert_eq!(guess_delimiter(b"abc"), b',');
        assert_eq!(guess_delimiter(b"\r\n\na|b|c\n"), b'|');
    }
}
