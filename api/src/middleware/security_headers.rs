//! Headers every response carries: no content sniffing, no framing (the API and `/docs` are
//! never meant to be framed), and `Cache-Control: no-store` on everything but the public
//! catalog, so tokens, carts and account data never sit in a shared cache.

use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use super::Step;
use crate::store::cache::is_public_catalog_read;

#[derive(Clone)]
pub struct SecurityHeaders;

impl Step for SecurityHeaders {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        let public = is_public_catalog_read(req.method(), req.uri().path());
        let mut response = match next.call(req).await {
            Ok(response) => response.into_response(),
            Err(error) => error.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
        if !public && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(response)
    }
}
