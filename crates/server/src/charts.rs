//! Charts as inline SVG, drawn on the server: no script, no external library, escaped like the
//! rest of the page. Amounts are scaled as `f64` only for drawing; every figure printed comes from
//! the exact amounts.
//!
//! A financeur has one colour in every chart of every page (chosen from its place in the
//! contract's list of organisations, not from the chart), series are named as people name them,
//! the communes' small lines are drawn as one series, titles stand above their chart, and
//! objectifs are grouped by enjeu and ambition as in the contract.

use std::collections::BTreeMap;

use engagements_domain::referential::OrganisationKind;
use engagements_domain::Amount;
use engagements_projections::referential::ReferentialView;
use maud::{html, Markup};

use crate::asof::encode;
use crate::pages::{format_eur, format_eur_rounded};

/// Colours of the series: 25, so that every organisation of a contract that is not a commune
/// keeps its own; dark enough for white backgrounds and a projector.
const PALETTE: [&str; 25] = [
    "#c55a11", "#1f4e79", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021", "#3b3838",
    "#00827f", "#8c564b", "#d6336c", "#5b6f00", "#6f42c1", "#b35900", "#0b6e99", "#7a1f3d",
    "#2f6d3a", "#9a6700", "#4b0082", "#006d5b", "#8b3a3a", "#36454f", "#a0522d", "#1b5e20",
    "#5a3e85",
];
/// The communes, drawn as one series.
const COMMUNES_COLOUR: &str = "#8a8a8a";
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 280.0;
const MARGIN_LEFT: f64 = 100.0;
const MARGIN_TOP: f64 = 12.0;
const MARGIN_BOTTOM: f64 = 30.0;
/// Ticks on the amount axis, about.
const TICKS: f64 = 4.0;

fn to_f64(amount: Amount) -> f64 {
    amount.cents() as f64 / 100.0
}

/// How a series is named and coloured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    /// The page of what the series stands for, if it has one.
    pub href: Option<String>,
}

/// What the keys of a chart's series are.
pub enum Legend<'a> {
    /// Organisation ids: named from the referential, the communes grouped as one series.
    Financeurs(&'a ReferentialView),
    /// Dispositif ids, named from the referential.
    Dispositifs(&'a ReferentialView),
    /// Names already written for people, in the order of their keys.
    Named,
}

impl Legend<'_> {
    /// The series of `key` (`index` is the key's rank, used by [`Legend::Named`] only).
    pub fn series(&self, key: &str, index: usize) -> Series {
        match self {
            Legend::Financeurs(referential) => financeur_series(referential, key),
            Legend::Dispositifs(referential) => {
                let place = referential.dispositifs().position(|d| d.id == key);
                Series {
                    name: referential
                        .dispositif(key)
                        .map(|d| d.name.clone())
                        .unwrap_or_else(|| key.to_string()),
                    colour: PALETTE[place.unwrap_or(index) % PALETTE.len()],
                    href: None,
                }
            }
            Legend::Named => Series {
                // "2. Programmé" orders the series; people read "Programmé".
                name: key
                    .split_once(". ")
                    .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                    .map_or(key, |(_, name)| name)
                    .to_string(),
                colour: PALETTE[index % PALETTE.len()],
                href: None,
            },
        }
    }
}

/// A financeur's series: its name and its colour in every chart; every commune in one series.
pub fn financeur_series(referential: &ReferentialView, id: &str) -> Series {
    let organisation = referential.organisation(id);
    if organisation.is_some_and(|o| o.kind == OrganisationKind::Commune) {
        return Series {
            name: "Communes".to_string(),
            colour: COMMUNES_COLOUR,
            href: Some("/signataires".to_string()),
        };
    }
    let place = referential
        .organisations()
        .filter(|o| o.kind != OrganisationKind::Commune)
        .position(|o| o.id == id)
        .unwrap_or(PALETTE.len() - 1);
    Series {
        name: organisation
            .map(|o| o.name.clone())
            .unwrap_or_else(|| id.to_string()),
        colour: PALETTE[place % PALETTE.len()],
        href: Some(format!("/signataires/{}", encode(id))),
    }
}

/// A round step for about [`TICKS`] graduations up to `max` (1, 2, 2.5 or 5 × 10ⁿ).
fn tick_step(max: f64) -> f64 {
    let rough = max / TICKS;
    let magnitude = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude)
}

