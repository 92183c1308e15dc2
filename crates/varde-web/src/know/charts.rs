//! Server-rendered, accessible bar charts: an SVG with a title and description for screen readers, and the same
//! numbers as a table under it, folded away until asked for (so nothing is only in the picture, and the dashboard
//! stays short). No JavaScript, a few kilobytes each.

use crate::http::i18n::t;
use maud::{Markup, PreEscaped, html};
use varde_domain::Lang;

/// One bar: its label, the value drawn (None when suppressed: no bar), and the text shown for it.
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub shown: String,
}

/// The chart's width in SVG units: drawn at this size (1 unit = 1 CSS pixel) where there is room, narrower on a
/// phone, never wider (a chart blown up to the page's width is tall and its text large).
const WIDTH: f64 = 560.0;
/// What one character of 12 px sans-serif takes, a little more than on average (digits and capitals are about 7.7 px): labels and values are laid out from it so
/// none is cut at the chart's edge.
const CHAR_W: f64 = 8.0;
/// Labels longer than fit beside the bars go above them.
const MAX_LABEL_W: f64 = 200.0;

/// How the bars are laid out: labels beside them, or above them when a label is too long to sit beside.
struct Layout {
    label_w: f64,
    bar_x: f64,
    bar_w: f64,
    row_h: f64,
    labels_above: bool,
}

impl Layout {
    fn of(data: &[Bar]) -> Layout {
        let chars = |s: &str| s.chars().count() as f64;
        let label_w = data.iter().map(|b| chars(&b.label)).fold(0.0, f64::max) * CHAR_W + 10.0;
        let value_w = data.iter().map(|b| chars(&b.shown)).fold(0.0, f64::max) * CHAR_W + 10.0;
        if label_w <= MAX_LABEL_W {
            Layout { label_w, bar_x: label_w, bar_w: WIDTH - label_w - value_w, row_h: 20.0, labels_above: false }
        } else {
            Layout { label_w, bar_x: 0.0, bar_w: WIDTH - value_w, row_h: 34.0, labels_above: true }
        }
    }
}

/// A horizontal bar chart with its data table. `id` must be unique on the page.
pub fn bars(
    lang: Lang,
    id: &str,
    title: &str,
    description: &str,
    column: &str,
    value_column: &str,
    data: &[Bar],
) -> Markup {
    let max = data.iter().filter_map(|b| b.value).fold(0.0_f64, f64::max).max(1.0);
    let layout = Layout::of(data);
    let height = layout.row_h * data.len().max(1) as f64 + 4.0;
    let mut svg = String::new();
    for (i, b) in data.iter().enumerate() {
        let top = 2.0 + layout.row_h * i as f64;
        let w = b.value.map_or(0.0, |v| v / max * layout.bar_w);
        let (bar_y, bar_h) = if layout.labels_above { (top + 17.0, 13.0) } else { (top + 3.0, 14.0) };
        let label = maud::html! { (b.label) }.into_string();
        if layout.labels_above {
            svg.push_str(&format!(r#"<text x="0" y="{y}" font-size="12">{label}</text>"#, y = top + 13.0));
        } else {
            svg.push_str(&format!(
                r#"<text x="{x}" y="{y}" text-anchor="end" font-size="12">{label}</text>"#,
                x = layout.label_w - 6.0,
                y = bar_y + 11.0,
            ));
        }
        svg.push_str(&format!(
            r#"<rect x="{x}" y="{bar_y}" width="{w:.1}" height="{bar_h}" fill="{fill}"></rect><text x="{vx:.1}" y="{vy}" font-size="12">{shown}</text>"#,
            x = layout.bar_x,
            fill = if b.value.is_some() { "#245" } else { "none" },
            vx = layout.bar_x + w + 4.0,
            vy = bar_y + 11.0,
            shown = maud::html! { (b.shown) }.into_string(),
        ));
    }
    html! {
        // The caption first: a reader (and the HTML standard) meets the heading before the chart and its table.
        figure.chart {
            figcaption { (title) }
            svg role="img" aria-labelledby={ (id) "-t " (id) "-d" } viewBox={ "0 0 " (WIDTH) " " (height) } width="100%" {
                title id={ (id) "-t" } { (title) }
                desc id={ (id) "-d" } { (description) }
                (PreEscaped(svg))
            }
            details {
                summary { (t(lang, "chart_numbers")) }
                table {
                    thead { tr { th scope="col" { (column) } th scope="col" { (value_column) } } }
                    tbody { @for b in data { tr { th scope="row" { (b.label) } td { (b.shown) } } } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64, shown: &str) -> Bar {
        Bar { label: label.into(), value: Some(value), shown: shown.into() }
    }

    /// Every label and value inside the chart's width, as laid out from the widest character: the longest bar's
    /// value ends before the right edge, and labels beside the bars start after the left one.
    #[test]
    fn nothing_is_drawn_past_the_charts_edges() {
        for data in [
            vec![bar("2026-W49", 120.0, "120"), bar("2026-W50", 3.0, "<5")],
            vec![
                bar("Fentanyl og analoger i prøver solgt som opioider", 49.0, "49 / 1008 (4,9 %)"),
                bar("Xylazin", 1.0, "409 / 1014 (40,3 %)"),
            ],
        ] {
            let layout = Layout::of(&data);
            let longest_value = data.iter().map(|b| b.shown.chars().count()).max().unwrap() as f64 * CHAR_W;
            assert!(layout.bar_x + layout.bar_w + 4.0 + longest_value <= WIDTH, "values fit");
            if !layout.labels_above {
                let longest_label = data.iter().map(|b| b.label.chars().count()).max().unwrap() as f64 * CHAR_W;
                assert!(layout.label_w - 6.0 - longest_label >= 0.0, "labels fit");
            }
            assert!(layout.bar_w >= 200.0, "room left for the bars themselves");
        }
        assert!(Layout::of(&[bar(&"x".repeat(60), 1.0, "1")]).labels_above, "a long label goes above its bar");
    }
}
