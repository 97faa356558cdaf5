//! Refuses request bodies over the configured size with 413, with or without `Content-Length`.

use poem::http::{StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response, Result};

use super::Step;
use crate::problem::ProblemJson;

#[derive(Clone)]
pub struct BodyLimit(pub usize);

impl Step for BodyLimit {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        body_limit(next, req, self.0).await
    }
}

async fn body_limit<E: Endpoint>(next: &E, mut req: Request, limit: usize) -> Result<Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(length) if length > limit => return Ok(too_large(limit)),
        // hyper enforces a declared length, so only undeclared bodies need counting.
        Some(_) => {}
        None => {
            let body = req.take_body();
            let bytes = match body.into_bytes_limit(limit).await {
                Ok(bytes) => bytes,
                Err(poem::error::ReadBodyError::PayloadTooLarge) => return Ok(too_large(limit)),
                Err(e) => return Err(e.into()),
            };
            req.set_body(Body::from_bytes(bytes));
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

fn too_large(limit: usize) -> Response {
    ProblemJson::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!("The request body is larger than the {limit}-byte limit."),
    )
    .into_response()
}
