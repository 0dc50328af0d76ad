//! Huge inputs are refused after a bounded amount of reading.
//!
//! Each source is generated lazily (2 GiB, never materialised) and wrapped
//! in a byte counter. Asserting a small count is the proof that memory stays
//! flat: whatever was not read cannot have been buffered.

mod common;

use common::{Counting, GIB, Generated, Repeating, count};
use halve_io::{
    DEFAULT_ERROR_CAP, MAX_RECORD_BYTES, OpenOptions, ReadErrorKind, SNIFF_LEN, TableReader,
};

const BOUND: u64 = 4 * SNIFF_LEN as u64;

#[test]
fn random_bytes_refused_as_binary() {
    let (src, n) = Counting::new(Generated::new(2 * GIB, 7, |r| r as u8));
    let err = TableReader::from_csv_reader("garbage.csv", src, &OpenOptions::new())
        .err()
        .expect("refused");
    assert!(
        matches!(err.kind(), ReadErrorKind::Binary { .. }),
        "got {err}"
    );
    assert!(err.to_string().contains("binary"));
    assert!(count(&n) <= BOUND, "read {} bytes", count(&n));
}

#[test]
fn random_high_bytes_refused_as_bad_encoding() {
    // No control bytes at all, so only the encoding check can catch it.
    let (src, n) = Counting::new(Generated::new(2 * GIB, 11, |r| {
        let b = (r >> 8) as u8;
        if b < 0x20 { b'\n' } else { b }
    }));
    let err = TableReader::from_csv_reader("garbage.csv", src, &OpenOptions::new())
        .err()
        .expect("refused");
    assert!(
        matches!(err.kind(), ReadErrorKind::Encoding { .. }),
        "got {err}"
    );
    assert!(
        err.to_string()
            .contains("not in a supported encoding (UTF-8, TIS-620/Windows-874)")
    );
    assert!(err.line().is_some());
    assert!(count(&n) <= BOUND, "read {} bytes", count(&n));
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz,,,,\n";

#[test]
fn text_junk_refused_at_header() {
    let (src, n) = Counting::new(Generated::new(2 * GIB, 3, |r| {
        LETTERS[(r % LETTERS.len() as u64) as usize]
    }));
    let table = TableReader::from_csv_reader("junk.csv", src, &OpenOptions::new()).unwrap();
    let err = table
        .header()
        .require(&["citizen_id", "name"])
        .expect_err("junk has no such columns");
    match err.kind() {
        ReadErrorKind::MissingColumns { columns } => {
            assert_eq!(columns, &["citizen_id", "name"]);
        }
        other => panic!("unexpected {other}"),
    }
    assert!(count(&n) <= BOUND, "read {} bytes", count(&n));
}

#[test]
fn text_junk_without_line_breaks_is_cut_off() {
    let (src, n) = Counting::new(Generated::new(2 * GIB, 5, |r| {
        LETTERS[(r % (LETTERS.len() as u64 - 1)) as usize]
    }));
    let err = TableReader::from_csv_reader("junk.csv", src, &OpenOptions::new())
        .err()
        .expect("refused");
    assert!(
        matches!(err.kind(), ReadErrorKind::RecordTooLong { .. }),
        "got {err}"
    );
    assert_eq!(err.line(), Some(1));
    assert!(
        count(&n) <= MAX_RECORD_BYTES + BOUND,
        "read {} bytes",
        count(&n)
    );
}

#[test]
fn unclosed_quote_is_cut_off() {
    let (src, n) = Counting::new(Repeating::new("id,name\n1,\"open\n", "2,x\n", 2 * GIB));
    let mut table = TableReader::from_csv_reader("q.csv", src, &OpenOptions::new()).unwrap();
    let err = table.next().unwrap().expect_err("runaway record");
    assert!(matches!(err.kind(), ReadErrorKind::RecordTooLong { .. }));
    assert_eq!(err.line(), Some(2));
    assert!(table.next().is_none(), "fatal errors end iteration");
    assert!(count(&n) <= MAX_RECORD_BYTES + BOUND);
}

#[test]
fn all_ragged_rows_stop_at_the_cap() {
    let (src, n) = Counting::new(Repeating::new("citizen_id,name\n", "1,2,3\n", 2 * GIB));
    let mut table = TableReader::from_csv_reader("bad.csv", src, &OpenOptions::new()).unwrap();
    let mut report = table.new_report();
    let first_good = table.next_record(&mut report).unwrap();
    assert!(first_good.is_none(), "no row is good");
    assert!(report.is_full());
    assert_eq!(report.len(), DEFAULT_ERROR_CAP + 1);
    let last = report.errors().last().unwrap();
    assert_eq!(last.line, DEFAULT_ERROR_CAP as u64 + 1);
    assert_eq!(
        last.reason_en,
        format!("too many errors, stopped at line {}", last.line)
    );
    assert!(count(&n) <= BOUND, "read {} bytes", count(&n));
}

#[test]
fn caller_validation_errors_stop_at_the_cap() {
    let (src, n) = Counting::new(Repeating::new(
        "citizen_id,name\n",
        "12345,สมชาย\n",
        2 * GIB,
    ));
    let mut table = TableReader::from_csv_reader("persons.csv", src, &OpenOptions::new()).unwrap();
    let [id] = table.header().require(&["citizen_id"]).unwrap()[..] else {
        unreachable!()
    };
    let mut report = table.new_report();
    let mut seen = 0;
    while let Some(record) = table.next_record(&mut report).unwrap() {
        seen += 1;
        if record.get(id).len() != 13 {
            report.push(
                record.line,
                Some("citizen_id"),
                "เลขประจำตัวประชาชนต้องมี 13 หลัก",
                "citizen ID must have 13 digits",
            );
        }
    }
    assert_eq!(seen, DEFAULT_ERROR_CAP);
    assert!(report.is_full());
    assert!(!report.to_string().contains("12345"));
    assert!(count(&n) <= BOUND, "read {} bytes", count(&n));
}

#[test]
fn a_workbook_that_unpacks_to_more_than_the_limit_is_refused_before_unpacking() {
    use std::io::Write;
    // 513 MiB of zeros deflate to well under a megabyte: the shape of a zip bomb.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..513 {
        zip.write_all(&zeros).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() < 4 << 20, "{} bytes", bytes.len());
    let err = TableReader::from_xlsx_bytes("bomb.xlsx", &bytes, &OpenOptions::new())
        .err()
        .expect("refused");
    assert!(
        matches!(
            err.kind(),
            ReadErrorKind::WorkbookTooLarge { limit_mib: 512 }
        ),
        "got {err}"
    );
    assert!(err.to_string().contains("512 MiB"), "{err}");
}
