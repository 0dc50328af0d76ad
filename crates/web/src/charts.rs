//! Charts and maps drawn on the server as SVG: accessible (title, labels, a table beside
//! them) and printable.
//!
//! Every builder here is a pure function from figures the target engine already computed
//! (`halve_measure::ProgressRow`s, the target's own milestone path) to SVG markup plus the
//! same numbers as a [`Table`], which the page prints beside the picture: a screen reader,
//! a phone too narrow for the picture and a black-and-white printout all get every figure.
//! Nothing is computed here that the engine computes (no status, no target): a chart only
//! places figures. Text in the SVG is escaped here, because templates insert the markup as is.
//!
//! - [`trajectory`]: the count per round against the target path and the projection;
//! - [`tilegrid`]: areas as equal squares, by a hand-made layout (`data/tilegrid-*.toml`)
//!   or a generated grid;
//! - [`choropleth`]: the same areas drawn from imported boundaries.

pub mod choropleth;
pub mod tilegrid;
pub mod trajectory;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use halve_measure::Status;
use serde::Serialize;

use crate::AppState;

/// This module's routes, merged into [`crate::router`]: none, the charts are parts of the
/// dashboard and area pages.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}

/// A picture and the table that says the same.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chart {
    /// Complete `<svg>` markup, every text in it escaped.
    pub svg: String,
    pub table: Table,
}

/// The table alternative of a chart: a caption, column heads and rows of cells.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One table cell: text, whether it is a number (right-aligned), an optional link, and
/// whether it heads its row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub text: String,
    pub num: bool,
    /// Already escaped for an attribute (the template inserts it as is, since its own
    /// escaping would write every `/` as an entity).
    pub href: Option<String>,
    pub header: bool,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            num: false,
            href: None,
            header: false,
        }
    }

    pub fn num(text: impl Into<String>) -> Cell {
        Cell {
            num: true,
            ..Cell::text(text)
        }
    }

    /// A row heading, linked when `href` is given.
    pub fn head(text: impl Into<String>, href: Option<String>) -> Cell {
        Cell {
            href: href.map(|h| esc(&h)),
            header: true,
            ..Cell::text(text)
        }
    }
}

/// Escapes text for SVG (XML) content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with one decimal, without a trailing `.0`: short markup, and a tenth of a
/// unit is below what any screen shows at these sizes.
pub fn coord(x: f64) -> String {
    let tenths = (x * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let a = tenths.unsigned_abs();
    if a.is_multiple_of(10) {
        format!("{sign}{}", a / 10)
    } else {
        format!("{sign}{}.{}", a / 10, a % 10)
    }
}

/// Thousands grouped: `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    halve_domain::text::group_thousands(n)
}

/// A figure that need not be whole (a milestone, a projection): grouped, with one decimal
/// unless it is whole, so that 15.6 is not shown as 16 beside a target of "at most 15".
pub fn decimal(x: f64) -> String {
    let tenths = (x * 10.0).round();
    if x.fract() == 0.0 {
        return count(x.max(0.0) as u64);
    }
    let whole = (tenths / 10.0).trunc().max(0.0) as u64;
    format!("{}.{}", count(whole), (tenths as u64) % 10)
}

/// How a status looks: its fill, the colour of text on it, a symbol that says it without
/// colour, and a hatching (for black-and-white prints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    pub fill: &'static str,
    pub ink: &'static str,
    pub symbol: &'static str,
    pub hatch: Option<Hatch>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hatch {
    /// Diagonal lines one way.
    Single,
    /// Lines both ways.
    Cross,
}

/// The statuses in legend order.
pub const STATUSES: [Status; 5] = [
    Status::OnTrack,
    Status::AtRisk,
    Status::OffTrack,
    Status::NoData,
    Status::NothingToReduce,
];

pub fn look(status: Status) -> Look {
    match status {
        Status::OnTrack => Look {
            fill: "#2f7d4f",
            ink: "#ffffff",
            symbol: "✓",
            hatch: None,
        },
        Status::AtRisk => Look {
            fill: "#e5a823",
            ink: "#1d2327",
            symbol: "!",
            hatch: Some(Hatch::Single),
        },
        Status::OffTrack => Look {
            fill: "#b03a2e",
            ink: "#ffffff",
            symbol: "✗",
            hatch: Some(Hatch::Cross),
        },
        Status::NoData => Look {
            fill: "#e4e8eb",
            ink: "#1d2327",
            symbol: "?",
            hatch: None,
        },
        Status::NothingToReduce => Look {
            fill: "#a9c1d3",
            ink: "#1d2327",
            symbol: "–",
            hatch: None,
        },
    }
}

/// The hatching patterns of one chart (`id` keeps them apart from another chart's on the
/// same page).
pub(crate) fn hatch_defs(out: &mut String, id: &str) {
    let _ = write!(
        out,
        "<defs><pattern id=\"{id}-h1\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" \
         stroke=\"#000\" stroke-opacity=\"0.35\" stroke-width=\"2\"/></pattern>\
         <pattern id=\"{id}-h2\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><path d=\"M0 0V6M0 0H6\" stroke=\"#000\" \
         stroke-opacity=\"0.4\" stroke-width=\"2\"/></pattern></defs>"
    );
}

