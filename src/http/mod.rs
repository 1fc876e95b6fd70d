//! The HTTP layer, with two faces over the same domain services: the JSON API (`api`) and
//! the server-rendered pages (`web`). What they share: extractors, the answers for what
//! matches no route, and the parsing of paths and query strings.

pub mod api;
pub mod extract;
pub mod idempotent;
pub mod web;

use actix_web::http::Method;
use actix_web::web::{self as actix, Data};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use utoipa::openapi::{OpenApi, PathItem};

use crate::error::AppError;

pub use api::{API_PREFIX, OPENAPI_PATH, add_common_responses, base_document, routes};

/// The paths and methods the API answers, from the OpenAPI document, to tell a wrong
/// method (405 with `Allow`) from an unknown path (404).
pub struct RouteTable(Vec<(Vec<String>, Vec<Method>)>);

impl RouteTable {
    pub fn from_document(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| (segments(path), methods(item)))
            .collect();
        Self(routes)
    }

    fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts = segments(path);
        let mut allowed: Vec<Method> = self
            .0
            .iter()
            .filter(|(pattern, _)| {
                pattern.len() == parts.len()
                    && pattern
                        .iter()
                        .zip(&parts)
                        .all(|(p, s)| p.starts_with('{') || p == s)
            })
            .flat_map(|(_, m)| m.iter().cloned())
            .collect();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_string)
        .collect()
}

fn methods(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, item.get.is_some()),
        (Method::POST, item.post.is_some()),
        (Method::PUT, item.put.is_some()),
        (Method::PATCH, item.patch.is_some()),
        (Method::DELETE, item.delete.is_some()),
    ]
    .into_iter()
    .filter_map(|(m, present)| present.then_some(m))
    .collect()
}

/// What answers when no route matched: under the API, problem+json (405 when the path
/// exists for other methods); anywhere else, a page.
pub async fn fallback(req: HttpRequest, table: Data<RouteTable>) -> HttpResponse {
    if !is_api_path(req.path()) {
        return web::not_found_page();
    }
    let error = match table.allowed(req.path()) {
        Some(allowed) if !allowed.contains(req.method()) => AppError::MethodNotAllowed {
            allow: allowed
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        },
        _ => AppError::NotFound,
    };
    error.error_response()
}

/// Paths answered in JSON: the API, health and metrics.
fn is_api_path(path: &str) -> bool {
    path.starts_with(API_PREFIX) || path.starts_with("/health") || path == "/metrics"
}

/// Malformed path parameters (an id that is not a UUID) name no resource.
pub fn path_config() -> actix::PathConfig {
    actix::PathConfig::default().error_handler(|_, _| AppError::NotFound.into())
}

/// A query-string refusal that names the parameter and what it takes, never the value sent
/// (serde's messages quote it: "unknown variant `<script>`, expected one of ...").
pub(crate) fn query_problem(message: &str, query: &str) -> String {
    let quoted = |m: &str| -> Option<String> {
        let start = m.find(['`', '"'])?;
        let close = m[start..].chars().next()?;
        let rest = &m[start + 1..];
        rest.find(close).map(|end| rest[..end].to_string())
    };
    let expected = message
        .rfind("expected ")
        .map(|i| message[i + "expected ".len()..].to_string());
    if message.starts_with("unknown field") {
        return match expected {
            Some(e) => format!(
                "The query string has a parameter this operation does not take; it takes {e}."
            ),
            None => "The query string has a parameter this operation does not take.".into(),
        };
    }
    let sent = quoted(message);
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let field = sent
        .as_ref()
        .and_then(|sent| pairs.into_iter().find(|(_, value)| value == sent))
        .map(|(key, _)| key);
    match (field, expected) {
        (Some(f), Some(e)) => format!("The query parameter `{f}` is not valid: expected {e}."),
        (None, Some(e)) => format!("A query parameter is not valid: expected {e}."),
        (_, None) if sent.is_none() => format!("A query parameter is not valid: {message}."),
        _ => "A query parameter is not valid.".into(),
    }
}
