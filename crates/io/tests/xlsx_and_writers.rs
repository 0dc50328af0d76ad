//! Spreadsheets through the same interface as CSV, and the export writers.

use halve_io::{
    CsvWriter, OpenOptions, ReadErrorKind, Record, TableReader, WriteError, XlsxSheet,
    csv_to_bytes, write_csv, write_xlsx,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

fn good(table: TableReader) -> Vec<Record> {
    table.map(Result::unwrap).collect()
}

/// A workbook as an Excel user would make it: ID typed as a number, Thai
/// text, a real date cell, a blank row, a formula error.
fn sample_workbook(path: &std::path::Path) {
    let mut wb = Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("หมายเหตุ").unwrap();
    notes.write_string(0, 0, "not this sheet").unwrap();

    let ws = wb.add_worksheet();
    ws.set_name("ครัวเรือน").unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    // Data starts at B3 to prove row numbers are absolute sheet rows.
    for (c, h) in ["Citizen_ID", "ชื่อ", "วันเกิด", "รายได้"].iter().enumerate()
    {
        ws.write_string(2, 1 + c as u16, *h).unwrap();
    }
    ws.write_number(3, 1, 3_800_100_012_345.0_f64).unwrap();
    ws.write_string(3, 2, "  นางสมหญิง ใจดี ").unwrap();
    ws.write_datetime_with_format(3, 3, ExcelDateTime::from_ymd(1985, 4, 13).unwrap(), &date)
        .unwrap();
    ws.write_number(3, 4, 2500.5).unwrap();
    // Row 5 left blank on purpose.
    ws.write_string(5, 1, "๑๑๐๑๗๐๐๒๐๓๔๕๑").unwrap();
    ws.write_string(5, 2, "นายก").unwrap();
    ws.write_number(5, 4, 1200.0).unwrap();
    ws.write_formula(6, 1, Formula::new("=1/0").set_result("#DIV/0!"))
        .unwrap();
    ws.write_string(6, 2, "นายข").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn xlsx_reads_like_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("households.xlsx");
    sample_workbook(&path);

    let opts = OpenOptions::new().sheet("ครัวเรือน");
    let mut table = TableReader::open_with(&path, &opts).unwrap();
    assert_eq!(table.header().line(), 3);
    assert_eq!(
        table
            .header()
            .require(&["citizen_id", "ชื่อ", "วันเกิด"])
            .unwrap(),
        [0, 1, 2]
    );
    let first = table.next().unwrap().unwrap();
    assert_eq!(first.line, 4);
    assert_eq!(
        first.fields,
        ["3800100012345", "นางสมหญิง ใจดี", "1985-04-13", "2500.5"]
    );
    let second = table.next().unwrap().unwrap();
    assert_eq!(second.line, 6);
    assert_eq!(second.fields, ["๑๑๐๑๗๐๐๒๐๓๔๕๑", "นายก", "", "1200"]);

    // The formula's cached result is an Excel error: a row error naming the
    // row and column, never the value.
    let err = table.next().unwrap().unwrap_err();
    assert!(matches!(err.kind(), ReadErrorKind::ExcelErrorCell));
    assert!(err.is_row_level());
    assert_eq!(err.line(), Some(7));
    assert_eq!(err.column(), Some("Citizen_ID"));
    assert_eq!(
        err.to_string(),
        "households.xlsx:7: Citizen_ID: cell holds an Excel error value such as #N/A"
    );
    assert!(table.next().is_none());
}

#[test]
fn xlsx_from_upload_bytes_and_sheet_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.xlsx");
    sample_workbook(&path);
    let bytes = std::fs::read(&path).unwrap();

    // Default is the first sheet.
    let table = TableReader::from_upload("h.xlsx", bytes.clone(), &OpenOptions::new()).unwrap();
    assert_eq!(table.header().names(), ["not this sheet"]);
    assert!(good(table).is_empty());

    // A workbook renamed to .csv is still read as a workbook.
    let renamed = dir.path().join("h.csv");
    std::fs::write(&renamed, &bytes).unwrap();
    let table = TableReader::open_with(&renamed, &OpenOptions::new().sheet("ครัวเรือน")).unwrap();
    assert_eq!(table.header().names()[0], "Citizen_ID");

    let err = TableReader::from_upload("h.xlsx", bytes, &OpenOptions::new().sheet("nope"))
        .err()
        .unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::SheetNotFound { .. }));

    let err = TableReader::from_upload("h.xlsx", b"id,name\n".to_vec(), &OpenOptions::new())
        .err()
        .unwrap();
    assert!(matches!(err.kind(), ReadErrorKind::Spreadsheet(_)));
}

