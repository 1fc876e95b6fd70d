//! The OpenAPI document's frame: info, security scheme, and the answers every operation
//! can give whether or not its handler lists them.

use utoipa::openapi::Required;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

use crate::error::{PROBLEM_JSON, Problem};
use crate::pagination::MAX_LIMIT;

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

/// Adds to every operation what the shared machinery answers and takes, whatever its handler
/// lists: body refusals where there is a body; 400 for a bad query string; 401 and 403 where a
/// token is needed; 404 where the path names a record; 409 and 422 for a refused change;
/// 412 and 428 where an If-Match is read; the `Idempotency-Key` header (and its 400, 409,
/// 422) on every POST that honours it; the real bounds of `limit`; 500, 503 and 507 wherever
/// the database is used.
pub fn add_common_responses(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let names_record = path.contains('{');
        let uses_database = !matches!(path.as_str(), "/health/live" | "/metrics");
        let signs_in = path.starts_with("/api/v1/auth/");
        for (method, op) in [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ]
        .into_iter()
        .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
        {
            let changes = method != "get";
            let params = op.parameters.get_or_insert_with(Vec::new);
            let inline = |p: &RefOr<Parameter>| match p {
                RefOr::T(p) => Some(p.clone()),
                RefOr::Ref(_) => None,
            };
            let reads_query = params
                .iter()
                .filter_map(inline)
                .any(|p| p.parameter_in == ParameterIn::Query);
            let reads_if_match = params
                .iter()
                .filter_map(inline)
                .any(|p| p.name == "If-Match");
            let filters_by_record = params
                .iter()
                .filter_map(inline)
                .any(|p| p.parameter_in == ParameterIn::Query && p.name.ends_with("_id"));
            for param in params.iter_mut().filter_map(|p| match p {
                RefOr::T(p) => Some(p),
                RefOr::Ref(_) => None,
            }) {
                if param.name == "If-Match" {
                    param.schema = Some(RefOr::T(Schema::Object(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some(r#"^(W/)?"v[0-9]{1,9}"$"#))
                            .examples([serde_json::json!("\"v1\"")])
                            .build(),
                    )));
                }
                if param.parameter_in == ParameterIn::Query {
                    // `?status=&cursor=` is read as if those were not sent (a form with blank
                    // fields sends them so). OpenAPI 3.1 keeps `allowEmptyValue`; utoipa has
                    // no field for it, and its extensions are written out as they are named.
                    param
                        .extensions
                        .get_or_insert_with(Default::default)
                        .insert("allowEmptyValue".into(), serde_json::Value::Bool(true));
                }
                if param.name == "limit" && param.parameter_in == ParameterIn::Query {
                    param.schema = Some(RefOr::T(Schema::Object(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                            .minimum(Some(1))
                            .maximum(Some(MAX_LIMIT))
                            .build(),
                    )));
                }
            }
            let keyed = method == "post" && path.starts_with("/api/v1/") && !signs_in;
            if keyed {
                params.push(RefOr::T(idempotency_key_parameter()));
            }
            if op.request_body.is_some() {
                add(op, "400", "Malformed JSON");
                add(op, "413", "Body larger than the configured limit");
                add(op, "415", "Body is not application/json");
                add(op, "422", "Invalid or unknown fields; see errors");
            }
            if reads_query {
                add(
                    op,
                    "400",
                    "A query parameter malformed or out of range (limit, cursor, a filter)",
                );
                add(op, "422", "A filter's value cannot be used; see errors");
            }
            if keyed {
                add(op, "400", "Idempotency-Key malformed");
                add(
                    op,
                    "409",
                    "A request with this Idempotency-Key is still running",
                );
                add(op, "422", "Idempotency-Key reused with another body");
            }
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                add(op, "401", "Missing, invalid or revoked access token");
                add(op, "403", "Your role or relation does not allow this");
            }
            if names_record || filters_by_record {
                add(op, "404", "No such record, or not visible to you");
            }
            if changes && uses_database && !signs_in {
                add(op, "409", "The change clashes with the current state");
                add(op, "422", "The change cannot be made; the detail says why");
            }
            if reads_if_match {
                add(op, "412", "If-Match does not match the current ETag");
                add(op, "428", "If-Match is required");
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

fn idempotency_key_parameter() -> Parameter {
    ParameterBuilder::new()
        .name(crate::idempotency::HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same key with the same body replays the first answer; \
             with another body it is refused (422). 1 to 255 ASCII characters: letters, digits, \
             marks, and spaces or tabs between them (HTTP drops those around a header's \
             value; an empty one is no key). Keys are per user, kept for a day.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!(
                    "^[ \t]*([!-~]([!-~ \t]{{0,{}}}[!-~])?)?[ \t]*$",
                    crate::idempotency::MAX_LEN - 2
                ))),
        ))
        .build()
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