/// Grouped vertical bars: one group per year, one bar per series (financeur, dispositif…) in
/// each, the series largest first; an axis graduated in round amounts; the title above.
pub fn grouped_bars(
    title: &str,
    data: &BTreeMap<i32, BTreeMap<String, Amount>>,
    legend: &Legend<'_>,
) -> Markup {
    // The keys as series (several keys may be one series: the communes), added up.
    let mut keys: Vec<&String> = data.values().flat_map(|s| s.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut series: Vec<(Series, Amount)> = Vec::new();
    let mut by_year: BTreeMap<i32, BTreeMap<usize, Amount>> = BTreeMap::new();
    for (index, key) in keys.iter().enumerate() {
        let s = legend.series(key, index);
        let slot = match series.iter().position(|(known, _)| known.name == s.name) {
            Some(slot) => slot,
            None => {
                series.push((s, Amount::ZERO));
                series.len() - 1
            }
        };
        for (year, values) in data {
            if let Some(amount) = values.get(*key) {
                let total = &mut series[slot].1;
                *total = total.checked_add(*amount).unwrap_or(*total);
                let cell = by_year
                    .entry(*year)
                    .or_default()
                    .entry(slot)
                    .or_insert(Amount::ZERO);
                *cell = cell.checked_add(*amount).unwrap_or(*cell);
            }
        }
    }
    let mut order: Vec<usize> = (0..series.len()).collect();
    order.sort_by(|a, b| series[*b].1.cmp(&series[*a].1).then(a.cmp(b)));
    let max = by_year
        .values()
        .flat_map(|s| s.values())
        .map(|a| to_f64(*a))
        .fold(0.0, f64::max);
    if data.is_empty() || max <= 0.0 {
        return html! { p.empty { (title) " : aucun montant à représenter pour ce choix." } };
    }
    let step = tick_step(max);
    let top = (max / step).ceil() * step;
    let plot_width = WIDTH - MARGIN_LEFT - 10.0;
    let plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP;
    let y_of = |value: f64| HEIGHT - MARGIN_BOTTOM - value / top * plot_height;
    let group_width = plot_width / data.len() as f64;
    let bar_width = group_width * 0.8 / order.len().max(1) as f64;
    let ticks: Vec<f64> = (0..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= top + step / 2.0)
        .collect();
    html! {
        figure.chart {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) aria-label=(title) {
                title { (title) }
                @for value in &ticks {
                    @let y = y_of(*value);
                    line x1=(MARGIN_LEFT) y1=(format!("{y:.1}")) x2=(WIDTH - 10.0) y2=(format!("{y:.1}")) stroke="#ddd" {}
                    text x=(MARGIN_LEFT - 6.0) y=(format!("{:.1}", y + 4.0)) text-anchor="end" font-size="11" { (format_eur_rounded(*value)) }
                }
                line x1=(MARGIN_LEFT) y1=(MARGIN_TOP) x2=(MARGIN_LEFT) y2=(HEIGHT - MARGIN_BOTTOM) stroke="#555" {}
                line x1=(MARGIN_LEFT) y1=(HEIGHT - MARGIN_BOTTOM) x2=(WIDTH - 10.0) y2=(HEIGHT - MARGIN_BOTTOM) stroke="#555" {}
                @for (group, (year, values)) in by_year.iter().enumerate() {
                    @let x0 = MARGIN_LEFT + group as f64 * group_width + group_width * 0.1;
                    text x=(format!("{:.1}", x0 + group_width * 0.4)) y=(HEIGHT - 10.0) text-anchor="middle" font-size="12" { (year) }
                    @for (rank, slot) in order.iter().enumerate() {
                        @if let Some(amount) = values.get(slot) {
                            @let value = to_f64(*amount);
                            // At least one pixel: a small amount stays visible beside a large one.
                            @let h = (value / top * plot_height).max(if value > 0.0 { 1.0 } else { 0.0 });
                            rect x=(format!("{:.1}", x0 + rank as f64 * bar_width)) y=(format!("{:.1}", HEIGHT - MARGIN_BOTTOM - h))
                                width=(format!("{:.1}", (bar_width * 0.9).max(1.0))) height=(format!("{:.1}", h)) fill=(series[*slot].0.colour) {
                                title { (year) " — " (series[*slot].0.name) " : " (format_eur(*amount)) }
                            }
                        }
                    }
                }
            }
            ul.legend {
                @for slot in &order {
                    @let (s, total) = &series[*slot];
                    li {
                        // An SVG square, not a styled span: the pages' CSP forbids inline styles.
                        svg.swatch xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="12" height="12" { rect width="10" height="10" fill=(s.colour) {} }
                        @if let Some(href) = &s.href { a href=(href) { (s.name) } } @else { (s.name) }
                        " (" (format_eur(*total)) ")"
                    }
                }
            }
        }
    }
}

