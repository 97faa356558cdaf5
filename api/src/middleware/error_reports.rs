//! Error reports (Sentry) with each request's context: a hub of its own per request, tagged
//! with the request id, method, route template and shop (and the user, once authenticated:
//! `crate::auth`), bound to the request's future. So a panic (reported by sentry's panic hook
//! from the request's hub) and an internal error (`ProblemJson::internal` reports its cause
//! chain) carry that context; any other 5xx is reported here. Without a client, nothing happens.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response, Result};
use sentry::{Hub, Level, Scope, SentryFutureExt};

use super::Step;
use super::request_id::RequestId;
use crate::tenant::TenantSlug;

#[derive(Clone)]
pub struct ErrorReports {
    pub client: Option<Arc<sentry::Client>>,
}

impl Step for ErrorReports {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        let Some(client) = &self.client else {
            return next.call(req).await.map(IntoResponse::into_response);
        };
        let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
        let (method, route) = crate::routes::metric_labels(req.method(), req.uri().path());
        hub.configure_scope(|scope| {
            if let Some(id) = req.extensions().get::<RequestId>() {
                scope.set_tag("request_id", &id.0);
            }
            if let Some(shop) = req.extensions().get::<TenantSlug>() {
                scope.set_tag("shop", &shop.0);
            }
            scope.set_tag("method", method);
            scope.set_tag("route", route);
            scope.set_transaction(Some(&format!("{method} {route}")));
            // The method and path only: no query string, headers, cookies or body are kept.
            scope.set_context(
                "request",
                sentry::protocol::Context::Other(
                    [
                        ("method".to_string(), method.into()),
                        ("path".to_string(), req.uri().path().into()),
                    ]
                    .into_iter()
                    .collect(),
                ),
            );
        });
        let response = match next.call(req).bind_hub(hub.clone()).await {
            Ok(response) => response.into_response(),
            Err(error) => error.into_response(),
        };
        let status = response.status();
        if status.is_server_error() && hub.last_event_id().is_none() {
            hub.capture_message(&format!("{} answered {status}", route), Level::Error);
        }
        Ok(response)
    }
}
