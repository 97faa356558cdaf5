//! Settings from defaults, an optional `cartwheel.toml` and the environment (highest wins).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Where the embedded default database lives.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://cartwheel.db?mode=rwc";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub base_domain: String,
    pub rate_limit_per_minute: u32,
    pub trusted_proxies: Vec<IpAddr>,
    pub jwt_secret: Option<String>,
    pub smtp_url: Option<String>,
    pub outbox_dir: PathBuf,
    pub log_format: LogFormat,
    pub body_limit_bytes: usize,
    pub shutdown_timeout: Duration,
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
    ("smtp_url", "CARTWHEEL_SMTP_URL", None),
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
        if let Some(path) = file {
            for (key, value) in read_file(path)? {
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
        Self::parse(&raw)
    }

    fn parse(raw: &BTreeMap<&str, Raw>) -> Result<Self, ConfigError> {
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
        Ok(Config {
            database_url,
            bind: parse_value(raw, "bind", required(raw, "bind"))?,
            base_domain,
            rate_limit_per_minute,
            trusted_proxies,
            jwt_secret: optional(raw, "jwt_secret").map(str::to_string),
            smtp_url: optional(raw, "smtp_url").map(str::to_string),
            outbox_dir: PathBuf::from(required(raw, "outbox_dir")),
            log_format,
            body_limit_bytes,
            shutdown_timeout: Duration::from_secs(parse_value(
                raw,
                "shutdown_timeout_secs",
                required(raw, "shutdown_timeout_secs"),
            )?),
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn read_file(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_error(e.to_string()))?;
    table
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
        .collect()
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
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.rate_limit_per_minute, 100);
        assert_eq!(config.body_limit_bytes, 1024 * 1024);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(config.trusted_proxies.is_empty());
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
        ] {
            let err = Config::from_sources(None, env(&[(var, value)])).unwrap_err();
            assert!(err.to_string().contains(named), "{var}={value}: {err}");
        }
    }
}
