//! HTTP foundation tests: real server on a random port, fresh Postgres database (or SQLite file) per test.

mod binary;
mod error_reports;
mod errors;
mod health;
mod openapi;
mod rate_limit;
mod request_id;
mod security_headers;
mod shutdown;
mod tenant;
