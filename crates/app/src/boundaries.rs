//! Reading area boundaries from GeoJSON into the store, for the choropleth maps.
//!
//! A boundary file is a GeoJSON `FeatureCollection` (RFC 7946: WGS 84 longitude and latitude
//! in degrees), one feature per area, each a `Polygon` or `MultiPolygon`. A feature's area
//! code is read from the first of its properties in [`CODE_PROPERTIES`] that is present (names
//! compared without regard to case; the value a string or a number; a leading `TH`, as in
//! OCHA's `ADM2_PCODE` = `TH8001`, is dropped) and must name an area of the shipped tree (a
//! province, district or subdistrict; or a village of a known subdistrict).
//!
//! Like every import, all or nothing: every feature of every file is checked first, and one
//! bad feature refuses the whole import with a report naming each problem by its place in the
//! file (`features[3].geometry`), in Thai and English, without repeating any value. Otherwise
//! all boundaries are written in one transaction with one audit entry. A boundary already
//! stored with the same geometry and source is not rewritten, so importing a file twice
//! changes nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use halve_domain::{AreaCode, AreaTree};
use halve_io::ErrorReport;
use halve_store::{AuditEntry, Boundary, Store};
use serde_json::Value;

use crate::AppError;
use crate::clock::Clock;

/// The feature properties that may hold the area code, most specific first: a file from OCHA
/// carries `ADM2_PCODE` and `ADM1_PCODE` on each district, and the district's is the one meant.
pub const CODE_PROPERTIES: [&str; 11] = [
    "code",
    "area_code",
    "ADM3_PCODE",
    "ADM2_PCODE",
    "ADM1_PCODE",
    "tambon_code",
    "subdistrict_code",
    "amphoe_code",
    "district_code",
    "province_code",
    "changwat_code",
];

/// Thailand with a margin: a position outside it is a file in another projection or with
/// longitude and latitude swapped, since every code names a Thai area.
const LON_RANGE: (f64, f64) = (97.0, 106.0);
const LAT_RANGE: (f64, f64) = (5.0, 21.0);

/// Why boundary files and registry files are not imported together: each import is one
/// transaction of one kind, so a mistake in either leaves the other unwritten.
pub const MIXED_FILES: &str = "นำเข้าไฟล์ขอบเขตพื้นที่ (GeoJSON) แยกจากไฟล์ทะเบียน (CSV/XLSX) \
     (import boundary files (GeoJSON) separately from registry files (CSV/XLSX)); nothing was written";

/// What one boundary file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundarySummary {
    pub file: String,
    /// Features (areas) in the file.
    pub features: u64,
    /// Boundaries inserted or changed; the rest were already stored as they are.
    pub written: u64,
}

impl std::fmt::Display for BoundarySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: ขอบเขตพื้นที่ {} พื้นที่, บันทึกใหม่หรือเปลี่ยน {} พื้นที่ (boundaries: {} areas, {} new or changed)",
            self.file, self.features, self.written, self.features, self.written
        )
    }
}

/// One checked feature: its area and its geometry object as JSON text.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedBoundary {
    pub area: AreaCode,
    pub geometry: String,
}

/// Whether a file is read as boundaries (by its name: `.geojson` or `.json`).
pub fn is_boundary_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".geojson") || lower.ends_with(".json")
}

/// Checks one GeoJSON file; every problem goes to the report, which is returned when it is
/// not empty.
pub fn parse_geojson(
    file: &str,
    bytes: &[u8],
    tree: &AreaTree,
) -> Result<Vec<ParsedBoundary>, ErrorReport> {
    let mut report = ErrorReport::new(file);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            // serde_json's message names the place and the kind of mistake, never the text.
            report.push(
                e.line() as u64,
                None,
                format!(
                    "ไฟล์ไม่ใช่ JSON ที่ถูกต้อง (บรรทัด {} คอลัมน์ {})",
                    e.line(),
                    e.column()
                ),
                format!("not valid JSON ({e})"),
            );
            return Err(report);
        }
    };
    let features = match (
        root.get("type").and_then(Value::as_str),
        root.get("features").and_then(Value::as_array),
    ) {
        (Some("FeatureCollection"), Some(features)) => features,
        _ => {
            report.push(
                0,
                None,
                "ไฟล์ต้องเป็น GeoJSON แบบ FeatureCollection ที่มีรายการ features",
                "the file must be a GeoJSON FeatureCollection with a `features` list",
            );
            return Err(report);
        }
    };
    if features.is_empty() {
        report.push(
            0,
            Some("features"),
            "ไม่มีพื้นที่ในไฟล์ (features ว่าง)",
            "the file holds no features",
        );
        return Err(report);
    }
    let mut out = Vec::with_capacity(features.len());
    let mut seen: HashMap<AreaCode, usize> = HashMap::new();
    for (i, feature) in features.iter().enumerate() {
        if report.is_full() {
            break;
        }
        match check_feature(feature, tree) {
            Ok(parsed) => {
                if let Some(first) = seen.insert(parsed.area, i) {
                    report.push(
                        0,
                        Some(&format!("features[{i}].properties")),
                        format!("รหัสพื้นที่ซ้ำกับ features[{first}]"),
                        format!("the same area code as features[{first}]"),
                    );
                } else {
                    out.push(parsed);
                }
            }
            Err((place, th, en)) => {
                report.push(0, Some(&format!("features[{i}]{place}")), th, en);
            }
        }
    }
    if report.is_empty() {
        Ok(out)
    } else {
        Err(report)
    }
}

