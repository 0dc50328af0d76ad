//! File input and output for halve: CSV and XLSX in, CSV and XLSX out.
//!
//! Government data reaches the council as CSV or spreadsheets, in UTF-8 or
//! the Thai legacy encoding TIS-620, with or without Excel's BOM, sometimes
//! with Thai digits. This crate turns all of that into one stream of trimmed
//! string records with physical line numbers, and collects row-level
//! problems into a capped, bilingual [`ErrorReport`]. It knows nothing of
//! SQL, HTTP or the meaning of columns: validating values is the import
//! code's job, and errors here never quote a cell, only its place.
//!
//! The import loop the crate is shaped for:
//!
//! ```
//! use halve_io::{OpenOptions, TableReader, normalize_digits};
//!
//! # fn main() -> Result<(), halve_io::ReadError> {
//! let upload = "\u{FEFF}Citizen_ID,ชื่อ\n๓๘๐๐๑๐๐๐๑๒๓๔๕,สมหญิง\n12,สมชาย\n";
//! let mut table = TableReader::from_upload("persons.csv", upload.into(), &OpenOptions::new())?;
//! let [id, name] = table.header().require(&["citizen_id", "ชื่อ"])?[..] else {
//!     unreachable!()
//! };
//! let mut report = table.new_report();
//! let mut people = Vec::new();
//! while let Some(record) = table.next_record(&mut report)? {
//!     let citizen_id = normalize_digits(record.get(id));
//!     if citizen_id.len() != 13 {
//!         report.push(
//!             record.line,
//!             Some("citizen_id"),
//!             "เลขประจำตัวประชาชนต้องมี 13 หลัก",
//!             "citizen ID must have 13 digits",
//!         );
//!         continue;
//!     }
//!     people.push((citizen_id.into_owned(), record.get(name).to_owned()));
//! }
//! assert_eq!(people, [("3800100012345".to_owned(), "สมหญิง".to_owned())]);
//! assert_eq!(
//!     report.to_string(),
//!     "persons.csv:3: citizen_id: เลขประจำตัวประชาชนต้องมี 13 หลัก (citizen ID must have 13 digits)\n"
//! );
//! # Ok(())
//! # }
//! ```

mod decode;
mod error;
mod table;
mod text;
mod write;
mod xlsx;

pub use decode::{DecodeError, DecodingReader, Encoding, SNIFF_LEN, decode_all, sniff};
pub use error::{DEFAULT_ERROR_CAP, ErrorReport, ReadError, ReadErrorKind, RowError};
pub use table::{Header, MAX_RECORD_BYTES, OpenOptions, Record, TableReader, column_letter};
pub use text::normalize_digits;
pub use write::{CsvWriter, WriteError, XlsxSheet, csv_to_bytes, write_csv, write_xlsx};
