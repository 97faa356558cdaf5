//! Runs the email jobs: a password reset asked for (a link mailed if the account exists), and
//! the send of a stored email (rendered and sent, once).

use anyhow::anyhow;

use cartwheel_entity::emails;
use cartwheel_jobs::families::email::{RequestPasswordReset, SendEmail};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter};

use crate::handler::{Handler, JobContext, JobError};
use crate::mail::{self, SendError};

impl Handler for SendEmail {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let email = emails::Entity::find_by_id(self.email_id)
            .one(&ctx.db)
            .await
            .map_err(JobError::retryable)?
            .ok_or_else(|| {
                JobError::permanent(anyhow!("email {} does not exist", self.email_id))
            })?;
        if email.sent_at.is_some() {
            tracing::info!(email_id = %email.id, "email was sent already");
            return Ok(());
        }
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
                mail::tenant_url(&ctx.mail.settings.public_url, &tenant.slug).into(),
            );
        }
        let rendered = mail::render(&template, &serde_json::Value::Object(context))
            .map_err(|e| JobError::permanent(anyhow!("rendering `{template}` failed: {e:#}")))?;
        let subject = rendered.subject.clone();
        let message = mail::build_message(
            &ctx.mail.settings.from,
            &email.to_address,
            &email.message_id,
            rendered,
        )
        .map_err(JobError::permanent)?;
        ctx.mail.mailer.send(message).await.map_err(|e| match e {
            SendError::Permanent(_) => JobError::permanent(e),
            SendError::Transient(_) => JobError::retryable(e),
        })?;
        // Recorded right after the send: a re-run finds it sent and stops. The row keeps no
        // secret of the mail (its reset or invitation token) past this point.
        emails::Entity::update_many()
            .col_expr(emails::Column::SentAt, Expr::value(chrono::Utc::now()))
            .col_expr(
                emails::Column::Context,
                Expr::value(cartwheel_domain::emails::without_secrets(&email.context)),
            )
            .col_expr(emails::Column::Subject, Expr::value(subject))
            .filter(emails::Column::Id.eq(email.id))
            .exec(&ctx.db)
            .await
            .map_err(JobError::retryable)?;
        tracing::info!(email_id = %email.id, %template, "email sent");
        Ok(())
    }
}

impl Handler for RequestPasswordReset {
    async fn handle(self, ctx: &JobContext) -> Result<(), JobError> {
        let (tenant_id, email) = (self.tenant_id, &self.email);
        cartwheel_domain::accounts::resets::request(&ctx.db, tenant_id, email, self.account)
            .await
            .map_err(JobError::retryable)
    }
}
