//! Turns every error — from routing, extractors, handlers or panics — into problem+json.

use poem::error::{MethodNotAllowedError, NotFoundError};
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use poem_openapi::error::{
    ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
};

use super::Step;
use crate::problem::{self, FieldError, ProblemJson};

/// Converts errors and bare error statuses into problem+json responses.
#[derive(Clone)]
pub struct Problems;

impl Step for Problems {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        problems(next, req).await
    }
}

async fn problems<E: Endpoint>(next: &E, req: Request) -> Result<Response> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(error) => return Ok(error_to_problem(error, &method, &path).into_response()),
    };
    let status = response.status();
    if (status.is_client_error() || status.is_server_error()) && !is_problem(&response) {
        return Ok(
            ProblemJson::new(status, kind_for(status), default_detail(status)).into_response(),
        );
    }
    Ok(response)
}

fn error_to_problem(error: poem::Error, method: &poem::http::Method, path: &str) -> Response {
    if let Some(e) = error.downcast_ref::<ParseRequestPayloadError>() {
        // `JsonBody` names fields itself; this covers other payload types.
        return ProblemJson::new(StatusCode::BAD_REQUEST, "bad-request", e.reason.clone())
            .into_response();
    }
    if let Some(e) = error.downcast_ref::<ParseParamError>() {
        return ProblemJson::new(StatusCode::BAD_REQUEST, "bad-parameter", error.to_string())
            .with_errors(vec![FieldError {
                field: e.name.to_string(),
                message: e.reason.clone(),
            }])
            .into_response();
    }
    if let Some(e) = error.downcast_ref::<ParsePathError>() {
        return ProblemJson::not_found(format!("No resource at this path: {}", e.reason))
            .into_response();
    }
    if error.is::<ContentTypeError>() {
        return ProblemJson::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("{error}; send `Content-Type: application/json`"),
        )
        .into_response();
    }
    if error.is::<NotFoundError>() {
        return ProblemJson::not_found("No endpoint matches this path.").into_response();
    }
    if error.is::<MethodNotAllowedError>() {
        let allow = crate::routes::allow_header(path).unwrap_or_default();
        let mut response = ProblemJson::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            format!("{method} is not allowed on this path; it answers {allow}."),
        )
        .into_response();
        if let Ok(value) = allow.parse() {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return response;
    }
    let status = error.status();
    let message = error.to_string();
    let response = error.into_response();
    if is_problem(&response) {
        return response;
    }
    if status.is_server_error() {
        tracing::error!(error = %message, "request failed");
        return ProblemJson::new(status, kind_for(status), default_detail(status)).into_response();
    }
    ProblemJson::new(status, kind_for(status), message).into_response()
}

/// Already problem+json (built by a handler or extractor), so it passes through unchanged.
fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(problem::CONTENT_TYPE.as_bytes()))
}

fn kind_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation",
        StatusCode::TOO_MANY_REQUESTS => "rate-limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

fn default_detail(status: StatusCode) -> String {
    if status.is_server_error() {
        "An unexpected error occurred. Quote the X-Request-Id header when reporting it.".into()
    } else {
        status.canonical_reason().unwrap_or("Error").to_string()
    }
}