/// A problem in a feature: where in it (`.geometry`…), Thai, English.
type FeatureError = (String, String, String);

fn fail(place: &str, th: impl Into<String>, en: impl Into<String>) -> FeatureError {
    (place.to_owned(), th.into(), en.into())
}

fn check_feature(feature: &Value, tree: &AreaTree) -> Result<ParsedBoundary, FeatureError> {
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(fail(
            "",
            "ต้องเป็น GeoJSON Feature",
            "must be a GeoJSON Feature",
        ));
    }
    let area = feature_code(feature, tree)?;
    let geometry = feature.get("geometry").unwrap_or(&Value::Null);
    check_geometry(geometry)?;
    Ok(ParsedBoundary {
        area,
        geometry: geometry.to_string(),
    })
}

fn feature_code(feature: &Value, tree: &AreaTree) -> Result<AreaCode, FeatureError> {
    let Some(properties) = feature.get("properties").and_then(Value::as_object) else {
        return Err(fail(
            ".properties",
            "ไม่มี properties จึงไม่รู้รหัสพื้นที่",
            "no properties, so no area code",
        ));
    };
    let found = CODE_PROPERTIES.iter().find_map(|wanted| {
        properties
            .iter()
            .find(|(name, value)| name.eq_ignore_ascii_case(wanted) && !value.is_null())
    });
    let Some((name, value)) = found else {
        return Err(fail(
            ".properties",
            format!(
                "ไม่พบรหัสพื้นที่ (ใช้ property ชื่อใดชื่อหนึ่ง: {})",
                CODE_PROPERTIES.join(", ")
            ),
            format!(
                "no area code: expected one of the properties {}",
                CODE_PROPERTIES.join(", ")
            ),
        ));
    };
    let place = format!(".properties.{name}");
    let raw = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => {
            return Err(fail(
                &place,
                "รหัสพื้นที่ต้องเป็นตัวเลขหรือข้อความ",
                "the area code must be a string or a whole number",
            ));
        }
    };
    let digits = match raw.get(..2) {
        Some(prefix) if prefix.eq_ignore_ascii_case("TH") => &raw[2..],
        _ => raw.as_str(),
    };
    tree.resolve(digits)
        .map_err(|e| fail(&place, e.th.clone(), e.en.clone()))
}

/// Checks a `Polygon` or `MultiPolygon`: closed rings of at least four positions, each a pair
/// (or triple) of finite numbers within Thailand's longitudes and latitudes.
fn check_geometry(geometry: &Value) -> Result<(), FeatureError> {
    let kind = geometry.get("type").and_then(Value::as_str);
    let coordinates = geometry.get("coordinates").and_then(Value::as_array);
    let polygons: Vec<&Value> = match (kind, coordinates) {
        (Some("Polygon"), Some(_)) => vec![&geometry["coordinates"]],
        (Some("MultiPolygon"), Some(list)) => list.iter().collect(),
        _ => {
            return Err(fail(
                ".geometry",
                "รูปร่างพื้นที่ต้องเป็น Polygon หรือ MultiPolygon ที่มี coordinates",
                "the geometry must be a Polygon or MultiPolygon with coordinates",
            ));
        }
    };
    let shape = || {
        fail(
            ".geometry.coordinates",
            "พิกัดไม่เป็นรูปหลายเหลี่ยมปิด (แต่ละวงต้องมีอย่างน้อย 4 จุด และจุดแรกกับจุดสุดท้ายต้องเป็นจุดเดียวกัน)",
            "the coordinates are not closed rings (each ring needs at least 4 positions, the last equal to the first)",
        )
    };
    if polygons.is_empty() {
        return Err(shape());
    }
    for polygon in polygons {
        let rings = polygon.as_array().ok_or_else(shape)?;
        if rings.is_empty() {
            return Err(shape());
        }
        for ring in rings {
            let positions = ring.as_array().ok_or_else(shape)?;
            if positions.len() < 4 {
                return Err(shape());
            }
            let mut points = Vec::with_capacity(positions.len());
            for p in positions {
                points.push(position(p)?);
            }
            if points.first() != points.last() {
                return Err(shape());
            }
        }
    }
    Ok(())
}

