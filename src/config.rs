//! Settings from defaults, an optional `cartwheel.toml` and the environment (highest wins).
//!
//! [`Config`] is the one place a setting is written down: its field's name (or `rename`) is
//! its key in the file, `default` its default, `deserialize_with` how its text is read and
//! checked, and the doc comment what it means. Its environment variable is
//! `CARTWHEEL_<KEY>` ([`env_var`] names the exceptions). README's Configuration table lists
//! the same settings; the tests below keep the two in step.

use secrecy::{ExposeSecret, SecretString};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use figment::error::Kind;
use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Deserialize;

use cartwheel_scheduler::CronSpec;

/// Where the embedded default database lives.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://cartwheel.db?mode=rwc";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl FromStr for LogFormat {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected `pretty` or `json`"),
        }
    }
}

/// Every setting. Secrets (`SecretString`) never show in `Debug` or logs; `expose_secret()`
/// where used.
///
/// Every value is read as text (the file may also give a number, `true`/`false` or a list of
/// strings), so a file and an environment variable say the same thing the same way. A blank
/// optional setting is unset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Postgres or SQLite URL.
    #[serde(default = "default::database_url")]
    #[serde(deserialize_with = "read::database_url")]
    pub database_url: SecretString,
    /// API listen address (`:0` picks a free port and prints it).
    #[serde(default = "default::bind", deserialize_with = "read::parsed")]
    pub bind: SocketAddr,
    /// Tenants resolve from `<slug>.<base domain>` Host headers.
    #[serde(default = "default::base_domain")]
    #[serde(deserialize_with = "read::base_domain")]
    pub base_domain: String,
    /// Requests per client (an IPv4 address or an IPv6 /64) per minute, per API process.
    #[serde(default = "default::number::<100, _>")]
    #[serde(deserialize_with = "read::positive")]
    pub rate_limit_per_minute: u32,
    /// Comma-separated proxy IPs whose `X-Forwarded-For` is believed.
    #[serde(default, deserialize_with = "read::list")]
    pub trusted_proxies: Vec<IpAddr>,
    /// Signs login tokens; at least 32 characters. Unset: random per start in `serve` on
    /// SQLite, refused by `serve`/`api` on Postgres.
    #[serde(default, deserialize_with = "read::jwt_secret")]
    pub jwt_secret: Option<SecretString>,
    /// How long a login token is valid (admin and storefront customer tokens alike).
    #[serde(rename = "admin_token_ttl_secs", default = "default::secs::<3600>")]
    #[serde(deserialize_with = "read::positive_secs")]
    pub admin_token_ttl: Duration,
    /// An anonymous cart expires this long after its last change.
    #[serde(rename = "cart_ttl_hours", default = "default::hours::<72>")]
    #[serde(deserialize_with = "read::positive_hours")]
    pub cart_ttl: Duration,
    /// A manual order (bank transfer, cash on delivery) left unpaid this long is cancelled and
    /// its stock released.
    #[serde(rename = "order_payment_hours", default = "default::hours::<72>")]
    #[serde(deserialize_with = "read::positive_hours")]
    pub order_payment_window: Duration,
    /// The review request goes out this long after an order is delivered.
    #[serde(rename = "review_request_days", default = "default::hours::<168>")]
    #[serde(deserialize_with = "read::positive_days")]
    pub review_request_after: Duration,
    /// How long public catalog answers are reused in one API process; zero turns it off.
    #[serde(rename = "store_cache_ms", default = "default::millis::<10000>")]
    #[serde(deserialize_with = "read::millis")]
    pub store_cache_ttl: Duration,
    /// A cart with a known email, unchanged this long, gets its (single) reminder.
    #[serde(default = "default::number::<240, _>")]
    #[serde(deserialize_with = "read::positive")]
    pub abandoned_cart_idle_minutes: u64,
    /// Signups per client IP per minute (`POST /api/v1/provision`).
    #[serde(default = "default::number::<10, _>")]
    #[serde(deserialize_with = "read::positive")]
    pub provision_rate_limit_per_minute: u32,
    /// The From header of every email.
    #[serde(default = "default::mail_from", deserialize_with = "read::text")]
    pub mail_from: String,
    /// Scheme, host and port of links in emails and of shops' canonical URLs; a tenant's links
    /// put `<slug>.` before the host.
    #[serde(default = "default::public_url", deserialize_with = "read::public_url")]
    pub public_url: String,
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required`, `smtps://…:465`; unset:
    /// mails go to `.eml` files in `outbox_dir`.
    #[serde(default, deserialize_with = "read::secret")]
    pub smtp_url: Option<SecretString>,
    /// The longest one send may take, connection included; a worker claims an email for twice
    /// this while it sends it, so no second send of it starts meanwhile.
    #[serde(rename = "smtp_timeout_secs", default = "default::secs::<30>")]
    #[serde(deserialize_with = "read::positive_secs")]
    pub smtp_timeout: Duration,
    /// Where `.eml` files go without SMTP.
    #[serde(default = "default::outbox_dir", deserialize_with = "read::text")]
    pub outbox_dir: PathBuf,
    /// `pretty` or `json`; `RUST_LOG` filters.
    #[serde(default = "default::log_format", deserialize_with = "read::parsed")]
    pub log_format: LogFormat,
    /// Larger request bodies get 413.
    #[serde(default = "default::number::<1048576, _>")]
    #[serde(deserialize_with = "read::positive")]
    pub body_limit_bytes: usize,
    /// How long in-flight work may finish after SIGTERM.
    #[serde(rename = "shutdown_timeout_secs", default = "default::secs::<30>")]
    #[serde(deserialize_with = "read::secs")]
    pub shutdown_timeout: Duration,
    /// The platform operator's bearer token for the job endpoints (every tenant) and a shop's
    /// attention list with the backup item; unset: no platform operator.
    #[serde(default, deserialize_with = "read::secret")]
    pub operator_token: Option<SecretString>,
    /// Seals shops' payment secrets (Stripe keys) at rest: 64 hex digits. Unset: no shop can
    /// store Stripe keys, and shops take manual payment only.
    #[serde(default, deserialize_with = "read::secrets_key")]
    pub secrets_key: Option<cartwheel_domain::secrets::SecretsKey>,
    /// Stripe's API address; unset: `https://api.stripe.com/`. Only a stand-in for Stripe (the
    /// tests' fake) sets it.
    #[serde(default, deserialize_with = "read::optional")]
    pub stripe_api_base: Option<url::Url>,
    /// When set, `/metrics` answers only requests bearing it.
    #[serde(default, deserialize_with = "read::secret")]
    pub metrics_token: Option<SecretString>,
    /// Jobs run at once per queue, per worker process.
    #[serde(default = "default::number::<8, _>")]
    #[serde(deserialize_with = "read::positive")]
    pub worker_concurrency: usize,
    /// Per-queue override of `worker_concurrency`, e.g. `email.send=2,noop=64`.
    #[serde(default, deserialize_with = "read::per_queue")]
    pub worker_queue_concurrency: HashMap<String, usize>,
    /// Jobs claimed per fetch; unset adapts to the queue's jobs (`worker/src/pace.rs`).
    #[serde(default, deserialize_with = "read::optional_positive")]
    pub worker_batch_size: Option<usize>,
    /// Per-queue override of `worker_batch_size`, e.g. `noop=2000`.
    #[serde(default, deserialize_with = "read::per_queue")]
    pub worker_queue_batch_size: HashMap<String, usize>,
    /// Poll for due jobs this often (Postgres also wakes at once on NOTIFY).
    #[serde(rename = "worker_poll_ms", default = "default::millis::<500>")]
    #[serde(deserialize_with = "read::positive_millis")]
    pub worker_poll_interval: Duration,
    /// A job held by a dead worker runs again within this.
    #[serde(rename = "job_recovery_secs", default = "default::secs::<60>")]
    #[serde(deserialize_with = "read::positive_secs")]
    pub job_recovery_bound: Duration,
    /// After downtime, run each cron entry's first missed tick once.
    #[serde(default = "default::yes", deserialize_with = "read::parsed")]
    pub scheduler_catch_up: bool,
    /// Whether `serve` signs up the `demo` shop on an empty database (unset: only on SQLite).
    #[serde(default, deserialize_with = "read::optional")]
    pub demo_shop: Option<bool>,
    /// Where backups go: `s3://bucket` or `s3://bucket/prefix` on AWS or any S3-compatible
    /// server; unset: no backups (the `backup` cron entry is off).
    #[serde(default, deserialize_with = "read::optional")]
    pub backup_s3_url: Option<String>,
    /// The S3-compatible server when it is not AWS (`http://minio:9000`); requests are then
    /// path-style.
    #[serde(default, deserialize_with = "read::optional")]
    pub backup_s3_endpoint: Option<String>,
    #[serde(default = "default::backup_s3_region", deserialize_with = "read::text")]
    pub backup_s3_region: String,
    #[serde(default, deserialize_with = "read::secret")]
    pub backup_s3_access_key_id: Option<SecretString>,
    #[serde(default, deserialize_with = "read::secret")]
    pub backup_s3_secret_access_key: Option<SecretString>,
    /// Verified backups kept: the newest of each of the last this many days…
    #[serde(default = "default::number::<7, _>", deserialize_with = "read::parsed")]
    pub backup_keep_daily: usize,
    /// …and the newest of each of the last this many weeks.
    #[serde(default = "default::number::<4, _>", deserialize_with = "read::parsed")]
    pub backup_keep_weekly: usize,
    /// The platform operator's address: failing backups are mailed here.
    #[serde(default, deserialize_with = "read::optional")]
    pub operator_email: Option<String>,
    /// Where error reports go: a Sentry DSN (`https://<key>@<host>/<project>`); unset: none are
    /// sent.
    #[serde(default, deserialize_with = "read::optional")]
    pub sentry_dsn: Option<sentry::types::Dsn>,
    /// The environment error reports are filed under.
    #[serde(
        default = "default::sentry_environment",
        deserialize_with = "read::text"
    )]
    pub sentry_environment: String,
    /// `[cron.<name>]` tables of the settings file (no environment variable): more entries,
    /// or built-ins overridden by name.
    #[serde(default, deserialize_with = "read::cron")]
    pub cron: Vec<CronSpec>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("unknown configuration key `{key}` in {origin}")]
    UnknownKey { key: String, origin: String },
    #[error("invalid value for `{key}` ({origin}): {message}")]
    Invalid {
        key: String,
        origin: String,
        message: String,
    },
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
}

