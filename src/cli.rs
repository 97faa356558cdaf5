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
    /// Backups of the database to S3-compatible storage (`CARTWHEEL_BACKUP_S3_URL`).
    Backup {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Fill a shop with demo data against DATABASE_URL (for load tests); prints one JSON line.
    Seed {
        #[command(subcommand)]
        target: SeedTarget,
    },
    /// Exit 0 when the API on this host (`CARTWHEEL_BIND`) answers `GET /health/live` with 200
    /// (a container's health check).
    Health,
    /// Measure throughput and latency against DATABASE_URL; prints one JSON line.
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum BenchTarget {
    /// Enqueue `--jobs` no-op jobs, then work them off with the worker's settings and time it.
    Queue {
        #[arg(long, default_value_t = 50_000)]
        jobs: usize,
        /// Jobs run at once (default: the worker's settings for the `noop` queue).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Jobs the worker claims per fetch (default: the worker's settings, which adapt
        /// unless a batch size is set).
        #[arg(long)]
        batch_size: Option<usize>,
        /// `batch`: enqueue in multi-row statements; `per-txn`: one job per transaction, as the API does.
        #[arg(long, value_enum, default_value_t = EnqueueMode::Batch)]
        mode: EnqueueMode,
        /// Also measure pickup latency of single jobs on an idle queue, this many samples.
        #[arg(long, default_value_t = 200)]
        latency_samples: usize,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum SeedTarget {
    /// A shop (created and provisioned if missing) with published, stocked products.
    Catalog {
        /// The shop's slug (`X-Tenant`).
        #[arg(long, default_value = "loadtest")]
        shop: String,
        #[arg(long, default_value_t = 10_000)]
        products: usize,
        #[arg(long, default_value_t = 200)]
        categories: usize,
    },
    /// Orders of a shop (created and provisioned if missing), numbered on from its last one and
    /// placed over the last two years, with lines of its items (seed the catalog first), a fifth
    /// by seeded customers (`seed-customer-password`), the rest by guests.
    Orders {
        /// The shop's slug (`X-Tenant`).
        #[arg(long, default_value = "loadtest")]
        shop: String,
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        /// Customers the signed-in orders are spread over (created if missing).
        #[arg(long, default_value_t = 5_000)]
        customers: usize,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum BackupAction {
    /// Make a backup of DATABASE_URL now, verify it by restoring it, apply retention.
    Run,
    /// Every backup in the storage: time, size, verified.
    List,
    /// Restore backup KEY into a database (refused when the object's checksum does not match);
    /// migrations run afterwards, so an older backup restores into this version.
    Restore {
        /// The backup's key, as `backup list` shows it.
        key: String,
        /// The database to restore into: a Postgres URL, or an SQLite URL for an SQLite backup.
        #[arg(long)]
        into: String,
        /// Replace what the target database holds (without it, a target with tables is refused).
        #[arg(long)]
        force: bool,
    },
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnqueueMode {
    Batch,
    PerTxn,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// List migrations and whether each is applied.
    Status,
}
