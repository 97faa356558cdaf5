//! A cache of the public catalog's answers (product lists, products, categories), per tenant
//! and URL, in this process.
//!
//! - An answer is fresh for `ttl`. For one more `ttl` it is still served, marked stale, while a
//!   single background request recomputes it (at most [`MAX_REFRESHES`] at once), so a page in
//!   steady use never makes a shopper wait for the database. Past that it is recomputed before
//!   answering.
//! - A successful admin change (`POST`/`PUT`/`DELETE` under `/api/v1/store/admin/` or
//!   `/api/v1/admin/`) to a tenant drops
//!   the tenant's entries in this process at once and, on Postgres, in every other API process:
//!   it sends `NOTIFY` on [`CHANNEL`], which each process `LISTEN`s to. A process keeps nothing
//!   until it listens, and drops every entry when its listener reconnects, since it may have
//!   missed changes meanwhile.
//! - The cache answers before a handler looks the shop up: whatever comes to suspend or remove a
//!   shop outside the admin API must send the same `NOTIFY`.
//! - Anything else that moves stock shows within `2 × ttl`. Cart answers are never cached and a
//!   cart add checks stock itself, so a cached `available` is only ever a display.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use sqlx::postgres::PgListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::tenant::TenantSlug;

/// The Postgres notification channel; the payload is the tenant slug whose catalog changed.
pub const CHANNEL: &str = "cartwheel_store_cache";

/// Past this many entries, or this many bytes of keys and bodies, those too old to serve are
/// dropped; if that is not enough, all are.
const MAX_ENTRIES: usize = 20_000;
const MAX_BYTES: usize = 64 << 20;

/// An answer larger than this is not kept: a few of them would push every other page out.
const MAX_ENTRY_BYTES: usize = 1 << 20;

/// The query parameters the catalog reads; the cache key holds only these (in this order), so
/// anything else added to a URL neither makes a new entry nor changes the answer.
const QUERY: &[&str] = &["category", "search", "sort", "page", "limit"];

/// Background refreshes at once per process. When all are busy a stale answer is served
/// without starting another, so refreshes never crowd carts and cold pages out of the pool.
const MAX_REFRESHES: usize = 4;

/// `(tenant slug, path and query)`.
type Key = (String, String);

#[derive(Clone)]
pub struct StoreCache {
    ttl: Duration,
    /// On Postgres: where admin changes are announced to the other API processes, whether or
    /// not this one caches.
    notify: Option<DatabaseConnection>,
    inner: Arc<Mutex<Inner>>,
    refreshes: Arc<Semaphore>,
    /// Stops the `LISTEN` task when the last clone goes.
    _listener: Option<Arc<Listener>>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    /// The bytes of every entry's key and body.
    bytes: usize,
    /// Bumped by each change to the tenant.
    changes: HashMap<String, u64>,
    /// Bumped when changes to any tenant may have been missed.
    epoch: u64,
    /// Changes made by other processes reach this one (always, without Postgres). Until they
    /// do, nothing is kept.
    listening: bool,
}

struct Entry {
    generation: u64,
    fresh_until: Instant,
    /// A background request is recomputing this entry.
    refreshing: bool,
    content_type: HeaderValue,
    body: bytes::Bytes,
}

enum Lookup {
    Fresh(Response),
    /// Served as is; with a permit, this request starts the recomputation.
    Stale {
        response: Response,
        refresh: Option<OwnedSemaphorePermit>,
    },
    Miss,
}

impl Inner {
    /// Grows with every change that concerns the tenant; an answer computed under an older
    /// generation is never served.
    fn generation(&self, slug: &str) -> u64 {
        self.epoch + self.changes.get(slug).copied().unwrap_or(0)
    }

    fn invalidate(&mut self, slug: &str) {
        *self.changes.entry(slug.to_string()).or_default() += 1;
        self.retain(|(s, _), _| s != slug);
    }