/// Variables that start with `CARTWHEEL_` but are read by the CLI, not by `Config`.
const CLI_VARIABLES: &[&str] = &["CARTWHEEL_CONFIG"];

/// A setting's environment variable: `CARTWHEEL_<KEY>`, but `DATABASE_URL` keeps its common
/// name and `cron` (tables) has none.
fn env_var(key: &str) -> Option<String> {
    match key {
        "database_url" => Some("DATABASE_URL".into()),
        "cron" => None,
        _ => Some(format!("CARTWHEEL_{}", key.to_ascii_uppercase())),
    }
}

/// The key an environment variable sets, or `None` for a variable that is not ours.
///
/// A `CARTWHEEL_` variable that is no setting's keeps its own name as its key, so that
/// `deny_unknown_fields` refuses it (`CARTWHEEL_DATABASE_URL`, `CARTWHEEL_CRON`, a typo).
fn env_key(var: &str) -> Option<String> {
    if var == "DATABASE_URL" {
        return Some("database_url".into());
    }
    let rest = var.strip_prefix("CARTWHEEL_")?;
    if CLI_VARIABLES.contains(&var) {
        return None;
    }
    let key = rest.to_ascii_lowercase();
    if env_var(&key).as_deref() == Some(var) {
        Some(key)
    } else {
        Some(var.to_string())
    }
}

