//! The `cartwheel` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "cartwheel",
    version,
    about = "Self-hosted multi-tenant commerce built around a job queue"
)]
pub struct Cli {
    /// Settings file (default: ./cartwheel.toml when it exists); the environment overrides it.
    #[arg(long, global = true, env = "CARTWHEEL_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// API, worker and scheduler in one process; migrates first (the default).
    Serve,
    /// Only the HTTP API (Postgres only; run `migrate up` first).
    Api,
    /// Only the job worker (Postgres only).
    Worker,
    /// Only the cron scheduler (Postgres only).
    Scheduler,
    /// Database migrations for the business tables and the job storage.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// List migrations and whether each is applied.
    Status,
}