    fn invalidate_all(&mut self) {
        self.epoch += 1;
        self.retain(|_, _| false);
    }

    /// Keeps `entry`, first making room within [`MAX_ENTRIES`] and [`MAX_BYTES`]: entries too
    /// old to serve go, and if that is not enough, all do.
    fn insert(&mut self, key: Key, entry: Entry, ttl: Duration) {
        self.remove(&key);
        let size = size(&key, &entry);
        let full =
            |inner: &Inner| inner.entries.len() >= MAX_ENTRIES || inner.bytes + size > MAX_BYTES;
        if full(self) {
            let now = Instant::now();
            self.retain(|_, e| e.fresh_until + ttl > now);
            if full(self) {
                self.retain(|_, _| false);
            }
        }
        self.bytes += size;
        self.entries.insert(key, entry);
    }

    fn remove(&mut self, key: &Key) {
        if let Some(entry) = self.entries.remove(key) {
            self.bytes -= size(key, &entry);
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&Key, &Entry) -> bool) {
        let mut bytes = 0;
        self.entries.retain(|key, entry| {
            let kept = keep(key, entry);
            if kept {
                bytes += size(key, entry);
            }
            kept
        });
        self.bytes = bytes;
    }

    fn set_listening(&mut self, listening: bool) {
        self.invalidate_all();
        self.listening = listening;
    }
}

impl StoreCache {
    /// A `ttl` of zero turns caching off. On Postgres this starts the task that listens for
    /// other processes' changes, so it must be called inside the Tokio runtime.
    pub fn new(ttl: Duration, db: DatabaseConnection) -> Self {
        let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
        let inner = Arc::new(Mutex::new(Inner {
            listening: !postgres,
            ..Inner::default()
        }));
        let listener = (!ttl.is_zero() && postgres).then(|| {
            let task = tokio::spawn(listen(
                db.get_postgres_connection_pool().clone(),
                Arc::downgrade(&inner),
            ));
            Arc::new(Listener(task.abort_handle()))
        });
        StoreCache {
            ttl,
            notify: postgres.then_some(db),
            inner,
            refreshes: Arc::new(Semaphore::new(MAX_REFRESHES)),
            _listener: listener,
        }
    }

    fn lookup(&self, key: &Key) -> Lookup {
        let mut inner = crate::locks::lock(&self.inner);
        let generation = inner.generation(&key.0);
        let now = Instant::now();
        let Some(entry) = inner.entries.get_mut(key) else {
            return Lookup::Miss;
        };
        if entry.generation != generation || now >= entry.fresh_until + self.ttl {
            return Lookup::Miss;
        }
        let fresh = now < entry.fresh_until;
        let response = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, entry.content_type.clone())
            .header("x-cache", if fresh { "hit" } else { "stale" })
            .body(Body::from(entry.body.clone()));
        if fresh {
            return Lookup::Fresh(response);
        }
        let refresh = if entry.refreshing {
            None
        } else {
            self.refreshes.clone().try_acquire_owned().ok()
        };
        entry.refreshing |= refresh.is_some();
        Lookup::Stale { response, refresh }
    }

    /// Computes the answer with `next` and keeps it if it is a 200 and no change to the tenant
    /// landed meanwhile.
    async fn fetch<E: Endpoint>(&self, next: &E, key: Key, req: Request) -> Result<Response> {
        let generation = crate::locks::lock(&self.inner).generation(&key.0);
        let response = match next.call(req).await {
            Ok(response) => response.into_response(),
            Err(error) => {
                self.forget(&key);
                return Err(error);
            }
        };
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let (Some(content_type), StatusCode::OK) = (content_type, response.status()) else {
            self.forget(&key);
            return Ok(response);
        };
        let (parts, body) = response.into_parts();
        let body = match body.into_bytes().await {
            Ok(body) => body,
            Err(error) => {
                self.forget(&key);
                return Err(error.into());
            }
        };
        self.store(
            key,
            Entry {
                generation,
                fresh_until: Instant::now() + self.ttl,
                refreshing: false,
                content_type,
                body: body.clone(),
            },
        );
        let mut response = Response::from_parts(parts, Body::from(body));
        response
            .headers_mut()
            .insert("x-cache", HeaderValue::from_static("miss"));
        Ok(response)
    }

    fn store(&self, key: Key, entry: Entry) {
        let mut inner = crate::locks::lock(&self.inner);
        let current = inner.listening && entry.generation == inner.generation(&key.0);
        if !current || entry.body.len() > MAX_ENTRY_BYTES {
            inner.remove(&key);
            return;
        }
        inner.insert(key, entry, self.ttl);
    }

    fn forget(&self, key: &Key) {
        crate::locks::lock(&self.inner).remove(key);
    }

    /// Drops the tenant's entries here and tells the other API processes to.
    async fn changed(&self, slug: &str) {
        crate::locks::lock(&self.inner).invalidate(slug);
        let Some(db) = &self.notify else {
            return;
        };
        let notify = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), slug.into()],
        );
        if let Err(error) = db.execute_raw(notify).await {
            tracing::warn!(%error, slug, "could not tell other API processes of a catalog change");
        }
    }
}

