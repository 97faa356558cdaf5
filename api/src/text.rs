//! The one rule for text in requests: no control characters but tab, line feed and carriage
//! return. A NUL cannot be stored by Postgres, and the others make no sense in a shop's data.
//! `JsonBody` and the query check enforce it; `routes::Documented` writes it into every string
//! schema of the document as [`PATTERN`].

use serde_json::Value;

use crate::problem::FieldError;

/// The rule as a JSON Schema pattern (ECMA-262).
pub const PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$";

pub fn is_forbidden(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// The first string or member name in `value` that breaks the rule, named by its path.
pub fn find_forbidden(value: &Value, path: &str) -> Option<FieldError> {
    let here = || FieldError {
        field: path_or_body(path),
        message: "must not contain control characters (such as NUL)".into(),
    };
    match value {
        Value::String(s) => s.chars().any(is_forbidden).then(here),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_forbidden(item, &format!("{path}[{i}]"))),
        Value::Object(members) => members.iter().find_map(|(name, member)| {
            let field = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            if name.chars().any(is_forbidden) {
                return Some(FieldError {
                    field: path_or_body(path),
                    message: "a member name contains control characters".into(),
                });
            }
            find_forbidden(member, &field)
        }),
        _ => None,
    }
}

fn path_or_body(path: &str) -> String {
    if path.is_empty() {
        "body".into()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn control_characters_are_found_by_path() {
        let body =
            json!({"name": "ok\ttab\nline", "lines": [{"note": "fine"}, {"note": "nul\u{0}"}]});
        assert_eq!(find_forbidden(&body, "").unwrap().field, "lines[1].note");
        assert!(find_forbidden(&json!({"name": "bell\u{7}"}), "").is_some());
        assert!(find_forbidden(&json!({"a\u{0}": 1}), "").is_some());
        assert!(find_forbidden(&json!({"name": "Grüße, 東京"}), "").is_none());
    }

    #[test]
    fn the_pattern_says_what_the_check_does() {
        // The pattern excludes exactly the characters `is_forbidden` names.
        let excluded: Vec<u32> = (0..0x80)
            .filter(|c| is_forbidden(char::from_u32(*c).unwrap()))
            .collect();
        let mut expected: Vec<u32> = (0x00..=0x08)
            .chain([0x0B, 0x0C])
            .chain(0x0E..=0x1F)
            .collect();
        expected.push(0x7F);
        assert_eq!(excluded, expected);
        assert!(PATTERN.contains("\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F"));
    }
}
