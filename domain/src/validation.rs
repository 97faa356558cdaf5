//! Field-level validation results, named the way API clients name the fields.

/// One invalid field: `field` is the request's own (camelCase) name for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Text in a shop's data holds no control characters but tab, line feed and carriage return:
/// a NUL cannot be stored by Postgres, and the others make no sense in a shop.
pub fn is_forbidden(c: char) -> bool {
    c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// What a field holding a forbidden character is told.
pub const CONTROL_CHARACTERS: &str = "must not contain control characters (such as NUL)";

/// `text` has at most `max` characters and none forbidden.
pub fn check_length(field: &'static str, text: &str, max: usize) -> Result<(), FieldProblem> {
    if text.chars().any(is_forbidden) {
        return Err(FieldProblem::new(field, CONTROL_CHARACTERS));
    }
    if text.chars().count() > max {
        return Err(FieldProblem::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Every ISO 3166-1 alpha-2 code, in order (as `check_country` takes them).
pub fn countries() -> &'static [String] {
    static CODES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let letters = b'A'..=b'Z';
        letters
            .clone()
            .flat_map(|a| {
                letters
                    .clone()
                    .map(move |b| String::from_utf8(vec![a, b]).unwrap())
            })
            .filter(|code| check_country("country", code).is_ok())
            .collect()
    });
    &CODES
}

/// A country of ISO 3166-1 by its alpha-2 code (the list of the `iso_country` crate, which
/// `iso_currency` brings), trimmed and uppercased.
pub fn check_country(field: &'static str, country: &str) -> Result<String, FieldProblem> {
    let country = country.trim().to_ascii_uppercase();
    match country.parse::<iso_currency::Country>() {
        Ok(c) if c != iso_currency::Country::Unspecified => Ok(country),
        _ => Err(FieldProblem::new(
            field,
            "must be an ISO 3166-1 alpha-2 country code like DE",
        )),
    }
}

/// An email address (RFC 5321/5322 by `email_address`), trimmed and lowercased: a domain with a
/// top-level label, no domain literal or display name, and no whitespace or control characters
/// (the address goes into mail headers), and an ASCII letters-digits-hyphens domain.
pub fn check_email(field: &'static str, email: &str) -> Result<String, FieldProblem> {
    let email = email.trim().to_ascii_lowercase();
    let invalid = || FieldProblem::new(field, "must be an email address like name@example.com");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let options = email_address::Options::default()
        .with_required_tld()
        .without_domain_literal()
        .without_display_text();
    let parsed =
        email_address::EmailAddress::parse_with_options(&email, options).map_err(|_| invalid())?;
    // RFC 5321 domains are letters, digits and hyphens; the crate also lets `_` through.
    if !parsed
        .domain()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(invalid());
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_iso_3166_alpha_2_codes() {
        assert_eq!(check_country("c", " de ").unwrap(), "DE");
        assert_eq!(check_country("c", "US").unwrap(), "US");
        assert!(check_country("c", "XX").is_err());
        assert!(check_country("c", "DEU").is_err());
        assert!(check_country("c", "").is_err());
        assert_eq!(countries().len(), 249);
        assert!(countries().iter().any(|c| c == "DE"));
    }

    #[test]
    fn emails() {
        assert_eq!(
            check_email("e", " Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for good in ["o'brien+shop@example.co.uk", "a.b-c@x-y.example"] {
            assert_eq!(check_email("e", good).unwrap(), good);
        }
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@-x.com",
            "ann@[192.0.2.1]",
            "Ann <ann@example.com>",
            "ann@exa_mple.com",
        ] {
            assert!(check_email("e", bad).is_err(), "{bad}");
        }
    }
}