/// What an entry takes: its key and body (the rest is small and fixed).
fn size((slug, url): &Key, entry: &Entry) -> usize {
    slug.len() + url.len() + entry.body.len()
}

/// The URL part of the key: the path and the parameters of [`QUERY`] that are present, in that
/// order; `None` (do not cache) when one of them is repeated, since which one counts is the
/// parser's business.
fn url_key(path: &str, query: Option<&str>) -> Option<String> {
    let pairs: Vec<(&str, &str)> = query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(name, _)| QUERY.contains(name))
        .collect();
    let mut key = path.to_string();
    for name in QUERY {
        let mut values = pairs.iter().filter(|(n, _)| n == name);
        let Some((_, value)) = values.next() else {
            continue;
        };
        if values.next().is_some() {
            return None;
        }
        key.push(if key.len() == path.len() { '?' } else { '&' });
        key.push_str(name);
        key.push('=');
        key.push_str(value);
    }
    Some(key)
}

struct Listener(tokio::task::AbortHandle);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Applies other processes' changes until the cache is gone; reconnects after a lost connection.
async fn listen(pool: sqlx::PgPool, cache: Weak<Mutex<Inner>>) {
    let with_cache = |apply: &dyn Fn(&mut Inner)| match cache.upgrade() {
        Some(inner) => {
            apply(&mut crate::locks::lock(&inner));
            true
        }
        None => false,
    };
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "catalog cache: cannot listen for changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "catalog cache: LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Changes may have landed before the LISTEN.
        if !with_cache(&|inner: &mut Inner| inner.set_listening(true)) {
            return;
        }
        loop {
            let alive = match listener.try_recv().await {
                Ok(Some(notification)) => {
                    with_cache(&|inner: &mut Inner| inner.invalidate(notification.payload()))
                }
                // The connection dropped and was remade: notifications may have been missed.
                Ok(None) => {
                    tracing::info!("catalog cache: listener reconnected; dropped every entry");
                    with_cache(&Inner::invalidate_all)
                }
                Err(error) => {
                    tracing::warn!(%error, "catalog cache: listening failed; reconnecting");
                    if !with_cache(&|inner: &mut Inner| inner.set_listening(false)) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            };
            if !alive {
                return;
            }
        }
    }
}

/// A read anyone may make and any cache may keep: the storefront's products and categories.
pub fn is_public_catalog_read(method: &Method, path: &str) -> bool {
    *method == Method::GET
        && (path == "/api/v1/store/categories"
            || (path.starts_with("/api/v1/store/products") && !path.ends_with("/notify-me")))
}

