//! The tests' Stripe fake as a command, to try card payments by hand (README, "Card payments"):
//! it serves Stripe's API for one account (`--secret-key`), posts that account's events, signed
//! with `--signing-secret`, to `--webhook`, and prints each event and how its delivery went.
//! Cartwheel talks to it when `CARTWHEEL_STRIPE_API_BASE` is its URL.

use std::time::Duration;

use cartwheel_testkit::stripe::StripeFake;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "stripe-fake",
    about = "A Stripe stand-in for trying Cartwheel's card payments"
)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:12111")]
    listen: String,
    /// The shop's secret key, as stored with `PUT /api/v1/admin/payments/stripe`.
    #[arg(long)]
    secret_key: String,
    /// The shop's webhook signing secret, as stored there.
    #[arg(long)]
    signing_secret: String,
    /// The webhook endpoint: `http://localhost:8080/api/v1/store/payments/webhook`.
    #[arg(long)]
    webhook: String,
    /// Headers sent with each webhook, `Name: value` (`X-Tenant: demo`).
    #[arg(long = "header")]
    headers: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let headers = args
        .headers
        .iter()
        .map(|h| {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| anyhow::anyhow!("--header {h:?} is not `Name: value`"))?;
            Ok((name.trim().to_string(), value.trim().to_string()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let fake = StripeFake::start_at(&args.listen).await;
    fake.webhook(
        &args.secret_key,
        &args.webhook,
        &args.signing_secret,
        headers,
    );
    println!(
        "Stripe fake on http://{}/ (CARTWHEEL_STRIPE_API_BASE); events go to {}",
        args.listen, args.webhook
    );
    let mut printed = std::collections::HashMap::<String, usize>::new();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        for event in fake.events(&args.secret_key) {
            let attempts = fake.attempts(&event.id);
            let seen = printed.entry(event.id.clone()).or_default();
            for status in &attempts[*seen..] {
                let answer = match status {
                    0 => "no answer".to_string(),
                    s => s.to_string(),
                };
                println!("{} {} → {answer}", event.id, event.type_);
            }
            *seen = attempts.len();
        }
    }
}
