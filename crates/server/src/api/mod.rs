//! The JSON API under `/api/v1`, and its OpenAPI document generated from the handlers.

pub mod audit;
pub mod commands;
pub mod history;
pub mod referential;
pub mod reports;
pub mod status;
pub mod tfpb;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::pages;
use crate::state::AppState;

/// The document's frame; paths are added by [`build`] from the routes themselves, so a route
/// cannot be served without being documented.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Engagements",
        description = "An event-sourced ledger of public grants and commitments for contrats de ville. Every write needs an API token (Authorization: Bearer …) bound to a person, an organisation and a role: admin, instructeur, bailleur, auditeur, lecteur. Errors are {\"error\":{\"code\",\"message\"}}.",
        license(name = "EUPL-1.2")
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "commands", description = "Recording facts"),
        (name = "reports", description = "Views of the ledger, now or as of a past moment"),
        (name = "audit", description = "The raw log and its verification"),
        (name = "status", description = "Health, readiness, metrics"),
        (name = "pages", description = "Web pages (HTML, French)")
    )
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route of the server, with its documentation.
pub fn build() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .routes(routes!(commands::post_command))
        .routes(routes!(reports::list_reports))
        .routes(routes!(reports::get_report))
        .routes(routes!(tfpb::get_tfpb))
        .routes(routes!(history::get_history))
        .routes(routes!(history::get_verify))
        .routes(routes!(audit::get_findings))
        .routes(routes!(audit::get_checkpoints))
        .routes(routes!(referential::get_referential))
        .routes(routes!(referential::get_referential_section))
        .routes(routes!(openapi_json));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .routes(routes!(status::healthz))
        .routes(routes!(status::readyz))
        .routes(routes!(status::metrics))
        .merge(pages::routes())
        .split_for_parts()
}

/// The OpenAPI document (built once).
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| build().1)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "status",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server", content_type = "application/json")))]
pub async fn openapi_json() -> impl IntoResponse {
    let text = openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_string());
    ([(header::CONTENT_TYPE, "application/json")], text)
}