/// The fill of a status's hatching, if it has one.
pub(crate) fn hatch_fill(id: &str, status: Status) -> Option<String> {
    look(status).hatch.map(|h| match h {
        Hatch::Single => format!("url(#{id}-h1)"),
        Hatch::Cross => format!("url(#{id}-h2)"),
    })
}

/// A legend of statuses: a swatch with its hatching and symbol, and the label, one per line
/// from `(x, y)`; returns the height used.
pub(crate) fn status_legend(
    out: &mut String,
    id: &str,
    x: f64,
    y: f64,
    entries: &[(Status, String)],
) -> f64 {
    let line = 20.0;
    for (i, (status, label)) in entries.iter().enumerate() {
        let top = y + i as f64 * line;
        let l = look(*status);
        let _ = write!(
            out,
            "<g class=\"ch-legend\"><rect x=\"{}\" y=\"{}\" width=\"16\" height=\"16\" fill=\"{}\" \
             stroke=\"#5b6770\" stroke-width=\"0.5\"/>",
            coord(x),
            coord(top),
            l.fill
        );
        if let Some(fill) = hatch_fill(id, *status) {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"16\" height=\"16\" fill=\"{fill}\"/>",
                coord(x),
                coord(top)
            );
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{}\">{}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text></g>",
            coord(x + 8.0),
            coord(top + 12.0),
            l.ink,
            l.symbol,
            coord(x + 22.0),
            coord(top + 12.5),
            esc(label)
        );
    }
    entries.len() as f64 * line
}

/// Roughly how wide a text is at `size`, for fitting labels into tiles: Thai vowel and tone
/// marks above and below a consonant take no width of their own.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    let advancing = text
        .chars()
        .filter(|c| !matches!(*c as u32, 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E))
        .count();
    advancing as f64 * size * 0.58
}

/// One area on a map: who it is, how it stands, where it links, and the figures its table
/// row shows after the name and the status.
#[derive(Clone, Debug, PartialEq)]
pub struct MapArea {
    pub code: String,
    pub name: String,
    /// What fits on the map (a village's number, a district's name).
    pub short: String,
    pub status: Status,
    pub status_label: String,
    pub href: Option<String>,
    /// An enclosing group (an eco-zone) whose borders the tile grid draws.
    pub group: Option<String>,
    pub cells: Vec<String>,
}

/// The words of a map: its title and description, the table's caption and heads (area,
/// status, then one per entry of [`MapArea::cells`]), and the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct MapWords {
    pub title: String,
    pub desc: String,
    pub caption: String,
    pub head: Vec<String>,
    pub legend: Vec<(Status, String)>,
}

/// The table of a map: one row per area, in the order given.
pub(crate) fn map_table(areas: &[&MapArea], words: &MapWords) -> Table {
    Table {
        caption: words.caption.clone(),
        head: words.head.clone(),
        rows: areas
            .iter()
            .map(|a| {
                let mut row = vec![
                    Cell::head(a.name.clone(), a.href.clone()),
                    Cell::text(format!("{} {}", look(a.status).symbol, a.status_label)),
                ];
                row.extend(a.cells.iter().map(|c| Cell::num(c.clone())));
                row
            })
            .collect(),
    }
}

/// The opening of an SVG picture with its accessible name and description.
pub(crate) fn open_svg(
    out: &mut String,
    id: &str,
    class: &str,
    w: f64,
    h: f64,
    title: &str,
    desc: &str,
) {
    let _ = write!(
        out,
        "<svg id=\"{id}\" class=\"chart {class}\" xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        coord(w),
        coord(h),
        esc(title),
        esc(desc)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_coordinates_are_short() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("นครศรีธรรมราช"), "นครศรีธรรมราช");
        assert_eq!(coord(12.0), "12");
        assert_eq!(coord(12.34), "12.3");
        assert_eq!(coord(12.36), "12.4");
        assert_eq!(coord(-0.26), "-0.3");
        assert_eq!(coord(-3.5), "-3.5");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(decimal(15.59), "15.6");
        assert_eq!(decimal(27.96), "28.0");
        assert_eq!(decimal(1234.0), "1,234");
        assert_eq!(decimal(12_345.64), "12,345.6");
    }

    #[test]
    fn every_status_has_its_own_look() {
        for (i, a) in STATUSES.iter().enumerate() {
            for b in &STATUSES[i + 1..] {
                assert_ne!(look(*a).fill, look(*b).fill);
                assert_ne!(look(*a).symbol, look(*b).symbol);
            }
        }
    }

    #[test]
    fn thai_marks_take_no_width() {
        // นครศรีธรรมราช: 13 characters, one of them (ี) a mark above.
        assert_eq!(text_width("นครศรีธรรมราช", 10.0), 12.0 * 5.8);
    }
}