/// One line of a horizontal breakdown: a heading of a group, or a bar.
#[derive(Debug, Clone)]
pub enum Line {
    /// A group's title (an enjeu).
    Heading(String),
    /// A sub-group's title (an ambition).
    Subheading(String),
    Bar {
        label: String,
        amount: Amount,
        colour: &'static str,
        href: Option<String>,
    },
}

/// The financeurs of `amounts` (organisation ids) as bars, largest first, in their colours,
/// the communes added up as one bar.
pub fn financeur_lines(
    referential: &ReferentialView,
    amounts: &BTreeMap<String, Amount>,
) -> Vec<Line> {
    let mut bars: Vec<(Series, Amount)> = Vec::new();
    for (id, amount) in amounts {
        let s = financeur_series(referential, id);
        match bars.iter_mut().find(|(known, _)| known.name == s.name) {
            Some((_, total)) => *total = total.checked_add(*amount).unwrap_or(*total),
            None => bars.push((s, *amount)),
        }
    }
    bars.retain(|(_, a)| !a.is_zero());
    bars.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name.cmp(&b.0.name)));
    bars.into_iter()
        .map(|(s, amount)| Line::Bar {
            label: s.name,
            amount,
            colour: s.colour,
            href: s.href,
        })
        .collect()
}

/// Bars already named for people, in their order, each in its own colour.
pub fn named_lines(amounts: &[(String, Amount)]) -> Vec<Line> {
    amounts
        .iter()
        .enumerate()
        .map(|(index, (label, amount))| Line::Bar {
            label: label.clone(),
            amount: *amount,
            colour: PALETTE[index % PALETTE.len()],
            href: None,
        })
        .collect()
}

/// The objectifs of `amounts` (by number) as bars grouped by enjeu, then ambition, in the
/// contract's order, coloured by enjeu; groups without money are left out.
pub fn objectif_lines(referential: &ReferentialView, amounts: &BTreeMap<u32, Amount>) -> Vec<Line> {
    let mut out = Vec::new();
    for (enjeu_index, enjeu) in referential.enjeux().enumerate() {
        // Colours of their own, from the end of the palette: an enjeu is not a financeur.
        let colour = PALETTE[PALETTE.len() - 1 - enjeu_index % PALETTE.len()];
        let mut enjeu_lines = Vec::new();
        for ambition in referential.ambitions().filter(|a| a.enjeu == enjeu.id) {
            let bars: Vec<Line> = referential
                .objectifs()
                .filter(|p| p.ambition.id == ambition.id)
                .filter_map(|p| {
                    let amount = amounts.get(&p.objectif.number).filter(|a| !a.is_zero())?;
                    Some(Line::Bar {
                        label: format!("n° {} — {}", p.objectif.number, p.objectif.title),
                        amount: *amount,
                        colour,
                        href: Some(format!("/objectifs/{}", p.objectif.number)),
                    })
                })
                .collect();
            if !bars.is_empty() {
                enjeu_lines.push(Line::Subheading(format!(
                    "{} — {}",
                    ambition.id, ambition.title
                )));
                enjeu_lines.extend(bars);
            }
        }
        if !enjeu_lines.is_empty() {
            out.push(Line::Heading(format!("{} — {}", enjeu.id, enjeu.title)));
            out.extend(enjeu_lines);
        }
    }
    out
}

