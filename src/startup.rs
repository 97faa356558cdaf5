//! Builds the running application from a `Config`; `main` and the tests share it.

use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use cartwheel_api::auth::jwt::Jwt;
use cartwheel_api::{AppState, HttpSettings};
use cartwheel_domain::provisioning::Signup;
use cartwheel_scheduler::SchedulerSettings;
use cartwheel_worker::WorkerSettings;
use poem::Server;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use tokio::sync::watch;

use crate::config::Config;
use crate::{database, telemetry};

/// What a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// API, worker and scheduler together; migrates first.
    Serve,
    Api,
    Worker,
    Scheduler,
}

impl Role {
    fn runs_http(self) -> bool {
        matches!(self, Role::Serve | Role::Api)
    }
    fn runs_worker(self) -> bool {
        matches!(self, Role::Serve | Role::Worker)
    }
    fn runs_scheduler(self) -> bool {
        matches!(self, Role::Serve | Role::Scheduler)
    }
}

pub struct Application {
    config: Config,
    role: Role,
    db: DatabaseConnection,
    scheduler: SchedulerSettings,
    http: Option<(TcpAcceptor, SocketAddr)>,
    /// Set for roles that serve HTTP.
    jwt_secret: Option<Vec<u8>>,
    /// Where errors are reported (`CARTWHEEL_SENTRY_DSN`).
    error_reports: Option<Arc<sentry::Client>>,
}

impl Application {
    /// Checks the settings, connects to the database (migrating it in `serve`) and binds the
    /// listen address when the role serves HTTP.
    pub async fn build(config: Config, role: Role) -> anyhow::Result<Self> {
        if role != Role::Serve && config.is_sqlite() {
            anyhow::bail!(
                "`cartwheel {}` needs a Postgres DATABASE_URL so that separate processes can share \
                 the queue; for the embedded SQLite database run `cartwheel serve`",
                format!("{role:?}").to_lowercase()
            );
        }
        let jwt_secret = match (&config.jwt_secret, role) {
            (Some(secret), _) => Some(secret.expose_secret().as_bytes().to_vec()),
            // The embedded setup needs no secret: tokens last until the next start.
            (None, Role::Serve) if config.is_sqlite() => {
                tracing::info!(
                    "no CARTWHEEL_JWT_SECRET: admin tokens are signed with a random key valid until restart"
                );
                Some(rand::random::<[u8; 32]>().to_vec())
            }
            (None, _) if role.runs_http() => anyhow::bail!(
                "CARTWHEEL_JWT_SECRET must be set (at least 32 characters) when serving the API \
                 on Postgres, so that every API process signs and checks tokens alike"
            ),
            (None, _) => None,
        };
        let scheduler = SchedulerSettings {
            entries: cartwheel_scheduler::build_table(
                cartwheel_scheduler::builtin_entries(
                    config.abandoned_cart_idle_minutes,
                    config.backup_s3_url.is_some(),
                ),
                config.cron.clone(),
            )?,
            catch_up: config.scheduler_catch_up,
        };
        if let Some(backup) = config.backup() {
            // A storage URL that cannot work stops the start, not the first backup at night.
            cartwheel_backup::Storage::open(&backup.storage)?;
        }
        let db = database::connect(&config.database_url).await?;
        if role == Role::Serve {
            database::migrate(&db).await?;
            if config.wants_demo_shop() {
                ensure_demo_tenant(&db, &config).await?;
            }
        }
        let http = if role.runs_http() {
            let acceptor = TcpListener::bind(config.bind)
                .into_acceptor()
                .await
                .with_context(|| format!("cannot listen on {}", config.bind))?;
            let address = acceptor
                .local_addr()
                .first()
                .and_then(|a| a.as_socket_addr().copied())
                .context("the listener has no TCP address")?;
            Some((acceptor, address))
        } else {
            None
        };
        let error_reports = crate::error_reports::client(&config);
        Ok(Self {
            config,
            role,
            db,
            scheduler,
            http,
            jwt_secret,
            error_reports,
        })
    }

    /// The HTTP address, for roles that serve HTTP.
    pub fn address(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|(_, address)| *address)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The error-report client, when a DSN is set (the binary binds it to the main hub too).
    pub fn error_reports(&self) -> Option<Arc<sentry::Client>> {
        self.error_reports.clone()
    }

