//! The tile-grid map: each area an equal square, coloured and marked by its status, linked
//! to its page.
//!
//! Where the squares go is geography, so it is data: `data/tilegrid-<parent>.toml` places the
//! children of an area (the districts of province 80) roughly where they lie on the real map.
//! Areas without a layout (the subdistricts of a district, the villages of a subdistrict) get a
//! generated grid in code order; a child a layout forgot is added after its last row. When the
//! areas belong to groups (eco-zones), a thick line is drawn where one group meets another, so
//! the zones read as regions of the grid.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Deserialize;

use super::{
    Chart, MapArea, MapWords, coord, esc, hatch_defs, hatch_fill, look, map_table, open_svg,
    status_legend, text_width,
};

/// The layouts shipped with halve: (parent area code, file).
const SHIPPED: &[(&str, &str)] = &[("80", include_str!("../../data/tilegrid-80.toml"))];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayout {
    area: String,
    #[serde(default)]
    #[allow(dead_code)]
    source: String,
    tiles: BTreeMap<String, (u32, u32)>,
}

/// A layout: the parent's code and each child's (column, row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub area: String,
    pub tiles: BTreeMap<String, (u32, u32)>,
}

/// Reads a layout file; two areas on one square are an error.
pub fn parse_layout(text: &str) -> Result<Layout, String> {
    let raw: RawLayout = toml::from_str(text).map_err(|e| e.message().to_owned())?;
    let mut taken: HashMap<(u32, u32), &str> = HashMap::new();
    for (code, cell) in &raw.tiles {
        if let Some(other) = taken.insert(*cell, code) {
            return Err(format!("{code} and {other} are on the same square"));
        }
    }
    Ok(Layout {
        area: raw.area,
        tiles: raw.tiles,
    })
}

/// The shipped layout of the children of `parent`, if there is one.
pub fn shipped_layout(parent: &str) -> Option<Layout> {
    SHIPPED
        .iter()
        .find(|(code, _)| *code == parent)
        .map(|(_, text)| {
            parse_layout(text).expect("the shipped tile layouts are valid: checked by the tests")
        })
}

/// Columns of a generated grid: near square, at most six so that a phone shows it whole.
fn generated_columns(n: usize) -> u32 {
    ((n as f64).sqrt().ceil() as u32).clamp(1, 6)
}

/// Where each of `codes` goes on the map of `parent`'s children: the shipped layout's
/// square, else the next square of a grid in the given order below it.
pub fn place(parent: &str, codes: &[&str]) -> Vec<(u32, u32)> {
    let layout = shipped_layout(parent);
    let fixed = |code: &str| layout.as_ref().and_then(|l| l.tiles.get(code).copied());
    let placed: Vec<Option<(u32, u32)>> = codes.iter().map(|c| fixed(c)).collect();
    let free = placed.iter().filter(|p| p.is_none()).count();
    let first_free_row = placed
        .iter()
        .flatten()
        .map(|(_, r)| r + 1)
        .max()
        .unwrap_or(0);
    let columns = generated_columns(free);
    let mut next = 0u32;
    placed
        .into_iter()
        .map(|p| {
            p.unwrap_or_else(|| {
                let cell = (next % columns, first_free_row + next / columns);
                next += 1;
                cell
            })
        })
        .collect()
}

const TILE: f64 = 64.0;
const GAP: f64 = 4.0;
const PAD: f64 = 8.0;

