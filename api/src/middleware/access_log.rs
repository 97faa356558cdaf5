//! One log line per request: method, path, status, latency, request id and tenant.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response, Result};
use tracing::Instrument;

use super::Step;
use crate::middleware::request_id::RequestId;
use crate::tenant::TenantSlug;

#[derive(Clone)]
pub struct AccessLog;

impl Step for AccessLog {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        access_log(next, req).await
    }
}

async fn access_log<E: Endpoint>(next: &E, req: Request) -> Result<Response> {
    let started = Instant::now();
    let (method_label, route) = crate::routes::metric_labels(req.method(), req.uri().path());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let tenant = req
        .extensions()
        .get::<TenantSlug>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    let span = tracing::info_span!("request", %request_id, %tenant);
    let response = match next.call(req).instrument(span.clone()).await {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response(),
    };
    let elapsed = started.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    metrics::counter!("cartwheel_http_requests_total", "method" => method_label, "route" => route, "status" => status.to_string()).increment(1);
    metrics::histogram!("cartwheel_http_request_duration_seconds", "method" => method_label, "route" => route).record(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            target: "cartwheel::http",
            method,
            path,
            status,
            latency_ms = (latency_ms * 100.0).round() / 100.0,
            "request"
        )
    });
    Ok(response)
}
