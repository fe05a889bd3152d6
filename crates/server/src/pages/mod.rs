//! The web pages, in French, drawn on the server with maud (every value is HTML-escaped unless
//! marked otherwise, and nothing here marks a value otherwise). No script: the pages work
//! projected on a wall, printed, or in a text browser.

pub mod audit;
pub mod dashboard;
pub mod dossiers;
pub mod entities;
pub mod login;
pub mod tfpb;
pub mod views;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use engagements_domain::Amount;
use engagements_projections::{Cell, Table};
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::asof::{empty_as_none, AsOfParams};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Rows shown in one HTML table before the page says "download the CSV for the rest".
pub const HTML_ROWS_MAX: usize = 2_000;

/// The pages' routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard::home))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(dossiers::list))
        .routes(routes!(dossiers::dossier))
        .routes(routes!(views::view))
        .routes(routes!(audit::audit))
        .routes(routes!(tfpb::tfpb))
        .routes(routes!(entities::signataire))
        .routes(routes!(entities::quartier))
        .routes(routes!(entities::objectif))
        .routes(routes!(login::form, login::login))
        .routes(routes!(login::logout))
        .routes(routes!(stylesheet))
}

/// The query of every page: the moment shown, and the filters some pages use. Empty form
/// fields count as absent; numbers are read by [`PageParams::exercice`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Exercice (year) shown.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub exercice: Option<String>,
    /// Record time (date or RFC 3339): the page as the ledger said it then.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub as_of: Option<String>,
    /// Position of the log: the page as it was just after that event.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub at_position: Option<String>,
    /// Business date: only facts in force on that date.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub effective_on: Option<String>,
    /// Filter: financeur (organisation id).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub financeur: Option<String>,
    /// Filter: text in a dossier's title or porteur's name.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub q: Option<String>,
    /// Filter: bailleur (organisation id) on the TFPB page.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub bailleur: Option<String>,
    /// `csv` on a signataire, quartier or objectif page: its table as CSV.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub format: Option<String>,
}

impl PageParams {
    /// The as-of bounds; 400 naming a bad value.
    pub fn when(&self) -> Result<AsOfParams, ApiError> {
        let at_position = self
            .at_position
            .as_deref()
            .map(|p| {
                p.trim()
                    .parse::<i64>()
                    .map_err(|_| ApiError::invalid(format!("at_position '{p}' is not a number")))
            })
            .transpose()?;
        Ok(AsOfParams {
            as_of: self.as_of.clone(),
            at_position,
            effective_on: self.effective_on.clone(),
        })
    }

    /// The exercice asked for; 400 naming a bad value.
    pub fn exercice(&self) -> Result<Option<i32>, ApiError> {
        self.exercice
            .as_deref()
            .map(|y| {
                y.trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|y| (2000..=2100).contains(y))
                    .ok_or_else(|| ApiError::invalid(format!("exercice '{y}' is not a year")))
            })
            .transpose()
    }
}

/// A page that could not be shown: a login redirect, or an error page with its status.
pub enum PageError {
    Login,
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        if error.status == StatusCode::UNAUTHORIZED {
            PageError::Login
        } else {
            PageError::Api(error)
        }
    }
}

impl From<engagements_app::CommandError> for PageError {
    fn from(error: engagements_app::CommandError) -> Self {
        PageError::Api(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login => Redirect::to("/connexion").into_response(),
            PageError::Api(error) => {
                let body = layout(
                    "Erreur",
                    None,
                    html! {
                        h1 { "Cette page ne peut pas être affichée" }
                        p.error { (error.message) }
                        p { "Code : " code { (error.code) } }
                        p { a href="/tableau-de-bord" { "Retour au tableau de bord" } }
                    },
                );
                (error.status, body).into_response()
            }
        }
    }
}

/// The caller of a page, or the login page.
pub fn page_caller(caller: Result<Caller, ApiError>) -> Result<Caller, PageError> {
    caller.map_err(PageError::from)
}