    /// Runs until `shutdown` resolves; then each part stops gracefully within the timeout.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let wait = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        let config = self.config;
        let http = async {
            let Some((acceptor, address)) = self.http else {
                return Ok(());
            };
            let state = AppState {
                db: self.db.clone(),
                operator_token: config.operator_token.clone(),
                metrics_token: config.metrics_token.clone(),
                secrets: config.secrets_key.clone(),
                stripe: config.stripe(),
                stripe_inbox: cartwheel_domain::payments::events::Inbox::start(self.db.clone()),
                jwt: Jwt::new(
                    self.jwt_secret
                        .as_deref()
                        .expect("HTTP roles have a JWT secret"),
                    config.admin_token_ttl,
                ),
                metrics: telemetry::metrics(),
                queue_gauges: Default::default(),
                cart_ttl: config.cart_ttl,
                orders: cartwheel_domain::orders::status::Timing {
                    payment_window: config.order_payment_window,
                    review_after: config.review_request_after,
                },
                worker_liveness: config.job_recovery_bound,
                throttles: Default::default(),
                tenants: Default::default(),
                catalog_changes: Default::default(),
                public_url: config.public_url.clone(),
            };
            let settings = HttpSettings {
                base_domain: config.base_domain.clone(),
                rate_limit_per_minute: config.rate_limit_per_minute,
                provision_rate_limit_per_minute: config.provision_rate_limit_per_minute,
                trusted_proxies: config.trusted_proxies.clone(),
                body_limit_bytes: config.body_limit_bytes,
                store_cache_ttl: config.store_cache_ttl,
                error_reports: self.error_reports.clone(),
            };
            tracing::info!(%address, "listening on http://{address}");
            Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    cartwheel_api::app(state, settings),
                    wait(),
                    Some(config.shutdown_timeout),
                )
                .await
                .context("HTTP server failed")
        };
        let worker = async {
            if !self.role.runs_worker() {
                return Ok(());
            }
            let mut settings = worker_settings(&config);
            settings.error_reports = self.error_reports.clone();
            cartwheel_worker::run(self.db.clone(), settings, wait()).await
        };
        let scheduler = async {
            if self.role.runs_scheduler() {
                cartwheel_scheduler::run(self.db.clone(), self.scheduler, wait()).await;
            }
            Ok(())
        };
        tokio::try_join!(http, worker, scheduler)?;
        if let Some(client) = &self.error_reports {
            // Reports still queued go out before the process ends.
            client.flush(Some(std::time::Duration::from_secs(2)));
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// A first run signs up a `demo` shop through the same provisioning queue as everyone else,
/// prints its owner login once, and gives it products and shipping once it is ready
/// (`crate::demo`).
async fn ensure_demo_tenant(db: &DatabaseConnection, config: &Config) -> anyhow::Result<()> {
    if cartwheel_entity::tenants::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let email = "owner@demo.example";
    let password: String = {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..16)
            .map(|_| rng.sample(rand::distr::Alphanumeric) as char)
            .collect()
    };
    cartwheel_domain::provisioning::sign_up(
        db,
        Signup {
            business_name: "Demo Shop".into(),
            owner_email: email.into(),
            owner_password: password.clone(),
            domain: "demo".into(),
            currency: None,
            timezone: None,
            country: None,
            idempotency_key: None,
        },
    )
    .await
    .context("could not sign up the demo shop")?;
    tokio::spawn(crate::demo::stock_when_ready(db.clone(), "demo"));
    let admin = format!(
        "{}/admin/login",
        cartwheel_domain::tenants::url(&config.public_url, "demo")
    );
    // Printed, not logged: this is the one time the password is shown.
    println!(
        "\nA demo shop is being set up (tenant `demo`). Its owner login, shown only now:\n  \
         email:    {email}\n  password: {password}\n  admin:    {admin}\n  API:      \
         POST /api/v1/auth/login with header `X-Tenant: demo`\n"
    );
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// The worker's settings, from the configuration.
pub fn worker_settings(config: &Config) -> WorkerSettings {
    WorkerSettings {
        concurrency: config.worker_concurrency,
        queue_concurrency: config.worker_queue_concurrency.clone(),
        batch_size: config.worker_batch_size,
        queue_batch_size: config.worker_queue_batch_size.clone(),
        poll_interval: config.worker_poll_interval,
        recovery_bound: config.job_recovery_bound,
        shutdown_timeout: config.shutdown_timeout,
        mail: config.mail(),
        backup: config.backup(),
        operator_email: config.operator_email.clone(),
        error_reports: None,
        stripe: config.stripe(),
    }
}
