//! Tenant tests: signup and provisioning through the queue, default data, admin accounts and
//! email, against real Postgres (and SQLite where it applies) and a real SMTP server.

#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../support/smtp.rs"]
mod smtp;

mod accounts;
mod crash;
mod first_run;
mod provisioning;
mod support;
