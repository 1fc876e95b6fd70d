//! One error type for the whole service, rendered in one place as RFC 9457
//! `application/problem+json`. Internal details go to the log, never into a response.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying when the database is unavailable.
const RETRY_AFTER_UNAVAILABLE: u64 = 5;

/// Per-field messages for a 422 answer: field path to the list of what is wrong with it.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Collected field errors as a result: 422 naming every field, or nothing to say.
pub fn valid(errors: FieldErrors) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("conflict: {detail}")]
    Conflict {
        detail: String,
        field: Option<String>,
    },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Readiness: the service is up but should not be sent traffic; the text says why.
    #[error("not ready: {0}")]
    NotReady(&'static str),
    /// The database refused a write for want of space (logged by `db::Database::run`).
    #[error("storage full: {0}")]
    StorageFull(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest(detail.into())
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            field: None,
        }
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal(detail.into())
    }
    /// A 422 naming one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_string(), vec![message.into()]);
        Self::Validation(errors)
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Conflict { .. } => "conflict",
            Self::PreconditionFailed => "precondition-failed",
            Self::PreconditionRequired => "precondition-required",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Validation(_) => "validation",
            Self::Unprocessable(_) => "unprocessable",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Unavailable(_) | Self::NotReady(_) => "unavailable",
            Self::StorageFull(_) => "storage-full",
            Self::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(d) | Self::Unprocessable(d) => d.clone(),
            Self::Unauthorized(d) | Self::Forbidden(d) => (*d).to_string(),
            Self::NotFound => "No such resource.".into(),
            Self::MethodNotAllowed { allow } => {
                format!("This resource answers only to: {allow}.")
            }
            Self::Conflict { detail, .. } => detail.clone(),
            Self::PreconditionFailed => {
                "The record changed since you read it (If-Match does not match its ETag). \
                 Read it again and retry."
                    .into()
            }
            Self::PreconditionRequired => {
                "This update needs an If-Match header with the ETag from your last read.".into()
            }
            Self::PayloadTooLarge { limit } => {
                format!("The request body is larger than the limit of {limit} bytes.")
            }
            Self::UnsupportedMediaType => "Send the body as application/json.".into(),
            Self::Validation(_) => "Some fields are invalid; see errors.".into(),
            Self::TooManyRequests { retry_after_secs } => {
                format!("Too many attempts; try again in {retry_after_secs} seconds.")
            }
            Self::Unavailable(_) => {
                "The service cannot reach its database right now; try again shortly.".into()
            }
            Self::NotReady(why) => (*why).to_string(),
            Self::StorageFull(_) => "The service has run out of storage space, so nothing was \
                                     saved. Try again later; its operators have been told."
                .into(),
            Self::Internal(_) => "Something went wrong on our side.".into(),
        }
    }
}

/// The RFC 9457 body, as documented in the OpenAPI document.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Per-field messages, for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
    /// The field a uniqueness conflict is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Every problem type the service answers with: slug, title, and what a client should do.
/// The page at `/docs/problems` is made from this list.
pub const PROBLEM_TYPES: &[(&str, &str, &str)] = &[
    (
        "bad-request",
        "Bad request",
        "The request is malformed: JSON that does not parse, a bad cursor, limit or header. Fix the request; retrying it unchanged will fail again.",
    ),
    (
        "unauthorized",
        "Authentication required",
        "No access token, or one that is invalid, expired or revoked. Log in again or use your refresh token.",
    ),
    (
        "forbidden",
        "Not allowed",
        "You are logged in, but your role does not allow this action.",
    ),
    (
        "not-found",
        "Not found",
        "No such resource, or it belongs to another organisation.",
    ),
    (
        "method-not-allowed",
        "Method not allowed",
        "The path exists but not for this method; the Allow header lists the methods it takes.",
    ),
    (
        "conflict",
        "Conflict",
        "The change clashes with the current state, for example a name or email already in use (the field member names it).",
    ),
    (
        "precondition-failed",
        "Precondition failed",
        "The record changed since you read it: your If-Match does not match its ETag. Read it again, then retry.",
    ),
    (
        "precondition-required",
        "Precondition required",
        "Updates need an If-Match header carrying the ETag from your last read.",
    ),
    (
        "payload-too-large",
        "Request body too large",
        "The body is over the configured limit (64 KiB by default).",
    ),
    (
        "unsupported-media-type",
        "Unsupported media type",
        "Send bodies as application/json.",
    ),
    (
        "validation",
        "Invalid request",
        "Some fields are missing, unknown or invalid; the errors member lists the messages per field.",
    ),
    (
        "unprocessable",
        "Request cannot be processed",
        "The request is well formed but cannot be carried out, for example an Idempotency-Key reused with another body.",
    ),
    (
        "too-many-requests",
        "Too many requests",
        "Too many attempts; wait for the seconds in Retry-After.",
    ),
    (
        "unavailable",
        "Service unavailable",
        "The database cannot be reached or the service is saturated; retry after the seconds in Retry-After.",
    ),
    (
        "storage-full",
        "Out of storage space",
        "The database has no space left, so nothing was saved. Retry after the seconds in Retry-After; reads still work.",
    ),
    (
        "internal",
        "Internal error",
        "Something failed on the server. Nothing is disclosed here; quote the X-Request-Id header when reporting it.",
    ),
];

