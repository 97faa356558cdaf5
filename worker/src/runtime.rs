//! Runs an apalis worker per queue, with per-queue concurrency, until shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BackendExt, Monitor, Strategy, WorkerBuilder, WorkerBuilderExt};
use apalis_postgres::{PostgresStorage, Pubsub};
use apalis_sqlite::SqliteStorage;
use cartwheel_jobs::families::QUEUES;
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::handler::{Deps, Handler, Mail, Operator, execute};
use crate::mail::{MailSettings, Mailer};
use crate::pace::{Pace, Paced};
use crate::poll::Ticker;

#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Jobs run at once per queue, unless `queue_concurrency` names the queue.
    pub concurrency: usize,
    pub queue_concurrency: HashMap<String, usize>,
    /// Jobs claimed per fetch, unless `queue_batch_size` names the queue; `None` adapts to
    /// the queue's jobs (`crate::pace`). A larger batch saves round trips; its extra jobs wait
    /// in this worker (and go back at once on shutdown).
    pub batch_size: Option<usize>,
    pub queue_batch_size: HashMap<String, usize>,
    /// How often an idle queue looks for due jobs (Postgres also wakes on NOTIFY at once).
    pub poll_interval: Duration,
    /// A job held by a worker that died runs again within this long.
    pub recovery_bound: Duration,
    /// How long running jobs may finish after shutdown begins.
    pub shutdown_timeout: Duration,
    pub mail: MailSettings,
    /// Where the `backup.run` job writes; `None`: backups are not configured.
    pub backup: Option<cartwheel_backup::Settings>,
    /// Who hears of failures only the platform's operator can fix (a backup that keeps failing).
    pub operator_email: Option<String>,
    /// Where job failures and dead jobs are reported (Sentry); `None`: nowhere.
    pub error_reports: Option<Arc<sentry::Client>>,
    /// How shops' card payments reach Stripe (their keys, opened; Stripe's address).
    pub stripe: cartwheel_domain::payments::stripe::Stripe,
}

impl WorkerSettings {
    /// Jobs of `queue` run at once: the queue's setting, else `concurrency` times the job's
    /// `Job::CONCURRENCY_SCALE`.
    pub fn concurrency_for(&self, queue: &str, scale: usize) -> usize {
        self.queue_concurrency
            .get(queue)
            .copied()
            .unwrap_or(self.concurrency.saturating_mul(scale))
            .max(1)
    }

    /// The batch size set for `queue`, if any; `None` adapts.
    pub fn batch_size_for(&self, queue: &str) -> Option<usize> {
        self.queue_batch_size
            .get(queue)
            .copied()
            .or(self.batch_size)
            .map(|n| n.max(1))
    }

    /// Heartbeats come 4 times per recovery bound; 3 missed ones mark a worker dead, and the
    /// next heartbeat of a live worker re-enqueues its jobs: 3/4 + 1/4 of the bound at most.
    fn heartbeat(&self) -> Duration {
        (self.recovery_bound / 4).max(Duration::from_millis(250))
    }
}

/// Runs workers for every queue until `shutdown` resolves, then stops fetching, lets running
/// jobs finish (up to the shutdown timeout) and hands fetched-but-unstarted jobs back at once.
pub async fn run(
    db: DatabaseConnection,
    settings: WorkerSettings,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let process = process_name();
    tracing::info!(worker = %process, queues = ?QUEUES, "worker starting");
    let deps = Deps {
        db: db.clone(),
        worker: process.as_str().into(),
        mail: Arc::new(Mail {
            mailer: Mailer::new(&settings.mail)?,
            settings: settings.mail.clone(),
        }),
        operator: Arc::new(Operator {
            backup: settings.backup.clone(),
            email: settings.operator_email.clone(),
        }),
        stripe: settings.stripe.clone(),
        error_reports: settings.error_reports.clone(),
    };
    macro_rules! register_every {
        ($($job:path),* $(,)?) => {{
            let monitor = Monitor::new();
            $(let monitor = register::<$job>(monitor, &db, &deps, &settings, &process);)*
            monitor
        }};
    }
    let monitor = cartwheel_jobs::with_every_job!(register_every);
    monitor
        .should_restart(|worker, error| {
            // A worker stops on a storage error (say the database restarted); back off, then retry.
            let wait = Duration::from_millis(100 << worker.restarts().min(6)).min(Duration::from_secs(5));
            tracing::warn!(worker = %worker.name(), %error, restart_in_ms = wait.as_millis() as u64, "worker stopped; restarting");
            // The hook is synchronous. The binary's runtime is multi-threaded; tests may run
            // the worker on a current-thread runtime, where the sleep just blocks that thread.
            match tokio::runtime::Handle::current().runtime_flavor() {
                tokio::runtime::RuntimeFlavor::MultiThread => {
                    tokio::task::block_in_place(|| std::thread::sleep(wait))
                }
                _ => std::thread::sleep(wait),
            }
            true
        })
        .shutdown_timeout(settings.shutdown_timeout)
        .run_with_signal(async {
            shutdown.await;
            Ok(())
        })
        .await?;
    tracing::info!(worker = %process, "worker stopped");
    Ok(())
}

fn register<J: Handler>(
    monitor: Monitor,
    db: &DatabaseConnection,
    deps: &Deps,
    settings: &WorkerSettings,
    process: &str,
) -> Monitor {
    let concurrency = settings.concurrency_for(J::QUEUE, J::CONCURRENCY_SCALE);
    let pace = Arc::new(Pace::new(concurrency, settings.batch_size_for(J::QUEUE)));
    let name = format!("{process}:{}", J::QUEUE);
    let deps = deps.clone();
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool().clone();
            let config = apalis_postgres::Config::default()
                .queue(J::QUEUE)
                .heartbeat_interval(settings.heartbeat())
                .missed_heartbeats(3);
            let storage = PostgresStorage::<J>::new(&pool).with_config(config);
            let backend = Paced::new(storage, pace.clone()).poll_with_strategy(
                Strategy::new()
                    .stream(Pubsub::new(pool.clone(), J::QUEUE.to_string()))
                    .apply(Ticker::new(settings.poll_interval)),
            );
            monitor.register(move |restarts| {
                WorkerBuilder::new(format!("{name}:{restarts}"))
                    .backend(backend.clone())
                    .data(deps.clone())
                    .data(pace.clone())
                    .concurrency(concurrency)
                    .build(execute::<J>)
            })
        }
        _ => {
            let pool = db.get_sqlite_connection_pool().clone();
            let config = apalis_sqlite::Config::default()
                .queue(J::QUEUE)
                .heartbeat_interval(settings.heartbeat())
                .missed_heartbeats(3);
            let storage = SqliteStorage::<J>::new(&pool).with_config(config);
            let backend = Paced::new(storage, pace.clone())
                .poll_with_strategy(Strategy::new().apply(Ticker::new(settings.poll_interval)));
            monitor.register(move |restarts| {
                WorkerBuilder::new(format!("{name}:{restarts}"))
                    .backend(backend.clone())
                    .data(deps.clone())
                    .data(pace.clone())
                    .concurrency(concurrency)
                    .build(execute::<J>)
            })
        }
    }
}

/// `host-pid-random`: unique per process, readable in the workers list.
fn process_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "worker".into());
    format!(
        "{host}-{}-{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}
