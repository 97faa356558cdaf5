//! HTTP middleware, applied in `crate::with_middleware` in the order listed there.

pub mod access_log;
pub mod body_limit;
pub mod client_ip;
pub mod control_chars;
pub mod error_reports;
pub mod problems;
pub mod rate_limit;
pub mod request_id;
pub mod security_headers;

use std::future::Future;

use poem::{Endpoint, Middleware, Request, Response, Result};

/// One middleware step: look at the request, call `next`, look at the response.
pub trait Step: Clone + Send + Sync + 'static {
    fn handle<E: Endpoint>(
        &self,
        next: &E,
        req: Request,
    ) -> impl Future<Output = Result<Response>> + Send;
}

/// Adapts a `Step` to poem's `Middleware`.
pub struct Layer<S>(pub S);

pub struct LayerEndpoint<E, S> {
    inner: E,
    step: S,
}

impl<E: Endpoint, S: Step> Middleware<E> for Layer<S> {
    type Output = LayerEndpoint<E, S>;

    fn transform(&self, inner: E) -> Self::Output {
        LayerEndpoint {
            inner,
            step: self.0.clone(),
        }
    }
}

impl<E: Endpoint, S: Step> Endpoint for LayerEndpoint<E, S> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        self.step.handle(&self.inner, req).await
    }
}
