//! CSV reading end to end: encodings, headers, line numbers, row errors.

use std::io::Write;

use halve_io::{OpenOptions, ReadError, ReadErrorKind, Record, TableReader, normalize_digits};

fn open(name: &str, bytes: &[u8]) -> Result<TableReader, ReadError> {
    TableReader::from_upload(name, bytes.to_vec(), &OpenOptions::new())
}

fn rows(table: TableReader) -> Vec<Result<Record, ReadError>> {
    table.collect()
}

fn good(table: TableReader) -> Vec<Record> {
    rows(table).into_iter().map(Result::unwrap).collect()
}

#[test]
fn tis620_file_is_read() {
    let text = "เลขประจำตัว,ชื่อ,จังหวัด\r\n3800100012345,สมหญิง,นครศรีธรรมราช\r\n";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_874.encode(text);
    assert!(!unmappable);
    let table = open("persons.csv", &bytes).unwrap();
    assert_eq!(table.header().names(), ["เลขประจำตัว", "ชื่อ", "จังหวัด"]);
    assert_eq!(table.header().index("จังหวัด"), Some(2));
    let records = good(table);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].line, 2);
    assert_eq!(
        records[0].fields,
        ["3800100012345", "สมหญิง", "นครศรีธรรมราช"]
    );
}

#[test]
fn utf8_with_bom_and_case_insensitive_header() {
    let bytes = "\u{FEFF} Citizen_ID , Name\n1,สมชาย\n".as_bytes();
    let table = open("p.csv", bytes).unwrap();
    assert_eq!(table.header().names(), ["Citizen_ID", "Name"]);
    assert_eq!(
        table.header().require(&["citizen_id", "NAME"]).unwrap(),
        [0, 1]
    );
    assert_eq!(good(table)[0].fields, ["1", "สมชาย"]);
}

#[test]
fn utf8_without_bom() {
    let table = open("p.csv", "a,b\n ก , ข \n".as_bytes()).unwrap();
    assert_eq!(good(table)[0].fields, ["ก", "ข"]);
}

#[test]
fn unsupported_encoding_is_refused_clearly() {
    let err = open("p.csv", b"id,name\n1,caf\xFC\n").err().unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::Encoding { offset: 13 }));
    assert_eq!(err.line(), Some(2));
    assert_eq!(
        err.to_string(),
        "p.csv:2: not in a supported encoding (UTF-8, TIS-620/Windows-874): invalid byte at offset 13"
    );
    assert!(err.kind().reason_th().contains("TIS-620"));
}

#[test]
fn binary_is_refused() {
    let err = open("prog.csv", b"\x7FELF\x02\x01\x01\x00").err().unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::Binary { offset: 4 }));
    assert_eq!(
        err.to_string(),
        "prog.csv:1: binary data, not text (control byte at byte offset 4)"
    );
    // Zip bytes are taken for a workbook whatever the name says.
    let err = open("book.csv", b"PK\x03\x04\x14\x00\x06\x00")
        .err()
        .unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::Spreadsheet(_)));
    let err = open("u16.csv", b"\xFF\xFEi\0d\0").err().unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::Utf16));
}

#[test]
fn empty_files_are_refused() {
    for bytes in [&b""[..], b"\xEF\xBB\xBF", b"  \r\n\n", b",,,\n,,\n"] {
        let err = open("e.csv", bytes).err().expect("refused");
        assert!(
            matches!(err.kind(), ReadErrorKind::Empty),
            "{bytes:?}: {err}"
        );
        assert_eq!(err.to_string(), "e.csv: empty file");
    }
}

#[test]
fn header_only_has_no_records() {
    let table = open("h.csv", b"a,b\n").unwrap();
    assert!(good(table).is_empty());
}

#[test]
fn missing_columns_are_all_listed() {
    let table = open("p.csv", b"name,village\nx,y\n").unwrap();
    let err = table
        .header()
        .require(&["citizen_id", "name", "income", "house_no"])
        .unwrap_err();
    match err.kind() {
        ReadErrorKind::MissingColumns { columns } => {
            assert_eq!(columns, &["citizen_id", "income", "house_no"]);
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(
        err.to_string(),
        "p.csv:1: missing required column(s): citizen_id, income, house_no"
    );
    assert!(err.kind().reason_th().starts_with("ไม่พบคอลัมน์ที่จำเป็น"));
}

#[test]
fn duplicate_columns_are_refused_by_position() {
    let err = open("p.csv", "ชื่อ,id,ID\n".as_bytes()).err().unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::DuplicateColumn { .. }));
    assert_eq!(
        err.to_string(),
        "p.csv:1: duplicate column name (columns B and C)"
    );
}

