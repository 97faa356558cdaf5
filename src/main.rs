use clap::Parser;

use cartwheel::cli::{Cli, Command, MigrateAction, SeedTarget};
use cartwheel::config::Config;
use cartwheel::startup::{Application, Role, shutdown_signal};
use cartwheel::{bench, database, telemetry};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cartwheel: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    match run(cli.command.unwrap_or(Command::Serve), config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("cartwheel: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let role = match command {
        Command::Serve => Role::Serve,
        Command::Api => Role::Api,
        Command::Worker => Role::Worker,
        Command::Scheduler => Role::Scheduler,
        Command::Migrate { action } => {
            let db = database::connect(&config.database_url).await?;
            match action.unwrap_or(MigrateAction::Up) {
                MigrateAction::Up => {
                    database::migrate(&db).await?;
                    println!("migrations applied");
                }
                MigrateAction::Status => print!("{}", database::status(&db).await?),
            }
            return Ok(());
        }
        Command::Health => return cartwheel::health::check(config.bind),
        Command::Bench { target } => return bench::run(target, config).await,
        Command::Backup { action } => return cartwheel::backup::run(action, config).await,
        Command::Seed {
            target:
                SeedTarget::Catalog {
                    shop,
                    products,
                    categories,
                },
        } => return cartwheel::seed::catalog(&config, &shop, products, categories.max(1)).await,
        Command::Seed {
            target:
                SeedTarget::Orders {
                    shop,
                    orders,
                    customers,
                },
        } => return cartwheel::seed::orders(&config, &shop, orders, customers).await,
    };
    let app = Application::build(config, role).await?;
    if let Some(client) = app.error_reports() {
        // Panics outside a request or job are reported too.
        sentry::Hub::main().bind_client(Some(client));
    }
    match app.address() {
        Some(address) => println!("Cartwheel is listening on http://{address}"),
        None => println!("Cartwheel {} started", format!("{role:?}").to_lowercase()),
    }
    app.run_until_stopped(shutdown_signal()).await
}
