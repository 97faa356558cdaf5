//! A product's search-engine data as the single-product answer carries it (`domain::seo`):
//! ready for a front end to render as `<title>`, meta tags and JSON-LD.

use cartwheel_domain::seo::{ProductData, ProductSeo};
use poem_openapi::{Enum, Object};

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ProductSeoView {
    /// For `<title>`: the admin's SEO title, or `{name} | {shop name}`.
    title: String,
    /// For `<meta name="description">`: the admin's SEO description, or the product's short
    /// description (else its long one, else its name) on one line, at most 160 characters.
    description: String,
    /// For `<link rel="canonical">`: the product on the shop's own host.
    canonical_url: String,
    /// For `<meta property="…" content="…">`: `og:type`, `og:title`, `og:description`,
    /// `og:url`, `og:site_name`, `og:image` and `og:image:alt` when the product has an image,
    /// `product:price:amount`, `product:price:currency` and `product:availability`.
    open_graph: Vec<MetaTag>,
    /// For `<script type="application/ld+json">`: a `schema.org/Product` with its offer.
    json_ld: ProductJsonLd,
}

#[derive(Object)]
pub struct MetaTag {
    property: String,
    content: String,
}

#[derive(Enum)]
enum Context {
    #[oai(rename = "https://schema.org")]
    SchemaOrg,
}

#[derive(Enum)]
enum ProductType {
    Product,
}

#[derive(Enum)]
enum OfferType {
    Offer,
}

#[derive(Enum)]
enum PriceSpecificationType {
    UnitPriceSpecification,
}

#[derive(Object)]
struct ProductJsonLd {
    #[oai(rename = "@context")]
    context: Context,
    #[oai(rename = "@type")]
    kind: ProductType,
    name: String,
    sku: String,
    description: String,
    /// Every image's URL.
    image: Vec<String>,
    url: String,
    /// The product's category by name; absent when it has none.
    #[oai(skip_serializing_if_is_none)]
    category: Option<String>,
    offers: OfferJsonLd,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct OfferJsonLd {
    #[oai(rename = "@type")]
    kind: OfferType,
    /// In major units, as a decimal string (`19.99`).
    price: String,
    /// ISO 4217.
    price_currency: String,
    /// `https://schema.org/InStock` or `https://schema.org/OutOfStock`.
    availability: String,
    url: String,
    price_specification: PriceSpecification,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct PriceSpecification {
    #[oai(rename = "@type")]
    kind: PriceSpecificationType,
    price: String,
    price_currency: String,
    /// Whether `price` includes tax: the shop's `pricesIncludeTax`.
    value_added_tax_included: bool,
}

impl From<ProductSeo> for ProductSeoView {
    fn from(seo: ProductSeo) -> Self {
        let ProductData {
            name,
            sku,
            description,
            image,
            url,
            category,
            price,
            price_currency,
            tax_included,
            availability,
        } = seo.json_ld;
        ProductSeoView {
            title: seo.title,
            description: seo.description,
            canonical_url: seo.canonical_url,
            open_graph: seo
                .open_graph
                .into_iter()
                .map(|(property, content)| MetaTag {
                    property: property.to_string(),
                    content,
                })
                .collect(),
            json_ld: ProductJsonLd {
                context: Context::SchemaOrg,
                kind: ProductType::Product,
                name,
                sku,
                description,
                image,
                url: url.clone(),
                category,
                offers: OfferJsonLd {
                    kind: OfferType::Offer,
                    price: price.clone(),
                    price_currency: price_currency.clone(),
                    availability: availability.to_string(),
                    url,
                    price_specification: PriceSpecification {
                        kind: PriceSpecificationType::UnitPriceSpecification,
                        price,
                        price_currency,
                        value_added_tax_included: tax_included,
                    },
                },
            },
        }
    }
}