#[test]
fn ragged_rows_are_row_errors_with_their_line() {
    let table = open("p.csv", "id,name\n1,ก\n2,สมชาย,เกิน\n3\n4,ง\n".as_bytes()).unwrap();
    let results = rows(table);
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().unwrap().line, 2);
    let e = results[1].as_ref().unwrap_err();
    assert!(e.is_row_level());
    assert_eq!(e.line(), Some(3));
    assert_eq!(e.to_string(), "p.csv:3: expected 2 fields, found 3");
    assert!(!e.to_string().contains("สมชาย"));
    assert_eq!(results[2].as_ref().unwrap_err().line(), Some(4));
    assert_eq!(results[3].as_ref().unwrap().line, 5);
}

#[test]
fn next_record_files_ragged_rows_and_continues() {
    let mut table = open("p.csv", b"id,name\n1,a\n2\n3,c\n").unwrap();
    let mut report = table.new_report();
    let mut lines = Vec::new();
    while let Some(r) = table.next_record(&mut report).unwrap() {
        lines.push(r.line);
    }
    assert_eq!(lines, [2, 4]);
    assert_eq!(report.len(), 1);
    assert_eq!(
        report.to_string(),
        "p.csv:3: จำนวนช่องข้อมูลไม่ตรงกับหัวตาราง (ต้องมี 2 ช่อง แต่พบ 1 ช่อง) (expected 2 fields, found 1)\n"
    );
}

#[test]
fn embedded_newlines_keep_line_numbers() {
    let text = "id,address,note\r\n\
                1,\"99 หมู่ 3\r\nต.ท่าศาลา\r\nอ.ท่าศาลา\",a\r\n\
                2,\"say \"\"hi\"\"\",b\r\n\
                \r\n\
                3,\"x\ny\",c\n\
                4,z,d\n";
    let records = good(open("p.csv", text.as_bytes()).unwrap());
    let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 5, 7, 9]);
    assert_eq!(records[0].fields[1], "99 หมู่ 3\r\nต.ท่าศาลา\r\nอ.ท่าศาลา");
    assert_eq!(records[1].fields[1], "say \"hi\"");
    assert_eq!(records[2].fields[1], "x\ny");
}

#[test]
fn blank_rows_are_skipped_but_counted() {
    let records = good(open("p.csv", b"\n\na,b\n\n1,2\n,\n3,4\n").unwrap());
    let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
    assert_eq!(lines, [5, 7]);
}

#[test]
fn late_decode_error_is_fatal_and_located() {
    let mut text = String::from("id,name\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},สมชาย\n"));
    }
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"20000,\xE0\xB8\n20001,x\n");
    let table = open("p.csv", &bytes).unwrap();
    let results = rows(table);
    assert_eq!(results.len(), 20_001);
    let err = results.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(err.kind(), ReadErrorKind::Encoding { .. }));
    assert!(!err.is_row_level());
    assert_eq!(err.line(), Some(20_002));
}

#[test]
fn thai_digits_only_on_request() {
    let records = good(open("p.csv", "id,name\n๓๘๐๐๑,นาย ๑\n".as_bytes()).unwrap());
    assert_eq!(records[0].get(0), "๓๘๐๐๑");
    assert_eq!(normalize_digits(records[0].get(0)), "38001");
    assert_eq!(records[0].get(1), "นาย ๑");
    assert_eq!(records[0].get(99), "");
}

#[test]
fn delimiters_by_extension_guess_and_option() {
    let t = good(open("p.tsv", b"a\tb\n1,5\t2\n").unwrap());
    assert_eq!(t[0].fields, ["1,5", "2"]);
    let t = good(open("p.txt", b"a;b\n1;2\n").unwrap());
    assert_eq!(t[0].fields, ["1", "2"]);
    let opts = OpenOptions::new().delimiter(b'|');
    let t = TableReader::from_upload("p.csv", b"a|b\n1|2\n".to_vec(), &opts).unwrap();
    assert_eq!(good(t)[0].fields, ["1", "2"]);
}

#[test]
fn open_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Persons.CSV");
    std::fs::File::create(&path)
        .unwrap()
        .write_all("id,ชื่อ\n1,ก\n".as_bytes())
        .unwrap();
    let table = TableReader::open(&path).unwrap();
    assert_eq!(table.file(), "Persons.CSV");
    assert_eq!(good(table)[0].fields, ["1", "ก"]);

    let err = TableReader::open(dir.path().join("missing.csv"))
        .err()
        .unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::Io(_)));
    std::fs::write(dir.path().join("x.pdf"), b"%PDF-1.4\n").unwrap();
    let err = TableReader::open(dir.path().join("x.pdf")).err().unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::UnsupportedFileType));
}

#[test]
fn reader_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<TableReader>();
    assert_send::<halve_io::ErrorReport>();
}

#[test]
fn old_mac_line_endings_count_as_lines() {
    let records = good(open("mac.csv", b"id,name\r1,a\r2,\"x\ry\"\r\r3,c\r").unwrap());
    let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 6]);
    let err = open("mac.csv", b"id,name\r1,a\r2,\xFF\r").err().unwrap();
    assert_eq!(err.line(), Some(3));
}
