//! The OpenAPI document as a contract: every response a test reads from a documented
//! operation must have a documented status, and a JSON body must match the schema published
//! for that operation, status and media type. A mismatch fails the test that saw it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

/// Responses checked against the document in this run (`PEERPATH_COUNT_VALIDATED` names a
/// file each app adds its count to when it stops, for the closing note's total).
pub static VALIDATED: AtomicU64 = AtomicU64::new(0);

struct Operation {
    method: String,
    /// The path template's segments; `None` stands for a `{parameter}`.
    segments: Vec<Option<String>>,
    template: String,
    responses: serde_json::Map<String, Value>,
}

struct Contract {
    operations: Vec<Operation>,
    components: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let document = serde_json::to_value(peerpath::app::openapi_document())
            .expect("the document serialises");
        let mut operations = vec![];
        for (template, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                let Some(responses) = operation["responses"].as_object() else {
                    continue;
                };
                operations.push(Operation {
                    method: method.to_uppercase(),
                    segments: template
                        .split('/')
                        .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                        .collect(),
                    template: template.clone(),
                    responses: responses.clone(),
                });
            }
        }
        Contract {
            operations,
            components: document["components"].clone(),
            validators: Mutex::default(),
        }
    })
}

/// The documented operation a request reached: of the templates that match, the one with the
/// most literal segments (`/workers/me` before `/workers/{id}`).
fn operation(method: &str, path: &str) -> Option<&'static Operation> {
    let segments: Vec<&str> = path.split('?').next().unwrap_or(path).split('/').collect();
    contract()
        .operations
        .iter()
        .filter(|op| op.method == method && op.segments.len() == segments.len())
        .filter(|op| {
            op.segments
                .iter()
                .zip(&segments)
                .all(|(want, got)| want.as_deref().is_none_or(|w| w == *got))
        })
        .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
}

fn validator(key: String, schema: &Value) -> Arc<jsonschema::Validator> {
    let contract = contract();
    let mut cache = contract
        .validators
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(key)
        .or_insert_with(|| {
            // The response schema under a root that holds the components its $refs name.
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": contract.components,
                "allOf": [schema],
            });
            Arc::new(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&root)
                    .expect("the published schema compiles"),
            )
        })
        .clone()
}

/// Checks one response against the document; answers what does not match.
pub fn check(
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), String> {
    let Some(op) = operation(method, path) else {
        return Ok(()); // Pages, assets and paths the API does not have.
    };
    let at = format!("{method} {} answered {status}", op.template);
    let Some(response) = op.responses.get(&status.to_string()) else {
        return Err(format!("{at}, a status its documentation does not list"));
    };
    VALIDATED.fetch_add(1, Ordering::Relaxed);
    let media = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
        .unwrap_or_default();
    if !media.ends_with("json") {
        return Ok(());
    }
    let content = &response["content"];
    let Some(schema) = content.get(&media).map(|c| &c["schema"]) else {
        return Err(format!(
            "{at} as {media}, but documents {}",
            content
                .as_object()
                .map(|c| c.keys().cloned().collect::<Vec<_>>().join(", "))
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "no body".into())
        ));
    };
    let instance: Value = serde_json::from_slice(body)
        .map_err(|e| format!("{at} with a body that is not JSON: {e}"))?;
    let key = format!("{method} {} {status} {media}", op.template);
    let validator = validator(key, schema);
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .take(5)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{at} with a body its schema refuses:\n  {}\nbody: {}",
            errors.join("\n  "),
            String::from_utf8_lossy(body)
        ))
    }
}

/// Adds this run's count to the file `PEERPATH_COUNT_VALIDATED` names, if any.
pub fn record_count() {
    let Some(file) = std::env::var_os("PEERPATH_COUNT_VALIDATED") else {
        return;
    };
    let n = VALIDATED.swap(0, Ordering::Relaxed);
    if n == 0 {
        return;
    }
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        let _ = writeln!(f, "{n}");
    }
}

/// The check itself refuses what it should: a status not listed, a body its schema refuses,
/// a media type not documented.
#[test]
fn the_contract_check_refuses_what_the_document_does_not_say() {
    let json = Some("application/json");
    let problem = Some("application/problem+json");
    let ok = br#"{"status":"live"}"#;
    assert!(check("GET", "/health/live", 200, json, ok).is_ok());
    assert!(check("GET", "/health/live", 418, json, ok).is_err());
    assert!(check("GET", "/health/live", 200, json, br#"{"status":7}"#).is_err());
    assert!(check("GET", "/health/live", 200, problem, ok).is_err());
    let refusal = br#"{"type":"/docs/problems#validation","title":"Invalid request","status":422,"detail":"x","errors":{"name":["is required"]}}"#;
    assert!(check("POST", "/api/v1/organisations", 422, problem, refusal).is_ok());
    assert!(check("POST", "/api/v1/organisations", 422, problem, b"{}").is_err());
    // A template's parameter matches one segment only; pages are not the API's.
    assert_eq!(
        operation("GET", "/api/v1/workers/0190/pathway?x=1").map(|op| op.template.as_str()),
        Some("/api/v1/workers/{id}/pathway")
    );
    assert!(operation("GET", "/api/v1/workers/a/b/pathway").is_none());
    assert!(check("GET", "/sign-in", 200, Some("text/html"), b"<html>").is_ok());
}
