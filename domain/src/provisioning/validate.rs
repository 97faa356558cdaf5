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

/// A currency of ISO 4217 (the `iso_currency` crate's list), uppercased.
pub fn check_currency(field: &'static str, currency: &str) -> Result<String, FieldProblem> {
    let currency = currency.trim().to_ascii_uppercase();
    match iso_currency::Currency::from_code(&currency) {
        Some(known) => Ok(known.code().to_string()),
        None => Err(FieldProblem::new(
            field,
            "must be an ISO 4217 currency code like USD",
        )),
    }
}

/// A zone of the IANA time zone database (the `chrono-tz` crate's copy), like `Europe/Berlin`
/// or `UTC`, by its canonical name or an alias.
pub fn check_timezone(field: &'static str, timezone: &str) -> Result<String, FieldProblem> {
    let timezone = timezone.trim();
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(_) => Ok(timezone.to_string()),
        Err(_) => Err(FieldProblem::new(
            field,
            "must be an IANA time zone like Europe/Berlin, or UTC",
        )),
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
        // The shape of a code is not enough: these are no currencies.
        assert!(check_currency("c", "ABC").is_err());
        assert!(check_currency("c", "XYZ").is_err());
        assert_eq!(check_currency("c", "jpy").unwrap(), "JPY");
        assert!(check_timezone("t", "Europe/Berlin").is_ok());
        assert!(check_timezone("t", "America/Argentina/Buenos_Aires").is_ok());
        assert!(check_timezone("t", "UTC").is_ok());
        assert!(check_timezone("t", "Berlin").is_err());
        // Shaped like a zone, but not one.
        assert!(check_timezone("t", "Europe/Atlantis").is_err());
        assert!(check_timezone("t", "Mars/Olympus_Mons").is_err());
    }
}