pub fn problem_type(slug: &str) -> String {
    format!("/docs/problems#{slug}")
}

fn problem_title(slug: &str) -> &'static str {
    PROBLEM_TYPES
        .iter()
        .find(|(s, _, _)| *s == slug)
        .map_or("Error", |(_, title, _)| title)
}

/// A bare problem for a status the service did not produce itself (for example a
/// response from a library handler): the status text as title.
pub fn problem_for_status(status: StatusCode) -> HttpResponse {
    let body = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: status.canonical_reason().unwrap_or("Error").into(),
        errors: None,
        field: None,
    };
    HttpResponse::build(status)
        .content_type(PROBLEM_JSON)
        .json(body)
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) | Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Logged here, once, inside the request span so the request id goes with it.
        match self {
            Self::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            Self::Unavailable(detail) => tracing::warn!(error = %detail, "database unavailable"),
            _ => {}
        }
        let slug = self.slug();
        let status = self.status_code();
        let body = Problem {
            kind: problem_type(slug),
            title: problem_title(slug).into(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            field: match self {
                Self::Conflict { field, .. } => field.clone(),
                _ => None,
            },
        };
        let mut response = HttpResponse::build(status);
        response.content_type(PROBLEM_JSON);
        match self {
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_UNAVAILABLE.to_string()));
            }
            Self::StorageFull(_) | Self::NotReady(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    crate::db::storage::RETRY_AFTER_SECS.to_string(),
                ));
            }
            Self::Unauthorized(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"peerpath\""),
                ));
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            _ => {}
        }
        response.json(body)
    }
}

/// Unique constraints the schema declares, by the column they guard, and the API field each names.
const UNIQUE_FIELDS: &[(&str, &str)] = &[
    ("email_key", "email"),
    ("name_key", "name"),
    ("code_key", "code"),
    ("workers.user_id", "user_id"),
    ("workers_pkey", "user_id"),
];

fn unique_field(info: &dyn diesel::result::DatabaseErrorInformation) -> Option<String> {
    let haystack = format!(
        "{} {}",
        info.constraint_name().unwrap_or_default(),
        info.message()
    );
    UNIQUE_FIELDS
        .iter()
        .find(|(column, _)| haystack.contains(column))
        .map(|(_, field)| (*field).to_string())
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let field = unique_field(info.as_ref());
                let detail = match &field {
                    Some(f) => format!("Another record already has this {f}."),
                    None => "This record already exists.".into(),
                };
                Self::Conflict { detail, field }
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_string()),
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::conflict(
                    "Another change to the same record happened at the same time; retry.",
                )
            }
            DieselError::DatabaseError(_, info) if is_out_of_space(info.message()) => {
                Self::StorageFull(info.message().to_string())
            }
            // SQLite reports a lock it could not get within busy_timeout as an unknown error.
            DieselError::DatabaseError(_, info)
                if info.message().contains("database is locked") =>
            {
                Self::Unavailable(info.message().to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// SQLite's SQLITE_FULL and PostgreSQL's disk_full (53100), known by their messages: diesel
/// passes on neither code.
fn is_out_of_space(message: &str) -> bool {
    message.contains("database or disk is full")
        || message.contains("No space left on device")
        || message.contains("could not extend file")
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(err.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        Self::Internal(err.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
