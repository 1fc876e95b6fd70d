//! Logging, request ids and metrics.
//! What is never logged is written down in docs/LOGGING.md.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};
use crate::db::{DbStats, REQUEST_DB};
use crate::error::{PROBLEM_JSON, problem_for_status};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The request id, in the request's extensions for handlers and extractors.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Installs the global subscriber; later calls (tests start many apps) change nothing.
/// `PEERPATH_LOG` overrides the configured filter.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_env("PEERPATH_LOG")
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Not its default of reporting a failed write on stderr itself, which panics when
        // stderr is gone: inside a request, that took serving down.
        .log_internal_errors(false)
        .with_writer(|| DroppingStderr);
    let _ = match settings.format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Compact => builder.compact().try_init(),
    };
}

/// Standard error that never fails a caller: a write that cannot be made (the log shipper
/// reading the pipe died, the log file's disk is full) is dropped and counted in
/// `log_writes_dropped_total`, so logging can never stop serving.
struct DroppingStderr;

impl std::io::Write for DroppingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::io::stderr().write_all(buf).is_err() {
            metrics::counter!("log_writes_dropped_total").increment(1);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The process-wide Prometheus recorder (metrics are per process by nature).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = builder
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is installed (an embedding program's): keep a private one so
            // /metrics still answers.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

fn well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Gives every request an id (a well-formed incoming `X-Request-Id`, or a new one), a span
/// carrying it, an access log line, metrics, and the id echoed in the response. Error
/// responses that are not yet problem+json (from library handlers) are made so.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    crate::memory::note_request();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| well_formed(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %req.path(),
    );
    let started = Instant::now();
    let server_timing = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|s| s.settings.log.server_timing);
    let db = Arc::new(DbStats::default());
    let response = REQUEST_DB
        .scope(db.clone(), next.call(req).instrument(span.clone()))
        .await?;
    let queries = db.queries.load(Ordering::Relaxed);
    let db_ms = db.micros.load(Ordering::Relaxed) as f64 / 1000.0;

    let status = response.status();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!("http_requests_total",
        "method" => method.clone(), "route" => route.clone(), "status" => status.as_u16().to_string())
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route.clone())
        .record(elapsed);
    metrics::histogram!("http_request_db_queries", "route" => route).record(queries as f64);
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            latency_ms = (elapsed * 1000.0).round() as u64,
            db_queries = queries,
            "request finished"
        );
    });

    // Pages (text/html) keep their own error bodies; everything else answers problem+json.
    let keeps_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(PROBLEM_JSON.as_bytes())
                || v.as_bytes().starts_with(b"text/html")
        });
    let mut response = if status.as_u16() >= 400 && !keeps_body {
        let (request, _) = response.into_parts();
        ServiceResponse::new(request, problem_for_status(status)).map_into_boxed_body()
    } else {
        response.map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    if server_timing
        && let Ok(value) =
            HeaderValue::from_str(&format!("db;dur={db_ms:.2};desc=\"{queries} queries\""))
    {
        response.headers_mut().insert(SERVER_TIMING, value);
    }
    Ok(response)
}
