//! The email templates: a subject, a text and an HTML part per email, rendered by minijinja.

use std::sync::LazyLock;

use minijinja::Environment;

/// `(name, source)`: for each email `<name>.subject`, `<name>.txt` and `<name>.html`.
const SOURCES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../templates/email/layout.html"),
    ),
    (
        "store_ready.subject",
        include_str!("../../templates/email/store_ready.subject"),
    ),
    (
        "store_ready.txt",
        include_str!("../../templates/email/store_ready.txt"),
    ),
    (
        "store_ready.html",
        include_str!("../../templates/email/store_ready.html"),
    ),
    (
        "admin_password_reset.subject",
        include_str!("../../templates/email/admin_password_reset.subject"),
    ),
    (
        "admin_password_reset.txt",
        include_str!("../../templates/email/admin_password_reset.txt"),
    ),
    (
        "admin_password_reset.html",
        include_str!("../../templates/email/admin_password_reset.html"),
    ),
    (
        "user_invitation.subject",
        include_str!("../../templates/email/user_invitation.subject"),
    ),
    (
        "user_invitation.txt",
        include_str!("../../templates/email/user_invitation.txt"),
    ),
    (
        "user_invitation.html",
        include_str!("../../templates/email/user_invitation.html"),
    ),
    (
        "customer_welcome.subject",
        include_str!("../../templates/email/customer_welcome.subject"),
    ),
    (
        "customer_welcome.txt",
        include_str!("../../templates/email/customer_welcome.txt"),
    ),
    (
        "customer_welcome.html",
        include_str!("../../templates/email/customer_welcome.html"),
    ),
    (
        "customer_password_reset.subject",
        include_str!("../../templates/email/customer_password_reset.subject"),
    ),
    (
        "customer_password_reset.txt",
        include_str!("../../templates/email/customer_password_reset.txt"),
    ),
    (
        "customer_password_reset.html",
        include_str!("../../templates/email/customer_password_reset.html"),
    ),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // HTML templates escape their variables; text and subjects do not.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    // minijinja's HTML escaping also turns `/` into `&#x2f;`; links read better (and mail
    // clients' link detection works) with only the five HTML-special characters escaped.
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() {
            let text = value.to_string();
            let mut escaped = String::with_capacity(text.len());
            for c in text.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#39;"),
                    c => escaped.push(c),
                }
            }
            out.write_str(&escaped)?;
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in SOURCES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("email template {name} does not parse: {e}"));
    }
    env
});

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders the email `template` with `context` (an object of variables).
pub fn render(template: &str, context: &serde_json::Value) -> Result<Rendered, minijinja::Error> {
    let part = |suffix: &str| {
        ENV.get_template(&format!("{template}.{suffix}"))?
            .render(context)
    };
    Ok(Rendered {
        subject: part("subject")?.trim().to_string(),
        text: part("txt")?,
        html: part("html")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> serde_json::Value {
        serde_json::json!({
            "tenant_name": "Acme <Tools>",
            "tenant_url": "http://acme.localhost:8080",
            "to": "ann@example.com",
            "owner_email": "ann@example.com",
            "name": "Ann",
            "token": "abc123",
            "valid_minutes": 60,
            "inviter_name": "Bob",
            "role": "Staff",
            "valid_days": 7,
        })
    }

    #[test]
    fn every_template_renders_with_its_links() {
        for (template, link) in [
            ("store_ready", "http://acme.localhost:8080/admin/login"),
            (
                "admin_password_reset",
                "http://acme.localhost:8080/admin/reset-password?token=abc123",
            ),
            (
                "user_invitation",
                "http://acme.localhost:8080/admin/accept-invite?token=abc123",
            ),
            (
                "customer_welcome",
                "http://acme.localhost:8080/account/login",
            ),
            (
                "customer_password_reset",
                "http://acme.localhost:8080/account/reset-password?token=abc123",
            ),
        ] {
            let r = render(template, &context()).unwrap();
            assert!(
                !r.subject.is_empty() && !r.subject.contains('\n'),
                "{template}"
            );
            assert!(r.text.contains(link), "{template} text: {}", r.text);
            assert!(r.html.contains(link), "{template} html: {}", r.html);
            assert!(
                r.html.contains("Acme &lt;Tools&gt;"),
                "{template} escapes HTML"
            );
        }
    }

    #[test]
    fn a_missing_variable_is_an_error() {
        assert!(render("admin_password_reset", &serde_json::json!({})).is_err());
    }
}