/// Draws the areas at their squares; `None` without areas.
pub fn tile_grid(id: &str, areas: &[(MapArea, (u32, u32))], words: &MapWords) -> Option<Chart> {
    if areas.is_empty() {
        return None;
    }
    let columns = areas.iter().map(|(_, (c, _))| c + 1).max().unwrap_or(1);
    let rows = areas.iter().map(|(_, (_, r))| r + 1).max().unwrap_or(1);
    let pitch = TILE + GAP;
    let grid_w = f64::from(columns) * pitch - GAP + 2.0 * PAD;
    let grid_h = f64::from(rows) * pitch - GAP + 2.0 * PAD;
    let legend_h = words.legend.len() as f64 * 20.0;
    let width = grid_w.max(240.0);
    let height = grid_h + 8.0 + legend_h;
    let at = |(c, r): (u32, u32)| (PAD + f64::from(c) * pitch, PAD + f64::from(r) * pitch);

    let mut out = String::new();
    open_svg(
        &mut out,
        id,
        "ch-map ch-tilegrid",
        width,
        height,
        &words.title,
        &words.desc,
    );
    hatch_defs(&mut out, id);
    for (area, cell) in areas {
        let (x, y) = at(*cell);
        let l = look(area.status);
        let label = format!("{}: {}", area.name, area.status_label);
        if let Some(href) = &area.href {
            // The table beside the map carries the same links for keyboards and screen
            // readers; these are for pointers.
            let _ = write!(out, "<a href=\"{}\" tabindex=\"-1\">", esc(href));
        }
        let _ = write!(
            out,
            "<g class=\"ch-tile\" data-code=\"{}\"><title>{}</title>\
             <rect x=\"{}\" y=\"{}\" width=\"{TILE}\" height=\"{TILE}\" rx=\"4\" fill=\"{}\"/>",
            esc(&area.code),
            esc(&label),
            coord(x),
            coord(y),
            l.fill
        );
        if let Some(fill) = hatch_fill(id, area.status) {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{TILE}\" height=\"{TILE}\" rx=\"4\" fill=\"{fill}\"/>",
                coord(x),
                coord(y)
            );
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"18\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
            coord(x + TILE / 2.0),
            coord(y + 28.0),
            l.ink,
            l.symbol,
        );
        let lines = label_lines(&area.short);
        let first = if lines.len() > 1 { 45.0 } else { 50.0 };
        for (i, line) in lines.iter().enumerate() {
            // A name still too long is squeezed to the tile's width rather than cut.
            let fit = if text_width(line, 10.0) > TILE - 6.0 {
                format!(
                    " textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\"",
                    coord(TILE - 6.0)
                )
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{}\"{fit}>{}</text>",
                coord(x + TILE / 2.0),
                coord(y + first + 11.0 * i as f64),
                l.ink,
                esc(line)
            );
        }
        out.push_str("</g>");
        if area.href.is_some() {
            out.push_str("</a>");
        }
    }
    group_borders(&mut out, areas, &at);
    status_legend(&mut out, id, PAD, grid_h + 8.0, &words.legend);
    out.push_str("</svg>");
    let ordered: Vec<&MapArea> = areas.iter().map(|(a, _)| a).collect();
    Some(Chart {
        svg: out,
        table: map_table(&ordered, words),
    })
}

/// A tile's label on one line, or on two (split at the space nearest the middle) when it is
/// too wide and has a space: "Chaloem Phra Kiat" becomes "Chaloem" and "Phra Kiat".
fn label_lines(text: &str) -> Vec<&str> {
    if text_width(text, 10.0) <= TILE - 6.0 {
        return vec![text];
    }
    let middle = text.len() / 2;
    match text
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| i)
        .min_by_key(|i| i.abs_diff(middle))
    {
        Some(i) => vec![&text[..i], &text[i + 1..]],
        None => vec![text],
    }
}

