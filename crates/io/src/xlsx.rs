//! Turning spreadsheet cells into the same strings a CSV would give.
//!
//! Excel stores a citizen ID typed as a number as a float, and a date as a
//! day count; importers want "1101700203451" and "2024-05-12", not
//! "1.1017002034510E+12" or "45424". Integral numbers therefore print
//! without a fraction and date cells print as ISO dates. Excel serials are
//! always on the Common Era (Gregorian) calendar, even when a Thai-locale
//! Excel displays a Buddhist-Era year; a date typed with a BE year (say
//! 12/05/2567) is stored as the CE year 2567, and it is for the domain layer,
//! not this crate, to recognise such years and convert them.

use std::io::Cursor;

use calamine::{Data, Range, Reader};

use crate::error::{ReadError, ReadErrorKind};

/// A cell holding an Excel error value (`#N/A`, `#DIV/0!`, ...).
pub(crate) struct ErrorCell;

/// Largest magnitude at which every integer is exact in an `f64`.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

pub(crate) fn cell_text(cell: &Data) -> Result<String, ErrorCell> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(true) => "TRUE".to_owned(),
        Data::Bool(false) => "FALSE".to_owned(),
        Data::DateTime(dt) if dt.is_datetime() => datetime_text(dt.as_f64(), dt.to_ymd_hms_milli()),
        Data::DateTime(dt) => number_text(dt.as_f64()),
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).trim().to_owned(),
        Data::DurationIso(s) => s.trim().to_owned(),
        Data::Error(_) => return Err(ErrorCell),
    })
}

fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT_INT {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn datetime_text(serial: f64, parts: (u16, u8, u8, u8, u8, u8, u16)) -> String {
    let (y, mo, d, h, mi, s, _ms) = parts;
    if serial < 1.0 {
        // A bare time of day has no meaningful date part.
        format!("{h:02}:{mi:02}:{s:02}")
    } else if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
    }
}

/// The most a workbook may unpack to. An `.xlsx` is a zip archive, and calamine holds the
/// unpacked sheet in memory: a small upload that inflates to gigabytes (a "zip bomb", or just
/// a huge export) must be refused before it is unpacked, not after memory runs out.
pub const MAX_UNPACKED_BYTES: u64 = 512 << 20;

/// Refuses a zip-based workbook whose entries declare more than `limit` bytes unpacked in
/// all. The zip reader stops each entry at its declared size, so the declared sizes bound
/// what unpacking can produce. Anything that is not a zip archive is left to calamine.
pub(crate) fn check_unpacked_size(file: &str, bytes: &[u8], limit: u64) -> Result<(), ReadError> {
    if !bytes.starts_with(b"PK") {
        return Ok(());
    }
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // Not a readable archive: calamine gives the error the user sees.
        return Ok(());
    };
    let mut total = 0u64;
    for i in 0..archive.len() {
        let size = archive.by_index_raw(i).map_or(0, |entry| entry.size());
        total = total.saturating_add(size);
        if total > limit {
            return Err(ReadError::new(
                file,
                None,
                ReadErrorKind::WorkbookTooLarge {
                    limit_mib: limit >> 20,
                },
            ));
        }
    }
    Ok(())
}

/// Loads one worksheet (the named one, else the first) from workbook bytes.
pub(crate) fn load_sheet(
    file: &str,
    bytes: &[u8],
    sheet: Option<&str>,
) -> Result<Range<Data>, ReadError> {
    check_unpacked_size(file, bytes, MAX_UNPACKED_BYTES)?;
    let spreadsheet = |e| ReadError::new(file, None, ReadErrorKind::Spreadsheet(Box::new(e)));
    let mut workbook =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(spreadsheet)?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.to_lowercase() == wanted.to_lowercase())
            })
            .ok_or_else(|| {
                ReadError::new(
                    file,
                    None,
                    ReadErrorKind::SheetNotFound {
                        name: wanted.to_owned(),
                    },
                )
            })?,
        None => names
            .first()
            .ok_or_else(|| ReadError::new(file, None, ReadErrorKind::NoSheet))?,
    }
    .clone();
    workbook.worksheet_range(&name).map_err(spreadsheet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    fn date(serial: f64) -> String {
        let dt = ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false);
        cell_text(&Data::DateTime(dt)).ok().unwrap()
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(number_text(1_101_700_203_451.0), "1101700203451");
        assert_eq!(number_text(2.5), "2.5");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(date(45424.0), "2024-05-12");
        assert_eq!(date(45424.5), "2024-05-12T12:00:00");
        assert_eq!(date(0.25), "06:00:00");
        assert_eq!(date(1.0), "1900-01-01");
    }
}
