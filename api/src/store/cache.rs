//! A short-lived cache of the public catalog's answers (product lists, products, categories),
//! per tenant and URL, in this process.
//!
//! An entry lives `ttl` at most; a successful admin change (`POST`/`PUT`/`DELETE` under
//! `/api/v1/admin/`) to a tenant empties that tenant's entries in this process at once. Other
//! API processes see the change within `ttl`. Cart and checkout answers are never cached, and a
//! cart add checks stock itself, so a cached `available` is only ever a display.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response, Result};

use crate::middleware::Step;
use crate::tenant::TenantSlug;

/// Past this many entries, expired ones are dropped; if none are, all are.
const MAX_ENTRIES: usize = 20_000;

#[derive(Clone)]
pub struct StoreCache {
    ttl: Duration,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// `(tenant slug, path and query)` → answer.
    entries: HashMap<(String, String), Entry>,
    /// Bumped by each admin change to the tenant; older entries are stale.
    generations: HashMap<String, u64>,
}

struct Entry {
    generation: u64,
    expires: Instant,
    content_type: HeaderValue,
    body: bytes::Bytes,
}

impl StoreCache {
    /// A `ttl` of zero turns caching off.
    pub fn new(ttl: Duration) -> Self {
        StoreCache {
            ttl,
            inner: Arc::default(),
        }
    }

    fn lookup(&self, key: &(String, String)) -> Option<Response> {
        let inner = self.inner.lock().unwrap();
        let generation = inner.generations.get(&key.0).copied().unwrap_or(0);
        let entry = inner
            .entries
            .get(key)
            .filter(|e| e.generation == generation && e.expires > Instant::now())?;
        Some(
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, entry.content_type.clone())
                .header("x-cache", "hit")
                .body(Body::from(entry.body.clone())),
        )
    }

    fn generation(&self, slug: &str) -> u64 {
        let inner = self.inner.lock().unwrap();
        inner.generations.get(slug).copied().unwrap_or(0)
    }

    fn store(&self, key: (String, String), entry: Entry) {
        let mut inner = self.inner.lock().unwrap();
        if inner.entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            inner.entries.retain(|_, e| e.expires > now);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
        }
        inner.entries.insert(key, entry);
    }

    fn invalidate(&self, slug: &str) {
        let mut inner = self.inner.lock().unwrap();
        *inner.generations.entry(slug.to_string()).or_default() += 1;
        inner.entries.retain(|(s, _), _| s != slug);
    }
}

fn cacheable(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == Method::GET
        && (path == "/api/v1/store/categories"
            || (path.starts_with("/api/v1/store/products") && !path.ends_with("/notify-me")))
}

fn admin_change(req: &Request) -> bool {
    req.method() != Method::GET && req.uri().path().starts_with("/api/v1/admin/")
}

impl Step for StoreCache {
    async fn handle<E: Endpoint>(&self, next: &E, req: Request) -> Result<Response> {
        let Some(slug) = req.extensions().get::<TenantSlug>().map(|s| s.0.clone()) else {
            return next.call(req).await.map(IntoResponse::into_response);
        };
        if admin_change(&req) {
            let response = next.call(req).await?.into_response();
            if response.status().is_success() {
                self.invalidate(&slug);
            }
            return Ok(response);
        }
        if self.ttl.is_zero() || !cacheable(&req) {
            return next.call(req).await.map(IntoResponse::into_response);
        }
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
        let key = (slug, path);
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        // Read before the answer is computed: a change landing meanwhile makes it stale.
        let generation = self.generation(&key.0);
        let response = next.call(req).await?.into_response();
        if response.status() != StatusCode::OK {
            return Ok(response);
        }
        let (parts, body) = response.into_parts();
        let body = body.into_bytes().await?;
        if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
            self.store(
                key,
                Entry {
                    generation,
                    expires: Instant::now() + self.ttl,
                    content_type: content_type.clone(),
                    body: body.clone(),
                },
            );
        }
        let mut response = Response::from_parts(parts, Body::from(body));
        response
            .headers_mut()
            .insert("x-cache", HeaderValue::from_static("miss"));
        Ok(response)
    }
}
