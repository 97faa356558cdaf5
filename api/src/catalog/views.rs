//! Request and response shapes shared by the admin catalog and the storefront.

use cartwheel_domain::catalog::items::{Image, ItemDetail};
use poem_openapi::Object;

#[derive(Object, Clone)]
pub struct ImageView {
    #[oai(validator(max_length = 2000))]
    pub url: String,
    #[oai(validator(max_length = 300))]
    pub alt: String,
}

impl From<Image> for ImageView {
    fn from(i: Image) -> Self {
        ImageView {
            url: i.url,
            alt: i.alt,
        }
    }
}

impl From<ImageView> for Image {
    fn from(i: ImageView) -> Self {
        Image {
            url: i.url,
            alt: i.alt,
        }
    }
}

/// Stock of an item over all locations.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Availability {
    pub in_stock: bool,
    /// On hand less reserved over all locations, never below 0.
    pub available: i64,
}

impl Availability {
    pub fn of(detail: &ItemDetail) -> Self {
        Availability {
            in_stock: detail.in_stock(),
            available: detail.stock.available(),
        }
    }
}
