//! The email templates: a subject, a text and an HTML part per email, rendered by minijinja.

use std::sync::LazyLock;

use minijinja::Environment;

/// `(name, source)` for each email's `<name>.subject`, `<name>.txt` and `<name>.html`.
macro_rules! emails {
    ($($name:literal),* $(,)?) => {
        &[
            ("layout.html", include_str!("../../templates/email/layout.html")),
            ("order_lines.html", include_str!("../../templates/email/order_lines.html")),
            ("order_lines.txt", include_str!("../../templates/email/order_lines.txt")),
            $(
                (concat!($name, ".subject"), include_str!(concat!("../../templates/email/", $name, ".subject"))),
                (concat!($name, ".txt"), include_str!(concat!("../../templates/email/", $name, ".txt"))),
                (concat!($name, ".html"), include_str!(concat!("../../templates/email/", $name, ".html"))),
            )*
        ]
    };
}

const SOURCES: &[(&str, &str)] = emails!(
    "store_ready",
    "admin_password_reset",
    "user_invitation",
    "customer_welcome",
    "customer_password_reset",
    "customer_account_exists",
    "abandoned_cart",
    "back_in_stock",
    "low_stock_alert",
    "order_confirmation",
    "payment_receipt",
    "payment_refunded",
    "order_shipped",
    "order_delivered",
    "order_cancelled",
    "order_refunded",
    "review_request",
    "backup_failed",
);

/// Minor units as an amount with the currency code: `1999|money("EUR")` is `19.99 EUR`.
/// Digits after the point by the currency's ISO 4217 exponent (`money::display`).
fn money(amount: i64, currency: &str) -> String {
    cartwheel_domain::money::display(amount, currency)
}

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
    env.add_filter("money", |amount: i64, currency: String| {
        money(amount, &currency)
    });
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
        let mut context = serde_json::json!({
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
            "currency": "EUR",
            "cart_id": "c1",
            "lines": [{"name": "Tea <green>", "qty": 2, "line_total": 1998}],
            "subtotal": 1998,
            "product_name": "Tea <green>",
            "slug": "green-tea",
            "price": 999,
            "sku": "TEA-1",
            "available": 2,
            "reorder_level": 5,
            "item_id": "i1",
            "order_id": "o1",
            "number": 7,
            "payment_method": "manual",
            "payment_due_at": "2026-12-09 10:00 UTC",
            "discount": 100,
            "shipping": 495,
            "shipping_method": "Parcel",
            "tax": 380,
            "total": 2773,
            "refund_due": 0,
            "shipping_address": {"name": "Ann", "line1": "Main St 1", "line2": "", "city": "Berlin",
                "region": "", "postalCode": "10115", "country": "DE"},
            "carrier": "DHL",
            "tracking_number": "123",
            "tracking_url": "https://track.example/123",
        });
        // Added apart: one json! this size hits the recursion limit.
        let operator = serde_json::json!({
            "error": "backup storage: connection refused",
            "attempts": 3,
            "job_id": "01J0000000000000000000000",
            "last_verified": "2026-12-05 02:30 UTC",
            "amount": 1999,
            "refunded": 1999,
            "reason": "an item sold out before the payment arrived.",
            "payment_instructions": "Transfer 19.99 EUR quoting \"Order 7\".",
        });
        if let (Some(all), serde_json::Value::Object(more)) = (context.as_object_mut(), operator) {
            all.extend(more);
        }
        context
    }

    #[test]
    fn every_stored_template_has_its_files() {
        use sea_orm::{ActiveEnum, Iterable};
        for template in cartwheel_entity::emails::Template::iter() {
            let name = template.to_value();
            let r = render(&name, &context()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!r.subject.is_empty(), "{name}");
        }
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
            (
                "customer_account_exists",
                "http://acme.localhost:8080/account/login",
            ),
            ("abandoned_cart", "http://acme.localhost:8080/cart/c1"),
            (
                "back_in_stock",
                "http://acme.localhost:8080/products/green-tea",
            ),
            (
                "low_stock_alert",
                "http://acme.localhost:8080/admin/catalog/items/i1",
            ),
            (
                "order_confirmation",
                "http://acme.localhost:8080/orders/o1?token=abc123",
            ),
            ("order_shipped", "https://track.example/123"),
            (
                "review_request",
                "http://acme.localhost:8080/orders/o1/review",
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
    fn amounts_print_in_major_units() {
        let r = render("abandoned_cart", &context()).unwrap();
        assert!(r.text.contains("2 × Tea <green>  19.98 EUR"), "{}", r.text);
        assert!(r.html.contains("Tea &lt;green&gt;"), "{}", r.html);
    }

    #[test]
    fn a_missing_variable_is_an_error() {
        assert!(render("admin_password_reset", &serde_json::json!({})).is_err());
    }
}