/// The settings among environment variables, each as the text it is. (figment's own `Env`
/// reads only the process environment and parses values: `0123` would become 123.)
struct Environment {
    /// key → (variable, value)
    settings: BTreeMap<String, (String, String)>,
}

impl Environment {
    fn new(env: impl IntoIterator<Item = (String, String)>) -> Self {
        let settings = env
            .into_iter()
            .filter_map(|(var, value)| Some((env_key(&var)?, (var, value))))
            .collect();
        Environment { settings }
    }
}

impl Provider for Environment {
    fn metadata(&self) -> Metadata {
        let variables: BTreeMap<String, String> = self
            .settings
            .iter()
            .map(|(key, (var, _))| (key.clone(), var.clone()))
            .collect();
        // Errors name the variable a key came from.
        Metadata::named("the environment").interpolater(move |_, path| {
            let key = path.first().copied().unwrap_or_default();
            variables
                .get(key)
                .cloned()
                .unwrap_or_else(|| key.to_string())
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict = self
            .settings
            .iter()
            .map(|(key, (_, value))| (key.clone(), Value::from(value.as_str())))
            .collect();
        Ok(Profile::Default.collect(dict))
    }
}

impl Config {
    /// Loads from the process environment and `file` (or `./cartwheel.toml` when it exists).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let default_file = Path::new("cartwheel.toml");
        let file = match file {
            Some(path) => Some(path),
            None if default_file.exists() => Some(default_file),
            None => None,
        };
        Self::from_sources(file, std::env::vars())
    }

    /// Builds a config from an optional TOML file and the given environment variables.
    pub fn from_sources(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(Environment::new(env))
            .extract()
            .map_err(config_error)
    }

    /// What the worker needs to send mail.
    pub fn mail(&self) -> cartwheel_worker::MailSettings {
        cartwheel_worker::MailSettings {
            smtp_url: self.smtp_url.clone(),
            outbox_dir: self.outbox_dir.clone(),
            from: self.mail_from.clone(),
            public_url: self.public_url.clone(),
            send_timeout: self.smtp_timeout,
        }
    }

    /// How shops' card payments reach Stripe.
    pub fn stripe(&self) -> cartwheel_domain::payments::stripe::Stripe {
        // async-stripe appends `v1/…` to the base: it must end with a slash.
        let api_base = self.stripe_api_base.as_ref().map(|url| {
            let url = url.as_str();
            if url.ends_with('/') {
                url.to_string()
            } else {
                format!("{url}/")
            }
        });
        cartwheel_domain::payments::stripe::Stripe::new(self.secrets_key.clone(), api_base)
    }

    /// Where backups go and what they keep, when backups are configured.
    pub fn backup(&self) -> Option<cartwheel_backup::Settings> {
        let url = self.backup_s3_url.clone()?;
        Some(cartwheel_backup::Settings {
            storage: cartwheel_backup::StorageSettings {
                url,
                endpoint: self.backup_s3_endpoint.clone(),
                region: self.backup_s3_region.clone(),
                access_key_id: self.backup_s3_access_key_id.clone(),
                secret_access_key: self.backup_s3_secret_access_key.clone(),
            },
            database_url: self.database_url.clone(),
            keep_daily: self.backup_keep_daily,
            keep_weekly: self.backup_keep_weekly,
            scratch_dir: std::env::temp_dir(),
        })
    }

    /// `serve` makes the demo shop on an empty database: on the embedded SQLite default, or
    /// when `CARTWHEEL_DEMO_SHOP=true`.
    pub fn wants_demo_shop(&self) -> bool {
        self.demo_shop.unwrap_or_else(|| self.is_sqlite())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

/// Names the key and where its value came from, both of which figment keeps with its error.
fn config_error(e: figment::Error) -> ConfigError {
    let file = e
        .metadata
        .as_ref()
        .and_then(|md| md.source.as_ref()?.file_path())
        .map(|path| path.display().to_string());
    let Some(key) = e.path.first().cloned() else {
        // No key: the file could not be read, or is not TOML.
        return ConfigError::File {
            path: file.unwrap_or_else(|| "cartwheel.toml".into()),
            message: e.kind.to_string().trim_end().to_string(),
        };
    };
    // Only the environment has metadata without a file.
    let variable = match (&file, &e.metadata) {
        (None, Some(md)) => Some(md.interpolate(&Profile::Default, &e.path)),
        _ => None,
    };
    let origin = match (&file, &variable) {
        (Some(path), _) => path.clone(),
        (None, Some(var)) => format!("environment variable {var}"),
        (None, None) => "default".into(),
    };
    match (e.path.as_slice(), &e.kind) {
        ([_], Kind::UnknownField(..)) => match (file, variable) {
            (None, Some(var)) => ConfigError::UnknownKey {
                key: var,
                origin: "the environment".into(),
            },
            _ => ConfigError::UnknownKey { key, origin },
        },
        ([cron, name, rest @ ..], kind) if cron == "cron" => ConfigError::Invalid {
            key: format!("[cron.{name}]"),
            origin,
            message: match (rest, kind) {
                (_, Kind::UnknownField(field, _)) => format!("unknown key `{field}`"),
                ([], kind) => kind.to_string(),
                (rest, kind) => format!("`{}`: {kind}", rest.join(".")),
            },
        },
        (_, kind) => ConfigError::Invalid {
            key: match env_var(&key) {
                Some(var) => format!("{key} / {var}"),
                None => key,
            },
            origin,
            message: kind.to_string(),
        },
    }
}

/// Defaults, for `#[serde(default = "…")]`.
mod default {
    use super::*;

    /// The number `N` as the field's type: `number::<100, _>`.
    pub fn number<const N: u64, T: TryFrom<u64>>() -> T
    where
        T::Error: std::fmt::Debug,
    {
        T::try_from(N).expect("a default fits its field")
    }

    pub fn secs<const N: u64>() -> Duration {
        Duration::from_secs(N)
    }

    pub fn millis<const N: u64>() -> Duration {
        Duration::from_millis(N)
    }

    pub fn hours<const N: u64>() -> Duration {
        Duration::from_secs(N * 3600)
    }

    pub fn yes() -> bool {
        true
    }

    pub fn sentry_environment() -> String {
        "production".into()
    }

    pub fn backup_s3_region() -> String {
        "us-east-1".into()
    }

    pub fn database_url() -> SecretString {
        DEFAULT_DATABASE_URL.into()
    }

    pub fn bind() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8080))
    }

