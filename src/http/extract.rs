//! Extractors: JSON bodies that refuse unknown fields and say which field is wrong, query
//! strings, the authenticated caller, `If-Match`, `Idempotency-Key` and the client address.

use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::{LocalBoxFuture, Ready, ready};
use serde::de::DeserializeOwned;

use crate::access::Actor;
use crate::error::{AppError, FieldErrors};
use crate::identity::sessions;
use crate::state::AppState;
use crate::telemetry::RequestId;

fn state(req: &HttpRequest) -> Result<Data<AppState>, AppError> {
    req.app_data::<Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// A JSON body: `application/json` only, within the configured size, every field known.
pub struct ApiJson<T> {
    pub value: T,
    /// The body as parsed, for the idempotency fingerprint.
    pub raw: serde_json::Value,
}

fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => {
            mime.essence_str() == "application/json" || mime.suffix().is_some_and(|s| s == "json")
        }
        _ => false,
    }
}

/// Turns serde's message into a short statement about the field that does not echo input.
fn field_error(err: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = err.path().to_string();
    let message = err.inner().to_string();
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    let join = |field: String| {
        if path == "." || path.is_empty() {
            field
        } else {
            format!("{path}.{field}")
        }
    };
    let (field, text) = if let Some(f) = quoted("unknown field `") {
        // serde_path_to_error already ends the path with the unknown key.
        let field = if path.ends_with(&f) {
            path.clone()
        } else {
            join(f)
        };
        (field, "is not a field of this request".to_string())
    } else if let Some(f) = quoted("missing field `") {
        (join(f), "is required".to_string())
    } else if message.starts_with("unknown variant") {
        let allowed = message
            .split_once("expected ")
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default();
        (path.clone(), format!("must be {allowed}"))
    } else if let Some((_, expected)) = message.split_once(", expected ") {
        (path.clone(), format!("must be {expected}"))
    } else {
        (path.clone(), "is not valid".to_string())
    };
    let field = if field == "." || field.is_empty() {
        "body".to_string()
    } else {
        field
    };
    let mut errors = FieldErrors::new();
    errors.insert(field, vec![text]);
    AppError::Validation(errors)
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = state(req)
            .map(|s| s.settings.server.body_limit_bytes)
            .unwrap_or(64 * 1024);
        let json = is_json(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(AppError::UnsupportedMediaType);
            }
            if declared.is_some_and(|n| n > limit) {
                return Err(AppError::PayloadTooLarge { limit });
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| AppError::bad_request("The request body could not be read."))?;
                if body.len() + chunk.len() > limit {
                    return Err(AppError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            let raw: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                AppError::bad_request(format!(
                    "The body is not well-formed JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                ))
            })?;
            // serde reads a struct from an array too, by position; every body here is an
            // object, and an array that happens to fit must not create anything.
            if !raw.is_object() {
                return Err(AppError::Unprocessable(
                    "The body must be a JSON object ({...}), with the fields by name.".into(),
                ));
            }
            let value = serde_path_to_error::deserialize(raw.clone()).map_err(field_error)?;
            Ok(Self { value, raw })
        })
    }
}

/// A JSON body that may be left out: a request without a body is `None`; a body is read
/// (and refused) exactly as `ApiJson` reads it.
pub struct MaybeJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for MaybeJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
        if length.unwrap_or(0) == 0 && !chunked {
            return Box::pin(async { Ok(Self(None)) });
        }
        let body = ApiJson::<T>::from_request(req, payload);
        Box::pin(async move { Ok(Self(Some(body.await?.value))) })
    }
}

/// The largest access token read: ours are well under 1 KiB, and a token is never parsed
/// (nor its signature checked) past this.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The token of `Authorization: Bearer <token>`, the scheme matched in any case (RFC 9110).
fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(AppError::Unauthorized(
            "Send an access token: Authorization: Bearer <token>.",
        ))?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AppError::Unauthorized(
            "The access token is longer than any this service issues.",
        ));
    }
    Ok(token.to_string())
}

impl FromRequest for Actor {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let token = bearer(req);
        let request_id = request_id(req);
        Box::pin(async move {
            let state = state?;
            let token = token?;
            sessions::authenticate(&state.identity, &state.db, &token, request_id).await
        })
    }
}

/// The version named by `If-Match`: required (428 without it) on updates.
pub struct IfMatch(pub i32);

/// A query string read into `T`. A parameter sent empty (`?cursor=&status=`, as a form with
/// blank fields sends them) is taken as not sent. A refusal names the parameter and what it
/// takes, never the value sent.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string();
        let sent: String = query
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.ends_with('='))
            .collect::<Vec<_>>()
            .join("&");
        ready(
            serde_urlencoded::from_str::<T>(&sent)
                .map(Query)
                .map_err(|e| AppError::bad_request(super::query_problem(&e.to_string(), query))),
        )
    }
}

pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // An empty header is no precondition at all.
        let Some(value) = req
            .headers()
            .get(header::IF_MATCH)
            .filter(|v| !v.as_bytes().trim_ascii().is_empty())
        else {
            return ready(Err(AppError::PreconditionRequired));
        };
        let version = value
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/"))
            .and_then(|v| v.strip_prefix("\"v"))
            .and_then(|v| v.strip_suffix('"'))
            .and_then(|v| v.parse::<i32>().ok());
        ready(version.map(IfMatch).ok_or(AppError::PreconditionFailed))
    }
}

/// The client's address: the peer, or the first `X-Forwarded-For` hop when configured to
/// trust the load balancer.
pub struct ClientIp(pub IpAddr);

impl FromRequest for ClientIp {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trust = state(req)
            .map(|s| s.settings.server.trust_forwarded_for)
            .unwrap_or(false);
        let forwarded = trust
            .then(|| {
                req.connection_info()
                    .realip_remote_addr()
                    .map(str::to_string)
            })
            .flatten()
            .and_then(|a| a.parse::<IpAddr>().ok());
        let ip = forwarded
            .or_else(|| req.peer_addr().map(|a| a.ip()))
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        ready(Ok(ClientIp(ip)))
    }
}

/// For optional fields that may also be set to `null`: absent is `None`, `null` is
/// `Some(None)`, a value is `Some(Some(v))`. Use with `#[serde(default)]`.
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