fn sample_rows() -> Vec<Vec<String>> {
    [
        ["3800100012345", "สมหญิง ใจดี", "99 หมู่ 3, ต.ท่าศาลา"],
        ["0100000000001", "นาย \"แดง\"", "บรรทัด 1\nบรรทัด 2"],
        ["3800100012346", "", "x"],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect()
}

const HEADER: [&str; 3] = ["citizen_id", "name", "address"];

#[test]
fn csv_writer_is_deterministic_and_minimal() {
    let a = csv_to_bytes(&HEADER, sample_rows()).unwrap();
    let b = csv_to_bytes(&HEADER, sample_rows()).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        String::from_utf8(a).unwrap(),
        "citizen_id,name,address\n\
         3800100012345,สมหญิง ใจดี,\"99 หมู่ 3, ต.ท่าศาลา\"\n\
         0100000000001,\"นาย \"\"แดง\"\"\",\"บรรทัด 1\nบรรทัด 2\"\n\
         3800100012346,,x\n"
    );
}

#[test]
fn csv_writer_checks_width() {
    let mut w = CsvWriter::new(Vec::new(), &HEADER).unwrap();
    w.write_row(["1", "2", "3"]).unwrap();
    let err = w.write_row(["1", "2"]).unwrap_err();
    assert!(matches!(
        err,
        WriteError::FieldCount {
            row: 2,
            expected: 3,
            found: 2
        }
    ));
}

#[test]
fn csv_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.csv");
    let two = dir.path().join("two.csv");
    write_csv(&one, &HEADER, sample_rows()).unwrap();
    write_csv(&two, &HEADER, sample_rows()).unwrap();
    assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap());
    assert!(!dir.path().join("one.csv.partial").exists());

    let table = TableReader::open(&one).unwrap();
    assert_eq!(table.header().names(), HEADER);
    let records = good(table);
    let fields: Vec<Vec<String>> = records.iter().map(|r| r.fields.clone()).collect();
    assert_eq!(fields, sample_rows());
    let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 5]);
}

#[test]
fn xlsx_writer_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xlsx");
    let rows = sample_rows();
    let summary = vec![vec!["ท่าศาลา".to_string(), "3".to_string()]];
    write_xlsx(
        &path,
        &[
            XlsxSheet {
                name: "persons",
                header: &HEADER,
                rows: &rows,
            },
            XlsxSheet {
                name: "สรุป",
                header: &["อำเภอ", "จำนวน"],
                rows: &summary,
            },
        ],
    )
    .unwrap();

    let table = TableReader::open(&path).unwrap();
    assert_eq!(table.header().names(), HEADER);
    let fields: Vec<Vec<String>> = good(table).into_iter().map(|r| r.fields).collect();
    assert_eq!(fields, rows);

    let table = TableReader::open_with(&path, &OpenOptions::new().sheet("สรุป")).unwrap();
    assert_eq!(good(table)[0].fields, ["ท่าศาลา", "3"]);

    let bad = write_xlsx(
        dir.path().join("bad.xlsx"),
        &[XlsxSheet {
            name: "a/b",
            header: &HEADER,
            rows: &rows,
        }],
    );
    assert!(matches!(bad, Err(WriteError::Xlsx(_))));
}
