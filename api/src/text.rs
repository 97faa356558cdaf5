//! The one rule for text in requests (`cartwheel_domain::validation::is_forbidden`: no control
//! characters but tab, line feed and carriage return) as the API applies it: `JsonBody` and the
//! query check enforce it, and `routes::Documented` writes it into every string schema of the
//! document as [`PATTERN`]. The domain applies it to what arrives otherwise (CSV imports).

pub use cartwheel_domain::validation::{CONTROL_CHARACTERS as MESSAGE, is_forbidden};

/// The rule as a JSON Schema pattern (ECMA-262).
pub const PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$";

#[cfg(test)]
mod tests {
    use super::*;

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
