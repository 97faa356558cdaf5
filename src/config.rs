//! Settings from defaults, an optional `cartwheel.toml` and the environment (highest wins).

use secrecy::{ExposeSecret, SecretString};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use cartwheel_scheduler::CronSpec;

/// Where the embedded default database lives.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://cartwheel.db?mode=rwc";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Secrets (`SecretString`) never show in `Debug` or logs; `expose_secret()` where used.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub bind: SocketAddr,
    pub base_domain: String,
    pub rate_limit_per_minute: u32,
    pub trusted_proxies: Vec<IpAddr>,
    pub jwt_secret: Option<SecretString>,
    /// How long an admin login token is valid.
    pub admin_token_ttl: Duration,
    /// An anonymous cart expires this long after its last change.
    pub cart_ttl: Duration,
    /// How long public catalog answers are reused in one API process; zero turns it off.
    pub store_cache_ttl: Duration,
    /// A cart with a known email, unchanged this long, gets its (single) reminder.
    pub abandoned_cart_idle_minutes: u64,
    /// Signups per client IP per minute (`POST /api/v1/provision`).
    pub provision_rate_limit_per_minute: u32,
    /// The From header of every email.
    pub mail_from: String,
    /// Scheme, host and port of links in emails; a tenant's links put `<slug>.` before the host.
    pub public_url: String,
    pub smtp_url: Option<SecretString>,
    /// The longest one send may take; an email row is claimed for twice that.
    pub smtp_timeout: Duration,
    pub outbox_dir: PathBuf,
    pub log_format: LogFormat,
    pub body_limit_bytes: usize,
    pub shutdown_timeout: Duration,
    pub operator_token: Option<SecretString>,
    /// When set, `/metrics` answers only requests bearing it.
    pub metrics_token: Option<SecretString>,
    pub worker_concurrency: usize,
    pub worker_queue_concurrency: HashMap<String, usize>,
    /// Jobs claimed per fetch; unset adapts to the queue's jobs (`worker/src/pace.rs`).
    pub worker_batch_size: Option<usize>,
    /// Per-queue override of `worker_batch_size`.
    pub worker_queue_batch_size: HashMap<String, usize>,
    pub worker_poll_interval: Duration,
    pub job_recovery_bound: Duration,
    pub scheduler_catch_up: bool,
    /// Whether `serve` signs up the `demo` shop on an empty database (unset: only on SQLite).
    pub demo_shop: Option<bool>,
    /// `[cron.<name>]` tables of the settings file.
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

