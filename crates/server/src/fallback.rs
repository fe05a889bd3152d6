//! Answers for a path no route serves (404) and a method a route does not take (405): under
//! `/api` the JSON error body every client already reads, elsewhere a page in French that leads
//! back home.

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::error::ApiError;
use crate::pages::layout;

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// No route has this path.
pub async fn not_found(uri: Uri) -> Response {
    if is_api(uri.path()) {
        return ApiError::not_found(format!("no route {}: see /api/v1/openapi.json", uri.path()))
            .into_response();
    }
    page(
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "Aucune page ne se trouve à cette adresse. Elle a pu être déplacée, ou l'adresse contient une faute de frappe.",
    )
}

/// The path exists, but not with this method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    if is_api(uri.path()) {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "{method} is not accepted on {}: the Allow header lists the methods that are",
                uri.path()
            ),
        )
        .into_response();
    }
    page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Méthode non autorisée",
        "Cette adresse existe, mais ne s'utilise pas ainsi (par exemple un formulaire envoyé à une page qui se consulte seulement).",
    )
}

fn page(status: StatusCode, title: &str, explanation: &str) -> Response {
    let body = layout(
        title,
        None,
        html! {
            h1 { (title) }
            p { (explanation) }
            p { a href="/tableau-de-bord" { "Retour au tableau de bord" } }
        },
    );
    (status, body).into_response()
}
