//! Paged lists: the `page` and `limit` query parameters every list takes, and the body a paged
//! list answers with. Their bounds and defaults are defined here once and are in the OpenAPI
//! document as each parameter's `minimum`, `maximum` and `default`.

use std::borrow::Cow;

use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};

/// A page of a list, with where it sits in the whole.
#[derive(Object)]
pub struct Page<T: ParseFromJSON + ToJSON + Send + Sync> {
    pub items: Vec<T>,
    pub page: u64,
    pub limit: u64,
    pub total: u64,
}

impl<T: ParseFromJSON + ToJSON + Send + Sync> Page<T> {
    pub fn new(items: Vec<T>, page: PageNumber, limit: PageSize, total: u64) -> Self {
        Page {
            items,
            page: page.0,
            limit: limit.0,
            total,
        }
    }
}

/// `?page=`: which page, from 1; 1 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber(pub u64);

/// `?limit=`: items per page; 20 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(pub u64);

impl PageNumber {
    pub const DEFAULT: u64 = 1;
    pub const MAX: u64 = 10_000;
}

impl PageSize {
    pub const DEFAULT: u64 = 20;
    pub const MAX: u64 = 100;
}

/// A query parameter holding a whole number in `1..=max`, `default` when absent.
macro_rules! bounded_parameter {
    ($ty:ident, $name:literal, $description:literal) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = false;
            type RawValueType = u64;
            type RawElementValueType = u64;

            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn schema_ref() -> MetaSchemaRef {
                let mut schema = MetaSchema::new_with_format("integer", "uint64");
                schema.minimum = Some(1.0);
                schema.maximum = Some($ty::MAX as f64);
                schema.default = Some($ty::DEFAULT.into());
                schema.description = Some($description);
                MetaSchemaRef::Inline(Box::new(schema))
            }

            fn as_raw_value(&self) -> Option<&u64> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a u64> + 'a> {
                Box::new(std::iter::once(&self.0))
            }
        }

        impl ParseFromParameter for $ty {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                match value.parse::<u64>() {
                    Ok(n) if (1..=$ty::MAX).contains(&n) => Ok($ty(n)),
                    _ => Err(ParseError::custom(format!(
                        "must be a whole number from 1 to {}",
                        $ty::MAX
                    ))),
                }
            }

            fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
                iter: I,
            ) -> ParseResult<Self> {
                match iter.into_iter().next() {
                    Some(value) => Self::parse_from_parameter(value.as_ref()),
                    None => Ok($ty($ty::DEFAULT)),
                }
            }
        }
    };
}

bounded_parameter!(PageNumber, "PageNumber", "Which page, from 1.");
bounded_parameter!(PageSize, "PageSize", "Items per page.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_parameters_take_their_defaults() {
        let none: [&str; 0] = [];
        assert_eq!(
            PageNumber::parse_from_parameters(none).unwrap(),
            PageNumber(1)
        );
        assert_eq!(PageSize::parse_from_parameters(none).unwrap(), PageSize(20));
    }

    #[test]
    fn values_outside_the_bounds_are_refused() {
        for bad in ["0", "-1", "101", "x", "", "1.5"] {
            assert!(PageSize::parse_from_parameter(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PageSize::parse_from_parameter("100").unwrap(),
            PageSize(100)
        );
        assert!(PageNumber::parse_from_parameter("10001").is_err());
        assert_eq!(
            PageNumber::parse_from_parameter("10000").unwrap(),
            PageNumber(10_000)
        );
    }
}
