//! The trajectory chart: an area's count in the target population at each round, against
//! the target's path from the baseline to the target at the horizon, with the projection to
//! the horizon at the current pace.
//!
//! The counts, milestones, statuses and the projection are the report's figures
//! (`ProgressRow`); between rounds the path is drawn from the target's own milestone share
//! (`Target::milestone_share`, the function the engine's milestones come from), so the line
//! passes exactly through the milestone of every round. The path is dashed and the projection
//! dotted, so the lines stay apart in a black-and-white print.

use std::fmt::Write as _;

use halve_measure::progress::Figures;
use halve_measure::{ProgressRow, Status, Target};

use super::{Cell, Chart, Table, coord, count, decimal, esc, look, open_svg, text_width};

/// Which count the chart follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unit {
    #[default]
    Persons,
    Households,
}

impl Unit {
    /// `households` or anything else (persons, the default).
    pub fn parse(raw: Option<&str>) -> Unit {
        match raw {
            Some("households") => Unit::Households,
            _ => Unit::Persons,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Unit::Persons => "persons",
            Unit::Households => "households",
        }
    }

    pub fn of(self, row: &ProgressRow) -> &Figures {
        match self {
            Unit::Persons => &row.persons,
            Unit::Households => &row.households,
        }
    }
}

/// One round on the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Buddhist Era year of the round.
    pub year: i32,
    /// Where on the time axis: the baseline year plus the years since the baseline.
    pub at: f64,
    pub count: u64,
    pub milestone: f64,
    pub status: Status,
    pub status_label: String,
}

/// What the chart shows of one area.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    pub baseline_year: i32,
    pub horizon_year: i32,
    pub baseline: u64,
    /// The largest count that meets the target.
    pub target_max: Option<u64>,
    /// The target as the engine states it exactly (`n/d` or a whole number).
    pub target: String,
    /// Rounds, in time order.
    pub points: Vec<Point>,
    /// The target path as (year, count), from the baseline to the horizon.
    pub path: Vec<(f64, f64)>,
    /// The milestone of every whole year from the baseline to the horizon.
    pub yearly: Vec<(i32, f64)>,
    /// The count at the horizon at the latest round's pace.
    pub projection: Option<f64>,
}

/// Path points per year: enough for the geometric path to look like the curve it is.
const STEPS_PER_YEAR: u32 = 4;

impl Trajectory {
    /// The chart of one area's rows (every round of it, any order) under `target`, the target
    /// the rows were computed with. `None` without rows.
    pub fn from_rows(
        rows: &[&ProgressRow],
        unit: Unit,
        target: &Target,
        lang: halve_measure::Lang,
    ) -> Option<Trajectory> {
        let mut rows: Vec<&ProgressRow> = rows.to_vec();
        rows.sort_by(|a, b| a.years_since_baseline.total_cmp(&b.years_since_baseline));
        let last = unit.of(rows.last()?);
        let baseline = last.baseline;
        let baseline_year = target.baseline;
        let horizon_year = target.horizon_year();
        let b = baseline as f64;
        let steps = target.horizon_years * STEPS_PER_YEAR;
        let path = (0..=steps)
            .map(|i| {
                let years = f64::from(i) / f64::from(STEPS_PER_YEAR);
                (
                    f64::from(baseline_year) + years,
                    b * target.milestone_share(years),
                )
            })
            .collect();
        let yearly = (baseline_year..=horizon_year)
            .map(|year| {
                let of_round = rows
                    .iter()
                    .find(|r| r.year == year)
                    .map(|r| unit.of(r).outlook.milestone);
                let years = f64::from(year - baseline_year);
                (
                    year,
                    of_round.unwrap_or_else(|| b * target.milestone_share(years)),
                )
            })
            .collect();
        Some(Trajectory {
            baseline_year,
            horizon_year,
            baseline,
            target_max: last.target_max,
            target: last.target.clone(),
            points: rows
                .iter()
                .map(|r| {
                    let f = unit.of(r);
                    Point {
                        year: r.year,
                        at: f64::from(baseline_year) + r.years_since_baseline,
                        count: f.count,
                        milestone: f.outlook.milestone,
                        status: f.outlook.status,
                        status_label: f.outlook.status.label(lang).to_owned(),
                    }
                })
                .collect(),
            path,
            yearly,
            projection: last.outlook.projection,
        })
    }

