//! `X-Request-Id`: propagated when the client sent a sane one, generated otherwise, always echoed.

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use super::Step;

pub const HEADER: &str = "x-request-id";

/// The id of the request being served, in the request's extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id of `req`, once this step has run.
    pub fn of(req: &Request) -> Option<String> {
        req.extensions().get::<RequestId>().map(|id| id.0.clone())
    }
}

#[derive(Clone)]
pub struct RequestIds;

impl Step for RequestIds {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        request_id(next, req).await
    }
}

async fn request_id<E: Endpoint>(next: &E, mut req: Request) -> Result<Response> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    Ok(response)
}

/// Client ids end up in logs, so only short printable tokens are kept.
fn is_acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}
