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
    let route = route_label(&path, status);
    metrics::counter!("cartwheel_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.to_string()).increment(1);
    metrics::histogram!("cartwheel_http_request_duration_seconds", "method" => method.clone(), "route" => route).record(elapsed.as_secs_f64());
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

/// The path with ids replaced by `{id}`, so metrics have one series per route, not per job;
/// paths nothing answered are `unmatched`.
fn route_label(path: &str, status: u16) -> String {
    if status == 404 || status == 405 {
        return "unmatched".into();
    }
    path.split('/')
        .map(|segment| {
            let looks_like_id = segment.len() >= 8
                && segment.chars().any(|c| c.is_ascii_digit())
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if looks_like_id || (!segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()))
            {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_labels_hide_ids() {
        assert_eq!(
            super::route_label("/api/v1/admin/jobs/01JDZ6X2Q8M4T9ZK1V3C7B5N2R/retry", 200),
            "/api/v1/admin/jobs/{id}/retry"
        );
        assert_eq!(super::route_label("/api/v1/tenant", 200), "/api/v1/tenant");
        assert_eq!(super::route_label("/wp-admin/x.php", 404), "unmatched");
    }
}
