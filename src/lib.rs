//! Cartwheel: the application the `cartwheel` binary and the integration tests run.

pub mod backup;
pub mod bench;
pub mod cli;
pub mod config;
pub mod database;
pub mod demo;
pub mod error_reports;
pub mod health;
pub mod seed;
pub mod startup;
pub mod telemetry;