/// One row per setting: the key in `cartwheel.toml`, its environment variable, its default.
const SETTINGS: &[(&str, &str, Option<&str>)] = &[
    ("database_url", "DATABASE_URL", Some(DEFAULT_DATABASE_URL)),
    ("bind", "CARTWHEEL_BIND", Some("127.0.0.1:8080")),
    ("base_domain", "CARTWHEEL_BASE_DOMAIN", Some("localhost")),
    (
        "rate_limit_per_minute",
        "CARTWHEEL_RATE_LIMIT_PER_MINUTE",
        Some("100"),
    ),
    ("trusted_proxies", "CARTWHEEL_TRUSTED_PROXIES", Some("")),
    ("jwt_secret", "CARTWHEEL_JWT_SECRET", None),
    (
        "admin_token_ttl_secs",
        "CARTWHEEL_ADMIN_TOKEN_TTL_SECS",
        Some("3600"),
    ),
    ("cart_ttl_hours", "CARTWHEEL_CART_TTL_HOURS", Some("72")),
    ("store_cache_ms", "CARTWHEEL_STORE_CACHE_MS", Some("10000")),
    (
        "abandoned_cart_idle_minutes",
        "CARTWHEEL_ABANDONED_CART_IDLE_MINUTES",
        Some("240"),
    ),
    (
        "provision_rate_limit_per_minute",
        "CARTWHEEL_PROVISION_RATE_LIMIT_PER_MINUTE",
        Some("10"),
    ),
    (
        "mail_from",
        "CARTWHEEL_MAIL_FROM",
        Some("Cartwheel <no-reply@localhost>"),
    ),
    (
        "public_url",
        "CARTWHEEL_PUBLIC_URL",
        Some("http://localhost:8080"),
    ),
    ("smtp_url", "CARTWHEEL_SMTP_URL", None),
    (
        "smtp_timeout_secs",
        "CARTWHEEL_SMTP_TIMEOUT_SECS",
        Some("30"),
    ),
    ("outbox_dir", "CARTWHEEL_OUTBOX_DIR", Some("./outbox")),
    ("log_format", "CARTWHEEL_LOG_FORMAT", Some("pretty")),
    (
        "body_limit_bytes",
        "CARTWHEEL_BODY_LIMIT_BYTES",
        Some("1048576"),
    ),
    (
        "shutdown_timeout_secs",
        "CARTWHEEL_SHUTDOWN_TIMEOUT_SECS",
        Some("30"),
    ),
    ("operator_token", "CARTWHEEL_OPERATOR_TOKEN", None),
    ("metrics_token", "CARTWHEEL_METRICS_TOKEN", None),
    (
        "worker_concurrency",
        "CARTWHEEL_WORKER_CONCURRENCY",
        Some("8"),
    ),
    (
        "worker_queue_concurrency",
        "CARTWHEEL_WORKER_QUEUE_CONCURRENCY",
        Some(""),
    ),
    ("worker_batch_size", "CARTWHEEL_WORKER_BATCH_SIZE", None),
    (
        "worker_queue_batch_size",
        "CARTWHEEL_WORKER_QUEUE_BATCH_SIZE",
        Some(""),
    ),
    ("worker_poll_ms", "CARTWHEEL_WORKER_POLL_MS", Some("500")),
    (
        "job_recovery_secs",
        "CARTWHEEL_JOB_RECOVERY_SECS",
        Some("60"),
    ),
    (
        "scheduler_catch_up",
        "CARTWHEEL_SCHEDULER_CATCH_UP",
        Some("true"),
    ),
    ("demo_shop", "CARTWHEEL_DEMO_SHOP", None),
];

/// Variables that start with `CARTWHEEL_` but are read by the CLI, not by `Config`.
const CLI_VARIABLES: &[&str] = &["CARTWHEEL_CONFIG"];

