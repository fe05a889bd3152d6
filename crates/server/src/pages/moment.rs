//! The moment a reader chose (exercice, record time, business date, position) travels with every
//! link of the page, and an address naming a parameter no page knows is refused in French.
//!
//! Both happen in one middleware around the pages, so that every page, present and future, keeps
//! the moment without each link having to remember it: after the page is drawn, every link to
//! another page (`href="/…"`, not the API nor the stylesheet) that does not already name a moment
//! gets the reader's moment appended.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::pages::PageError;

/// The query parameters of the pages ([`crate::pages::PageParams`]); a test keeps both in step.
pub const PAGE_PARAMS: &[&str] = &[
    "exercice",
    "as_of",
    "at_position",
    "effective_on",
    "financeur",
    "q",
    "bailleur",
    "format",
    "quartier",
    "objectif",
    "statut",
    "tri",
    "page",
    "enregistre",
    "du",
    "au",
    "partie",
];

/// The parameters that make the moment shown, carried from page to page.
const MOMENT_PARAMS: &[&str] = &["exercice", "as_of", "at_position", "effective_on"];

/// Largest page rewritten (a page is far smaller; a bigger body is passed on as it is).
const PAGE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Refuses unknown parameters on a page's address, then carries the moment into its links.
pub async fn keep_moment(request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let query = request.uri().query().unwrap_or("").to_string();
    let mut moment = Vec::new();
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(&query) else {
        return unknown_parameter(&query).into_response();
    };
    for (key, value) in pairs {
        if !PAGE_PARAMS.contains(&key.as_str()) {
            return unknown_parameter(&key).into_response();
        }
        if MOMENT_PARAMS.contains(&key.as_str()) && !value.trim().is_empty() {
            moment.push(format!("{key}={}", crate::asof::encode(value.trim())));
        }
    }
    let response = next.run(request).await;
    if moment.is_empty() || !is_html(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, PAGE_BYTES_MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let page = String::from_utf8_lossy(&bytes);
    let rewritten = carry_moment(&page, &moment.join("&amp;"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(rewritten))
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// The French answer to `?annee=2025`: what is wrong and which names the pages know.
fn unknown_parameter(name: &str) -> PageError {
    let shown: String = name.chars().take(60).collect();
    PageError::Api(ApiError::for_people(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!(
            "L'adresse contient un paramètre que les pages ne connaissent pas : « {shown} ». \
             Choisissez l'exercice, la date ou les filtres avec les champs de la page \
             (pour l'année, l'adresse dit « exercice », par exemple ?exercice=2025)."
        ),
    ))
}

/// Appends `moment` (already HTML-escaped, `&amp;`-separated) to every link to a page in `page`
/// that names no moment of its own.
pub fn carry_moment(page: &str, moment: &str) -> String {
    const LINK: &str = "href=\"/";
    let mut out = String::with_capacity(page.len() + page.len() / 16);
    let mut rest = page;
    while let Some(start) = rest.find(LINK) {
        let url_start = start + LINK.len() - 1;
        out.push_str(&rest[..url_start]);
        let after = &rest[url_start..];
        let end = after.find('"').unwrap_or(after.len());
        let url = &after[..end];
        out.push_str(&with_moment(url, moment));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn with_moment(url: &str, moment: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    if path.starts_with("/api/") || path.starts_with("//") || path.ends_with(".css") {
        return url.to_string();
    }
    let (before_fragment, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    match before_fragment.split_once('?') {
        Some((_, query)) => {
            let names_a_moment = query
                .split("&amp;")
                .filter_map(|pair| pair.split('=').next())
                .any(|name| MOMENT_PARAMS.contains(&name));
            if names_a_moment {
                url.to_string()
            } else if query.is_empty() {
                format!("{before_fragment}{moment}{fragment}")
            } else {
                format!("{before_fragment}&amp;{moment}{fragment}")
            }
        }
        None => format!("{before_fragment}?{moment}{fragment}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_pages_carry_the_moment_and_others_are_left_alone() {
        let moment = "exercice=2025&amp;as_of=2025-03-31";
        let page = concat!(
            r##"<a href="/signataires/etat">État</a>"##,
            r##"<a href="/dossiers?q=mjc">MJC</a>"##,
            r##"<a href="/dossiers?">tous</a>"##,
            r##"<a href="/audit#regles">règles</a>"##,
            r##"<a href="/tfpb?as_of=">Aujourd'hui</a>"##,
            r##"<a href="/api/v1/reports/dossiers?format=csv-fr">CSV</a>"##,
            r##"<link rel="stylesheet" href="/style.css">"##,
            r##"<a href="#contenu">saut</a>"##,
        );
        let out = carry_moment(page, moment);
        assert!(out.contains(r#"href="/signataires/etat?exercice=2025&amp;as_of=2025-03-31""#));
        assert!(out.contains(r#"href="/dossiers?q=mjc&amp;exercice=2025&amp;as_of=2025-03-31""#));
        assert!(out.contains(r#"href="/dossiers?exercice=2025&amp;as_of=2025-03-31""#));
        assert!(out.contains(r#"href="/audit?exercice=2025&amp;as_of=2025-03-31#regles""#));
        // A link that chooses its own moment ("Aujourd'hui") keeps it.
        assert!(out.contains(r#"href="/tfpb?as_of=""#));
        assert!(out.contains(r#"href="/api/v1/reports/dossiers?format=csv-fr""#));
        assert!(out.contains(r#"href="/style.css""#));
        assert!(out.contains(r##"href="#contenu""##));
    }

    #[test]
    fn the_known_names_are_the_fields_of_page_params() {
        for name in PAGE_PARAMS {
            let parsed: Result<crate::pages::PageParams, _> =
                serde_urlencoded::from_str(&format!("{name}=1"));
            assert!(parsed.is_ok(), "PageParams has no field {name}");
        }
        let unknown: Result<crate::pages::PageParams, _> = serde_urlencoded::from_str("annee=1");
        assert!(
            unknown.is_err(),
            "PageParams must refuse unknown fields like the middleware"
        );
        // Every field of PageParams is listed: its serialised names are the list.
        let all = serde_json::to_value(crate::pages::PageParams::every_field()).unwrap();
        let fields: Vec<&str> = all
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        for field in fields {
            assert!(
                PAGE_PARAMS.contains(&field),
                "{field} missing from PAGE_PARAMS"
            );
        }
    }
}
