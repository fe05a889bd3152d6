//! Signing in to the pages with an API token: the token is posted once and kept in an HttpOnly,
//! SameSite=Strict cookie, never in a URL (URLs end up in logs and histories).

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;

use crate::auth::{principal_of, SESSION_COOKIE};
use crate::error::ApiError;
use crate::pages::{layout, PageError};
use crate::state::AppState;

/// What the login form posts.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    /// The API token given by the administrator.
    pub jeton: String,
}

fn login_page(message: Option<&str>) -> Html<String> {
    layout(
        "Connexion",
        None,
        html! {
            h1 { "Connexion" }
            @if let Some(message) = message { p.error { (message) } }
            form method="post" action="/connexion" {
                label { "Jeton d'accès " input type="password" name="jeton" autocomplete="off" required; }
                " "
                button type="submit" { "Se connecter" }
            }
            p.muted { "Le jeton est remis par l'équipe du contrat de ville (commande " code { "engagements tokens create" } ")." }
        },
    )
}

/// The login form.
#[utoipa::path(get, path = "/connexion", tag = "pages",
    responses((status = 200, description = "HTML", content_type = "text/html")))]
pub async fn form() -> Html<String> {
    login_page(None)
}

/// Checks the token and keeps it in the session cookie.
#[utoipa::path(post, path = "/connexion", tag = "pages",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in: to the dashboard"), (status = 401, description = "Unknown or revoked token")))]
pub async fn login(
    State(state): State<AppState>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(|e| ApiError::invalid(e.body_text()))?;
    let secret = form.jeton.trim();
    if principal_of(&state, secret).await.is_err() {
        let page = login_page(Some("Jeton inconnu ou révoqué."));
        return Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response());
    }
    let cookie =
        format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200");
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/tableau-de-bord"),
    )
        .into_response())
}

/// Forgets the session cookie.
#[utoipa::path(post, path = "/deconnexion", tag = "pages",
    responses((status = 303, description = "To the login page")))]
pub async fn logout() -> Response {
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/connexion")).into_response()
}
