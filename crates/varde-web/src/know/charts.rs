//! Server-rendered, accessible bar charts: an SVG with a title and description for screen readers, and the same
//! numbers as a table beside it (so nothing is only in the picture). No JavaScript, a few kilobytes each.

use maud::{Markup, PreEscaped, html};

/// One bar: its label, the value drawn (None when suppressed: no bar), and the text shown for it.
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub shown: String,
}

/// A horizontal bar chart with its data table. `id` must be unique on the page.
pub fn bars(id: &str, title: &str, description: &str, column: &str, value_column: &str, data: &[Bar]) -> Markup {
    let max = data.iter().filter_map(|b| b.value).fold(0.0_f64, f64::max).max(1.0);
    let (label_w, bar_w, row_h) = (150.0, 330.0, 22.0);
    let height = row_h * data.len().max(1) as f64 + 10.0;
    let mut svg = String::new();
    for (i, b) in data.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let w = b.value.map_or(0.0, |v| v / max * bar_w);
        svg.push_str(&format!(
            r#"<text x="{lx}" y="{ty}" text-anchor="end" font-size="12">{label}</text><rect x="{bx}" y="{y}" width="{w:.1}" height="{h}" fill="{fill}"></rect><text x="{vx:.1}" y="{ty}" font-size="12">{shown}</text>"#,
            lx = label_w - 6.0,
            ty = y + row_h * 0.65,
            label = maud::html! { (b.label) }.into_string(),
            bx = label_w,
            h = row_h - 6.0,
            fill = if b.value.is_some() { "#245" } else { "none" },
            vx = label_w + w + 4.0,
            shown = maud::html! { (b.shown) }.into_string(),
        ));
    }
    html! {
        // The caption first: a reader (and the HTML standard) meets the heading before the chart and its table.
        figure.chart {
            figcaption { (title) }
            svg role="img" aria-labelledby={ (id) "-t " (id) "-d" } viewBox={ "0 0 520 " (height) } width="100%" {
                title id={ (id) "-t" } { (title) }
                desc id={ (id) "-d" } { (description) }
                (PreEscaped(svg))
            }
            table {
                thead { tr { th scope="col" { (column) } th scope="col" { (value_column) } } }
                tbody { @for b in data { tr { th scope="row" { (b.label) } td { (b.shown) } } } }
            }
        }
    }
}
