//! What search engines read of a shop: its sitemap (the published products and the categories,
//! with when each last changed) in pages of at most [`URLS_PER_SITEMAP`], an index of the pages
//! when there is more than one, its robots.txt, and each product's title, meta description,
//! Open Graph tags and `schema.org/Product` data ([`product`]). URLs are canonical: on the
//! shop's own subdomain (`tenants::url`).

use cartwheel_entity::{TenantId, categories, items, listings};
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::catalog::store::ProductPage;

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
                .map(|(slug, at)| (product_url(shop_url, &slug), at)),
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

/// A product's canonical address.
pub fn product_url(shop_url: &str, slug: &str) -> String {
    format!("{shop_url}/products/{slug}")
}

/// The longest meta description derived from a product's texts; longer ones are cut at a word.
pub const DESCRIPTION_LENGTH: usize = 160;

/// What a product's page tells search engines and link previews.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductSeo {
    /// The admin's `seo_title`, or `{name} | {shop name}`.
    pub title: String,
    /// The admin's `seo_description`, or the short description (else the long one, else the
    /// name) on one line, cut to [`DESCRIPTION_LENGTH`] characters.
    pub description: String,
    pub canonical_url: String,
    /// `og:*` and `product:*` meta tags as (property, content), in the order to render them.
    pub open_graph: Vec<(&'static str, String)>,
    pub json_ld: ProductData,
}

/// A `schema.org/Product` with its one `Offer`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductData {
    pub name: String,
    pub sku: String,
    pub description: String,
    /// Every image URL.
    pub image: Vec<String>,
    pub url: String,
    /// The category's name, if the product is in one.
    pub category: Option<String>,
    /// The price in major units as a decimal (`19.99`), as the storefront shows it.
    pub price: String,
    pub price_currency: String,
    /// Whether `price` includes tax (the shop's `pricesIncludeTax`).
    pub tax_included: bool,
    /// `https://schema.org/InStock` or `https://schema.org/OutOfStock`.
    pub availability: &'static str,
}

/// The search-engine data of a published product's page, of the shop called `shop_name` at
/// `shop_url`.
pub fn product(page: &ProductPage, shop_name: &str, shop_url: &str) -> ProductSeo {
    let product = &page.product;
    let (item, listing) = (&product.detail.item, &product.detail.listing);
    let title = listing
        .seo_title
        .clone()
        .unwrap_or_else(|| format!("{} | {shop_name}", item.name));
    let description = listing.seo_description.clone().unwrap_or_else(|| {
        let source = [&listing.short_description, &listing.long_description]
            .into_iter()
            .find(|text| !text.trim().is_empty())
            .unwrap_or(&item.name);
        shorten(source, DESCRIPTION_LENGTH)
    });
    let url = product_url(shop_url, &listing.slug);
    let images = product.detail.images();
    let price = crate::money::decimal(item.price, &page.currency);
    let in_stock = product.detail.in_stock();
    let mut open_graph = vec![
        ("og:type", "product".to_string()),
        ("og:title", title.clone()),
        ("og:description", description.clone()),
        ("og:url", url.clone()),
        ("og:site_name", shop_name.to_string()),
    ];
    if let Some(image) = images.first() {
        open_graph.push(("og:image", image.url.clone()));
        open_graph.push(("og:image:alt", image.alt.clone()));
    }
    open_graph.extend([
        ("product:price:amount", price.clone()),
        ("product:price:currency", page.currency.clone()),
        (
            "product:availability",
            if in_stock { "in stock" } else { "out of stock" }.to_string(),
        ),
    ]);
    ProductSeo {
        json_ld: ProductData {
            name: item.name.clone(),
            sku: item.sku.clone(),
            description: description.clone(),
            image: images.into_iter().map(|i| i.url).collect(),
            url: url.clone(),
            category: product.category_name.clone(),
            price,
            price_currency: page.currency.clone(),
            tax_included: page.prices_include_tax,
            availability: if in_stock {
                "https://schema.org/InStock"
            } else {
                "https://schema.org/OutOfStock"
            },
        },
        title,
        description,
        canonical_url: url,
        open_graph,
    }
}

/// `text` on one line (runs of whitespace as one space), cut to at most `max` characters at
/// the last word that fits, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max - 1).collect();
    let ends_a_word = line.chars().nth(max - 1) == Some(' ');
    let at_word = match cut.rfind(' ') {
        _ if ends_a_word => cut.as_str(),
        Some(space) if space > 0 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end_matches([',', ';', ':', '.', ' ']))
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
    fn derived_descriptions_are_one_line_cut_at_a_word() {
        assert_eq!(
            super::shorten("  Fresh\n\tgreen  tea ", 160),
            "Fresh green tea"
        );
        let long = "word ".repeat(50);
        let short = super::shorten(&long, 160);
        assert!(short.chars().count() <= 160, "{short}");
        assert!(short.ends_with("word…"), "{short}");
        assert_eq!(super::shorten("aaaa bbbb cccc", 10), "aaaa bbbb…");
        let unbroken = "x".repeat(200);
        assert_eq!(super::shorten(&unbroken, 10), format!("{}…", "x".repeat(9)));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(super::escape("a&b<c>'\""), "a&amp;b&lt;c&gt;&apos;&quot;");
    }
}
