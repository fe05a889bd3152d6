//! Charts as inline SVG, drawn on the server: no script, no external library, escaped like the
//! rest of the page. Amounts are scaled as `f64` only for drawing; every figure printed comes from
//! the exact amounts.

use std::collections::BTreeMap;

use engagements_domain::Amount;
use maud::{html, Markup};

use crate::pages::{format_eur, format_eur_rounded};

/// Colours of the series, distinguishable in greyscale too (projected on a wall).
const PALETTE: [&str; 8] = [
    "#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021", "#3b3838",
];
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const MARGIN_LEFT: f64 = 90.0;
const MARGIN_BOTTOM: f64 = 30.0;

fn to_f64(amount: Amount) -> f64 {
    amount.cents() as f64 / 100.0
}

/// Grouped vertical bars: one group per year, one bar per series (e.g. financeur) in each.
pub fn grouped_bars(title: &str, data: &BTreeMap<i32, BTreeMap<String, Amount>>) -> Markup {
    let series: Vec<&String> = {
        let mut names: Vec<&String> = data.values().flat_map(|s| s.keys()).collect();
        names.sort();
        names.dedup();
        names
    };
    let max = data
        .values()
        .flat_map(|s| s.values())
        .map(|a| to_f64(*a))
        .fold(0.0, f64::max);
    if data.is_empty() || max <= 0.0 {
        return html! { p.empty { (title) " : aucune donnée." } };
    }
    let plot_width = WIDTH - MARGIN_LEFT - 10.0;
    let plot_height = HEIGHT - MARGIN_BOTTOM - 10.0;
    let group_width = plot_width / data.len() as f64;
    let bar_width = (group_width * 0.8 / series.len().max(1) as f64).max(2.0);
    html! {
        figure.chart {
            svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) aria-label=(title) {
                title { (title) }
                line x1=(MARGIN_LEFT) y1=(10) x2=(MARGIN_LEFT) y2=(HEIGHT - MARGIN_BOTTOM) stroke="#555" {}
                line x1=(MARGIN_LEFT) y1=(HEIGHT - MARGIN_BOTTOM) x2=(WIDTH - 10.0) y2=(HEIGHT - MARGIN_BOTTOM) stroke="#555" {}
                text x=(MARGIN_LEFT - 6.0) y=(14) text-anchor="end" font-size="11" { (format_eur_rounded(max)) }
                text x=(MARGIN_LEFT - 6.0) y=(HEIGHT - MARGIN_BOTTOM) text-anchor="end" font-size="11" { "0 €" }
                @for (group, (year, values)) in data.iter().enumerate() {
                    @let x0 = MARGIN_LEFT + group as f64 * group_width + group_width * 0.1;
                    text x=(x0 + group_width * 0.4) y=(HEIGHT - 10.0) text-anchor="middle" font-size="12" { (year) }
                    @for (index, name) in series.iter().enumerate() {
                        @if let Some(amount) = values.get(*name) {
                            @let h = to_f64(*amount) / max * plot_height;
                            rect x=(format!("{:.1}", x0 + index as f64 * bar_width)) y=(format!("{:.1}", HEIGHT - MARGIN_BOTTOM - h))
                                width=(format!("{:.1}", bar_width * 0.9)) height=(format!("{:.1}", h)) fill=(PALETTE[index % PALETTE.len()]) {
                                title { (year) " — " (name) " : " (format_eur(*amount)) }
                            }
                        }
                    }
                }
            }
            figcaption {
                (title)
                ul.legend {
                    @for (index, name) in series.iter().enumerate() {
                        li {
                            // An SVG square, not a styled span: the pages' CSP forbids inline styles.
                            svg.swatch xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="12" height="12" { rect width="10" height="10" fill=(PALETTE[index % PALETTE.len()]) {} }
                            (name)
                        }
                    }
                }
            }
        }
    }
}

/// Horizontal bars, one per label, longest first: a breakdown (by objective, by financeur…).
pub fn breakdown(title: &str, data: &[(String, Amount)]) -> Markup {
    let max = data.iter().map(|(_, a)| to_f64(*a)).fold(0.0, f64::max);
    if data.is_empty() || max <= 0.0 {
        return html! { p.empty { (title) " : aucune donnée." } };
    }
    let row_height = 24.0;
    let label_width = 260.0;
    let bar_room = WIDTH - label_width - 130.0;
    let height = row_height * data.len() as f64 + 10.0;
    html! {
        figure.chart {
            svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox=(format!("0 0 {WIDTH} {height}")) aria-label=(title) {
                title { (title) }
                @for (index, (label, amount)) in data.iter().enumerate() {
                    @let y = 5.0 + index as f64 * row_height;
                    @let w = to_f64(*amount) / max * bar_room;
                    text x=(label_width - 6.0) y=(y + 16.0) text-anchor="end" font-size="12" { (truncate(label, 40)) }
                    rect x=(label_width) y=(y + 3.0) width=(format!("{w:.1}")) height=(row_height - 6.0) fill=(PALETTE[index % PALETTE.len()]) {
                        title { (label) " : " (format_eur(*amount)) }
                    }
                    text x=(label_width + w + 6.0) y=(y + 16.0) font-size="12" { (format_eur(*amount)) }
                }
            }
            figcaption { (title) }
        }
    }
}

fn truncate(text: &str, chars_max: usize) -> String {
    if text.chars().count() <= chars_max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(chars_max - 1).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_inside_the_svg() {
        let data = vec![("<script>alert(1)</script>".to_string(), Amount::ZERO)];
        let empty = breakdown("t", &data).into_string();
        assert!(empty.contains("aucune donnée"));
        let data = vec![("<script>alert(1)</script>".to_string(), Amount::euros(10))];
        let svg = breakdown("t", &data).into_string();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
    }
}