/// Thick lines where a tile's group meets another group or the edge of the map.
fn group_borders(
    out: &mut String,
    areas: &[(MapArea, (u32, u32))],
    at: &dyn Fn((u32, u32)) -> (f64, f64),
) {
    if areas.iter().all(|(a, _)| a.group.is_none()) {
        return;
    }
    let group: HashMap<(u32, u32), Option<&str>> = areas
        .iter()
        .map(|(a, cell)| (*cell, a.group.as_deref()))
        .collect();
    let half = GAP / 2.0;
    let mut d = String::new();
    for (area, (c, r)) in areas {
        let mine = area.group.as_deref();
        let (x, y) = at((*c, *r));
        let (left, top, right, bottom) = (x - half, y - half, x + TILE + half, y + TILE + half);
        let neighbour = |dc: i64, dr: i64| -> Option<Option<&str>> {
            let nc = u32::try_from(i64::from(*c) + dc).ok()?;
            let nr = u32::try_from(i64::from(*r) + dr).ok()?;
            group.get(&(nc, nr)).copied()
        };
        // A border between two tiles is drawn once, by the tile on its left or above; the
        // map's outer edge by the tile it bounds.
        let mut edge = |n: Option<Option<&str>>, owns_shared: bool, x1, y1, x2, y2| {
            let draw = match n {
                None => true,
                Some(theirs) => owns_shared && theirs != mine,
            };
            if draw {
                let _ = write!(
                    d,
                    "M{} {}L{} {}",
                    coord(x1),
                    coord(y1),
                    coord(x2),
                    coord(y2)
                );
            }
        };
        edge(neighbour(0, -1), false, left, top, right, top);
        edge(neighbour(-1, 0), false, left, top, left, bottom);
        edge(neighbour(1, 0), true, right, top, right, bottom);
        edge(neighbour(0, 1), true, left, bottom, right, bottom);
    }
    let _ = write!(
        out,
        "<path class=\"ch-groups\" d=\"{d}\" fill=\"none\" stroke=\"#1d2327\" stroke-width=\"3\" \
         stroke-linecap=\"square\"/>"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use halve_domain::AreaTree;
    use halve_measure::Status;

    fn area(code: &str, status: Status, group: Option<&str>) -> MapArea {
        MapArea {
            code: code.into(),
            name: format!("<{code}>"),
            short: code.into(),
            status,
            status_label: format!("{status:?}"),
            href: Some(format!("/areas/{code}")),
            group: group.map(str::to_owned),
            cells: vec!["1,234".into()],
        }
    }

    fn words() -> MapWords {
        MapWords {
            title: "Districts".into(),
            desc: "By status".into(),
            caption: "Districts by status".into(),
            head: vec!["Area".into(), "Status".into(), "Now".into()],
            legend: vec![(Status::OnTrack, "on track".into())],
        }
    }

    #[test]
    fn the_shipped_layout_places_every_district_of_province_80_once() {
        let layout = shipped_layout("80").unwrap();
        let tree = AreaTree::shipped();
        let districts: Vec<String> = tree
            .children(tree.resolve("80").unwrap())
            .map(|a| a.code.to_string())
            .collect();
        assert_eq!(districts.len(), 23);
        let placed: Vec<&String> = layout.tiles.keys().collect();
        assert_eq!(placed, districts.iter().collect::<Vec<_>>());
        // The city is east of Thung Song and north of Cha-uat; Khanom is the northernmost.
        let cell = |c: &str| layout.tiles[c];
        assert!(cell("8001").0 > cell("8009").0);
        assert!(cell("8001").1 < cell("8007").1);
        assert!(layout.tiles.values().all(|&(_, r)| r >= cell("8015").1));
    }

    #[test]
    fn layouts_refuse_two_areas_on_one_square_and_others_get_a_grid() {
        let err = parse_layout("area = \"80\"\n[tiles]\n\"8001\" = [0, 0]\n\"8002\" = [0, 0]\n")
            .unwrap_err();
        assert!(err.contains("same square"), "{err}");
        // Five subdistricts without a layout: three columns, in the given order.
        let cells = place("8001", &["800101", "800102", "800103", "800104", "800105"]);
        assert_eq!(cells, [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1)]);
        // A child the layout does not know goes below it.
        let cells = place("80", &["8001", "8099"]);
        assert_eq!(cells, [(3, 3), (0, 4)]);
    }

    #[test]
    fn tiles_sit_on_their_squares_with_links_and_escaped_names() {
        let areas = vec![
            (area("8001", Status::OnTrack, Some("city")), (1, 0)),
            (area("8002", Status::OffTrack, Some("hills")), (0, 1)),
        ];
        let chart = tile_grid("m", &areas, &words()).unwrap();
        let svg = &chart.svg;
        assert_eq!(svg.matches("class=\"ch-tile\"").count(), 2);
        assert_eq!(svg.matches("<a href=\"/areas/").count(), 2);
        // Column 1, row 0: x = 8 + 68 = 76, y = 8.
        assert!(svg.contains(
            "<rect x=\"76\" y=\"8\" width=\"64\" height=\"64\" rx=\"4\" fill=\"#2f7d4f\"/>"
        ));
        // Off track is cross-hatched too, for black-and-white prints.
        assert!(svg.contains(
            "<rect x=\"8\" y=\"76\" width=\"64\" height=\"64\" rx=\"4\" fill=\"url(#m-h2)\"/>"
        ));
        assert!(svg.contains("<title>&lt;8001&gt;: OnTrack</title>"));
        assert!(!svg.contains("<8001>"));
        assert!(svg.contains("class=\"ch-groups\""));
        // The table: one row per area, linked, with the same figures.
        assert_eq!(chart.table.rows.len(), 2);
        assert_eq!(chart.table.rows[0][0].href.as_deref(), Some("/areas/8001"));
        assert_eq!(chart.table.rows[0][1].text, "✓ OnTrack");
        assert_eq!(chart.table.rows[0][2].text, "1,234");
        assert!(tile_grid("m", &[], &words()).is_none());
        assert_eq!(label_lines("Chaloem Phra Kiat"), ["Chaloem", "Phra Kiat"]);
        assert_eq!(label_lines("Sichon"), ["Sichon"]);
        assert_eq!(label_lines("เฉลิมพระเกียรติ"), ["เฉลิมพระเกียรติ"]);
    }

    #[test]
    fn zone_borders_are_drawn_once_between_groups() {
        // Two tiles side by side in one group: only the outer edges, no line between them.
        let same = vec![
            (area("1", Status::OnTrack, Some("a")), (0, 0)),
            (area("2", Status::OnTrack, Some("a")), (1, 0)),
        ];
        let svg = tile_grid("m", &same, &words()).unwrap().svg;
        assert!(!svg.contains("M74 6L74 74"), "{svg}");
        let apart = vec![
            (area("1", Status::OnTrack, Some("a")), (0, 0)),
            (area("2", Status::OnTrack, Some("b")), (1, 0)),
        ];
        let svg = tile_grid("m", &apart, &words()).unwrap().svg;
        assert_eq!(svg.matches("M74 6L74 74").count(), 1, "{svg}");
    }
}
