//! `JsonBody<T>`: a JSON request body whose errors are problem+json naming the rejected field.
//!
//! poem-openapi's own `Json<T>` reports type errors without saying which field failed; this
//! payload walks the request against `T`'s OpenAPI schema to name it.

use poem::http::StatusCode;
use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, Type};
use serde_json::Value;

use crate::problem::{FieldError, ProblemJson};

/// A JSON request body; use it instead of `poem_openapi::payload::Json` for requests.
pub struct JsonBody<T>(pub T);

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m)
            if m.type_() == "application" && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = <Vec<u8> as poem::FromRequest>::from_request(request, body).await?;
        parse(&bytes).map(JsonBody)
    }
}

/// `T` from a JSON body, or the problem naming what is wrong with it.
fn parse<T: ParseFromJSON>(bytes: &[u8]) -> poem::Result<T> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ProblemJson::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            format!("The request body is not valid JSON: {e}"),
        )
        .into_error()
    })?;
    let mut registry = Registry::new();
    T::register(&mut registry);
    // poem-openapi would take `0` or `false` for a string; the document says string, so
    // types and `crate::text`'s rule are checked against it first, then the validators
    // while parsing.
    let schema = T::schema_ref();
    if let Some(error) = find_mismatch(&value, &schema, &registry, "") {
        return Err(ProblemJson::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            format!("The request body has an invalid field: {}.", error.field),
        )
        .with_errors(vec![error])
        .into_error());
    }
    T::parse_from_json(Some(value.clone()))
        .map_err(|e| rejected::<T>(&value, &e.into_message()).into_error())
}

/// A JSON request body the client may leave out: no body at all is `None`; a body is read as
/// `JsonBody` reads it, and needs the JSON `Content-Type`.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T: Type> Payload for OptionalJsonBody<T> {
    const CONTENT_TYPE: &'static str = JsonBody::<T>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        JsonBody::<T>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for OptionalJsonBody<T> {
    const IS_REQUIRED: bool = false;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = <Vec<u8> as poem::FromRequest>::from_request(request, body).await?;
        if bytes.is_empty() {
            return Ok(OptionalJsonBody(None));
        }
        match request.content_type() {
            Some(content_type) if Self::check_content_type(content_type) => {
                parse(&bytes).map(|value| OptionalJsonBody(Some(value)))
            }
            Some(content_type) => Err(poem_openapi::error::ContentTypeError::NotSupported {
                content_type: content_type.to_string(),
            }
            .into()),
            None => Err(poem_openapi::error::ContentTypeError::ExpectContentType.into()),
        }
    }
}

