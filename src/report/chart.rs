//! A small SVG writer for step charts (counts over days), through maud so every label is
//! escaped. Pure: data in, markup out.

use maud::{html, Markup};

use crate::date::Day;

/// Width and height of the drawing, in SVG units (it scales to its box).
const W: f64 = 800.0;
const H: f64 = 320.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 36.0;

/// One line of the chart: its value from each change on (a step function).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name (legend, text equivalent).
    pub label: String,
    /// A CSS colour.
    pub colour: &'static str,
    /// An SVG dash pattern (`""` for a solid line), so the lines differ in print and for
    /// readers who do not tell the colours apart.
    pub dash: &'static str,
    /// `(day, value)` at each change, in day order; the value holds until the next change.
    pub steps: Vec<(Day, u64)>,
}

/// A day marked with a vertical line.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// The day.
    pub day: Day,
    /// A short label drawn at the top (when there is room) and given as the line's title.
    pub label: String,
    /// Whether it is the main marker (drawn solid and always labelled), else a dotted line.
    pub strong: bool,
}

/// A step chart.
#[derive(Debug, Clone, PartialEq)]
pub struct StepChart {
    /// The chart's title (the SVG `<title>`).
    pub title: String,
    /// A sentence saying what it shows (the SVG `<desc>`).
    pub description: String,
    /// The first day drawn.
    pub from: Day,
    /// The last day drawn.
    pub to: Day,
    /// The lines.
    pub series: Vec<Series>,
    /// The marked days.
    pub markers: Vec<Marker>,
}

