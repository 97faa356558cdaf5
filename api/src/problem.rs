//! RFC 9457 problem details: the one shape every error response takes.

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// A machine-readable description of what went wrong (RFC 9457).
#[derive(Object, Debug, Clone)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[oai(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened in this case.
    pub detail: String,
    /// The fields that failed validation, when the problem is about input.
    #[oai(default, skip_serializing_if_is_empty)]
    pub errors: Vec<FieldError>,
    /// Sent as the `Retry-After` header, not in the body.
    #[oai(skip)]
    pub retry_after: Option<u64>,
}

/// One field that was rejected and why.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A problem sent as `application/problem+json`, usable as an OpenAPI response payload.
#[derive(Debug, Clone)]
pub struct ProblemJson(pub Problem);

impl ProblemJson {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self(Problem {
            kind: format!("https://cartwheel.dev/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        })
    }

    /// Answers with `Retry-After: seconds`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.0.retry_after = Some(seconds);
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.0.errors = errors;
        self
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// A 500 that shows nothing internal; the cause chain goes to the log with the request id.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(error = %chain, "internal error");
        // To the request's error-report hub (`middleware::error_reports`), when there is one.
        sentry::capture_message(&chain, sentry::Level::Error);
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "An unexpected error occurred. Quote the X-Request-Id header when reporting it.",
        )
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Wraps the problem as a `poem::Error`, for extractors and middleware.
    pub fn into_error(self) -> poem::Error {
        poem::Error::from_response(self.into_response())
    }
}

impl IntoResponse for ProblemJson {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, CONTENT_TYPE);
        if let Some(seconds) = self.0.retry_after {
            response = response.header(header::RETRY_AFTER, seconds);
        }
        response.body(self.0.to_json_string())
    }
}

impl Payload for ProblemJson {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        Problem::schema_ref()
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// Errors any endpoint can answer with, listed once for the OpenAPI document.
#[derive(ApiResponse, Debug)]
pub enum CommonError {
    /// The request was malformed (bad JSON, a bad parameter).
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// The request body was valid JSON but a field was rejected.
    #[oai(status = 422)]
    Unprocessable(ProblemJson),
    /// Too many requests from this client; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

impl CommonError {
    pub fn internal(error: &dyn std::error::Error) -> Self {
        Self::Internal(ProblemJson::internal(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_rfc_9457_member_names() {
        let problem = ProblemJson::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "bad")
            .with_errors(vec![FieldError {
                field: "name".into(),
                message: "too long".into(),
            }]);
        let value: serde_json::Value = serde_json::from_str(&problem.0.to_json_string()).unwrap();
        assert_eq!(value["type"], "https://cartwheel.dev/problems/validation");
        assert_eq!(value["title"], "Unprocessable Entity");
        assert_eq!(value["status"], 422);
        assert_eq!(value["errors"][0]["field"], "name");
    }
}
