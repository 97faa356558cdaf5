//! Checks a signup request field by field.

use crate::accounts::password;
use crate::validation::{FieldProblem, check_email};

/// Subdomains the platform keeps for itself.
pub const RESERVED: &[&str] = &[
    "www",
    "api",
    "admin",
    "app",
    "apps",
    "auth",
    "login",
    "account",
    "accounts",
    "billing",
    "blog",
    "cdn",
    "docs",
    "help",
    "mail",
    "smtp",
    "imap",
    "pop",
    "ftp",
    "ns1",
    "ns2",
    "static",
    "assets",
    "media",
    "status",
    "support",
    "dashboard",
    "metrics",
    "health",
    "traefik",
    "localhost",
    "root",
    "system",
    "platform",
    "cartwheel",
];

/// A DNS label of 3–63 characters from a–z, 0–9 and '-' (not first or last), not reserved.
/// Input is trimmed and lowercased first.
pub fn check_domain(field: &'static str, domain: &str) -> Result<String, FieldProblem> {
    let domain = domain.trim().to_ascii_lowercase();
    let length = domain.chars().count();
    if !(3..=63).contains(&length) {
        return Err(FieldProblem::new(field, "must be 3 to 63 characters long"));
    }
    if !domain
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(FieldProblem::new(
            field,
            "may contain only letters a-z, digits 0-9 and '-'",
        ));
    }
    if domain.starts_with('-') || domain.ends_with('-') {
        return Err(FieldProblem::new(field, "must not start or end with '-'"));
    }
    if RESERVED.contains(&domain.as_str()) {
        return Err(FieldProblem::new(field, format!("`{domain}` is reserved")));
    }
    Ok(domain)
}

/// A three-letter ISO 4217 code, uppercase.
pub fn check_currency(field: &'static str, currency: &str) -> Result<String, FieldProblem> {
    let currency = currency.trim().to_ascii_uppercase();
    if currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(currency)
    } else {
        Err(FieldProblem::new(
            field,
            "must be a three-letter ISO 4217 code like USD",
        ))
    }
}

/// An IANA zone name like `Europe/Berlin`, or `UTC`. Only its shape is checked.
pub fn check_timezone(field: &'static str, timezone: &str) -> Result<String, FieldProblem> {
    let timezone = timezone.trim();
    let shape_ok = timezone == "UTC"
        || (timezone.contains('/')
            && timezone.len() <= 64
            && timezone.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))
            }));
    if shape_ok {
        Ok(timezone.to_string())
    } else {
        Err(FieldProblem::new(
            field,
            "must be an IANA time zone like Europe/Berlin, or UTC",
        ))
    }
}

pub fn check_business_name(field: &'static str, name: &str) -> Result<String, FieldProblem> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldProblem::new(field, "must not be empty"));
    }
    if name.chars().count() > 200 {
        return Err(FieldProblem::new(field, "must be at most 200 characters"));
    }
    Ok(name.to_string())
}

pub fn check_owner_email(field: &'static str, email: &str) -> Result<String, FieldProblem> {
    check_email(field, email)
}

pub fn check_owner_password(field: &'static str, password: &str) -> Result<(), FieldProblem> {
    password::check_strength(field, password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(check_domain("d", " My-Shop1 ").unwrap(), "my-shop1");
        for bad in [
            "ab",
            "www",
            "api",
            "admin",
            "-shop",
            "shop-",
            "my_shop",
            "my.shop",
            &"a".repeat(64),
        ] {
            assert!(check_domain("d", bad).is_err(), "{bad}");
        }
        assert!(check_domain("d", &"a".repeat(63)).is_ok());
    }

    #[test]
    fn currencies_and_timezones() {
        assert_eq!(check_currency("c", "eur").unwrap(), "EUR");
        assert!(check_currency("c", "EURO").is_err());
        assert!(check_timezone("t", "Europe/Berlin").is_ok());
        assert!(check_timezone("t", "America/Argentina/Buenos_Aires").is_ok());
        assert!(check_timezone("t", "Berlin").is_err());
    }
}
