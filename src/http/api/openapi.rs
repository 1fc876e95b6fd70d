//! The OpenAPI document's frame: info, security scheme, and the answers every operation
//! can give whether or not its handler lists them.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

use crate::error::{PROBLEM_JSON, Problem};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "peerpath",
        description = "Career pathways for Advanced Peer Support Workers in hepatitis C care. \
            Errors are application/problem+json (RFC 9457); see docs/API.md for conventions.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(Problem)),
    tags(
        (name = "auth", description = "Log in, refresh, log out, change password"),
        (name = "users", description = "User accounts"),
        (name = "organisations", description = "Organisations (tenants)"),
        (name = "networks", description = "Networks of organisations"),
        (name = "audit", description = "The audit trail"),
        (name = "notifications", description = "Email preferences and the outbox"),
        (name = "workers", description = "Worker profiles and their supervisors"),
        (name = "training", description = "The module catalogue and training records"),
        (name = "competencies", description = "The competency framework, sign-offs, observed practice, the supervisor queue"),
        (name = "pathways", description = "Career pathways, stages, eligibility, progressions"),
        (name = "pay", description = "Salary bands and pay tables, salary history, appraisals, pay steps"),
        (name = "recovery", description = "Relapse-prevention plans and check-ins: the worker's own, shared with their supervisor only as they choose"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

pub fn base_document() -> OpenApi {
    let mut doc = ApiDoc::openapi();
    BearerAuth.modify(&mut doc);
    doc
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Adds to every operation the problem answers the shared machinery can give: body
/// refusals where there is a body, 401 where a token is needed, 404 where the path names a
/// record, 500, 503 and 507 wherever the database is used.
pub fn add_common_responses(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let names_record = path.contains('{');
        let uses_database = !matches!(path.as_str(), "/health/live" | "/metrics");
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            if op.request_body.is_some() {
                add(op, "400", "Malformed JSON");
                add(op, "413", "Body larger than the configured limit");
                add(op, "415", "Body is not application/json");
                add(op, "422", "Invalid or unknown fields; see errors");
            }
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                add(op, "401", "Missing, invalid or revoked access token");
            }
            if names_record {
                add(op, "404", "No such record, or not visible to you");
            }
            if uses_database {
                add(
                    op,
                    "500",
                    "Internal error (no detail; see the log by request id)",
                );
                add(op, "503", "Database unavailable; see Retry-After");
                // Reads write too: sessions, audited reads of recovery data.
                add(
                    op,
                    "507",
                    "The database is out of space; nothing was saved. See Retry-After",
                );
            }
        }
    }
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        });
}

/// The document as served: JSON bytes made once at start, shared by every worker.
pub struct Document(actix_web::web::Bytes);

impl Document {
    pub fn serialise(document: &OpenApi) -> Result<Self, String> {
        serde_json::to_vec(document)
            .map(|json| Self(json.into()))
            .map_err(|e| format!("cannot serialise the OpenAPI document: {e}"))
    }
}

pub async fn serve_document(document: actix_web::web::Data<Document>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(document.0.clone())
}
