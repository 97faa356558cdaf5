use clap::Parser;

use cartwheel::cli::{Cli, Command, MigrateAction};
use cartwheel::config::Config;
use cartwheel::startup::{Application, Mode, shutdown_signal};
use cartwheel::{database, telemetry};

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
    match command {
        Command::Serve => {
            let app = Application::build(config, Mode::Serve).await?;
            println!("Cartwheel is listening on http://{}", app.address());
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Api => {
            let app = Application::build(config, Mode::Api).await?;
            println!("Cartwheel API is listening on http://{}", app.address());
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Worker | Command::Scheduler => {
            if config.is_sqlite() {
                anyhow::bail!(
                    "separate worker and scheduler processes need a Postgres DATABASE_URL; \
                     for the embedded SQLite database run `cartwheel serve`"
                );
            }
            anyhow::bail!("not built yet")
        }
        Command::Migrate { action } => {
            let db = database::connect(&config.database_url).await?;
            match action.unwrap_or(MigrateAction::Up) {
                MigrateAction::Up => {
                    database::migrate(&db).await?;
                    println!("migrations applied");
                }
                MigrateAction::Status => print!("{}", database::status(&db).await?),
            }
            Ok(())
        }
    }
}
