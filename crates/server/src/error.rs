//! Errors as HTTP answers: a status and `{"error":{"code":"…","message":"…"}}` with a stable code.
//! Storage errors are logged and answered with a generic message: no SQL, no stack trace leaves
//! the server.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use engagements_app::CommandError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// What a page shows a person, in French, when the message is written for one; else the page
    /// explains the error by its code.
    pub for_people: Option<String>,
}

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: `code` is stable (clients branch on it), `message` is for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// One of: unauthenticated, forbidden, invalid, malformed_json, payload_too_large,
    /// not_found, rejected, unknown_reference, conflict, limit_exceeded, storage, unavailable.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            for_people: None,
        }
    }

    /// An error whose message is written in French for the person reading the page.
    pub fn for_people(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status,
            code,
            for_people: Some(message.clone()),
            message,
        }
    }

    /// No valid token: 401.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// A valid token whose role may not do this: 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// The request is not understood: 400.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A failure of the server or its database: logged in full, answered in general terms.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "the ledger could not be read or written; nothing was recorded by this request",
        )
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        let code = error.code();
        let status = match code {
            "rejected" => StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference" => StatusCode::UNPROCESSABLE_ENTITY,
            "forbidden" => StatusCode::FORBIDDEN,
            "invalid" => StatusCode::BAD_REQUEST,
            "conflict" => StatusCode::CONFLICT,
            "limit_exceeded" => StatusCode::PAYLOAD_TOO_LARGE,
            _ => return ApiError::internal(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
