//! Signing in to the pages: the token is posted once (never in a URL: URLs end up in logs and
//! histories); the server opens a web session and the cookie holds only its random id. The login
//! form is protected against login CSRF (another site signing the visitor in under its own
//! token): its `Origin` must be this server, and it carries a CSRF token that must match the
//! cookie set with the form (double submit). Signing out is a form of the session, with the
//! session's CSRF token; it ends the session on the server.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::Form;
use engagements_store::sessions::random_hex;
use maud::html;
use serde::Deserialize;

use crate::auth::{principal_of_record, token_of};
use crate::error::ApiError;
use crate::pages::{layout, PageError};
use crate::sessions::{
    cookie_value, forged_form, same_origin, same_token, secure_cookies, set_cookie, NoFields,
    SessionForm, CSRF_FIELD, LOGIN_CSRF_COOKIE, LOGIN_FORM_SECONDS, SESSION_COOKIE,
};
use crate::state::AppState;

/// Path of the login page, to which its CSRF cookie is restricted.
const LOGIN_PATH: &str = "/connexion";

/// What the login form posts.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    /// The API token given by the administrator.
    pub jeton: String,
    /// The CSRF token of the form, equal to the `engagements_connexion` cookie set with it.
    #[serde(default)]
    pub csrf: String,
}

fn login_page(message: Option<&str>, csrf: &str) -> Html<String> {
    layout(
        "Connexion",
        None,
        html! {
            h1 { "Connexion" }
            @if let Some(message) = message { p.error { (message) } }
            form method="post" action=(LOGIN_PATH) {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                label { "Jeton d'accès " input type="password" name="jeton" autocomplete="off" required; }
                " "
                button type="submit" { "Se connecter" }
            }
            p.muted { "Votre jeton d'accès vous est remis par l'équipe du contrat de ville. Si vous n'en avez pas, ou s'il ne fonctionne plus, demandez-le-lui." }
        },
    )
}

/// The login form, with a fresh CSRF token in a hidden field and in a cookie.
#[utoipa::path(get, path = "/connexion", tag = "pages",
    responses((status = 200, description = "HTML; sets the engagements_connexion cookie", content_type = "text/html")))]
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let csrf = random_hex().map_err(ApiError::internal)?;
    let cookie = set_cookie(
        LOGIN_CSRF_COOKIE,
        &csrf,
        LOGIN_PATH,
        LOGIN_FORM_SECONDS,
        secure_cookies(&headers, &state.config.sessions),
    );
    Ok(([(header::SET_COOKIE, cookie)], login_page(None, &csrf)).into_response())
}

/// Checks the form's origin, its CSRF token and the token; opens a web session and sets its
/// cookie.
#[utoipa::path(post, path = "/connexion", tag = "pages",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: to the dashboard; sets the engagements_session cookie"),
        (status = 401, description = "Unknown or revoked token"),
        (status = 403, description = "Another site's Origin, or a missing or wrong CSRF token")))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, PageError> {
    if !same_origin(&headers) {
        return Err(forged_form());
    }
    let Form(form) = form.map_err(|e| ApiError::invalid(e.body_text()))?;
    let expected = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_token(&form.csrf, expected) {
        return Err(forged_form());
    }
    let secure = secure_cookies(&headers, &state.config.sessions);
    let record = match token_of(&state, form.jeton.trim()).await {
        Ok(record) => record,
        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
            let page = login_page(Some("Jeton inconnu ou révoqué."), expected);
            return Ok((StatusCode::UNAUTHORIZED, page).into_response());
        }
        Err(error) => return Err(error.into()),
    };
    let token_id = record.token_id;
    principal_of_record(record)?;
    let limits = state.config.sessions.limits();
    let opened = state
        .ledger
        .store()
        .open_session(token_id, limits)
        .await
        .map_err(ApiError::internal)?;
    let session_cookie = set_cookie(
        SESSION_COOKIE,
        &opened.id,
        "/",
        limits.absolute.as_secs(),
        secure,
    );
    let spent_form = set_cookie(LOGIN_CSRF_COOKIE, "", LOGIN_PATH, 0, secure);
    Ok((
        // Two cookies: `AppendHeaders` keeps both where an array would keep the last.
        AppendHeaders([
            (header::SET_COOKIE, session_cookie),
            (header::SET_COOKIE, spent_form),
        ]),
        Redirect::to("/tableau-de-bord"),
    )
        .into_response())
}

/// Ends the session on the server and forgets its cookie. A form of the session: it must carry
/// the session's CSRF token.
#[utoipa::path(post, path = "/deconnexion", tag = "pages",
    request_body(content = String, description = "csrf=<the session's CSRF token>", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed out: to the login page"),
        (status = 403, description = "Missing or wrong CSRF token")))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: SessionForm<NoFields>,
) -> Result<Response, PageError> {
    state
        .ledger
        .store()
        .close_session(&form.session.id)
        .await
        .map_err(ApiError::internal)?;
    let secure = secure_cookies(&headers, &state.config.sessions);
    let cookie = set_cookie(SESSION_COOKIE, "", "/", 0, secure);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(LOGIN_PATH)).into_response())
}
