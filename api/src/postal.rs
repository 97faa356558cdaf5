//! A postal address in requests and answers (checkout and orders), as `domain::postal` has it.

use cartwheel_domain::postal::Address;
use poem_openapi::Object;

use crate::country::Country;

#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct PostalAddress {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub line1: String,
    #[oai(default, validator(max_length = 200))]
    pub line2: String,
    #[oai(validator(min_length = 1, max_length = 100))]
    pub city: String,
    /// A state, province or county; tax rules for a region of the country match it.
    #[oai(default, validator(max_length = 100))]
    pub region: String,
    #[oai(validator(min_length = 1, max_length = 32))]
    pub postal_code: String,
    pub country: Country,
    #[oai(default, validator(max_length = 32))]
    pub phone: String,
}

impl From<PostalAddress> for Address {
    fn from(a: PostalAddress) -> Self {
        Address {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country.0,
            phone: a.phone,
        }
    }
}

impl From<Address> for PostalAddress {
    fn from(a: Address) -> Self {
        PostalAddress {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: Country(a.country),
            phone: a.phone,
        }
    }
}

/// An address an order keeps as JSON, read back.
pub fn from_json(json: &serde_json::Value) -> PostalAddress {
    serde_json::from_value::<Address>(json.clone())
        .unwrap_or_default()
        .into()
}
