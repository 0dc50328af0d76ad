//! The choropleth: the same map as the tile grid, drawn from imported boundaries.
//!
//! Longitude and latitude are projected equirectangularly (longitudes shrunk by the cosine of
//! the map's middle latitude, so a province keeps its shape) and scaled to fit the picture.
//! Points are kept as imported, except that consecutive points falling on the same tenth of
//! a picture unit are written once: the picture is the same and the page smaller. Each area's
//! outline is written once (in `<defs>`) and used for its fill and, for statuses that have
//! one, its hatching.

use std::fmt::Write as _;

use serde_json::Value;

use super::{
    Chart, MapArea, MapWords, coord, esc, hatch_defs, hatch_fill, look, map_table, open_svg,
    status_legend,
};

/// Polygons, each a list of rings (the outer one first), each a list of (longitude,
/// latitude).
pub type Polygons = Vec<Vec<Vec<(f64, f64)>>>;

/// Reads a stored GeoJSON `Polygon` or `MultiPolygon`; `None` for anything else (the import
/// checked it, so that means a damaged row, which the map leaves out).
pub fn parse_geometry(text: &str) -> Option<Polygons> {
    let value: Value = serde_json::from_str(text).ok()?;
    let ring = |r: &Value| -> Option<Vec<(f64, f64)>> {
        r.as_array()?
            .iter()
            .map(|p| {
                let p = p.as_array()?;
                Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
            })
            .collect()
    };
    let polygon =
        |p: &Value| -> Option<Vec<Vec<(f64, f64)>>> { p.as_array()?.iter().map(ring).collect() };
    let coordinates = value.get("coordinates")?;
    match value.get("type")?.as_str()? {
        "Polygon" => Some(vec![polygon(coordinates)?]),
        "MultiPolygon" => coordinates.as_array()?.iter().map(polygon).collect(),
        _ => None,
    }
}

const WIDTH: f64 = 560.0;
const MAX_HEIGHT: f64 = 640.0;
const PAD: f64 = 8.0;

/// Longitude and latitude to picture units.
struct Projection {
    min_lon: f64,
    max_lat: f64,
    shrink: f64,
    scale: f64,
}

impl Projection {
    fn fit(areas: &[&Polygons]) -> Option<(Projection, f64, f64)> {
        let points = || areas.iter().flat_map(|p| p.iter().flatten().flatten());
        let min_lon = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let max_lon = points().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let min_lat = points().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let max_lat = points().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        if !min_lon.is_finite() || !min_lat.is_finite() {
            return None;
        }
        let shrink = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let span_x = ((max_lon - min_lon) * shrink).max(1e-9);
        let span_y = (max_lat - min_lat).max(1e-9);
        let scale = (WIDTH / span_x).min(MAX_HEIGHT / span_y);
        Some((
            Projection {
                min_lon,
                max_lat,
                shrink,
                scale,
            },
            span_x * scale + 2.0 * PAD,
            span_y * scale + 2.0 * PAD,
        ))
    }

    fn project(&self, (lon, lat): (f64, f64)) -> (f64, f64) {
        (
            PAD + (lon - self.min_lon) * self.shrink * self.scale,
            PAD + (self.max_lat - lat) * self.scale,
        )
    }
}

/// Path data of polygons (holes drawn by the even-odd rule).
fn path_data(polygons: &Polygons, projection: &Projection) -> String {
    let mut d = String::new();
    for ring in polygons.iter().flatten() {
        // A GeoJSON ring repeats its first point at the end; `Z` closes it already.
        let open = match ring.split_last() {
            Some((last, rest)) if rest.first() == Some(last) => rest,
            _ => ring.as_slice(),
        };
        let mut last: Option<(String, String)> = None;
        for (i, point) in open.iter().enumerate() {
            let (x, y) = projection.project(*point);
            let here = (coord(x), coord(y));
            if last.as_ref() == Some(&here) {
                continue;
            }
            let _ = write!(d, "{}{} {}", if i == 0 { 'M' } else { 'L' }, here.0, here.1);
            last = Some(here);
        }
        d.push('Z');
    }
    d
}