fn position(p: &Value) -> Result<(f64, f64), FeatureError> {
    let numbers: Option<Vec<f64>> = p
        .as_array()
        .filter(|a| (2..=3).contains(&a.len()))
        .and_then(|a| a.iter().map(Value::as_f64).collect());
    let Some(numbers) = numbers.filter(|n| n.iter().all(|x| x.is_finite())) else {
        return Err(fail(
            ".geometry.coordinates",
            "พิกัดแต่ละจุดต้องเป็นตัวเลข [ลองจิจูด, ละติจูด]",
            "each position must be numbers [longitude, latitude]",
        ));
    };
    let (lon, lat) = (numbers[0], numbers[1]);
    let inside =
        (LON_RANGE.0..=LON_RANGE.1).contains(&lon) && (LAT_RANGE.0..=LAT_RANGE.1).contains(&lat);
    if !inside {
        return Err(fail(
            ".geometry.coordinates",
            "พิกัดอยู่นอกประเทศไทย (ลองจิจูด 97–106, ละติจูด 5–21 องศา): ไฟล์อาจใช้ระบบพิกัดอื่น (เช่น UTM) หรือสลับลองจิจูดกับละติจูด ให้แปลงเป็น WGS 84 (EPSG:4326)",
            "a position lies outside Thailand (longitude 97–106, latitude 5–21 degrees): the file may be in another projection (such as UTM) or have longitude and latitude swapped; convert it to WGS 84 (EPSG:4326)",
        ));
    }
    Ok((lon, lat))
}

/// Imports boundary files (name, bytes) in one transaction: all of them, or nothing when any
/// has an error ([`AppError::Rejected`] with every file's report).
pub async fn import_boundaries(
    store: &Store,
    files: Vec<(String, Vec<u8>)>,
    actor: &str,
    clock: &dyn Clock,
) -> Result<Vec<BoundarySummary>, AppError> {
    if files.is_empty() {
        return Err(AppError::Invalid(
            "ไม่มีไฟล์ขอบเขตพื้นที่ (no boundary file given)".into(),
        ));
    }
    let tree = AreaTree::shipped();
    let mut parsed = Vec::new();
    let mut reports = Vec::new();
    // An area given by two files would make the result depend on their order.
    let mut owner: HashMap<AreaCode, usize> = HashMap::new();
    for (index, (name, bytes)) in files.iter().enumerate() {
        match parse_geojson(name, bytes, tree) {
            Ok(boundaries) => {
                let mut report = ErrorReport::new(name.as_str());
                for b in &boundaries {
                    if let Some(&other) = owner.get(&b.area) {
                        report.push(
                            0,
                            None,
                            format!(
                                "พื้นที่รหัส {} อยู่ในไฟล์ {} ด้วย ให้นำเข้าแต่ละพื้นที่จากไฟล์เดียว",
                                b.area, files[other].0
                            ),
                            format!(
                                "area {} is also in {}: give each area in one file only",
                                b.area, files[other].0
                            ),
                        );
                    } else {
                        owner.insert(b.area, index);
                    }
                }
                if report.is_empty() {
                    parsed.push((name.clone(), boundaries));
                } else {
                    reports.push(report);
                }
            }
            Err(report) => reports.push(report),
        }
    }
    if !reports.is_empty() {
        return Err(AppError::Rejected(reports));
    }
    let at = clock.now_iso();
    let mut tx = store.begin().await?;
    let mut summaries = Vec::new();
    for (file, boundaries) in parsed {
        let rows: Vec<Boundary> = boundaries
            .into_iter()
            .map(|b| Boundary {
                area: b.area,
                geometry: b.geometry,
                source: file.clone(),
                imported_at: at.clone(),
            })
            .collect();
        let written = tx.upsert_boundaries(&rows).await?;
        summaries.push(BoundarySummary {
            file,
            features: rows.len() as u64,
            written,
        });
    }
    let after = serde_json::json!({
        "files": summaries
            .iter()
            .map(|s| serde_json::json!({"file": s.file, "features": s.features, "written": s.written}))
            .collect::<Vec<_>>(),
    });
    tx.append_audit(&AuditEntry {
        at,
        actor: actor.to_owned(),
        action: "import".into(),
        entity: "area_boundary".into(),
        entity_key: summaries
            .iter()
            .map(|s| s.file.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        before: None,
        after: Some(after.to_string()),
    })
    .await?;
    tx.commit().await?;
    Ok(summaries)
}

/// [`import_boundaries`] on files read from disk (each named by its file name).
pub async fn import_boundary_paths(
    store: &Store,
    paths: &[PathBuf],
    actor: &str,
    clock: &dyn Clock,
) -> Result<Vec<BoundarySummary>, AppError> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        files.push((file_name(path), std::fs::read(path)?));
    }
    import_boundaries(store, files, actor, clock).await
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_files_are_known_by_their_extension() {
        assert!(is_boundary_file("districts.geojson"));
        assert!(is_boundary_file("Districts.JSON"));
        assert!(!is_boundary_file("villages.csv"));
        assert!(!is_boundary_file("geojson.xlsx"));
    }
}
