//! The documented routes, read once from the OpenAPI metadata: the answers the middleware gives
//! on top of each handler's (added to every operation's documentation), and the route table
//! that names a request's route for metrics and lists a path's methods for `405 Allow`.

use std::collections::HashMap;
use std::sync::OnceLock;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem_openapi::OpenApi;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{
    MetaApi, MetaMediaType, MetaOperation, MetaResponse, MetaSchema, MetaSchemaRef, Registry,
};

use crate::problem::ProblemJson;

/// An API set whose documentation also lists what the middleware answers.
pub struct Documented<T>(pub T);

impl<T: OpenApi> OpenApi for Documented<T> {
    fn meta() -> Vec<MetaApi> {
        let mut apis = T::meta();
        for operation in apis
            .iter_mut()
            .flat_map(|api| api.paths.iter_mut())
            .flat_map(|path| path.operations.iter_mut())
        {
            for param in &mut operation.params {
                text_rule(&mut param.schema);
            }
            if operation.request.is_some() {
                add_problem(
                    operation,
                    400,
                    "The body cannot be read, e.g. malformed JSON (answered by the body parser).",
                );
                add_problem(
                    operation,
                    413,
                    "The body is larger than `CARTWHEEL_BODY_LIMIT_BYTES` (answered by the body limit).",
                );
                add_problem(
                    operation,
                    415,
                    "The body's `Content-Type` is missing or not the one documented (answered by the body parser).",
                );
            }
        }
        apis
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
        ProblemJson::register(registry);
        for schema in registry.schemas.values_mut() {
            text_rule_in(schema);
        }
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        self.0.add_routes(route_table)
    }
}

/// Writes `text::PATTERN` into a plain string schema (no format, enum or pattern of its own)
/// and into the string members and items of an inline one.
fn text_rule(schema: &mut MetaSchemaRef) {
    if let MetaSchemaRef::Inline(schema) = schema {
        text_rule_in(schema);
    }
}

fn text_rule_in(schema: &mut MetaSchema) {
    if schema.ty == "string"
        && schema.format.is_none()
        && schema.enum_items.is_empty()
        && schema.pattern.is_none()
    {
        schema.pattern = Some(crate::text::PATTERN.to_string());
    }
    for (_, property) in &mut schema.properties {
        text_rule(property);
    }
    if let Some(items) = &mut schema.items {
        text_rule(items);
    }
    for part in &mut schema.all_of {
        text_rule(part);
    }
}

fn add_problem(operation: &mut MetaOperation, status: u16, description: &'static str) {
    let responses = &mut operation.responses.responses;
    if responses.iter().any(|r| r.status == Some(status)) {
        return;
    }
    responses.push(MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: ProblemJson::CONTENT_TYPE,
            schema: ProblemJson::schema_ref(),
        }],
        headers: Vec::new(),
    });
}

/// One path template (`/api/v1/store/products/{slug}`) and the methods it answers.
pub struct Route {
    pub template: String,
    segments: Vec<Segment>,
    pub methods: Vec<Method>,
}

enum Segment {
    Static(String),
    Param,
}

/// Every route the application answers: the documented operations, the document and `/docs`.
pub fn table() -> &'static [Route] {
    static TABLE: OnceLock<Vec<Route>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut methods: Vec<(String, Vec<Method>)> = Vec::new();
        let documented = <crate::Apis as OpenApi>::meta()
            .into_iter()
            .flat_map(|api| api.paths)
            .flat_map(|path| {
                let template = path.path;
                path.operations
                    .into_iter()
                    .map(move |op| (template.clone(), op.method))
            });
        let undocumented = [
            ("/api/v1/openapi.json".to_string(), Method::GET),
            ("/docs".to_string(), Method::GET),
        ];
        for (template, method) in documented.chain(undocumented) {
            match methods.iter_mut().find(|(t, _)| *t == template) {
                Some((_, list)) => list.push(method),
                None => methods.push((template, vec![method])),
            }
        }
        methods
            .into_iter()
            .map(|(template, mut methods)| {
                if methods.contains(&Method::GET) {
                    methods.push(Method::HEAD);
                }
                let segments = template
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') || s.starts_with(':') {
                            Segment::Param
                        } else {
                            Segment::Static(s.to_string())
                        }
                    })
                    .collect();
                Route {
                    template,
                    segments,
                    methods,
                }
            })
            .collect()
    })
}