    /// "≤ N" for the target, or the exact target when no whole count meets it.
    fn target_text(&self, at_most: &str) -> String {
        match self.target_max {
            Some(max) => format!("{at_most} {}", count(max)),
            None => format!("< {}", self.target),
        }
    }
}

/// The words of the chart, in the page's language.
#[derive(Clone, Debug, PartialEq)]
pub struct Words {
    pub title: String,
    pub caption: String,
    pub year_axis: String,
    pub count_axis: String,
    pub legend_count: String,
    pub legend_path: String,
    pub legend_projection: String,
    pub baseline: String,
    pub target: String,
    /// Before the largest count that meets the target: "at most".
    pub at_most: String,
    pub col_year: String,
    pub col_count: String,
    pub col_milestone: String,
    pub col_projection: String,
    pub col_status: String,
}

const W: f64 = 640.0;
const H: f64 = 330.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = W - 24.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = H - 52.0;

/// A round tick step for an axis up to `top` in about four steps: 1, 2 or 5 times a power
/// of ten, and at least 1 (counts are whole).
fn nice_step(top: f64) -> f64 {
    let raw = top / 4.0;
    if raw <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// The scales of one chart: time across, count up.
struct Scale {
    x0: f64,
    x1: f64,
    top: f64,
}

impl Scale {
    fn x(&self, year: f64) -> f64 {
        LEFT + (year - self.x0) / (self.x1 - self.x0) * (RIGHT - LEFT)
    }

    fn y(&self, value: f64) -> f64 {
        BOTTOM - value / self.top * (BOTTOM - TOP)
    }
}

/// Draws the chart; `None` when there is no round to show.
pub fn chart(id: &str, t: &Trajectory, w: &Words) -> Option<Chart> {
    let last = t.points.last()?;
    let x0 = f64::from(t.baseline_year);
    let x1 = f64::from(t.horizon_year).max(last.at.ceil()).max(x0 + 1.0);
    let highest = t
        .points
        .iter()
        .map(|p| p.count as f64)
        .chain(t.path.iter().map(|p| p.1))
        .chain(t.projection)
        .chain([t.baseline as f64])
        .fold(0.0, f64::max);
    let step = nice_step(highest);
    let top = ((highest / step).ceil() * step).max(step);
    let s = Scale { x0, x1, top };

    let target_text = t.target_text(&w.at_most);
    let mut desc = format!(
        "{} {}: {} ({}); {} {}: {}; {} {}: {}",
        w.legend_count,
        last.year,
        count(last.count),
        last.status_label,
        w.baseline,
        t.baseline_year,
        count(t.baseline),
        w.target,
        t.horizon_year,
        target_text
    );
    if let Some(p) = t.projection {
        let _ = write!(
            desc,
            "; {} {}: {}",
            w.legend_projection,
            t.horizon_year,
            decimal(p)
        );
    }

    let mut out = String::new();
    open_svg(&mut out, id, "ch-trajectory", W, H, &w.title, &desc);

    // Legend: a sample of each line and its name, wrapping to a second line when needed.
    let mut lx = LEFT;
    let mut ly = 16.0;
    for (class, dash, label) in [
        ("ch-count", "", &w.legend_count),
        ("ch-path", "8 5", &w.legend_path),
        ("ch-projection", "2 4", &w.legend_projection),
    ] {
        let width = 30.0 + text_width(label, 12.0) + 18.0;
        if lx + width > W - 8.0 && lx > LEFT {
            lx = LEFT;
            ly += 18.0;
        }
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let _ = write!(
            out,
            "<g class=\"ch-legend\"><line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" \
             stroke=\"{}\" stroke-width=\"2.5\"{dash}/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text></g>",
            coord(lx),
            coord(ly),
            coord(lx + 24.0),
            coord(ly),
            if class == "ch-path" {
                "#0b5d7a"
            } else {
                "#1d2327"
            },
            coord(lx + 30.0),
            coord(ly + 4.0),
            esc(label)
        );
        lx += width;
    }

    // Axes: horizontal grid lines at round counts, a tick per year.
    let mut v = 0.0;
    while v <= top + step / 2.0 {
        let y = s.y(v);
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#d5dadd\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            coord(LEFT),
            coord(y),
            coord(RIGHT),
            coord(y),
            coord(LEFT - 6.0),
            coord(y + 4.0),
            count(v as u64)
        );
        v += step;
    }
    let mut year = t.baseline_year;
    while f64::from(year) <= x1 {
        let x = s.x(f64::from(year));
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#5b6770\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{year}</text>",
            coord(x),
            coord(BOTTOM),
            coord(x),
            coord(BOTTOM + 5.0),
            coord(x),
            coord(BOTTOM + 18.0)
        );
        year += 1;
    }
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#5b6770\" stroke-width=\"1\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\
         <text transform=\"rotate(-90)\" x=\"{}\" y=\"14\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
        coord(LEFT),
        coord(BOTTOM),
        coord(RIGHT),
        coord(BOTTOM),
        coord((LEFT + RIGHT) / 2.0),
        coord(H - 10.0),
        esc(&w.year_axis),
        coord(-(TOP + BOTTOM) / 2.0),
        esc(&w.count_axis)
    );

    // The target path, dashed, with the target written at its end.
    let points: Vec<String> = t
        .path
        .iter()
        .map(|(x, y)| format!("{},{}", coord(s.x(*x)), coord(s.y(*y))))
        .collect();
    let _ = write!(
        out,
        "<polyline class=\"ch-path\" points=\"{}\" fill=\"none\" stroke=\"#0b5d7a\" \
         stroke-width=\"2\" stroke-dasharray=\"8 5\"/>",
        points.join(" ")
    );
    if let Some(&(x, y)) = t.path.last() {
        let _ = write!(
            out,
            "<text class=\"ch-target\" x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" \
             fill=\"#0b5d7a\">{} {}</text>",
            coord(s.x(x)),
            coord(s.y(y) + 16.0),
            esc(&w.target),
            esc(&target_text)
        );
    }

    // The projection, dotted, from the latest round to the horizon.
    if let Some(p) = t.projection
        && last.at < f64::from(t.horizon_year)
    {
        let (hx, hy) = (s.x(f64::from(t.horizon_year)), s.y(p));
        let _ = write!(
            out,
            "<line class=\"ch-projection\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#1d2327\" \
             stroke-width=\"2\" stroke-dasharray=\"2 4\"/><circle cx=\"{}\" cy=\"{}\" r=\"4\" \
             fill=\"#fff\" stroke=\"#1d2327\" stroke-width=\"1.5\"><title>{} {}: {}</title></circle>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            coord(s.x(last.at)),
            coord(s.y(last.count as f64)),
            coord(hx),
            coord(hy),
            coord(hx),
            coord(hy),
            esc(&w.legend_projection),
            t.horizon_year,
            decimal(p),
            coord(hx - 7.0),
            coord(hy - 8.0),
            decimal(p)
        );
    }

    // The counts: a solid line through the rounds, each a dot in its status's colour.
    let points: Vec<String> = t
        .points
        .iter()
        .map(|p| format!("{},{}", coord(s.x(p.at)), coord(s.y(p.count as f64))))
        .collect();
    let _ = write!(
        out,
        "<polyline class=\"ch-count\" points=\"{}\" fill=\"none\" stroke=\"#1d2327\" stroke-width=\"2.5\"/>",
        points.join(" ")
    );
    for p in &t.points {
        let (x, y) = (s.x(p.at), s.y(p.count as f64));
        // A label above its dot, unless that would leave the plot.
        let label_y = if y - 9.0 < TOP { y + 18.0 } else { y - 9.0 };
        let _ = write!(
            out,
            "<circle class=\"ch-point\" cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\" stroke=\"#1d2327\" \
             stroke-width=\"1.5\"><title>{}: {} ({})</title></circle>\
             <text class=\"ch-value\" x=\"{}\" y=\"{}\" font-size=\"12\" font-weight=\"700\" \
             text-anchor=\"middle\">{}</text>",
            coord(x),
            coord(y),
            look(p.status).fill,
            p.year,
            count(p.count),
            esc(&p.status_label),
            coord(x),
            coord(label_y),
            count(p.count)
        );
    }
    out.push_str("</svg>");

    Some(Chart {
        svg: out,
        table: table(t, w),
    })
}