    pub fn base_domain() -> String {
        "localhost".into()
    }

    pub fn mail_from() -> String {
        "Cartwheel <no-reply@localhost>".into()
    }

    pub fn public_url() -> String {
        "http://localhost:8080".into()
    }

    pub fn outbox_dir() -> PathBuf {
        "./outbox".into()
    }

    pub fn log_format() -> LogFormat {
        LogFormat::Pretty
    }
}

/// How values are read and checked, for `#[serde(deserialize_with = "…")]`. Each reads the
/// value as text first ([`text`]), so the file and the environment are read alike.
mod read {
    use super::*;
    use serde::Deserializer;
    use serde::de::{Error, SeqAccess, Visitor};

    /// The value as text: a string, or from the file a number, `true`/`false`, or a list of
    /// strings (joined with commas). Never trimmed.
    pub fn text<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<T, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = String;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, a whole number, true or false, or a list of strings")
            }
            fn visit_str<E: Error>(self, s: &str) -> Result<String, E> {
                Ok(s.to_string())
            }
            fn visit_i64<E: Error>(self, n: i64) -> Result<String, E> {
                Ok(n.to_string())
            }
            fn visit_u64<E: Error>(self, n: u64) -> Result<String, E> {
                Ok(n.to_string())
            }
            fn visit_bool<E: Error>(self, b: bool) -> Result<String, E> {
                Ok(b.to_string())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<String, A::Error> {
                let mut list = Vec::new();
                while let Some(item) = items.next_element::<String>()? {
                    list.push(item);
                }
                Ok(list.join(","))
            }
        }
        d.deserialize_any(Text).map(T::from)
    }

    /// `value`, trimmed, through `T`'s `FromStr`.
    fn parse<T: FromStr>(value: &str) -> Result<T, String>
    where
        T::Err: Display,
    {
        value
            .trim()
            .parse()
            .map_err(|e: T::Err| format!("`{value}`: {e}"))
    }

    fn at_least_one<T: PartialEq + From<u8>, E: Error>(n: T) -> Result<T, E> {
        if n == T::from(0) {
            return Err(E::custom("must be at least 1"));
        }
        Ok(n)
    }

    pub fn parsed<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<T, D::Error>
    where
        T::Err: Display,
    {
        parse(&text::<_, String>(d)?).map_err(D::Error::custom)
    }

    /// A whole number of at least 1.
    pub fn positive<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: FromStr + PartialEq + From<u8>,
        T::Err: Display,
    {
        at_least_one(parsed(d)?)
    }

    /// Blank is unset.
    pub fn optional<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<Option<T>, D::Error>
    where
        T::Err: Display,
    {
        let value: String = text(d)?;
        if value.trim().is_empty() {
            return Ok(None);
        }
        parse(&value).map(Some).map_err(D::Error::custom)
    }

    /// Blank is unset; otherwise at least 1.
    pub fn optional_positive<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: FromStr + PartialEq + From<u8>,
        T::Err: Display,
    {
        optional(d)?.map(at_least_one).transpose()
    }

    pub fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        parsed(d).map(Duration::from_secs)
    }

    pub fn positive_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        positive(d).map(Duration::from_secs)
    }

    pub fn positive_hours<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        positive(d).map(|hours: u64| Duration::from_secs(hours.saturating_mul(3600)))
    }

    pub fn positive_days<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        positive(d).map(|days: u64| Duration::from_secs(days.saturating_mul(24 * 3600)))
    }

    pub fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        parsed(d).map(Duration::from_millis)
    }

    pub fn positive_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        positive(d).map(Duration::from_millis)
    }

    /// Comma-separated items (blank ones skipped).
    pub fn list<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<Vec<T>, D::Error>
    where
        T::Err: Display,
    {
        let value: String = text(d)?;
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse)
            .collect::<Result<_, _>>()
            .map_err(D::Error::custom)
    }

    /// `queue=n,queue=n`: a per-queue number of at least 1.
    pub fn per_queue<'de, D: Deserializer<'de>>(d: D) -> Result<HashMap<String, usize>, D::Error> {
        let value: String = text(d)?;
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let (queue, n) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("`{pair}`: expected queue=number"))?;
                let n: usize = parse(n)?;
                if n == 0 {
                    return Err(format!("`{pair}`: must be at least 1"));
                }
                Ok((queue.trim().to_string(), n))
            })
            .collect::<Result<_, String>>()
            .map_err(D::Error::custom)
    }

    /// Blank is unset; the text is kept as it is. Errors never show a secret's value.
    pub fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        let value: String = text(d)?;
        Ok((!value.trim().is_empty()).then(|| value.into()))
    }

    /// Errors never show the key.
    pub fn secrets_key<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<cartwheel_domain::secrets::SecretsKey>, D::Error> {
        secret(d)?
            .map(|s| cartwheel_domain::secrets::SecretsKey::from_hex(s.expose_secret()))
            .transpose()
            .map_err(D::Error::custom)
    }

    pub fn jwt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        let secret = secret(d)?;
        if secret
            .as_ref()
            .is_some_and(|s| s.expose_secret().len() < 32)
        {
            return Err(D::Error::custom("must be at least 32 characters"));
        }
        Ok(secret)
    }

    pub fn database_url<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
        let url: String = text(d)?;
        if !(url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
        {
            return Err(D::Error::custom("expected a postgres:// or sqlite: URL"));
        }
        Ok(url.into())
    }

    pub fn base_domain<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let domain = text::<_, String>(d)?.trim().to_ascii_lowercase();
        if domain.is_empty() {
            return Err(D::Error::custom("must not be empty"));
        }
        Ok(domain)
    }

    /// Without a trailing `/`.
    pub fn public_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let url = text::<_, String>(d)?.trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(D::Error::custom("expected an http:// or https:// URL"));
        }
        Ok(url)
    }

    /// One `[cron.<name>]` table.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct CronTable {
        schedule: String,
        job: String,
        #[serde(default = "empty_object")]
        payload: serde_json::Value,
        #[serde(default = "default::yes")]
        enabled: bool,
    }

    fn empty_object() -> serde_json::Value {
        serde_json::json!({})
    }

    /// The file's `[cron.<name>]` tables, by name.
    pub fn cron<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CronSpec>, D::Error> {
        let tables = BTreeMap::<String, CronTable>::deserialize(d)?;
        Ok(tables
            .into_iter()
            .map(|(name, table)| CronSpec {
                name,
                schedule: table.schedule,
                job: table.job,
                payload: table.payload,
                enabled: table.enabled,
            })
            .collect())
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_architecture() {
        let config = Config::from_sources(None, env(&[])).unwrap();
        assert_eq!(config.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.rate_limit_per_minute, 100);
        assert_eq!(config.body_limit_bytes, 1024 * 1024);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(config.trusted_proxies.is_empty());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let config = Config::from_sources(
            None,
            env(&[
                ("DATABASE_URL", "postgres://app:db-pass-1@db/cartwheel"),
                (
                    "CARTWHEEL_JWT_SECRET",
                    "jwt-secret-0123456789abcdef0123456789",
                ),
                ("CARTWHEEL_SMTP_URL", "smtp://mail:smtp-pass-2@mail:587"),
                ("CARTWHEEL_OPERATOR_TOKEN", "operator-token-3"),
                ("CARTWHEEL_METRICS_TOKEN", "metrics-token-4"),
            ]),
        )
        .unwrap();
        let shown = format!("{config:?} {:?}", config.mail());
        for secret in [
            "db-pass-1",
            "jwt-secret",
            "smtp-pass-2",
            "operator-token-3",
            "metrics-token-4",
        ] {
            assert!(!shown.contains(secret), "{secret} shows in {shown}");
        }
        assert_eq!(
            config.operator_token.as_ref().map(|t| t.expose_secret()),
            Some("operator-token-3")
        );
    }

    #[test]
    fn a_short_jwt_secret_or_a_bad_public_url_is_refused() {
        let short = Config::from_sources(None, env(&[("CARTWHEEL_JWT_SECRET", "too-short")]));
        assert!(
            matches!(short, Err(ConfigError::Invalid { key, .. }) if key.starts_with("jwt_secret"))
        );
        let url = Config::from_sources(None, env(&[("CARTWHEEL_PUBLIC_URL", "shops.example")]));
        assert!(
            matches!(url, Err(ConfigError::Invalid { key, .. }) if key.starts_with("public_url"))
        );
        let ok = Config::from_sources(
            None,
            env(&[("CARTWHEEL_PUBLIC_URL", "https://shops.example.com/")]),
        )
        .unwrap();
        assert_eq!(ok.public_url, "https://shops.example.com");
        assert_eq!(ok.provision_rate_limit_per_minute, 10);
    }

    #[test]
    fn environment_overrides_file() {
        let dir = std::env::temp_dir().join(format!("cw-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cartwheel.toml");
        std::fs::write(
            &path,
            "bind = \"0.0.0.0:9000\"\nrate_limit_per_minute = 5\ntrusted_proxies = [\"10.0.0.1\"]\n",
        )
        .unwrap();
        let config =
            Config::from_sources(Some(&path), env(&[("CARTWHEEL_BIND", "127.0.0.1:0")])).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:0");
        assert_eq!(config.rate_limit_per_minute, 5);
        assert_eq!(
            config.trusted_proxies,
            vec!["10.0.0.1".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn reads_cron_entries_and_names_their_mistakes() {
        let dir = std::env::temp_dir().join(format!("cw-config-cron-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cartwheel.toml");
        std::fs::write(
            &path,
            "[cron.ping]\nschedule = \"*/5 * * * * *\"\njob = \"noop\"\npayload = { label = \"hi\" }\n",
        )
        .unwrap();
        let config = Config::from_sources(Some(&path), env(&[])).unwrap();
        assert_eq!(config.cron.len(), 1);
        assert_eq!(config.cron[0].name, "ping");
        assert_eq!(config.cron[0].payload["label"], "hi");
        std::fs::write(
            &path,
            "[cron.ping]\nschedule = \"* * * * * *\"\njob = \"noop\"\nwhen = 1\n",
        )
        .unwrap();
        let err = Config::from_sources(Some(&path), env(&[])).unwrap_err();
        assert!(
            err.to_string().contains("[cron.ping]") && err.to_string().contains("`when`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_file_key_is_named() {
        let dir = std::env::temp_dir().join(format!("cw-config-unknown-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cartwheel.toml");
        std::fs::write(&path, "rate_limit = 5\n").unwrap();
        let err = Config::from_sources(Some(&path), env(&[])).unwrap_err();
        assert!(err.to_string().contains("`rate_limit`"), "{err}");
    }

    #[test]
    fn unknown_environment_variable_is_named() {
        let err = Config::from_sources(None, env(&[("CARTWHEEL_RATE_LIMT", "5")])).unwrap_err();
        assert!(err.to_string().contains("CARTWHEEL_RATE_LIMT"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (var, value, named) in [
            ("CARTWHEEL_BIND", "nowhere", "CARTWHEEL_BIND"),
            (
                "CARTWHEEL_RATE_LIMIT_PER_MINUTE",
                "many",
                "CARTWHEEL_RATE_LIMIT_PER_MINUTE",
            ),
            (
                "CARTWHEEL_RATE_LIMIT_PER_MINUTE",
                "0",
                "CARTWHEEL_RATE_LIMIT_PER_MINUTE",
            ),
            ("CARTWHEEL_LOG_FORMAT", "xml", "CARTWHEEL_LOG_FORMAT"),
            (
                "CARTWHEEL_TRUSTED_PROXIES",
                "10.0.0.1,bogus",
                "CARTWHEEL_TRUSTED_PROXIES",
            ),
            ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
            (
                "CARTWHEEL_WORKER_QUEUE_CONCURRENCY",
                "noop:4",
                "CARTWHEEL_WORKER_QUEUE_CONCURRENCY",
            ),
            (
                "CARTWHEEL_WORKER_CONCURRENCY",
                "0",
                "CARTWHEEL_WORKER_CONCURRENCY",
            ),
            (
                "CARTWHEEL_SCHEDULER_CATCH_UP",
                "maybe",
                "CARTWHEEL_SCHEDULER_CATCH_UP",
            ),
        ] {
            let err = Config::from_sources(None, env(&[(var, value)])).unwrap_err();
            assert!(err.to_string().contains(named), "{var}={value}: {err}");
        }
    }

    fn file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cw-config-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cartwheel.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn blank_optional_settings_are_unset_and_blank_required_ones_are_refused() {
        let path = file(
            "blank",
            "jwt_secret = \"file-secret-0123456789abcdef0123456789\"\ntrusted_proxies = \"10.0.0.1\"\n",
        );
        let config = Config::from_sources(
            Some(&path),
            env(&[
                ("CARTWHEEL_TRUSTED_PROXIES", ""),
                ("CARTWHEEL_JWT_SECRET", " "),
                ("CARTWHEEL_SMTP_URL", ""),
                ("CARTWHEEL_OPERATOR_TOKEN", ""),
                ("CARTWHEEL_METRICS_TOKEN", ""),
                ("CARTWHEEL_WORKER_BATCH_SIZE", ""),
                ("CARTWHEEL_WORKER_QUEUE_CONCURRENCY", ""),
                ("CARTWHEEL_DEMO_SHOP", ""),
                ("CARTWHEEL_MAIL_FROM", ""),
            ]),
        )
        .unwrap();
        assert!(config.trusted_proxies.is_empty());
        assert!(config.jwt_secret.is_none());
        assert!(config.smtp_url.is_none());
        assert!(config.operator_token.is_none());
        assert!(config.metrics_token.is_none());
        assert_eq!(config.worker_batch_size, None);
        assert!(config.worker_queue_concurrency.is_empty());
        assert_eq!(config.demo_shop, None);
        assert_eq!(config.mail_from, "");
        for var in [
            "CARTWHEEL_BIND",
            "CARTWHEEL_BASE_DOMAIN",
            "CARTWHEEL_RATE_LIMIT_PER_MINUTE",
            "CARTWHEEL_LOG_FORMAT",
            "DATABASE_URL",
        ] {
            let err = Config::from_sources(None, env(&[(var, "")])).unwrap_err();
            assert!(err.to_string().contains(var), "{var}: {err}");
        }
    }

    #[test]
    fn file_values_may_be_numbers_booleans_or_lists() {
        let path = file(
            "types",
            "rate_limit_per_minute = \"7\"\nscheduler_catch_up = false\ndemo_shop = true\n\
             worker_queue_concurrency = [\"email.send=2\", \"provisioning.tenant=1\"]\n\
             cart_ttl_hours = 2\nworker_poll_ms = \"250\"\n",
        );
        let config = Config::from_sources(Some(&path), env(&[])).unwrap();
        assert_eq!(config.rate_limit_per_minute, 7);
        assert!(!config.scheduler_catch_up);
        assert_eq!(config.demo_shop, Some(true));
        assert_eq!(
            config.worker_queue_concurrency,
            HashMap::from([
                ("email.send".to_string(), 2),
                ("provisioning.tenant".to_string(), 1)
            ])
        );
        assert_eq!(config.cart_ttl, Duration::from_secs(2 * 3600));
        assert_eq!(config.worker_poll_interval, Duration::from_millis(250));
    }

    #[test]
    fn bad_file_values_name_their_key_and_the_file() {
        let path = file("bad", "worker_concurrency = 0\n");
        let err = Config::from_sources(Some(&path), env(&[])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                key: "worker_concurrency / CARTWHEEL_WORKER_CONCURRENCY".into(),
                origin: path.display().to_string(),
                message: "must be at least 1".into(),
            }
        );
        let path = file("float", "body_limit_bytes = 1.5\n");
        let err = Config::from_sources(Some(&path), env(&[])).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key, .. } if key.starts_with("body_limit_bytes")),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let missing = std::env::temp_dir().join("cw-config-no-such-dir/cartwheel.toml");
        let err = Config::from_sources(Some(&missing), env(&[])).unwrap_err();
        assert!(
            matches!(&err, ConfigError::File { path, message }
                if *path == missing.display().to_string() && message == message.trim_end()),
            "{err:?}"
        );
        let path = file("syntax", "bind = \n");
        let err = Config::from_sources(Some(&path), env(&[])).unwrap_err();
        assert!(matches!(err, ConfigError::File { .. }), "{err}");
    }

    #[test]
    fn environment_variables_that_are_no_setting_are_refused() {
        let ok = Config::from_sources(None, env(&[("CARTWHEEL_CONFIG", "x.toml"), ("HOME", "/")]));
        assert!(ok.is_ok());
        for var in [
            "CARTWHEEL_DATABASE_URL",
            "CARTWHEEL_CRON",
            "CARTWHEEL_bind",
            "CARTWHEEL_ADMIN_TOKEN_TTL",
        ] {
            let err = Config::from_sources(None, env(&[(var, "1")])).unwrap_err();
            assert_eq!(
                err,
                ConfigError::UnknownKey {
                    key: var.into(),
                    origin: "the environment".into()
                }
            );
        }
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let err = Config::from_sources(None, env(&[("CARTWHEEL_JOB_RECOVERY_SECS", "soon")]))
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::Invalid {
                key: "job_recovery_secs / CARTWHEEL_JOB_RECOVERY_SECS".into(),
                origin: "environment variable CARTWHEEL_JOB_RECOVERY_SECS".into(),
                message: "`soon`: invalid digit found in string".into(),
            }
        );
    }

    /// README's Configuration table: (file key, environment variable, default) per row.
    fn readme_rows() -> Vec<(String, String, String)> {
        let readme = include_str!("../README.md");
        let section = readme
            .split("\n## Configuration\n")
            .nth(1)
            .expect("README has a Configuration section");
        section
            .lines()
            .skip_while(|line| !line.starts_with("| file key"))
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let key = match cells[1].trim_matches('`') {
                    "[cron.<name>]" => "cron",
                    key => key,
                };
                let var = cells[2].trim_matches('`');
                (key.to_string(), var.to_string(), cells[3].to_string())
            })
            .collect()
    }

    #[test]
    fn the_readme_table_lists_every_setting_and_its_variable() {
        // The names `Config` takes are those its `deny_unknown_fields` lists.
        let err = Figment::from(("no_such_setting", ""))
            .extract::<Config>()
            .unwrap_err();
        let Kind::UnknownField(_, fields) = err.kind else {
            panic!("{err}")
        };
        let mut fields = fields.to_vec();
        fields.sort();
        let rows = readme_rows();
        let mut keys: Vec<&str> = rows.iter().map(|(key, _, _)| key.as_str()).collect();
        keys.sort();
        assert_eq!(fields, keys);
        for (key, var, _) in &rows {
            assert_eq!(env_var(key).as_deref().unwrap_or("—"), var, "{key}");
        }
    }

    /// deploy/.env.production.example names every setting (DATABASE_URL is built in compose),
    /// names no `CARTWHEEL_*` variable start-up would refuse, and what it sets parses.
    #[test]
    fn the_production_example_lists_every_setting() {
        let example = include_str!("../deploy/.env.production.example");
        let assignments: Vec<(&str, &str)> = example
            .lines()
            .map(|line| line.trim_start_matches("# ").trim())
            .filter_map(|line| line.split_once('='))
            .filter(|(name, _)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
            .collect();
        let named: Vec<&str> = assignments.iter().map(|(name, _)| *name).collect();
        for (key, var, _) in readme_rows() {
            if key == "cron" || var == "DATABASE_URL" || var == "CARTWHEEL_TRUSTED_PROXIES" {
                continue;
            }
            assert!(
                named.contains(&var.as_str()),
                "{var} is missing from the example"
            );
        }
        assert!(example.contains("CARTWHEEL_TRUSTED_PROXIES is set in compose.prod.yaml"));
        let known: Vec<String> = readme_rows().into_iter().map(|(_, var, _)| var).collect();
        for name in named.iter().filter(|n| n.starts_with("CARTWHEEL_")) {
            assert!(known.iter().any(|k| k == name), "{name} is not a setting");
        }
        let set: Vec<(&str, &str)> = example
            .lines()
            .filter(|line| line.starts_with("CARTWHEEL_"))
            .filter_map(|line| line.split_once('='))
            .collect();
        Config::from_sources(None, env(&set)).unwrap_or_else(|e| panic!("the example: {e}"));
    }

    #[test]
    fn the_readme_defaults_are_the_defaults() {
        let shown = |c: &Config| format!("{} {c:?}", c.database_url.expose_secret());
        let defaults = shown(&Config::from_sources(None, env(&[])).unwrap());
        for (key, var, default) in readme_rows() {
            if key == "cron" {
                continue;
            }
            // A literal default is in backticks; the others (empty, unset, …) are blank.
            let value = match default.strip_prefix('`') {
                Some(rest) => rest.split('`').next().unwrap(),
                None => "",
            };
            let config = Config::from_sources(None, env(&[(var.as_str(), value)]))
                .unwrap_or_else(|e| panic!("{var}={value}: {e}"));
            assert_eq!(shown(&config), defaults, "{var}={value:?}");
        }
    }
}