/// The smallest "nice" number (1, 2 or 5 times a power of ten) at least `x`.
fn nice(x: f64) -> f64 {
    if x <= 1.0 {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= x {
            return m * p;
        }
    }
    10.0 * p
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

impl StepChart {
    fn x(&self, d: Day) -> f64 {
        let span = f64::from((self.to.0 - self.from.0).max(1));
        let d = d.0.clamp(self.from.0, self.to.0);
        LEFT + f64::from(d - self.from.0) / span * (W - LEFT - RIGHT)
    }

    fn top_value(&self) -> f64 {
        let max = self
            .series
            .iter()
            .flat_map(|s| s.steps.iter().map(|p| p.1))
            .max()
            .unwrap_or(0);
        // Headroom of a tenth, then up to a nice value divisible into five ticks.
        let v = nice((max as f64 * 1.1).ceil() / 5.0) * 5.0;
        v.max(5.0)
    }

    fn y(&self, v: u64, top: f64) -> f64 {
        H - BOTTOM - (v as f64 / top) * (H - TOP - BOTTOM)
    }

    /// The path of one series: a step line from `from` to `to` (the value before its first
    /// change is 0).
    pub fn path(&self, s: &Series) -> String {
        let top = self.top_value();
        let mut d = String::new();
        let mut v = 0;
        d.push_str(&format!(
            "M{} {}",
            fmt(self.x(self.from)),
            fmt(self.y(0, top))
        ));
        for &(day, value) in &s.steps {
            if day > self.to {
                break;
            }
            if value == v {
                continue;
            }
            d.push_str(&format!(
                "H{}V{}",
                fmt(self.x(day.max(self.from))),
                fmt(self.y(value, top))
            ));
            v = value;
        }
        d.push_str(&format!("H{}", fmt(self.x(self.to))));
        d
    }

    /// The years labelled on the x axis: about eight, at a round interval.
    fn year_ticks(&self) -> Vec<(i32, Day)> {
        let (a, b) = (self.from.to_naive(), self.to.to_naive());
        use chrono::Datelike;
        let (y0, y1) = (a.year(), b.year());
        let span = (y1 - y0).max(1);
        let step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000]
            .into_iter()
            .find(|s| span / s <= 8)
            .unwrap_or(1000);
        let first = y0 + (step - y0.rem_euclid(step)) % step;
        (first..=y1)
            .step_by(step as usize)
            .filter_map(|y| {
                chrono::NaiveDate::from_ymd_opt(y, 1, 1).map(|d| (y, Day::from_naive(d)))
            })
            .filter(|(_, d)| *d >= self.from && *d <= self.to)
            .collect()
    }

    /// The chart as inline SVG: a titled, described image (`role="img"`).
    pub fn svg(&self, id: &str) -> Markup {
        let top = self.top_value();
        let title_id = format!("{id}-title");
        let desc_id = format!("{id}-desc");
        let base = H - BOTTOM;
        let (mut last_x, mut last_half) = (f64::NEG_INFINITY, 0.0);
        let mut labelled = Vec::new();
        // Strong markers are always labelled; others when their label (about 6.2 units a
        // character, centred) does not run into the previous label.
        for m in &self.markers {
            let x = self.x(m.day);
            let half = m.label.chars().count() as f64 * 3.1;
            let show = m.strong || x - last_x >= last_half + half + 4.0;
            if show {
                (last_x, last_half) = (x, half);
            }
            labelled.push((m, x, show));
        }
        html! {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (W) " " (H)} role="img"
                aria-labelledby={(title_id) " " (desc_id)} id=(id) {
                title id=(title_id) { (self.title) }
                desc id=(desc_id) { (self.description) }
                g class="grid" stroke="#d5dbe0" stroke-width="1" {
                    @for i in 0..=5u64 {
                        @let v = (top as u64) * i / 5;
                        @let y = self.y(v, top);
                        line x1=(LEFT) x2={(W - RIGHT)} y1=(fmt(y)) y2=(fmt(y)) {}
                    }
                }
                g class="y-axis" font-size="12" fill="#5b6770" text-anchor="end" {
                    @for i in 0..=5u64 {
                        @let v = (top as u64) * i / 5;
                        text x={(LEFT - 6.0)} y=(fmt(self.y(v, top) + 4.0)) { (v) }
                    }
                }
                g class="x-axis" font-size="12" fill="#5b6770" text-anchor="middle" {
                    line x1=(LEFT) x2={(W - RIGHT)} y1=(base) y2=(base) stroke="#1d2327" {}
                    @for (year, day) in self.year_ticks() {
                        @let x = fmt(self.x(day));
                        line x1=(x) x2=(x) y1=(base) y2={(base + 5.0)} stroke="#1d2327" {}
                        text x=(x) y={(base + 20.0)} { (year) }
                    }
                }
                g class="markers" font-size="11" {
                    @for (m, x, show) in &labelled {
                        @let x = fmt(*x);
                        g {
                            title { (m.label) " (" (m.day.text()) ")" }
                            line x1=(x) x2=(x) y1=(TOP - 4.0) y2=(base)
                                stroke=(if m.strong { "#1d2327" } else { "#8a96a0" })
                                stroke-width=(if m.strong { "1.5" } else { "1" })
                                stroke-dasharray=(if m.strong { "" } else { "2 3" }) {}
                            @if *show {
                                text x=(x) y=(TOP - 8.0) text-anchor="middle"
                                    fill=(if m.strong { "#1d2327" } else { "#5b6770" })
                                    font-weight=(if m.strong { "700" } else { "400" }) { (m.label) }
                            }
                        }
                    }
                }
                g class="series" fill="none" stroke-width="2.5" stroke-linejoin="round" {
                    @for s in &self.series {
                        path d=(self.path(s)) stroke=(s.colour) stroke-dasharray=(s.dash) {
                            title { (s.label) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap_or(Day(0))
    }

    fn chart() -> StepChart {
        StepChart {
            title: "Members <script>".into(),
            description: "A & B".into(),
            from: day("2000-01-01"),
            to: day("2010-01-01"),
            series: vec![Series {
                label: "members".into(),
                colour: "#000",
                dash: "",
                steps: vec![
                    (day("2002-01-01"), 3),
                    (day("2004-01-01"), 3),
                    (day("2006-01-01"), 5),
                ],
            }],
            markers: vec![Marker {
                day: day("2005-01-01"),
                label: "GA \"1\" <b>".into(),
                strong: false,
            }],
        }
    }

    #[test]
    fn a_step_path_rises_at_each_change_and_runs_to_the_last_day() {
        let c = chart();
        let p = c.path(&c.series[0]);
        // Starts at 0 on the first day, two rises (the repeated 3 draws nothing), ends at `to`.
        assert!(p.starts_with("M48.0 284.0"), "{p}");
        assert_eq!(p.matches('V').count(), 2, "{p}");
        assert!(p.ends_with(&format!("H{}", fmt(W - RIGHT))), "{p}");
        // The value 5 sits higher (smaller y) than 3.
        let ys: Vec<f64> = p
            .split('V')
            .skip(1)
            .filter_map(|s| s.split('H').next()?.parse().ok())
            .collect();
        assert!(ys[1] < ys[0] && ys[0] < 284.0, "{ys:?}");
    }

    #[test]
    fn the_svg_has_a_title_a_description_and_escapes_every_label() {
        let svg = chart().svg("c").into_string();
        assert!(svg.contains(r#"role="img""#));
        assert!(
            svg.contains("<title id=\"c-title\">Members &lt;script&gt;</title>"),
            "{svg}"
        );
        assert!(svg.contains("<desc id=\"c-desc\">A &amp; B</desc>"));
        assert!(svg.contains("GA &quot;1&quot; &lt;b&gt;") || svg.contains("GA \"1\" &lt;b&gt;"));
        assert!(!svg.contains("<script") && !svg.contains("<b>"));
    }

    #[test]
    fn the_year_ticks_fall_inside_the_range_at_a_round_interval() {
        let c = chart();
        let t: Vec<i32> = c.year_ticks().into_iter().map(|t| t.0).collect();
        assert_eq!(t, vec![2000, 2002, 2004, 2006, 2008, 2010]);
        assert!(nice(7.0) == 10.0 && nice(0.3) == 1.0 && nice(21.0) == 50.0 && nice(2.0) == 2.0);
    }
}