/// A change through an admin API: the storefront's merchandising admin (products, categories,
/// coupons) or the back office (stock, settings).
fn admin_change(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() != Method::GET
        && (path.starts_with("/api/v1/store/admin/") || path.starts_with("/api/v1/admin/"))
}

/// The same GET, with the same headers and request data, for a background refresh.
fn copy(req: &Request) -> Request {
    let mut copy = Request::builder()
        .method(Method::GET)
        .uri(req.uri().clone())
        .finish();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    copy
}

impl<E: Endpoint + 'static> Middleware<E> for StoreCache {
    type Output = StoreCacheEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        StoreCacheEndpoint {
            next: Arc::new(inner),
            cache: self.clone(),
        }
    }
}

pub struct StoreCacheEndpoint<E> {
    next: Arc<E>,
    cache: StoreCache,
}

impl<E: Endpoint + 'static> Endpoint for StoreCacheEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let cache = &self.cache;
        let Some(slug) = req.extensions().get::<TenantSlug>().map(|s| s.0.clone()) else {
            return self.next.call(req).await.map(IntoResponse::into_response);
        };
        if admin_change(&req) {
            let response = self.next.call(req).await?.into_response();
            if response.status().is_success() {
                cache.changed(&slug).await;
            }
            return Ok(response);
        }
        if cache.ttl.is_zero() || !is_public_catalog_read(req.method(), req.uri().path()) {
            return self.next.call(req).await.map(IntoResponse::into_response);
        }
        let Some(url) = url_key(req.uri().path(), req.uri().query()) else {
            return self.next.call(req).await.map(IntoResponse::into_response);
        };
        let key = (slug, url);
        match cache.lookup(&key) {
            Lookup::Fresh(response) => Ok(response),
            Lookup::Stale { response, refresh } => {
                if let Some(permit) = refresh {
                    let (cache, next, copy) = (cache.clone(), self.next.clone(), copy(&req));
                    tokio::spawn(async move {
                        let _ = cache.fetch(next.as_ref(), key, copy).await;
                        drop(permit);
                    });
                }
                Ok(response)
            }
            Lookup::Miss => cache.fetch(self.next.as_ref(), key, req).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_only_the_parameters_the_catalog_reads() {
        let key = |query| url_key("/api/v1/store/products", query);
        assert_eq!(key(None).unwrap(), "/api/v1/store/products");
        assert_eq!(
            key(Some("page=2&utm_source=x&category=tea&fbclid=1")).unwrap(),
            "/api/v1/store/products?category=tea&page=2"
        );
        assert_eq!(
            key(Some("category=tea&page=2")),
            key(Some("page=2&category=tea"))
        );
        assert_eq!(key(Some("junk=1")), key(None));
        assert_eq!(key(Some("page=1&page=2")), None);
    }

    fn entry(body: usize) -> Entry {
        Entry {
            generation: 0,
            fresh_until: Instant::now() + Duration::from_secs(60),
            refreshing: false,
            content_type: HeaderValue::from_static("application/json"),
            body: bytes::Bytes::from(vec![b'x'; body]),
        }
    }

    #[test]
    fn the_entries_stay_within_the_byte_bound() {
        let mut inner = Inner::default();
        let ttl = Duration::from_secs(60);
        let body = MAX_ENTRY_BYTES;
        for n in 0..200 {
            inner.insert(("shop".into(), format!("/p/{n}")), entry(body), ttl);
            assert!(inner.bytes <= MAX_BYTES, "{} bytes after {n}", inner.bytes);
        }
        assert!(inner.entries.len() < MAX_BYTES / body + 1);
        let counted: usize = inner.entries.iter().map(|(k, e)| size(k, e)).sum();
        assert_eq!(inner.bytes, counted);
        inner.invalidate("shop");
        assert_eq!((inner.entries.len(), inner.bytes), (0, 0));
    }
}