/// A raw value and where it came from, so errors can name both.
struct Raw {
    value: String,
    source: String,
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
        let mut raw: BTreeMap<&str, Raw> = BTreeMap::new();
        for (key, _, default) in SETTINGS {
            if let Some(value) = default {
                raw.insert(
                    key,
                    Raw {
                        value: value.to_string(),
                        source: "default".into(),
                    },
                );
            }
        }
        let mut cron = Vec::new();
        if let Some(path) = file {
            let (settings, cron_specs) = read_file(path)?;
            cron = cron_specs;
            for (key, value) in settings {
                let Some((name, _, _)) = SETTINGS.iter().find(|(k, _, _)| *k == key) else {
                    return Err(ConfigError::UnknownKey {
                        key,
                        origin: path.display().to_string(),
                    });
                };
                raw.insert(
                    name,
                    Raw {
                        value,
                        source: path.display().to_string(),
                    },
                );
            }
        }
        for (var, value) in env {
            if let Some((name, _, _)) = SETTINGS.iter().find(|(_, v, _)| *v == var) {
                raw.insert(
                    name,
                    Raw {
                        value,
                        source: format!("environment variable {var}"),
                    },
                );
            } else if var.starts_with("CARTWHEEL_") && !CLI_VARIABLES.contains(&var.as_str()) {
                return Err(ConfigError::UnknownKey {
                    key: var,
                    origin: "the environment".into(),
                });
            }
        }
        Self::parse(&raw, cron)
    }

    fn parse(raw: &BTreeMap<&str, Raw>, cron: Vec<CronSpec>) -> Result<Self, ConfigError> {
        let trusted_proxies = optional(raw, "trusted_proxies")
            .map(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|ip| parse_value(raw, "trusted_proxies", ip))
                    .collect::<Result<Vec<IpAddr>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let log_format = match required(raw, "log_format") {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            _ => return Err(invalid(raw, "log_format", "expected `pretty` or `json`")),
        };
        let rate_limit_per_minute: u32 = parse_value(
            raw,
            "rate_limit_per_minute",
            required(raw, "rate_limit_per_minute"),
        )?;
        if rate_limit_per_minute == 0 {
            return Err(invalid(raw, "rate_limit_per_minute", "must be at least 1"));
        }
        let body_limit_bytes: usize =
            parse_value(raw, "body_limit_bytes", required(raw, "body_limit_bytes"))?;
        if body_limit_bytes == 0 {
            return Err(invalid(raw, "body_limit_bytes", "must be at least 1"));
        }
        let database_url = required(raw, "database_url").to_string();
        if !(database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
            || database_url.starts_with("sqlite:"))
        {
            return Err(invalid(
                raw,
                "database_url",
                "expected a postgres:// or sqlite: URL",
            ));
        }
        let base_domain = required(raw, "base_domain").trim().to_ascii_lowercase();
        if base_domain.is_empty() {
            return Err(invalid(raw, "base_domain", "must not be empty"));
        }
        let jwt_secret = optional(raw, "jwt_secret").map(str::to_string);
        if jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(invalid(raw, "jwt_secret", "must be at least 32 characters"));
        }
        let public_url = required(raw, "public_url")
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid(
                raw,
                "public_url",
                "expected an http:// or https:// URL",
            ));
        }
        Ok(Config {
            database_url: database_url.into(),
            bind: parse_value(raw, "bind", required(raw, "bind"))?,
            base_domain,
            rate_limit_per_minute,
            trusted_proxies,
            jwt_secret: jwt_secret.map(SecretString::from),
            admin_token_ttl: Duration::from_secs(positive(raw, "admin_token_ttl_secs")?),
            cart_ttl: Duration::from_secs(positive(raw, "cart_ttl_hours")? * 3600),
            abandoned_cart_idle_minutes: positive(raw, "abandoned_cart_idle_minutes")?,
            store_cache_ttl: Duration::from_millis(parse_value(
                raw,
                "store_cache_ms",
                required(raw, "store_cache_ms"),
            )?),
            provision_rate_limit_per_minute: positive(raw, "provision_rate_limit_per_minute")?
                as u32,
            mail_from: required(raw, "mail_from").to_string(),
            public_url,
            smtp_url: optional(raw, "smtp_url").map(SecretString::from),
            smtp_timeout: Duration::from_secs(positive(raw, "smtp_timeout_secs")?),
            outbox_dir: PathBuf::from(required(raw, "outbox_dir")),
            log_format,
            body_limit_bytes,
            shutdown_timeout: Duration::from_secs(parse_value(
                raw,
                "shutdown_timeout_secs",
                required(raw, "shutdown_timeout_secs"),
            )?),
            operator_token: optional(raw, "operator_token").map(SecretString::from),
            metrics_token: optional(raw, "metrics_token").map(SecretString::from),
            worker_concurrency: positive(raw, "worker_concurrency")? as usize,
            worker_queue_concurrency: per_queue(raw, "worker_queue_concurrency")?,
            worker_queue_batch_size: per_queue(raw, "worker_queue_batch_size")?,
            worker_batch_size: match optional(raw, "worker_batch_size") {
                Some(_) => Some(positive(raw, "worker_batch_size")? as usize),
                None => None,
            },
            worker_poll_interval: Duration::from_millis(positive(raw, "worker_poll_ms")?),
            job_recovery_bound: Duration::from_secs(positive(raw, "job_recovery_secs")?),
            scheduler_catch_up: parse_value(
                raw,
                "scheduler_catch_up",
                required(raw, "scheduler_catch_up"),
            )?,
            demo_shop: match optional(raw, "demo_shop") {
                Some(value) => Some(parse_value(raw, "demo_shop", value)?),
                None => None,
            },
            cron,
        })
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

    /// `serve` makes the demo shop on an empty database: on the embedded SQLite default, or
    /// when `CARTWHEEL_DEMO_SHOP=true`.
    pub fn wants_demo_shop(&self) -> bool {
        self.demo_shop.unwrap_or_else(|| self.is_sqlite())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

/// A whole number of at least 1.
fn positive(raw: &BTreeMap<&str, Raw>, key: &str) -> Result<u64, ConfigError> {
    let value: u64 = parse_value(raw, key, required(raw, key))?;
    if value == 0 {
        return Err(invalid(raw, key, "must be at least 1"));
    }
    Ok(value)
}

/// `queue=n,queue=n`: a per-queue number of at least 1.
fn per_queue(raw: &BTreeMap<&str, Raw>, key: &str) -> Result<HashMap<String, usize>, ConfigError> {
    optional(raw, key)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (queue, n) = pair
                .split_once('=')
                .ok_or_else(|| invalid(raw, key, &format!("`{pair}`: expected queue=number")))?;
            let n: usize = parse_value(raw, key, n)?;
            if n == 0 {
                return Err(invalid(raw, key, &format!("`{pair}`: must be at least 1")));
            }
            Ok((queue.trim().to_string(), n))
        })
        .collect()
}

