//! Applies `crate::text`'s rule to the path and query string: a control character in a query
//! parameter is a 400 naming it; in the path, nothing can match, so a 404.

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use super::Step;
use crate::problem::{FieldError, ProblemJson};
use crate::text::{MESSAGE, is_forbidden};

#[derive(Clone)]
pub struct ControlChars;

impl Step for ControlChars {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        if let Some(problem) = check(&req) {
            return Ok(problem.into_response());
        }
        next.call(req).await.map(IntoResponse::into_response)
    }
}

fn check(req: &Request) -> Option<ProblemJson> {
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy();
    if path.chars().any(is_forbidden) {
        return Some(ProblemJson::not_found("No resource at this path."));
    }
    let query = req.uri().query()?;
    // A parameter whose name has control characters is no parameter of ours, and is ignored.
    let (name, _) = form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| !name.chars().any(is_forbidden) && value.chars().any(is_forbidden))?;
    Some(
        ProblemJson::new(
            StatusCode::BAD_REQUEST,
            "bad-parameter",
            format!("The query parameter `{name}` {MESSAGE}."),
        )
        .with_errors(vec![FieldError {
            field: name.into_owned(),
            message: MESSAGE.into(),
        }]),
    )
}
