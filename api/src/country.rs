//! `Country`: an ISO 3166-1 alpha-2 code in a request or answer; the document lists every code
//! as the `Country` schema's enum, so a client (and the contract run) knows which it may send.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// An upper-case ISO 3166-1 alpha-2 code, such as `DE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Country(pub String);

impl Type for Country {
    const IS_REQUIRED: bool = true;

    type RawValueType = Self;

    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "Country".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |_| MetaSchema {
            description: Some("An ISO 3166-1 alpha-2 country code, upper case."),
            enum_items: cartwheel_domain::validation::countries()
                .iter()
                .map(|c| Value::String(c.clone()))
                .collect(),
            ..MetaSchema::new("string")
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for Country {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(code)
                if cartwheel_domain::validation::countries()
                    .binary_search(&code)
                    .is_ok() =>
            {
                Ok(Country(code))
            }
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Country {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}