/// Horizontal bars with their amounts, under group headings when the lines have some; the
/// title above.
pub fn breakdown(title: &str, lines: &[Line]) -> Markup {
    let max = lines
        .iter()
        .filter_map(|l| match l {
            Line::Bar { amount, .. } => Some(to_f64(*amount)),
            _ => None,
        })
        .fold(0.0, f64::max);
    if max <= 0.0 {
        return html! { p.empty { (title) " : aucun montant à représenter pour ce choix." } };
    }
    let row_height = 22.0;
    let label_width = 340.0;
    let bar_room = WIDTH - label_width - 120.0;
    let height = row_height * lines.len() as f64 + 8.0;
    html! {
        figure.chart {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox=(format!("0 0 {WIDTH} {height}")) aria-label=(title) {
                title { (title) }
                @for (index, line) in lines.iter().enumerate() {
                    @let y = 4.0 + index as f64 * row_height;
                    @match line {
                        Line::Heading(text) => {
                            text x="4" y=(format!("{:.1}", y + 15.0)) font-size="12.5" font-weight="bold" { (truncate(text, 100)) }
                        }
                        Line::Subheading(text) => {
                            text x="14" y=(format!("{:.1}", y + 15.0)) font-size="12" font-style="italic" { (truncate(text, 100)) }
                        }
                        Line::Bar { label, amount, colour, href } => {
                            @let w = (to_f64(*amount) / max * bar_room).max(1.0);
                            @if let Some(href) = href {
                                a href=(href) {
                                    text x=(label_width - 6.0) y=(format!("{:.1}", y + 15.0)) text-anchor="end" font-size="12" fill="#1f4e79" { (truncate(label, 48)) }
                                }
                            } @else {
                                text x=(label_width - 6.0) y=(format!("{:.1}", y + 15.0)) text-anchor="end" font-size="12" { (truncate(label, 48)) }
                            }
                            rect x=(label_width) y=(format!("{:.1}", y + 3.0)) width=(format!("{w:.1}")) height=(row_height - 6.0) fill=(colour) {
                                title { (label) " : " (format_eur(*amount)) }
                            }
                            text x=(format!("{:.1}", label_width + w + 6.0)) y=(format!("{:.1}", y + 15.0)) font-size="12" { (format_eur(*amount)) }
                        }
                    }
                }
            }
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

    fn bar(label: &str, euros: u64) -> Line {
        Line::Bar {
            label: label.to_string(),
            amount: Amount::euros(euros),
            colour: PALETTE[0],
            href: None,
        }
    }

    #[test]
    fn labels_are_escaped_inside_the_svg() {
        let empty = breakdown("t", &[bar("<script>alert(1)</script>", 0)]).into_string();
        assert!(empty.contains("aucun montant"));
        let svg = breakdown("t", &[bar("<script>alert(1)</script>", 10)]).into_string();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
    }

    #[test]
    fn ticks_are_round_amounts() {
        assert_eq!(tick_step(2_121_500.0), 1_000_000.0);
        assert_eq!(tick_step(610_000.0), 200_000.0);
        assert_eq!(tick_step(9_000.0), 2_500.0);
    }

    #[test]
    fn a_financeur_keeps_its_colour_in_every_chart_and_communes_are_one_series() {
        let contract = engagements_app::referential::LoadedContract::embedded().unwrap();
        let view = ReferentialView::of(contract.referential);
        let etat = financeur_series(&view, "etat");
        assert_eq!(etat.name, "Préfecture du Pas-de-Calais");
        // Alone or beside others, in any chart: the same colour.
        let alone = BTreeMap::from([(
            2025,
            BTreeMap::from([("etat".to_string(), Amount::euros(5))]),
        )]);
        let crowded = BTreeMap::from([(
            2025,
            BTreeMap::from([
                ("cabbalr".to_string(), Amount::euros(9)),
                ("commune-auchel".to_string(), Amount::euros(1)),
                ("commune-barlin".to_string(), Amount::euros(2)),
                ("etat".to_string(), Amount::euros(5)),
            ]),
        )]);
        for data in [&alone, &crowded] {
            let svg = grouped_bars("t", data, &Legend::Financeurs(&view)).into_string();
            assert!(
                svg.contains(&format!(
                    "fill=\"{}\"><title>2025 — Préfecture",
                    etat.colour
                )),
                "{svg}"
            );
        }
        let svg = grouped_bars("t", &crowded, &Legend::Financeurs(&view)).into_string();
        assert!(svg.contains("Communes</a> (3,00 €)"), "{svg}");
        assert!(!svg.contains("commune-"), "{svg}");
        // Every organisation that is not a commune has a colour of its own.
        let colours: std::collections::BTreeSet<_> = view
            .organisations()
            .filter(|o| o.kind != OrganisationKind::Commune)
            .map(|o| financeur_series(&view, &o.id).colour)
            .collect();
        let others = view
            .organisations()
            .filter(|o| o.kind != OrganisationKind::Commune)
            .count();
        assert_eq!(colours.len(), others.min(PALETTE.len()));
    }
}
