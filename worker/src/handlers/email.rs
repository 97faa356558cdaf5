//! Runs the email jobs: a password reset asked for (a link mailed if the account exists), and
//! the send of a stored email (claimed, rendered, sent and marked sent: [`deliver`], which an
//! order's mail job calls too).

use std::time::{Duration, Instant};

use anyhow::anyhow;

use cartwheel_domain::emails::{self, Claim};
use cartwheel_entity::emails::Model as Email;
use cartwheel_jobs::families::email::{RequestPasswordReset, SendEmail};
use sea_orm::ActiveEnum;
use uuid::Uuid;

use crate::handler::{Handler, JobContext, JobError};
use crate::mail::{self, SendError};

impl Handler for SendEmail {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        match deliver(ctx, self.email_id).await? {
            Delivery::Sent | Delivery::SentBefore => Ok(()),
            Delivery::Missing => Err(JobError::permanent(anyhow!(
                "email {} does not exist",
                self.email_id
            ))),
        }
    }
}

/// What [`deliver`] found or did.
pub(crate) enum Delivery {
    Sent,
    /// An earlier run sent it.
    SentBefore,
    /// No such email row.
    Missing,
}

/// Sends stored email `email_id` once: claims the row, renders and sends it, and records the
/// send right after the server's reply. A row another run holds is looked at again until it is
/// sent or the claim runs out (then the job retries).
pub(crate) async fn deliver(ctx: &JobContext, email_id: Uuid) -> Result<Delivery, JobError> {
    let settings = &ctx.mail.settings;
    let claim = || emails::claim(&ctx.db, email_id, &ctx.worker, settings.claim_hold());
    let mut claimed = claim().await.map_err(JobError::retryable)?;
    // Another send holds the row (a duplicate job, or a worker that died mid-send): look
    // again until it is sent or the claim runs out, without spending an attempt.
    let give_up = Instant::now() + settings.claim_hold() + Duration::from_secs(1);
    let mut pause = Duration::from_millis(50);
    while matches!(claimed, Claim::Held { .. }) && Instant::now() < give_up {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
        claimed = claim().await.map_err(JobError::retryable)?;
    }
    let email = match claimed {
        Claim::Claimed(email) => email,
        Claim::Sent => {
            tracing::info!(%email_id, "email was sent already");
            return Ok(Delivery::SentBefore);
        }
        Claim::Held { by, until } => {
            return Err(JobError::retryable(anyhow!(
                "email {email_id} is being sent by {by} (claimed until {until})"
            )));
        }
        Claim::Missing => return Ok(Delivery::Missing),
    };
    let outcome = send(ctx, &email).await;
    if outcome.is_err() {
        // The retry need not wait for the claim to run out.
        emails::release(&ctx.db, email.id, &ctx.worker)
            .await
            .map_err(JobError::retryable)?;
    }
    let subject = outcome?;
    // Recorded right after the server's reply, with nothing in between: a re-run finds it
    // sent and stops. The row keeps no secret of the mail (its reset or invitation token)
    // past this point.
    emails::mark_sent(&ctx.db, email.id, &subject, &email.context)
        .await
        .map_err(JobError::retryable)?;
    tracing::info!(email_id = %email.id, template = %email.template.to_value(), "email sent");
    Ok(Delivery::Sent)
}

/// Renders email row `email` and hands it to the transport; the subject it went with.
async fn send(ctx: &JobContext, email: &Email) -> Result<String, JobError> {
    let settings = &ctx.mail.settings;
    let template = email.template.to_value();
    let mut context = match email.context.clone() {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    context.insert("to".into(), email.to_address.clone().into());
    if let Some(tenant_id) = email.tenant_id {
        let tenant = cartwheel_domain::tenants::find(&ctx.db, tenant_id)
            .await
            .map_err(JobError::retryable)?
            .ok_or_else(|| JobError::permanent(anyhow!("tenant {tenant_id} does not exist")))?;
        context.insert("tenant_name".into(), tenant.name.into());
        context.insert(
            "tenant_url".into(),
            cartwheel_domain::tenants::url(&settings.public_url, &tenant.slug).into(),
        );
    }
    let rendered = mail::render(&template, &serde_json::Value::Object(context))
        .map_err(|e| JobError::permanent(anyhow!("rendering `{template}` failed: {e:#}")))?;
    let subject = rendered.subject.clone();
    let message = mail::build_message(
        &settings.from,
        &email.to_address,
        &email.message_id,
        rendered,
    )
    .map_err(JobError::permanent)?;
    ctx.mail
        .mailer
        .send(email.id, message, settings.send_timeout)
        .await
        .map_err(|e| match e {
            SendError::Permanent(_) => JobError::permanent(e),
            SendError::Transient(_) => JobError::retryable(e),
        })?;
    Ok(subject)
}

impl Handler for RequestPasswordReset {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let (tenant_id, email) = (self.tenant_id, &self.email);
        cartwheel_domain::accounts::resets::request(&ctx.db, tenant_id, email, self.account)
            .await
            .map_err(JobError::retryable)
    }
}