/// Where an area's label goes: the centroid of its largest ring (shoelace), in picture units.
fn label_point(polygons: &Polygons, projection: &Projection) -> Option<(f64, f64)> {
    let mut best: Option<(f64, (f64, f64))> = None;
    for polygon in polygons {
        let Some(outer) = polygon.first() else {
            continue;
        };
        let pts: Vec<(f64, f64)> = outer.iter().map(|p| projection.project(*p)).collect();
        let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for w in pts.windows(2) {
            let cross = w[0].0 * w[1].1 - w[1].0 * w[0].1;
            a += cross;
            cx += (w[0].0 + w[1].0) * cross;
            cy += (w[0].1 + w[1].1) * cross;
        }
        if a.abs() < 1e-9 {
            continue;
        }
        let centre = (cx / (3.0 * a), cy / (3.0 * a));
        if best.is_none_or(|(area, _)| a.abs() > area) {
            best = Some((a.abs(), centre));
        }
    }
    best.map(|(_, c)| c)
}

/// Draws the areas that have a boundary; the table lists every area, with or without one.
/// `None` when no area has a boundary.
pub fn choropleth(
    id: &str,
    areas: &[(MapArea, Option<Polygons>)],
    words: &MapWords,
) -> Option<Chart> {
    let drawn: Vec<(&MapArea, &Polygons)> = areas
        .iter()
        .filter_map(|(a, p)| p.as_ref().map(|p| (a, p)))
        .collect();
    let shapes: Vec<&Polygons> = drawn.iter().map(|(_, p)| *p).collect();
    let (projection, width, map_height) = Projection::fit(&shapes)?;
    let legend_h = words.legend.len() as f64 * 20.0;
    let height = map_height + 8.0 + legend_h;

    let mut out = String::new();
    open_svg(
        &mut out,
        id,
        "ch-map ch-choropleth",
        width.max(240.0),
        height,
        &words.title,
        &words.desc,
    );
    hatch_defs(&mut out, id);
    out.push_str("<defs>");
    for (i, (_, polygons)) in drawn.iter().enumerate() {
        let _ = write!(
            out,
            "<path id=\"{id}-a{i}\" fill-rule=\"evenodd\" d=\"{}\"/>",
            path_data(polygons, &projection)
        );
    }
    out.push_str("</defs>");
    for (i, (area, _)) in drawn.iter().enumerate() {
        let l = look(area.status);
        if let Some(href) = &area.href {
            let _ = write!(out, "<a href=\"{}\" tabindex=\"-1\">", esc(href));
        }
        let _ = write!(
            out,
            "<g class=\"ch-region\" data-code=\"{}\"><title>{}: {}</title>\
             <use href=\"#{id}-a{i}\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1\"/>",
            esc(&area.code),
            esc(&area.name),
            esc(&area.status_label),
            l.fill
        );
        if let Some(fill) = hatch_fill(id, area.status) {
            let _ = write!(out, "<use href=\"#{id}-a{i}\" fill=\"{fill}\"/>");
        }
        out.push_str("</g>");
        if area.href.is_some() {
            out.push_str("</a>");
        }
    }
    // Labels last, over every area, in dark ink on a white halo.
    for (area, polygons) in &drawn {
        if let Some((x, y)) = label_point(polygons, &projection) {
            let _ = write!(
                out,
                "<text class=\"ch-label\" x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" \
                 fill=\"#1d2327\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{} {}</text>",
                coord(x),
                coord(y),
                look(area.status).symbol,
                esc(&area.short)
            );
        }
    }
    status_legend(&mut out, id, PAD, map_height + 8.0, &words.legend);
    out.push_str("</svg>");
    let all: Vec<&MapArea> = areas.iter().map(|(a, _)| a).collect();
    Some(Chart {
        svg: out,
        table: map_table(&all, words),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use halve_measure::Status;

    fn area(code: &str, status: Status) -> MapArea {
        MapArea {
            code: code.into(),
            name: format!("Area & {code}"),
            short: code.into(),
            status,
            status_label: "s".into(),
            href: Some(format!("/areas/{code}")),
            group: None,
            cells: Vec::new(),
        }
    }

    fn words() -> MapWords {
        MapWords {
            title: "Map".into(),
            desc: "Areas".into(),
            caption: "Areas".into(),
            head: vec!["Area".into(), "Status".into()],
            legend: Vec::new(),
        }
    }

    /// A square of `side` degrees with its south-west corner at (lon, lat).
    fn square(lon: f64, lat: f64, side: f64) -> String {
        let (e, n) = (lon + side, lat + side);
        format!(
            r#"{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{e},{lat}],[{e},{n}],[{lon},{n}],[{lon},{lat}]]]}}"#
        )
    }

    #[test]
    fn geometries_parse_and_others_do_not() {
        let p = parse_geometry(&square(100.0, 8.0, 1.0)).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0][0][2], (101.0, 9.0));
        let multi = r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,2]]]]}"#;
        assert_eq!(parse_geometry(multi).unwrap().len(), 2);
        assert!(parse_geometry(r#"{"type":"Point","coordinates":[1,2]}"#).is_none());
        assert!(parse_geometry("not json").is_none());
    }

    #[test]
    fn areas_are_projected_side_by_side_and_labelled() {
        // Two squares of 1° side by side at the equator: the map is 2° wide, 1° high, so
        // scaled by 560 / 2 = 280 per degree; the second starts 280 units right of the first.
        let areas = vec![
            (
                area("8001", Status::OnTrack),
                parse_geometry(&square(0.0, 0.0, 1.0)),
            ),
            (
                area("8002", Status::AtRisk),
                parse_geometry(&square(1.0, 0.0, 1.0)),
            ),
            (area("8003", Status::NoData), None),
        ];
        let chart = choropleth("c", &areas, &words()).unwrap();
        let svg = &chart.svg;
        assert!(svg.contains("viewBox=\"0 0 576 "), "{svg}");
        assert!(svg.contains("d=\"M8 288L288 288L288 8L8 8Z\""), "{svg}");
        assert!(svg.contains("d=\"M288 288L568 288L568 8L288 8Z\""), "{svg}");
        // Labels at the centres, with the status symbol for black-and-white prints.
        assert!(svg.contains("x=\"148\" y=\"148\""));
        assert!(svg.contains(">! 8002</text>"));
        // At risk is hatched; links go to the area pages; names are escaped.
        assert!(svg.contains("<use href=\"#c-a1\" fill=\"url(#c-h1)\"/>"));
        assert_eq!(svg.matches("class=\"ch-region\"").count(), 2);
        assert_eq!(svg.matches("<a href=\"/areas/").count(), 2);
        assert!(svg.contains("Area &amp; 8001"));
        // The table lists every area, the one without a boundary too.
        assert_eq!(chart.table.rows.len(), 3);
        let none: Vec<(MapArea, Option<Polygons>)> = vec![(area("8003", Status::NoData), None)];
        assert!(choropleth("c", &none, &words()).is_none());
    }

    #[test]
    fn points_on_the_same_spot_are_written_once() {
        let dense = r#"{"type":"Polygon","coordinates":[[[0,0],[0.0000001,0],[1,0],[1,1],[0,0]]]}"#;
        let p = parse_geometry(dense).unwrap();
        let refs = [&p];
        let (projection, _, _) = Projection::fit(&refs).unwrap();
        assert_eq!(path_data(&p, &projection), "M8 568L568 568L568 8Z");
    }
}
