//! The platform operator's bearer token (`CARTWHEEL_OPERATOR_TOKEN`).

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::state::AppState;

/// `Authorization: Bearer <CARTWHEEL_OPERATOR_TOKEN>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_operator")]
pub struct OperatorToken(());

async fn check_operator(req: &Request, bearer: Bearer) -> Option<()> {
    let expected = req.data::<AppState>()?.operator_token.as_deref()?;
    constant_time_eq(expected.as_bytes(), bearer.token.as_bytes()).then_some(())
}

/// Compares without stopping at the first difference, so timing does not leak the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
