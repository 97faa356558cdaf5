//! Admin accounts of a tenant: users and roles, login, password resets and invitations.

pub mod invitations;
pub mod password;
pub mod resets;
pub mod roles;
pub mod token;
pub mod users;

use crate::validation::FieldProblem;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    /// Wrong email or password, or an inactive account: one answer for all.
    #[error("wrong email or password")]
    BadCredentials,
    /// The token is unknown, used, or expired: one answer for all.
    #[error("this link is invalid or has expired")]
    BadToken,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Enqueue(#[from] cartwheel_jobs::EnqueueError),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}
