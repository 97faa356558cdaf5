//! A postal address, as a customer's address book, a checkout and an order hold it, and the one
//! rule for what a valid one is.

use serde::{Deserialize, Serialize};

use crate::validation::{FieldProblem, check_country, check_length};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    #[serde(default)]
    pub phone: String,
}

/// What a request calls an address's fields: `line1` in an address book entry,
/// `shippingAddress.line1` in a checkout.
pub struct Fields {
    pub name: &'static str,
    pub line1: &'static str,
    pub line2: &'static str,
    pub city: &'static str,
    pub region: &'static str,
    pub postal_code: &'static str,
    pub country: &'static str,
    pub phone: &'static str,
}

impl Fields {
    pub const BARE: Fields = Fields {
        name: "name",
        line1: "line1",
        line2: "line2",
        city: "city",
        region: "region",
        postal_code: "postalCode",
        country: "country",
        phone: "phone",
    };
    pub const SHIPPING: Fields = Fields {
        name: "shippingAddress.name",
        line1: "shippingAddress.line1",
        line2: "shippingAddress.line2",
        city: "shippingAddress.city",
        region: "shippingAddress.region",
        postal_code: "shippingAddress.postalCode",
        country: "shippingAddress.country",
        phone: "shippingAddress.phone",
    };
    pub const BILLING: Fields = Fields {
        name: "billingAddress.name",
        line1: "billingAddress.line1",
        line2: "billingAddress.line2",
        city: "billingAddress.city",
        region: "billingAddress.region",
        postal_code: "billingAddress.postalCode",
        country: "billingAddress.country",
        phone: "billingAddress.phone",
    };
}

/// The address trimmed, its country upper-cased: name, line1, city and postal code are
/// required; every field has its length limit.
pub fn check(mut address: Address, fields: &Fields) -> Result<Address, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut text = |field: &'static str, value: &mut String, max: usize, required: bool| {
        *value = value.trim().to_string();
        if required && value.is_empty() {
            problems.push(FieldProblem::new(
                field,
                format!("must be 1 to {max} characters"),
            ));
        } else if let Err(p) = check_length(field, value, max) {
            problems.push(p);
        }
    };
    text(fields.name, &mut address.name, 200, true);
    text(fields.line1, &mut address.line1, 200, true);
    text(fields.line2, &mut address.line2, 200, false);
    text(fields.city, &mut address.city, 100, true);
    text(fields.region, &mut address.region, 100, false);
    text(fields.postal_code, &mut address.postal_code, 32, true);
    text(fields.phone, &mut address.phone, 32, false);
    match check_country(fields.country, &address.country) {
        Ok(country) => address.country = country,
        Err(p) => problems.push(p),
    }
    if problems.is_empty() {
        Ok(address)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_bad_field_with_its_prefix() {
        let address = Address {
            name: " Ada ".into(),
            line1: "".into(),
            city: "Berlin".into(),
            postal_code: "10115".into(),
            country: "de".into(),
            region: "x".repeat(101),
            ..Address::default()
        };
        let problems = check(address.clone(), &Fields::SHIPPING).unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["shippingAddress.line1", "shippingAddress.region"]);
        let fixed = Address {
            line1: "Unter den Linden 1".into(),
            region: "BE".into(),
            ..address
        };
        let checked = check(fixed, &Fields::BARE).unwrap();
        assert_eq!(
            (checked.name.as_str(), checked.country.as_str()),
            ("Ada", "DE")
        );
    }
}
