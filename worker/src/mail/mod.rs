//! Sending email: templates rendered with minijinja, delivered over SMTP or written to an
//! outbox folder as `<email id>.eml` files when no SMTP server is configured.

mod templates;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

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
    /// The longest one send may take, connection included; a slower one is abandoned.
    pub send_timeout: Duration,
}

impl MailSettings {
    /// How long a worker's claim on an email row holds: twice the send timeout, so the claim
    /// outlives every send it covers even on a stalled machine.
    pub fn claim_hold(&self) -> Duration {
        self.send_timeout.saturating_mul(2)
    }
}

/// Where mail goes.
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(Outbox),
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
                .timeout(Some(settings.send_timeout))
                // The mail queues send many at once (`Job::CONCURRENCY_SCALE`); lettre keeps 10
                // connections for reuse by default and opens and closes one per send beyond.
                .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(32))
                .build(),
            )),
            None => Ok(Mailer::Outbox(Outbox::new(settings.outbox_dir.clone())?)),
        }
    }

    /// Sends `message`, the mail of email row `id`, within `timeout`.
    pub async fn send(
        &self,
        id: Uuid,
        message: Message,
        timeout: Duration,
    ) -> Result<(), SendError> {
        let send = async {
            match self {
                Mailer::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                    if e.is_permanent() {
                        SendError::Permanent(e.to_string())
                    } else {
                        SendError::Transient(e.to_string())
                    }
                }),
                Mailer::Outbox(outbox) => outbox
                    .write(id, &message)
                    .await
                    .map_err(|e| SendError::Transient(format!("{e:#}"))),
            }
        };
        tokio::time::timeout(timeout, send)
            .await
            .unwrap_or_else(|_| {
                Err(SendError::Transient(format!(
                    "no answer within {timeout:?}"
                )))
            })
    }
}

/// A folder of `<email id>.eml` files. Each is written under a temporary name and renamed into
/// place, so a file is whole or absent, and a second write of one email replaces its file.
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the outbox {}", dir.display()))?;
        Ok(Outbox { dir })
    }

    /// Writes the mail of email `id` to `<id>.eml`.
    pub async fn write(&self, id: Uuid, message: &Message) -> anyhow::Result<()> {
        let path = self.dir.join(format!("{id}.eml"));
        // Hidden and unique per attempt: a writer killed half-way leaves only a `.tmp` file.
        let temporary = self
            .dir
            .join(format!(".{id}.{}.tmp", Uuid::new_v4().simple()));
        tokio::fs::write(&temporary, message.formatted())
            .await
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        tokio::fs::rename(&temporary, &path)
            .await
            .with_context(|| format!("cannot rename into {}", path.display()))
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
