//! Tenant tests: signup and provisioning through the queue, default data, admin accounts and
//! email, against real Postgres (and SQLite where it applies) and a real SMTP server.

mod accounts;
mod crash;
mod first_run;
mod mail;
mod mail_crash;
mod migrations;
mod provisioning;
