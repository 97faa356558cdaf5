//! The job worker: apalis workers for every queue, and the handlers they run.

pub mod handler;
pub mod handlers;
pub mod mail;
pub mod pace;
mod poll;
pub mod runtime;

pub use handler::{Handler, JobContext, JobError};
pub use mail::MailSettings;
pub use runtime::{WorkerSettings, run};
