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

/// A plausible email address: one `@`, a local part, and a dotted domain of DNS labels.
pub fn check_email(field: &'static str, email: &str) -> Result<String, FieldProblem> {
    let email = email.trim().to_ascii_lowercase();
    let invalid = || FieldProblem::new(field, "must be an email address like name@example.com");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if local.is_empty() || local.len() > 64 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(invalid());
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            check_email("e", " Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@-x.com",
        ] {
            assert!(check_email("e", bad).is_err(), "{bad}");
        }
    }
}
