//! Sending email: templates rendered with minijinja, delivered over SMTP or written to an
//! outbox folder as `.eml` files when no SMTP server is configured.

mod templates;

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub use templates::{Rendered, render};

#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtps://user:pass@host:465` or `smtp://…?tls=required`; unset
    /// writes `.eml` files to `outbox_dir`.
    pub smtp_url: Option<secrecy::SecretString>,
    pub outbox_dir: PathBuf,
    pub from: String,
    /// Scheme, host and port that links in emails start with.
    pub public_url: String,
}

/// Where mail goes.
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>),
}

/// Why a send failed: worth retrying, or not.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the mail server refused the message for good: {0}")]
    Permanent(String),
    #[error("sending failed: {0}")]
    Transient(String),
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            Some(url) => Ok(Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(
                    secrecy::ExposeSecret::expose_secret(url),
                )
                .context("CARTWHEEL_SMTP_URL is not a valid SMTP URL")?
                .build(),
            )),
            None => {
                std::fs::create_dir_all(&settings.outbox_dir).with_context(|| {
                    format!("cannot create the outbox {}", settings.outbox_dir.display())
                })?;
                Ok(Mailer::Outbox(AsyncFileTransport::new(
                    &settings.outbox_dir,
                )))
            }
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Transient(e.to_string())
                }
            }),
            Mailer::Outbox(outbox) => outbox
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Transient(e.to_string())),
        }
    }
}

/// A multipart (text and HTML) message with a fixed Message-ID, so a resend after a crash is
/// recognisable as the same mail.
pub fn build_message(
    from: &str,
    to: &str,
    message_id: &str,
    rendered: Rendered,
) -> anyhow::Result<Message> {
    let from: Mailbox = from
        .parse()
        .context("CARTWHEEL_MAIL_FROM is not a mailbox")?;
    let to: Mailbox = to
        .parse()
        .with_context(|| format!("`{to}` is not an email address"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(message_id.to_string()))
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .context("cannot build the message")
}

/// `http://localhost:8080` and `demo` → `http://demo.localhost:8080`.
pub fn tenant_url(public_url: &str, slug: &str) -> String {
    match public_url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{slug}.{rest}"),
        None => format!("{slug}.{public_url}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tenant_urls() {
        assert_eq!(
            super::tenant_url("http://localhost:8080", "demo"),
            "http://demo.localhost:8080"
        );
        assert_eq!(
            super::tenant_url("https://shops.example.com", "acme"),
            "https://acme.shops.example.com"
        );
    }
}
