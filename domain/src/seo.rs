//! What search engines read of a shop: its sitemap (the published products and the categories,
//! with when each last changed) in pages of at most [`URLS_PER_SITEMAP`], an index of the pages
//! when there is more than one, and its robots.txt. URLs are canonical: on the shop's own
//! subdomain (`tenants::url`).

use cartwheel_entity::{TenantId, categories, items, listings};
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// The most URLs one sitemap file may list (sitemaps.org).
pub const URLS_PER_SITEMAP: u64 = 50_000;

/// What `/sitemap.xml` is: the one page of URLs, or the index of the pages.
pub enum Sitemap {
    Urls(String),
    Index(String),
}

/// The shop's sitemap at `/sitemap.xml`: its URLs when they fit in one page, else the index of
/// the pages (`/sitemap.xml?page=N`).
pub async fn sitemap<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    shop_url: &str,
) -> Result<Sitemap, DbErr> {
    let product_count = products(tenant_id).count(db).await?;
    let total = product_count + categories(tenant_id).count(db).await?;
    if total <= URLS_PER_SITEMAP {
        let urls = urls(db, tenant_id, shop_url, 1, product_count).await?;
        return Ok(Sitemap::Urls(urls.unwrap_or_default()));
    }
    let pages = total.div_ceil(URLS_PER_SITEMAP);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for n in 1..=pages {
        xml.push_str(&format!(
            "  <sitemap><loc>{}</loc></sitemap>\n",
            escape(&format!("{shop_url}/sitemap.xml?page={n}"))
        ));
    }
    xml.push_str("</sitemapindex>\n");
    Ok(Sitemap::Index(xml))
}

/// Page `n` (from 1) of the shop's URLs: the published products by slug, then the categories
/// by slug. `None` past the last page (page 1 always exists, empty for an empty shop).
pub async fn page<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    shop_url: &str,
    n: u64,
) -> Result<Option<String>, DbErr> {
    let product_count = products(tenant_id).count(db).await?;
    urls(db, tenant_id, shop_url, n, product_count).await
}

/// Page `n` of the URLs, the shop having `product_count` published products.
async fn urls<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    shop_url: &str,
    n: u64,
    product_count: u64,
) -> Result<Option<String>, DbErr> {
    let offset = (n - 1) * URLS_PER_SITEMAP;
    let mut urls: Vec<(String, DateTime<Utc>)> = Vec::new();
    if offset < product_count {
        let rows: Vec<(String, DateTime<Utc>)> = products(tenant_id)
            .select_only()
            .column(listings::Column::Slug)
            .column(items::Column::UpdatedAt)
            .order_by_asc(listings::Column::Slug)
            .offset(offset)
            .limit(URLS_PER_SITEMAP)
            .into_tuple()
            .all(db)
            .await?;
        urls.extend(
            rows.into_iter()
                .map(|(slug, at)| (format!("{shop_url}/products/{slug}"), at)),
        );
    }
    let room = URLS_PER_SITEMAP - urls.len() as u64;
    if room > 0 {
        let rows: Vec<(String, DateTime<Utc>)> = categories(tenant_id)
            .select_only()
            .columns([categories::Column::Slug, categories::Column::UpdatedAt])
            .order_by_asc(categories::Column::Slug)
            .offset(offset.saturating_sub(product_count))
            .limit(room)
            .into_tuple()
            .all(db)
            .await?;
        urls.extend(
            rows.into_iter()
                .map(|(slug, at)| (format!("{shop_url}/categories/{slug}"), at)),
        );
    }
    if urls.is_empty() && n > 1 {
        return Ok(None);
    }
    let mut xml = String::with_capacity(urls.len() * 120 + 200);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, at) in urls {
        xml.push_str(&format!(
            "  <url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            escape(&loc),
            at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ));
    }
    xml.push_str("</urlset>\n");
    Ok(Some(xml))
}

/// The shop's robots.txt: everything may be crawled but carts, checkout, accounts, the admin
/// and the API, and where the sitemap is.
pub fn robots(shop_url: &str) -> String {
    format!(
        "User-agent: *\n\
         Disallow: /cart\n\
         Disallow: /checkout\n\
         Disallow: /account\n\
         Disallow: /admin\n\
         Disallow: /api/\n\
         \n\
         Sitemap: {shop_url}/sitemap.xml\n"
    )
}

/// What the storefront shows: published listings of active items not deleted.
fn products(tenant_id: TenantId) -> sea_orm::Select<listings::Entity> {
    listings::Entity::find()
        .inner_join(items::Entity)
        .filter(listings::Column::TenantId.eq(tenant_id))
        .filter(listings::Column::Visible.eq(true))
}

fn categories(tenant_id: TenantId) -> sea_orm::Select<categories::Entity> {
    categories::Entity::find().filter(categories::Column::TenantId.eq(tenant_id))
}

/// Text as XML character data.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn robots_keep_crawlers_out_of_carts_and_name_the_sitemap() {
        let robots = super::robots("https://acme.shops.example");
        assert!(robots.contains("Disallow: /checkout\n"));
        assert!(robots.ends_with("Sitemap: https://acme.shops.example/sitemap.xml\n"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(super::escape("a&b<c>'\""), "a&amp;b&lt;c&gt;&apos;&quot;");
    }
}
