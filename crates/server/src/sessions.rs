//! Web sessions of the pages: the cookie, the CSRF token of the session's forms, and the checks a
//! form post passes.
//!
//! The login page posts a token once; the server opens a session ([`Store::open_session`]) and
//! the cookie holds only the random session id (`HttpOnly`, `SameSite=Strict`, `Path=/`, and
//! `Secure` when the request came over HTTPS or the server is configured so). Every session has a
//! CSRF token: a page that writes puts it in its forms with [`csrf_input`], and its handler takes
//! a [`SessionForm`], which refuses (403, a page in French) a post without the right token.
//!
//! [`Store::open_session`]: engagements_store::Store::open_session

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderMap, StatusCode};
use engagements_store::sessions::SessionLimits;
use maud::{html, Markup};
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::PageError;
use crate::state::{AppState, SessionConfig};

/// Name of the cookie holding the session id.
pub const SESSION_COOKIE: &str = "engagements_session";
/// Name of the cookie holding the login form's CSRF token (before any session exists).
pub const LOGIN_CSRF_COOKIE: &str = "engagements_connexion";
/// Name of the form field carrying a CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// Longest a login form stays valid (its CSRF cookie's lifetime), in seconds.
pub const LOGIN_FORM_SECONDS: u64 = 60 * 60;
/// Largest form body read by [`SessionForm`]: forms of pages are small.
const FORM_BYTES_MAX: usize = 64 * 1024;

/// The session a page was asked in: its id (from the cookie) and its CSRF token.
#[derive(Clone)]
pub struct PageSession {
    pub id: String,
    pub csrf_token: String,
}

/// Never prints the id or the token: a `Debug` of a caller may end up in a log.
impl std::fmt::Debug for PageSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageSession { .. }")
    }
}

impl SessionConfig {
    /// The store's view of these settings.
    pub fn limits(&self) -> SessionLimits {
        SessionLimits {
            idle: self.idle,
            absolute: self.absolute,
        }
    }
}

/// The value of cookie `name` in a request's headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// Whether the cookies of this answer must be `Secure`: the request came over HTTPS (a TLS
/// proxy in front says `X-Forwarded-Proto: https`), or the server is configured so.
pub fn secure_cookies(headers: &HeaderMap, config: &SessionConfig) -> bool {
    config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict (no other site's page
/// sends it), for `path`, kept `max_age_seconds` (0 deletes it).
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age_seconds: u64,
    secure: bool,
) -> String {
    format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={max_age_seconds}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The hidden field that carries a session's CSRF token in a form that writes:
/// `<input type="hidden" name="csrf" value="…">`.
pub fn csrf_input(session: &PageSession) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token); }
}

/// Compares two tokens in a time that does not depend on where they differ.
pub fn same_token(given: &str, expected: &str) -> bool {
    let (given, expected) = (given.as_bytes(), expected.as_bytes());
    given.len() == expected.len()
        && !expected.is_empty()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// Whether a form post comes from a page of this server: an `Origin` header, when the browser
/// sends one, must name this server's host (the `Host` the browser used, or the
/// `X-Forwarded-Host` a proxy passed on). Refuses login CSRF: another site's page posting its own
/// token to sign the visitor in as someone else.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(origin_host) = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, host)| host.trim_end_matches('/'))
    else {
        // `Origin: null` (a sandboxed or file page) or garbage: not this server.
        return false;
    };
    ["x-forwarded-host", "host"].iter().any(|name| {
        headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|host| host.trim().eq_ignore_ascii_case(origin_host))
    })
}

/// The answer to a form post that did not come from this server's page, or whose page is too old.
pub fn forged_form() -> PageError {
    PageError::Api(ApiError::for_people(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Ce formulaire n'a pas été envoyé depuis une page de ce site, ou la page est trop ancienne : \
         rechargez-la et recommencez.",
    ))
}

/// A form posted from a page of an open session, its CSRF token checked: the extractor of every
/// page handler that writes. No session (or an expired one) leads to the login page; a missing
/// or wrong CSRF token, or another site's `Origin`, is refused with 403 and a page in French.
/// `T` is read from the form's other fields.
#[derive(Debug)]
pub struct SessionForm<T> {
    pub caller: Caller,
    pub session: PageSession,
    pub fields: T,
}

/// The fields of a form that has none but its CSRF token (e.g. the logout button).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

impl<T: DeserializeOwned> FromRequest<AppState> for SessionForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PageError> {
        let (parts, body) = request.into_parts();
        if !same_origin(&parts.headers) {
            return Err(forged_form());
        }
        let caller = Caller::from_session_cookie(&parts, state).await?;
        let Some(session) = caller.1.clone() else {
            return Err(PageError::Login);
        };
        let bytes = axum::body::to_bytes(body, FORM_BYTES_MAX)
            .await
            .map_err(|_| {
                ApiError::for_people(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "Le formulaire est trop long.",
                )
            })?;
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| {
                ApiError::for_people(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "Le formulaire n'a pas pu être lu.",
                )
            })?;
        let csrf = pairs
            .iter()
            .position(|(name, _)| name == CSRF_FIELD)
            .map(|index| pairs.remove(index).1);
        if !csrf.is_some_and(|given| same_token(&given, &session.csrf_token)) {
            return Err(forged_form());
        }
        let rest = serde_urlencoded::to_string(&pairs).map_err(|_| {
            ApiError::for_people(
                StatusCode::BAD_REQUEST,
                "invalid",
                "Le formulaire n'a pas pu être lu.",
            )
        })?;
        let fields = serde_urlencoded::from_str(&rest).map_err(|e| {
            ApiError::for_people(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!("Le formulaire est incomplet : {e}"),
            )
        })?;
        Ok(SessionForm {
            caller,
            session,
            fields,
        })
    }
}

/// Lets a handler take the session of a page read (`GET`), e.g. to draw a form with its token.
impl FromRequestParts<AppState> for PageSession {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, PageError> {
        Caller::from_session_cookie(parts, state)
            .await?
            .1
            .ok_or(PageError::Login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn origin_must_be_this_host_when_given() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "internal:8080"),
            ("x-forwarded-host", "engagements.example.fr"),
            ("origin", "https://engagements.example.fr")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abcd", "abcd"));
        assert!(!same_token("abce", "abcd"));
        assert!(!same_token("abc", "abcd"));
        assert!(!same_token("", ""));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_https() {
        let config = SessionConfig::default();
        assert!(!secure_cookies(&headers(&[]), &config));
        assert!(secure_cookies(
            &headers(&[("x-forwarded-proto", "https")]),
            &config
        ));
        let cookie = set_cookie(SESSION_COOKIE, "ab", "/", 60, true);
        assert_eq!(
            cookie,
            "engagements_session=ab; HttpOnly; SameSite=Strict; Path=/; Max-Age=60; Secure"
        );
    }

    #[test]
    fn the_csrf_input_is_hidden_and_named_csrf() {
        let session = PageSession {
            id: "x".into(),
            csrf_token: "0f1e".into(),
        };
        assert_eq!(
            csrf_input(&session).into_string(),
            r#"<input type="hidden" name="csrf" value="0f1e">"#
        );
    }
}
