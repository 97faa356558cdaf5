//! What search engines read on a shop's own host: `/sitemap.xml` (its published products and
//! categories, split into pages of 50,000 under an index) and `/robots.txt` (`domain::seo`).

use cartwheel_domain::seo::{self, Sitemap};
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::payload::{Payload, PlainText};
use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use crate::problem::ProblemJson;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

#[derive(Tags)]
enum ApiTags {
    /// The sitemap and robots.txt of a shop, on its host.
    Seo,
}

pub struct SeoApi;

/// An XML document (`application/xml`).
pub struct Xml(pub String);

impl Payload for Xml {
    const CONTENT_TYPE: &'static str = "application/xml; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        content_type.starts_with("application/xml")
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }
}

impl IntoResponse for Xml {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .body(self.0)
    }
}

#[derive(ApiResponse)]
enum SitemapResponse {
    /// The sitemap: a `urlset` of at most 50,000 URLs, or (past that, without `page`) a
    /// `sitemapindex` naming each page.
    #[oai(status = 200)]
    Ok(Xml),
    /// `page` is not a whole number from 1 (answered by the parameter parser).
    #[allow(dead_code)]
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// No such page, or no such shop.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    #[oai(status = 500)]
    Internal(ProblemJson),
}

#[OpenApi(tag = "ApiTags::Seo")]
impl SeoApi {
    /// The shop's sitemap: its published products (`/products/{slug}`) and categories
    /// (`/categories/{slug}`) on its own host, with when each last changed. Past 50,000 URLs it
    /// is an index of pages, each at `/sitemap.xml?page=N`.
    #[oai(path = "/sitemap.xml", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn sitemap(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        page: poem_openapi::param::Query<Option<u64>>,
    ) -> SitemapResponse {
        let shop_url = cartwheel_domain::tenants::url(&state.public_url, &tenant.0.slug);
        let answer = match page.0 {
            None => seo::sitemap(&state.db, tenant.0.id, &shop_url)
                .await
                .map(|s| match s {
                    Sitemap::Urls(xml) | Sitemap::Index(xml) => Some(xml),
                }),
            Some(n) => seo::page(&state.db, tenant.0.id, &shop_url, n).await,
        };
        match answer {
            Ok(Some(xml)) => SitemapResponse::Ok(Xml(xml)),
            Ok(None) => {
                SitemapResponse::NotFound(ProblemJson::not_found("The sitemap has no such page."))
            }
            Err(e) => SitemapResponse::Internal(ProblemJson::internal(&e)),
        }
    }

    /// The shop's robots.txt: carts, checkout, accounts, the admin and the API are not to be
    /// crawled; it names the sitemap.
    #[oai(path = "/robots.txt", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn robots(&self, state: Data<&AppState>, tenant: CurrentTenant) -> PlainText<String> {
        let shop_url = cartwheel_domain::tenants::url(&state.public_url, &tenant.0.slug);
        PlainText(seo::robots(&shop_url))
    }
}