/// The route answering `path`, as the router picks it: a static segment beats a parameter.
pub fn route_of(path: &str) -> Option<&'static Route> {
    let parts: Vec<&str> = path.split('/').collect();
    table()
        .iter()
        .filter(|route| {
            route.segments.len() == parts.len()
                && route.segments.iter().zip(&parts).all(|(s, p)| match s {
                    Segment::Static(s) => s == p,
                    Segment::Param => !p.is_empty(),
                })
        })
        .max_by_key(|route| {
            route
                .segments
                .iter()
                .map(|s| matches!(s, Segment::Static(_)))
                .collect::<Vec<_>>()
        })
}

/// The `Allow` header value for a path: its methods, comma-separated.
pub fn allow_header(path: &str) -> Option<String> {
    route_of(path).map(|route| {
        route
            .methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The metrics label of a request: its route's template, its method if a standard one, so
/// neither unknown paths nor invented methods make new series.
pub fn metric_labels(method: &Method, path: &str) -> (&'static str, &'static str) {
    let route = route_of(path).map_or("unmatched", |r| r.template.as_str());
    let method = match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    (method, route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_matched_as_the_router_does() {
        let import = route_of("/api/v1/store/admin/products/import").unwrap();
        assert_eq!(import.template, "/api/v1/store/admin/products/import");
        assert_eq!(import.methods, [Method::POST]);
        let product = route_of("/api/v1/store/admin/products/0193").unwrap();
        assert_eq!(product.template, "/api/v1/store/admin/products/{id}");
        assert_eq!(
            allow_header("/api/v1/store/admin/products/0193").as_deref(),
            Some("GET, PUT, DELETE, HEAD")
        );
        assert!(route_of("/api/v1/store/admin/products/").is_none());
        assert!(route_of("/wp-admin/x.php").is_none());
    }

    #[test]
    fn metric_labels_are_templates_and_known_methods() {
        assert_eq!(
            metric_labels(
                &Method::POST,
                "/api/v1/admin/jobs/01JDZ6X2Q8M4T9ZK1V3C7B5N2R/retry"
            ),
            ("POST", "/api/v1/admin/jobs/{id}/retry")
        );
        assert_eq!(
            metric_labels(&Method::GET, "/api/v1/store/products/any-slug-at-all"),
            ("GET", "/api/v1/store/products/{slug}")
        );
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(
            metric_labels(&invented, "/wp-admin/x.php"),
            ("other", "unmatched")
        );
    }
}

#[cfg(test)]
mod bounds {
    use cartwheel_domain::carts::MAX_QUANTITY as CART_QUANTITY;
    use cartwheel_domain::catalog::stock::MAX_QUANTITY as STOCK_QUANTITY;
    use cartwheel_domain::money::MAX_PRICE;

    /// The bounds the document states are the domain's own (which the CSV import enforces
    /// too): one definition, written twice only because attributes take literals.
    #[test]
    fn the_documents_bounds_are_the_domains() {
        let spec: serde_json::Value = serde_json::from_str(&crate::openapi().spec()).unwrap();
        let schemas = &spec["components"]["schemas"];
        let bound = |schema: &str, field: &str, key: &str| {
            schemas[schema]["properties"][field][key]
                .as_f64()
                .unwrap_or_else(|| panic!("{schema}.{field} has no {key}")) as i64
        };
        assert_eq!(bound("ItemRequest", "price", "maximum"), MAX_PRICE);
        assert_eq!(
            bound("ItemRequest", "reorderLevel", "maximum"),
            STOCK_QUANTITY
        );
        assert_eq!(
            bound("AdjustmentRequest", "quantity", "maximum"),
            STOCK_QUANTITY
        );
        assert_eq!(
            bound("AdjustmentRequest", "quantity", "minimum"),
            -STOCK_QUANTITY
        );
        assert_eq!(
            bound("TransferRequest", "quantity", "maximum"),
            STOCK_QUANTITY
        );
        assert_eq!(bound("AddRequest", "qty", "maximum"), CART_QUANTITY);
        assert_eq!(bound("QuantityRequest", "qty", "maximum"), CART_QUANTITY);
    }
}
