//! Builds the running application from a `Config`; `main` and the tests share it.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use cartwheel_api::{AppState, HttpSettings};
use poem::Server;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use crate::config::Config;
use crate::database;

/// What a process runs: everything (`serve`) or only the HTTP API (`api`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Serve,
    Api,
}

pub struct Application {
    config: Config,
    db: DatabaseConnection,
    acceptor: TcpAcceptor,
    address: SocketAddr,
}

impl Application {
    /// Connects to the database (migrating it in `serve`) and binds the listen address.
    pub async fn build(config: Config, mode: Mode) -> anyhow::Result<Self> {
        if mode == Mode::Api && config.is_sqlite() {
            anyhow::bail!(
                "`cartwheel api` needs a Postgres DATABASE_URL so it can share the queue with \
                 separate workers; for the embedded SQLite database run `cartwheel serve`"
            );
        }
        let db = database::connect(&config.database_url).await?;
        if mode == Mode::Serve {
            database::migrate(&db).await?;
            ensure_demo_tenant(&db).await?;
        }
        let acceptor = TcpListener::bind(config.bind)
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let address = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("the listener has no TCP address")?;
        Ok(Self {
            config,
            db,
            acceptor,
            address,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (bounded).
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let state = AppState { db: self.db };
        let settings = HttpSettings {
            base_domain: self.config.base_domain.clone(),
            rate_limit_per_minute: self.config.rate_limit_per_minute,
            trusted_proxies: self.config.trusted_proxies.clone(),
            body_limit_bytes: self.config.body_limit_bytes,
        };
        tracing::info!(address = %self.address, "listening on http://{}", self.address);
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                cartwheel_api::app(state, settings),
                shutdown,
                Some(self.config.shutdown_timeout),
            )
            .await
            .context("HTTP server failed")?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// A first run gets a `demo` tenant so the API has a shop to answer for.
async fn ensure_demo_tenant(db: &DatabaseConnection) -> anyhow::Result<()> {
    if cartwheel_entity::tenants::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    cartwheel_domain::tenants::create(
        db,
        cartwheel_domain::tenants::NewTenant {
            slug: "demo",
            name: "Demo Shop",
            currency: "USD",
            status: cartwheel_domain::tenants::STATUS_READY,
        },
    )
    .await?;
    tracing::info!("created the `demo` tenant: send `X-Tenant: demo` or use demo.<base domain>");
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
