//! Error reports to Sentry (`CARTWHEEL_SENTRY_DSN`): the client each process builds, and the
//! scrubbing every event passes before it leaves.
//!
//! There is no process-wide `sentry::init` in the library: the API gives each request a hub of
//! this client (`cartwheel_api::middleware::error_reports`), the worker each job
//! (`cartwheel_worker::handler`), so the context of a 5xx, a panic or a failed job is that
//! request's or job's. The binary also binds the client to the main hub for panics elsewhere.

use std::sync::{Arc, LazyLock};

use regex::Regex;
use sentry::protocol::{Event, Value};

use crate::config::Config;

/// What replaces a secret.
pub const FILTERED: &str = "[Filtered]";

/// The client for the configured DSN; `None` without one.
pub fn client(config: &Config) -> Option<Arc<sentry::Client>> {
    let dsn = config.sentry_dsn.clone()?;
    // sentry's reqwest is built without a crypto provider (neither aws-lc nor OpenSSL): ring,
    // as the rest of the build. Installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut options = sentry::ClientOptions::new();
    options.dsn = Some(dsn);
    options.release = Some(format!("cartwheel@{}", env!("CARGO_PKG_VERSION")).into());
    options.environment = Some(config.sentry_environment.clone().into());
    options.send_default_pii = false;
    options.before_send = Some(Arc::new(|event| Some(scrub(event))));
    let options = sentry::apply_defaults(options);
    Some(Arc::new(sentry::Client::from(options)))
}

/// Header and field names whose values never leave: credentials, tokens, card data.
fn sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    // "pan" (a card's number) only as the whole name: as a part it is in "company" or "span".
    name == "pan"
        || [
            "authorization",
            "cookie",
            "password",
            "passwd",
            "secret",
            "token",
            "api-key",
            "api_key",
            "apikey",
            "card",
            "cvc",
            "cvv",
            "iban",
        ]
        .iter()
        .any(|word| name.contains(word))
}

/// Secrets inside free text: bearer credentials, JWTs, `key=value` pairs of sensitive names,
/// and digit runs as long as card numbers.
static IN_TEXT: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    vec![
        (
            Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+").unwrap(),
            "$1 [Filtered]",
        ),
        (
            Regex::new(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+").unwrap(),
            FILTERED,
        ),
        (
            Regex::new(
                r#"(?i)\b([a-z_]*(password|secret|token|card|cvc|cvv)[a-z_]*)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"#,
            )
            .unwrap(),
            "$1$3[Filtered]",
        ),
        (Regex::new(r"\b(?:\d[ -]?){12,18}\d\b").unwrap(), FILTERED),
    ]
});

/// `text` with every secret [`IN_TEXT`] finds replaced.
pub fn redact(text: &str) -> String {
    IN_TEXT
        .iter()
        .fold(text.to_string(), |text, (pattern, with)| {
            pattern.replace_all(&text, *with).into_owned()
        })
}

fn redact_value(key: &str, value: &mut Value) {
    match value {
        _ if sensitive(key) => *value = Value::String(FILTERED.into()),
        Value::String(s) => *s = redact(s),
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| redact_value(k, v)),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_value("", v)),
        _ => {}
    }
}

/// The event with nothing secret left: request headers, cookies, bodies and query values of
/// sensitive names, user fields other than the id, and secrets in messages, exceptions,
/// breadcrumbs and extra data.
pub fn scrub(mut event: Event<'static>) -> Event<'static> {
    if let Some(request) = event.request.as_mut() {
        request.cookies = None;
        request.data = None;
        request.headers.retain(|name, _| !sensitive(name));
        request.query_string = request.query_string.as_deref().map(|query| {
            query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if sensitive(name) => format!("{name}={FILTERED}"),
                    _ => pair.to_string(),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        if let Some(url) = request.url.as_mut()
            && url.query().is_some()
        {
            url.set_query(None);
        }
    }
    if let Some(user) = event.user.as_mut() {
        user.email = None;
        user.ip_address = None;
        user.username = None;
        user.other.clear();
    }
    if let Some(message) = event.message.as_mut() {
        *message = redact(message);
    }
    if let Some(entry) = event.logentry.as_mut() {
        entry.message = redact(&entry.message);
        entry.params.iter_mut().for_each(|v| redact_value("", v));
    }
    for exception in event.exception.values.iter_mut() {
        if let Some(value) = exception.value.as_mut() {
            *value = redact(value);
        }
    }
    for breadcrumb in event.breadcrumbs.values.iter_mut() {
        if let Some(message) = breadcrumb.message.as_mut() {
            *message = redact(message);
        }
        breadcrumb
            .data
            .iter_mut()
            .for_each(|(k, v)| redact_value(k, v));
    }
    event.extra.iter_mut().for_each(|(k, v)| redact_value(k, v));
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_tokens_and_card_numbers_in_text() {
        let text = "login failed: Authorization: Bearer abc.def-ghi password=hunter22 \
                    token: 'xyz' jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig card 4242 4242 4242 4242 \
                    order 12345 total 1999";
        let redacted = redact(text);
        for secret in ["abc.def-ghi", "hunter22", "xyz", "eyJhbGci", "4242 4242"] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        // What is not secret stays readable.
        assert!(redacted.contains("order 12345 total 1999"), "{redacted}");
        assert!(redacted.contains("Bearer [Filtered]"), "{redacted}");
    }

    #[test]
    fn scrubs_headers_query_user_and_extra() {
        let mut event = Event {
            message: Some("failed for password=secret1".into()),
            ..Default::default()
        };
        event.request = Some(sentry::protocol::Request {
            url: Some(
                "https://shop.test/reset?token=t0k3n&page=2"
                    .parse()
                    .unwrap(),
            ),
            query_string: Some("token=t0k3n&page=2".into()),
            headers: [
                ("Authorization".to_string(), "Bearer t0k3n".to_string()),
                ("Cookie".to_string(), "s=1".to_string()),
                ("Accept".to_string(), "application/json".to_string()),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        });
        event.user = Some(sentry::User {
            id: Some("u1".into()),
            email: Some("a@b.example".into()),
            ..Default::default()
        });
        event.extra.insert("password".into(), "hunter22".into());
        event
            .extra
            .insert("note".into(), "card 4111111111111111".into());
        let scrubbed = scrub(event);
        let json = serde_json::to_string(&scrubbed).unwrap();
        for secret in [
            "t0k3n",
            "s=1",
            "a@b.example",
            "hunter22",
            "4111111111111111",
            "secret1",
        ] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        let request = scrubbed.request.unwrap();
        assert_eq!(
            request.query_string.as_deref(),
            Some("token=[Filtered]&page=2")
        );
        assert!(request.headers.contains_key("Accept"));
        assert_eq!(scrubbed.user.unwrap().id.as_deref(), Some("u1"));
    }
}
