//! The success answers operations share: 201 with what was made, 202, 204. An operation's own
//! documentation says what each means for it.

use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use poem_openapi::types::ToJSON;

#[derive(ApiResponse)]
pub enum Created<T: ToJSON + Send + Sync> {
    /// Created: the body is what now exists.
    #[oai(status = 201)]
    Created(Json<T>),
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// Accepted: the work is queued.
    #[oai(status = 202)]
    Accepted,
}

#[derive(ApiResponse)]
pub enum NoContent {
    /// Done, with nothing to answer.
    #[oai(status = 204)]
    NoContent,
}