/// Every whole year from the baseline to the horizon (or the latest round, if later): its
/// count where a round was, its milestone, the projection at the horizon, the status.
fn table(t: &Trajectory, w: &Words) -> Table {
    let last_year = t
        .points
        .iter()
        .map(|p| p.year)
        .max()
        .unwrap_or(t.horizon_year)
        .max(t.horizon_year);
    let rows = (t.baseline_year..=last_year)
        .map(|year| {
            let point = t.points.iter().find(|p| p.year == year);
            let milestone = point
                .map(|p| p.milestone)
                .or_else(|| t.yearly.iter().find(|(y, _)| *y == year).map(|(_, m)| *m));
            let projection = match (t.projection, point) {
                (Some(p), None) if year == t.horizon_year => decimal(p),
                _ => String::new(),
            };
            vec![
                Cell::head(year.to_string(), None),
                Cell::num(point.map(|p| count(p.count)).unwrap_or_default()),
                Cell::num(milestone.map(decimal).unwrap_or_default()),
                Cell::num(projection),
                Cell::text(
                    point
                        .map(|p| format!("{} {}", look(p.status).symbol, p.status_label))
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    Table {
        caption: format!(
            "{} · {} {}: {}",
            w.caption,
            w.target,
            t.horizon_year,
            t.target_text(&w.at_most)
        ),
        head: vec![
            w.col_year.clone(),
            w.col_count.clone(),
            w.col_milestone.clone(),
            w.col_projection.clone(),
            w.col_status.clone(),
        ],
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        let w = |s: &str| s.to_owned();
        Words {
            title: w("Trajectory <of> \"Mueang\""),
            caption: w("Persons by year"),
            year_axis: w("Year (BE)"),
            count_axis: w("Persons"),
            legend_count: w("Count"),
            legend_path: w("Target path"),
            legend_projection: w("Projection"),
            baseline: w("Baseline"),
            target: w("Target"),
            at_most: w("at most"),
            col_year: w("Year"),
            col_count: w("Count"),
            col_milestone: w("Milestone"),
            col_projection: w("Projection"),
            col_status: w("Status"),
        }
    }

    /// Baseline 1,000 in 2566, halving by 2571 on a linear path, 800 in 2568.
    fn known() -> Trajectory {
        let milestone = |years: f64| 1000.0 * (1.0 - 0.5 * years / 5.0);
        Trajectory {
            baseline_year: 2566,
            horizon_year: 2571,
            baseline: 1000,
            target_max: Some(500),
            target: "500".into(),
            points: vec![
                Point {
                    year: 2566,
                    at: 2566.0,
                    count: 1000,
                    milestone: 1000.0,
                    status: Status::NoData,
                    status_label: "no data yet".into(),
                },
                Point {
                    year: 2568,
                    at: 2568.0,
                    count: 800,
                    milestone: milestone(2.0),
                    status: Status::OnTrack,
                    status_label: "on track".into(),
                },
            ],
            path: (0..=5)
                .map(|y| (2566.0 + f64::from(y), milestone(f64::from(y))))
                .collect(),
            yearly: (0..=5)
                .map(|y| (2566 + y, milestone(f64::from(y))))
                .collect(),
            projection: Some(500.0),
        }
    }

    #[test]
    fn a_round_is_drawn_where_its_year_and_count_say() {
        let chart = chart("t", &known(), &words()).unwrap();
        // The plot spans x 72…616 for 2566…2571 and y 278…56 for 0…1,000 (step 500):
        // 2568 is 2/5 across, 800 is 4/5 up.
        let x = 72.0 + 2.0 / 5.0 * 544.0;
        let y = 278.0 - 0.8 * 222.0;
        assert_eq!(
            (coord(x), coord(y)),
            ("289.6".to_owned(), "100.4".to_owned())
        );
        assert!(
            chart.svg.contains("cx=\"289.6\" cy=\"100.4\""),
            "{}",
            chart.svg
        );
        // The baseline round sits on the y axis at the top of the scale.
        assert!(chart.svg.contains("cx=\"72\" cy=\"56\""));
        // The path ends at the target at the horizon; the projection runs to the same place.
        assert!(chart.svg.contains("616,167"));
        assert!(chart.svg.contains("x2=\"616\" y2=\"167\""));
        assert!(
            chart.svg.contains("stroke-dasharray=\"8 5\""),
            "dashed path"
        );
    }

    #[test]
    fn the_picture_is_accessible_and_escaped() {
        let chart = chart("t", &known(), &words()).unwrap();
        let svg = &chart.svg;
        assert!(svg.starts_with("<svg id=\"t\""));
        assert!(svg.contains("role=\"img\" aria-labelledby=\"t-title t-desc\""));
        assert!(
            svg.contains("<title id=\"t-title\">Trajectory &lt;of&gt; &quot;Mueang&quot;</title>")
        );
        assert!(svg.contains(
            "<desc id=\"t-desc\">Count 2568: 800 (on track); Baseline 2566: 1,000; Target 2571: at most 500; Projection 2571: 500</desc>"
        ));
        assert!(!svg.contains("<of>"));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn the_table_holds_the_same_numbers_as_the_picture() {
        let chart = chart("t", &known(), &words()).unwrap();
        let t = &chart.table;
        assert_eq!(t.head.len(), 5);
        let years: Vec<&str> = t.rows.iter().map(|r| r[0].text.as_str()).collect();
        assert_eq!(years, ["2566", "2567", "2568", "2569", "2570", "2571"]);
        let cells = |i: usize| -> Vec<&str> { t.rows[i].iter().map(|c| c.text.as_str()).collect() };
        assert_eq!(cells(0), ["2566", "1,000", "1,000", "", "? no data yet"]);
        assert_eq!(cells(1), ["2567", "", "900", "", ""]);
        assert_eq!(cells(2), ["2568", "800", "800", "", "✓ on track"]);
        assert_eq!(cells(5), ["2571", "", "500", "500", ""]);
        // Every count labelled on the picture is in the table.
        for label in ["1,000", "800", "500"] {
            assert!(chart.svg.contains(&format!(">{label}</text>")), "{label}");
        }
        assert!(t.caption.ends_with("Target 2571: at most 500"));
    }

    #[test]
    fn no_rounds_no_chart_and_steps_are_round() {
        let mut empty = known();
        empty.points.clear();
        assert!(chart("t", &empty, &words()).is_none());
        assert_eq!(nice_step(1000.0), 500.0);
        assert_eq!(nice_step(3.0), 1.0);
        assert_eq!(nice_step(1234.0), 500.0);
        assert_eq!(nice_step(130_000.0), 50_000.0);
    }
}