/// The frame of every page: title, navigation, the caller, then the content.
pub fn layout(title: &str, caller: Option<&Caller>, content: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="fr" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — Engagements" }
                    link rel="stylesheet" href="/style.css";
                }
                body {
                    header.top {
                        a.brand href="/tableau-de-bord" { "Engagements" }
                        nav {
                            a href="/tableau-de-bord" { "Tableau de bord" }
                            a href="/dossiers" { "Dossiers" }
                            a href="/vues/porteurs" { "Porteurs" }
                            a href="/tfpb" { "TFPB" }
                            a href="/audit" { "Audit" }
                        }
                        @if let Some(caller) = caller {
                            span.who { (caller.0.person) " (" (caller.0.organisation) ", " (caller.0.role.as_str()) ")" }
                            @if let Some(session) = &caller.1 {
                                form.inline method="post" action="/deconnexion" {
                                    (crate::sessions::csrf_input(session))
                                    button type="submit" { "Se déconnecter" }
                                }
                            }
                        }
                    }
                    main { (content) }
                    footer { "Registre des engagements du contrat de ville — chaque chiffre est un calcul sur le journal des faits enregistrés, vérifiable." }
                }
            }
        }
        .into_string(),
    )
}

/// The date selector: shows the page as of a record date, a position, or a business date.
pub fn date_selector(action: &str, params: &PageParams, extra: Markup) -> Markup {
    html! {
        form.asof method="get" action=(action) {
            (extra)
            label { "Exercice " input type="number" name="exercice" min="2000" max="2100" value=[params.exercice.as_deref()]; }
            label { "Tel qu'enregistré au " input type="date" name="as_of" value=[params.as_of.as_deref()]; }
            label { "Faits en vigueur au " input type="date" name="effective_on" value=[params.effective_on.as_deref()]; }
            label { "Position " input type="number" name="at_position" min="0" value=[params.at_position.as_deref()]; }
            button type="submit" { "Afficher" }
            a href=(action) { "Aujourd'hui" }
        }
    }
}

/// A report table, with its CSV download link.
pub fn table_html(table: &Table, csv_href: &str) -> Markup {
    html! {
        p.download { a href=(csv_href) download { "Télécharger en CSV" } " — " (table.rows.len()) " lignes" }
        table.report {
            thead { tr { @for column in &table.columns { th { (column) } } } }
            tbody {
                @for row in table.rows.iter().take(HTML_ROWS_MAX) {
                    tr { @for cell in row { (cell_html(cell)) } }
                }
            }
        }
        @if table.rows.len() > HTML_ROWS_MAX {
            p { "Seules les " (HTML_ROWS_MAX) " premières lignes sont affichées : le CSV les contient toutes." }
        }
    }
}

fn cell_html(cell: &Cell) -> Markup {
    match cell {
        Cell::Amount(amount) => html! { td.num { (format_eur(*amount)) } },
        Cell::Int(n) => html! { td.num { (n) } },
        other => html! { td { (other.to_text()) } },
    }
}

/// An amount the French way: `12 345,50 €` (narrow no-break spaces between thousands).
pub fn format_eur(amount: Amount) -> String {
    let cents = amount.cents();
    format!("{},{:02} €", group_thousands(cents / 100), cents % 100)
}

/// A rounded amount for chart axes: `12 346 €`.
pub fn format_eur_rounded(value: f64) -> String {
    format!("{} €", group_thousands(value.round() as i64))
}

fn group_thousands(units: i64) -> String {
    let digits = units.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(digit);
    }
    out
}

/// The stylesheet of every page.
#[utoipa::path(get, path = "/style.css", tag = "pages",
    responses((status = 200, description = "CSS", content_type = "text/css")))]
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("style.css"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_the_french_way() {
        assert_eq!(
            format_eur(Amount::from_cents(123_456_750).unwrap()),
            "1\u{202f}234\u{202f}567,50 €"
        );
        assert_eq!(format_eur(Amount::ZERO), "0,00 €");
        assert_eq!(format_eur(Amount::from_cents(5).unwrap()), "0,05 €");
        assert_eq!(format_eur_rounded(999.6), "1\u{202f}000 €");
    }
}