type FileSettings = (Vec<(String, String)>, Vec<CronSpec>);

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_error(e.to_string()))?;
    let cron = match table.remove("cron") {
        Some(toml::Value::Table(entries)) => entries
            .into_iter()
            .map(|(name, entry)| {
                cron_spec(&name, entry).map_err(|m| file_error(format!("[cron.{name}]: {m}")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(file_error(
                "`cron` must be a table of [cron.<name>] entries".into(),
            ));
        }
        None => Vec::new(),
    };
    let settings = table
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        toml::Value::String(s) => Ok(s),
                        other => Err(file_error(format!(
                            "`{key}` must be a list of strings, found {other}"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
                other => {
                    return Err(file_error(format!(
                        "`{key}` must be a string or a number, found {other}"
                    )));
                }
            };
            Ok((key, value))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((settings, cron))
}

/// One `[cron.<name>]` table: `schedule`, `job`, optional `payload` (a table) and `enabled`.
fn cron_spec(name: &str, entry: toml::Value) -> Result<CronSpec, String> {
    let toml::Value::Table(mut entry) = entry else {
        return Err("must be a table".into());
    };
    let mut text = |key: &str| match entry.remove(key) {
        Some(toml::Value::String(s)) => Ok(s),
        Some(other) => Err(format!("`{key}` must be a string, found {other}")),
        None => Err(format!("`{key}` is required")),
    };
    let schedule = text("schedule")?;
    let job = text("job")?;
    let payload = match entry.remove("payload") {
        Some(value) => serde_json::to_value(value).map_err(|e| format!("`payload`: {e}"))?,
        None => serde_json::json!({}),
    };
    let enabled = match entry.remove("enabled") {
        Some(toml::Value::Boolean(b)) => b,
        Some(other) => return Err(format!("`enabled` must be true or false, found {other}")),
        None => true,
    };
    if let Some(unknown) = entry.keys().next() {
        return Err(format!("unknown key `{unknown}`"));
    }
    Ok(CronSpec {
        name: name.to_string(),
        schedule,
        job,
        payload,
        enabled,
    })
}

fn optional<'a>(raw: &'a BTreeMap<&str, Raw>, key: &str) -> Option<&'a str> {
    raw.get(key)
        .map(|r| r.value.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn required<'a>(raw: &'a BTreeMap<&str, Raw>, key: &str) -> &'a str {
    // Every required key has a default in SETTINGS, so it is always present.
    raw.get(key).map(|r| r.value.as_str()).unwrap_or_default()
}

fn parse_value<T: FromStr>(
    raw: &BTreeMap<&str, Raw>,
    key: &str,
    value: &str,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e: T::Err| invalid(raw, key, &format!("`{value}`: {e}")))
}

fn invalid(raw: &BTreeMap<&str, Raw>, key: &str, message: &str) -> ConfigError {
    let (name, var) = SETTINGS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(k, v, _)| (*k, *v))
        .unwrap_or((key, key));
    let origin = raw.get(key).map(|r| r.source.clone()).unwrap_or_default();
    ConfigError::Invalid {
        key: format!("{name} / {var}"),
        origin,
        message: message.to_string(),
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
}
