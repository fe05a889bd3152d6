//! Who is calling: an API token (`Authorization: Bearer …`), or for pages and downloads the
//! web session opened by the login page (its cookie holds a random session id, never the token:
//! see [`crate::sessions`]), or — when the server publishes its views — an anonymous *lecteur*.
//! Cookies never authorise a JSON API write: a write needs the header, so a page of another site
//! cannot make a browser record anything. Page forms that write take a
//! [`crate::sessions::SessionForm`], which checks the session's CSRF token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use engagements_app::auth::{tfpb_read_filter, Principal, Role};
use engagements_projections::tfpb::TfpbFilter;
use engagements_store::tokens::TokenRecord;

use crate::error::ApiError;
use crate::sessions::{cookie_value, PageSession};
use crate::state::AppState;

pub use crate::sessions::SESSION_COOKIE;

/// The authenticated caller of a request, the web session it came with (none for a token sent in
/// the `Authorization` header, or for an anonymous *lecteur*), and its organisation's name in the
/// referential (pages say who is signed in by names, not ids).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal, pub Option<PageSession>, pub Option<String>);

impl Caller {
    /// `principal` with its organisation's name, read from the live read model.
    async fn named(state: &AppState, principal: Principal, session: Option<PageSession>) -> Caller {
        let name = state
            .ledger
            .read_model()
            .read()
            .await
            .referential
            .organisation(&principal.organisation)
            .map(|o| o.name.clone());
        Caller(principal, session, name)
    }
}

/// What a caller wants to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadScope<'a> {
    /// Published views: dashboards, envelopes, dossiers, views by signatory, quartier, objective.
    Published,
    /// The raw log of a stream with its metadata and hashes.
    History,
    /// Findings, checkpoints, verification of the chain.
    Audit,
    /// The TFPB figures of one bailleur (an organisation id).
    Tfpb(&'a str),
}

impl Caller {
    /// Refuses (403) what this caller's role may not read.
    pub fn may_read(&self, scope: ReadScope<'_>) -> Result<(), ApiError> {
        let principal = &self.0;
        let allowed = match scope {
            ReadScope::Published => true,
            ReadScope::History => matches!(
                principal.role,
                Role::Admin | Role::Auditeur | Role::Instructeur
            ),
            ReadScope::Audit => principal.role.can_audit(),
            ReadScope::Tfpb(bailleur) => match principal.role {
                Role::Admin | Role::Auditeur | Role::Instructeur => true,
                Role::Bailleur => principal.organisation == bailleur,
                Role::Lecteur => false,
            },
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "role {} of {} may not read this",
                principal.role.as_str(),
                principal.organisation
            )))
        }
    }

    /// The TFPB bailleur this caller is restricted to: `None` for all of them (admin, auditeur,
    /// and instructeurs, whose signatories review the bilans).
    pub fn tfpb_restriction(&self) -> Option<&str> {
        match self.0.role {
            Role::Admin | Role::Auditeur | Role::Instructeur => None,
            Role::Bailleur | Role::Lecteur => Some(self.0.organisation.as_str()),
        }
    }

    /// The TFPB rows this caller may read out of `requested`: a bailleur only its own (asking for
    /// another's is 403), a lecteur none (the TFPB figures are not a published view).
    pub fn tfpb_filter(&self, requested: TfpbFilter) -> Result<TfpbFilter, ApiError> {
        if self.0.role == Role::Lecteur {
            return Err(ApiError::forbidden(
                "role lecteur may not read the TFPB figures of the bailleurs",
            ));
        }
        Ok(tfpb_read_filter(&self.0, requested)?)
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// Finds the principal of a secret; 401 if it is unknown or revoked.
pub async fn principal_of(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    let record = token_of(state, secret).await?;
    principal_of_record(record)
}

/// Finds the active token of a secret; 401 if it is unknown or revoked.
pub async fn token_of(state: &AppState, secret: &str) -> Result<TokenRecord, ApiError> {
    let record = state
        .ledger
        .store()
        .find_token(secret)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::unauthenticated("unknown token"))?;
    if !record.is_active() {
        return Err(ApiError::unauthenticated(format!(
            "token {} was revoked",
            record.token_id
        )));
    }
    Ok(record)
}

/// The principal a token stands for; 401 if its role is unknown to this server.
pub fn principal_of_record(record: TokenRecord) -> Result<Principal, ApiError> {
    let role: Role = record
        .role
        .parse()
        .map_err(|_| ApiError::unauthenticated("the token's role is not known to this server"))?;
    Ok(Principal {
        person: record.person,
        organisation: record.organisation,
        role,
    })
}

impl Caller {
    /// The caller of the web session named by the request's cookie; 401 if there is no cookie,
    /// or its session is unknown, expired or its token revoked. Marks the session as used.
    pub async fn from_session_cookie(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
        let id = cookie_value(&parts.headers, SESSION_COOKIE)
            .ok_or_else(|| ApiError::unauthenticated("no session: sign in at /connexion"))?;
        let session = state
            .ledger
            .store()
            .use_session(id, state.config.sessions.limits())
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::unauthenticated("the session is over (signed out, expired or revoked)")
            })?;
        let principal = principal_of_record(session.token)?;
        let session = PageSession {
            id: id.to_string(),
            csrf_token: session.csrf_token,
        };
        Ok(Caller::named(state, principal, Some(session)).await)
    }
}

/// The anonymous visitor of a server that publishes its views.
fn anonymous_lecteur() -> Principal {
    Principal {
        person: "visiteur".to_string(),
        organisation: "public".to_string(),
        role: Role::Lecteur,
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(secret) = bearer(parts) {
            let principal = principal_of(state, secret).await?;
            // The API never says who is signed in: its calls skip the read model's lock.
            if parts.uri.path().starts_with("/api/") {
                return Ok(Caller(principal, None, None));
            }
            return Ok(Caller::named(state, principal, None).await);
        }
        let safe_method = parts.method == Method::GET || parts.method == Method::HEAD;
        if safe_method {
            if cookie_value(&parts.headers, SESSION_COOKIE).is_some() {
                return Caller::from_session_cookie(parts, state).await;
            }
            if state.config.public_views {
                return Ok(Caller(anonymous_lecteur(), None, None));
            }
        }
        Err(ApiError::unauthenticated(
            "send an API token: Authorization: Bearer <token>",
        ))
    }
}