impl<'a, T: ParseFromJSON> poem_openapi::ApiExtractor<'a> for OptionalJsonBody<T> {
    const TYPES: &'static [poem_openapi::ApiExtractorType] =
        &[poem_openapi::ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<poem_openapi::registry::MetaRequest> {
        Some(poem_openapi::registry::MetaRequest {
            description: None,
            content: vec![poem_openapi::registry::MetaMediaType {
                content_type: Self::CONTENT_TYPE,
                schema: Self::schema_ref(),
            }],
            required: false,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        <Self as ParsePayload>::from_request(request, body).await
    }
}

poem_openapi::impl_apirequest_for_payload!(JsonBody<T>, T: ParseFromJSON);

/// A 422 naming the first field that does not fit `T`'s schema.
fn rejected<T: Type>(value: &Value, message: &str) -> ProblemJson {
    let mut registry = Registry::new();
    T::register(&mut registry);
    let error = named_in_message(message)
        .map(|field| FieldError {
            // A nested object's validator names only its own field: find where it sits.
            field: parsed_type(message)
                .and_then(|ty| locate(value, &T::schema_ref(), &registry, "", ty, &field))
                .unwrap_or(field),
            message: message.to_string(),
        })
        .or_else(|| find_mismatch(value, &T::schema_ref(), &registry, ""))
        .unwrap_or_else(|| FieldError {
            field: "body".into(),
            message: message.to_string(),
        });
    ProblemJson::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        format!("The request body has an invalid field: {}.", error.field),
    )
    .with_errors(vec![error])
}

/// Validators and unknown-field checks name their field as ``field `name` `` in the message.
pub fn named_in_message(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

/// The type a message says failed first: `failed to parse "ListingRequest": …`.
fn parsed_type(message: &str) -> Option<&str> {
    let start = message.find("failed to parse \"")? + "failed to parse \"".len();
    let len = message[start..].find('"')?;
    Some(&message[start..start + len])
}

/// The path of `field` inside the first object of schema `ty` in `value`.
fn locate(
    value: &Value,
    schema: &MetaSchemaRef,
    registry: &Registry,
    path: &str,
    ty: &str,
    field: &str,
) -> Option<String> {
    if let MetaSchemaRef::Reference(name) = schema
        && name == ty
    {
        return Some(join(path, field));
    }
    let schema = resolve(schema, registry)?;
    if let Some(found) = schema
        .all_of
        .iter()
        .find_map(|part| locate(value, part, registry, path, ty, field))
    {
        return Some(found);
    }
    match value {
        Value::Object(object) => schema.properties.iter().find_map(|(name, property)| {
            locate(
                object.get(*name)?,
                property,
                registry,
                &join(path, name),
                ty,
                field,
            )
        }),
        Value::Array(items) => {
            let item_schema = schema.items.as_deref()?;
            items.iter().enumerate().find_map(|(i, item)| {
                locate(
                    item,
                    item_schema,
                    registry,
                    &format!("{path}[{i}]"),
                    ty,
                    field,
                )
            })
        }
        _ => None,
    }
}

fn resolve<'a>(schema: &'a MetaSchemaRef, registry: &'a Registry) -> Option<&'a MetaSchema> {
    match schema {
        MetaSchemaRef::Inline(schema) => Some(schema),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The first place where `value` breaks the schema: a missing required field, a wrong type,
/// or text with control characters (undeclared members are ignored, as the parser ignores them).
fn find_mismatch(
    value: &Value,
    schema: &MetaSchemaRef,
    registry: &Registry,
    path: &str,
) -> Option<FieldError> {
    let schema = resolve(schema, registry)?;
    let here = |message: String| {
        Some(FieldError {
            field: if path.is_empty() {
                "body".into()
            } else {
                path.to_string()
            },
            message,
        })
    };
    if value.is_null() {
        return (!schema.nullable)
            .then(|| here("must not be null".into()))
            .flatten();
    }
    for part in &schema.all_of {
        if let Some(found) = find_mismatch(value, part, registry, path) {
            return Some(found);
        }
    }
    if !schema.enum_items.is_empty() && !schema.enum_items.contains(value) {
        let allowed: Vec<String> = schema.enum_items.iter().map(Value::to_string).collect();
        return here(format!("must be one of {}", allowed.join(", ")));
    }
    match schema.ty {
        "object" => {
            let Some(object) = value.as_object() else {
                return here("must be an object".into());
            };
            for name in &schema.required {
                if object.get(*name).is_none_or(Value::is_null) {
                    return Some(FieldError {
                        field: join(path, name),
                        message: "is required".into(),
                    });
                }
            }
            schema.properties.iter().find_map(|(name, property)| {
                let field = object.get(*name)?;
                find_mismatch(field, property, registry, &join(path, name))
            })
        }
        "array" => {
            let Some(items) = value.as_array() else {
                return here("must be an array".into());
            };
            let item_schema = schema.items.as_deref()?;
            items.iter().enumerate().find_map(|(i, item)| {
                find_mismatch(item, item_schema, registry, &format!("{path}[{i}]"))
            })
        }
        "string" => match value.as_str() {
            None => here("must be a string".into()),
            Some(s) if s.chars().any(crate::text::is_forbidden) => {
                here(crate::text::MESSAGE.into())
            }
            Some(_) => None,
        },
        "boolean" if !value.is_boolean() => here("must be true or false".into()),
        "number" if !value.is_number() => here("must be a number".into()),
        "integer" => integer_mismatch(value, schema.format).and_then(here),
        _ => None,
    }
}

fn integer_mismatch(value: &Value, format: Option<&str>) -> Option<String> {
    let Some(n) = value
        .as_i64()
        .map(i128::from)
        .or(value.as_u64().map(i128::from))
    else {
        return Some("must be a whole number".into());
    };
    let (min, max): (i128, i128) = match format {
        Some("int8") => (i8::MIN.into(), i8::MAX.into()),
        Some("uint8") => (0, u8::MAX.into()),
        Some("int16") => (i16::MIN.into(), i16::MAX.into()),
        Some("uint16") => (0, u16::MAX.into()),
        Some("int32") => (i32::MIN.into(), i32::MAX.into()),
        Some("uint32") => (0, u32::MAX.into()),
        Some("uint64") => (0, u64::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    };
    (n < min || n > max).then(|| format!("must be a whole number from {min} to {max}"))
}

#[cfg(test)]
mod tests {
    use poem_openapi::Object;
    use serde_json::json;

    use super::*;

    #[derive(Object)]
    struct Line {
        qty: u32,
        #[oai(default, validator(max_length = 3))]
        code: String,
    }

    #[derive(Object)]
    struct Order {
        #[oai(validator(max_length = 5))]
        note: String,
        lines: Vec<Line>,
        #[oai(nullable)]
        gift: Option<bool>,
    }

    fn field_for(value: Value) -> String {
        let message = Order::parse_from_json(Some(value.clone()))
            .err()
            .unwrap_or_else(|| panic!("accepted: {value}"))
            .into_message();
        rejected::<Order>(&value, &message).0.errors[0]
            .field
            .clone()
    }

    #[test]
    fn names_missing_wrongly_typed_and_nested_fields() {
        assert_eq!(field_for(json!({"lines": []})), "note");
        assert_eq!(field_for(json!({"note": ["x"], "lines": []})), "note");
        assert_eq!(field_for(json!({"note": "too long!", "lines": []})), "note");
        assert_eq!(
            field_for(json!({"note": "ok", "lines": [{"qty": 1}, {"qty": -1}]})),
            "lines[1].qty"
        );
        assert_eq!(
            field_for(json!({"note": "ok", "lines": [], "gift": "yes"})),
            "gift"
        );
        assert_eq!(
            field_for(json!({"note": "ok", "lines": [{"qty": 1, "code": "toolong"}]})),
            "lines[0].code"
        );
        assert_eq!(field_for(json!([1, 2])), "body");
    }

    #[test]
    fn accepts_a_valid_body() {
        assert!(Order::parse_from_json(Some(json!({"note": "ok", "lines": [{"qty": 2}]}))).is_ok());
    }
}
