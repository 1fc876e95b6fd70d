//! `Idempotency-Key` for every POST of the API, in one place (the rules are in
//! `crate::idempotency`): a retried check-in or training record is answered, not stored twice.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{Error, HttpResponse, ResponseError};

use crate::access::Actor;
use crate::error::AppError;
use crate::idempotency::{self, Begun, HEADER, IdempotencyKey, Stored};
use crate::state::AppState;

/// Sign-in calls answer tokens, which are never kept: they are not covered.
fn covered(req: &ServiceRequest) -> bool {
    req.method() == Method::POST
        && req.path().starts_with(super::API_PREFIX)
        && !req.path().starts_with("/api/v1/auth/")
        && req
            .headers()
            .get(HEADER)
            .is_some_and(|v| !v.as_bytes().trim_ascii().is_empty())
}

pub async fn idempotent(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !covered(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    match keyed(req, next).await {
        Ok(response) => Ok(response),
        Err(Refused(req, error)) => Ok(ServiceResponse::new(req, error.error_response())),
        Err(Failed(error)) => Err(error),
    }
}

/// Refused before the request ran (answered here), or failed inside it (passed on).
enum Refusal {
    Refused(actix_web::HttpRequest, AppError),
    Failed(Error),
}
use Refusal::{Failed, Refused};

async fn keyed(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Refusal> {
    let Some(state) = req.app_data::<Data<AppState>>().cloned() else {
        return Err(Refused(
            req.request().clone(),
            AppError::internal("no state"),
        ));
    };
    // Who asks comes first: a request without a valid token is 401 whatever its key.
    let actor = match req.extract::<Actor>().await {
        Ok(a) => a,
        Err(e) => return Err(Refused(req.request().clone(), e)),
    };
    let key = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::bad_request(format!("{HEADER} must be ASCII")))
        .and_then(IdempotencyKey::parse);
    let key = match key {
        Ok(k) => k,
        Err(e) => return Err(Refused(req.request().clone(), e)),
    };
    let body = match req.extract::<Bytes>().await {
        Ok(b) => b,
        Err(_) => {
            let limit = state.settings.server.body_limit_bytes;
            return Err(Refused(
                req.request().clone(),
                AppError::PayloadTooLarge { limit },
            ));
        }
    };
    req.set_payload(body.clone().into());
    let route = format!("POST {}", req.path());
    let fingerprint = idempotency::fingerprint(&state.identity.pepper, &route, &body);
    let user = actor.user_id.to_db();
    match idempotency::begin(&state.db, &user, &key, &fingerprint).await {
        Ok(Begun::Replay(stored)) => return Ok(req.into_response(replay(stored))),
        Ok(Begun::Fresh) => {}
        Err(e) => return Err(Refused(req.request().clone(), e)),
    }
    // Not a clone of the request before this call: routing needs the only one.
    let response = match next.call(req).await {
        Ok(r) => r,
        Err(e) => {
            let _ = idempotency::release(&state.db, &user, &key).await;
            return Err(Failed(e));
        }
    };
    let status = response.status();
    if !status.is_success() {
        let _ = idempotency::release(&state.db, &user, &key).await;
        return Ok(response.map_into_boxed_body());
    }
    let headers: Vec<(String, String)> = [header::LOCATION, header::ETAG, header::CONTENT_TYPE]
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        return Err(Refused(
            request,
            AppError::internal("an answer could not be read"),
        ));
    };
    let stored = Stored {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    };
    // The work is done whether or not the answer can be kept: answer it either way.
    if let Err(e) = idempotency::finish(&state.db, &user, &key, stored).await {
        tracing::warn!(error = %e, "an idempotent answer could not be kept");
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

fn replay(stored: Stored) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    response
        .insert_header(("Idempotent-Replayed", "true"))
        .body(stored.body)
}
