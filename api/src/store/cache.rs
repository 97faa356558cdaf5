//! A cache of the public catalog's answers (product lists, products, categories), per tenant
//! and URL, in this process (a `moka` cache bounded by bytes).
//!
//! - An answer is fresh for `ttl`. For one more `ttl` it is still served, marked stale, while a
//!   single background request recomputes it (at most [`MAX_REFRESHES`] at once), so a page in
//!   steady use never makes a shopper wait for the database. Past that it is recomputed before
//!   answering.
//! - A change to a shop's catalog announces itself from the domain call that made it
//!   (`cartwheel_domain::catalog::changes`): this process hears of it right after the commit,
//!   and on Postgres every API process hears its `NOTIFY` on [`CHANNEL`], which each one
//!   `LISTEN`s to. Either way the shop's answers stop being served at once. A process keeps
//!   nothing until it listens, and drops every entry when its listener reconnects, since it may
//!   have missed changes meanwhile.
//! - Anything else that moves stock shows within `2 × ttl`. Cart answers are never cached and a
//!   cart add checks stock itself, so a cached `available` is only ever a display.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use cartwheel_domain::catalog::CatalogChanges;
use cartwheel_domain::catalog::changes::CHANNEL;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use sqlx::postgres::PgListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::locks::lock;
use crate::tenant::TenantSlug;

/// The bytes of keys and bodies kept at most; past it, the entries least likely to be asked
/// for again go first.
const MAX_BYTES: u64 = 64 << 20;

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
    shared: Arc<Shared>,
    refreshes: Arc<Semaphore>,
    /// Stops the `LISTEN` task when the last clone goes.
    _listener: Option<Arc<Listener>>,
}

struct Shared {
    entries: moka::sync::Cache<Key, Arc<Entry>>,
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    /// Bumped by each change to the tenant.
    changes: HashMap<String, u64>,
    /// Bumped when changes to any tenant may have been missed.
    epoch: u64,
    /// Changes made by other processes reach this one (always, without Postgres). Until they
    /// do, nothing is kept.
    listening: bool,
}

impl Generations {
    /// Grows with every change that concerns the tenant; an answer computed under an older
    /// generation is never served.
    fn of(&self, slug: &str) -> u64 {
        self.epoch + self.changes.get(slug).copied().unwrap_or(0)
    }
}

struct Entry {
    generation: u64,
    fresh_until: Instant,
    /// A background request is recomputing this entry.
    refreshing: AtomicBool,
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

impl Shared {
    fn generation(&self, slug: &str) -> u64 {
        lock(&self.generations).of(slug)
    }

    /// The tenant's answers are no longer served (the entries go as space is needed).
    fn invalidate(&self, slug: &str) {
        *lock(&self.generations)
            .changes
            .entry(slug.to_string())
            .or_default() += 1;
    }

    fn invalidate_all(&self) {
        lock(&self.generations).epoch += 1;
        self.entries.invalidate_all();
    }

    /// Whether or not changes now reach this process, what it holds may have missed some.
    fn set_listening(&self, listening: bool) {
        {
            let mut generations = lock(&self.generations);
            generations.epoch += 1;
            generations.listening = listening;
        }
        self.entries.invalidate_all();
    }
}

impl StoreCache {
    /// A `ttl` of zero turns caching off. On Postgres this starts the task that listens for
    /// other processes' changes, so it must be called inside the Tokio runtime.
    pub fn new(ttl: Duration, db: DatabaseConnection, changes: &CatalogChanges) -> Self {
        let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
        let shared = Arc::new(Shared {
            entries: moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|key: &Key, entry: &Arc<Entry>| size(key, entry))
                .time_to_live(ttl * 2)
                .build(),
            generations: Mutex::new(Generations {
                listening: !postgres,
                ..Generations::default()
            }),
        });
        let own_changes = Arc::downgrade(&shared);
        changes.listen(move |slug| {
            if let Some(shared) = own_changes.upgrade() {
                shared.invalidate(slug);
            }
        });
        let listener = (!ttl.is_zero() && postgres).then(|| {
            let task = tokio::spawn(listen(
                db.get_postgres_connection_pool().clone(),
                Arc::downgrade(&shared),
            ));
            Arc::new(Listener(task.abort_handle()))
        });
        StoreCache {
            ttl,
            shared,
            refreshes: Arc::new(Semaphore::new(MAX_REFRESHES)),
            _listener: listener,
        }
    }

    fn lookup(&self, key: &Key) -> Lookup {
        let generation = self.shared.generation(&key.0);
        let now = Instant::now();
        let Some(entry) = self.shared.entries.get(key) else {
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
        let refresh = if entry.refreshing.load(Ordering::Acquire) {
            None
        } else {
            self.refreshes.clone().try_acquire_owned().ok()
        };
        // Of two requests that both found it idle, one starts the refresh.
        let refresh = refresh.filter(|_| !entry.refreshing.swap(true, Ordering::AcqRel));
        Lookup::Stale { response, refresh }
    }

    /// Computes the answer with `next` and keeps it if it is a 200 and no change to the tenant
    /// landed meanwhile.
    async fn fetch<E: Endpoint>(&self, next: &E, key: Key, req: Request) -> Result<Response> {
        let generation = self.shared.generation(&key.0);
        let response = match next.call(req).await {
            Ok(response) => response.into_response(),
            Err(error) => {
                self.shared.entries.invalidate(&key);
                return Err(error);
            }
        };
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let (Some(content_type), StatusCode::OK) = (content_type, response.status()) else {
            self.shared.entries.invalidate(&key);
            return Ok(response);
        };
        let (parts, body) = response.into_parts();
        let body = match body.into_bytes().await {
            Ok(body) => body,
            Err(error) => {
                self.shared.entries.invalidate(&key);
                return Err(error.into());
            }
        };
        self.store(
            key,
            Entry {
                generation,
                fresh_until: Instant::now() + self.ttl,
                refreshing: AtomicBool::new(false),
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
        let current = {
            let generations = lock(&self.shared.generations);
            generations.listening && entry.generation == generations.of(&key.0)
        };
        if !current || entry.body.len() > MAX_ENTRY_BYTES {
            self.shared.entries.invalidate(&key);
            return;
        }
        self.shared.entries.insert(key, Arc::new(entry));
    }
}

/// What an entry weighs: its key and body (the rest is small and fixed).
fn size((slug, url): &Key, entry: &Entry) -> u32 {
    u32::try_from(slug.len() + url.len() + entry.body.len()).unwrap_or(u32::MAX)
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
async fn listen(pool: sqlx::PgPool, cache: Weak<Shared>) {
    let with_cache = |apply: &dyn Fn(&Shared)| match cache.upgrade() {
        Some(shared) => {
            apply(&shared);
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
        if !with_cache(&|shared: &Shared| shared.set_listening(true)) {
            return;
        }
        loop {
            let alive = match listener.try_recv().await {
                Ok(Some(notification)) => {
                    with_cache(&|shared: &Shared| shared.invalidate(notification.payload()))
                }
                // The connection dropped and was remade: notifications may have been missed.
                Ok(None) => {
                    tracing::info!("catalog cache: listener reconnected; dropped every entry");
                    with_cache(&Shared::invalidate_all)
                }
                Err(error) => {
                    tracing::warn!(%error, "catalog cache: listening failed; reconnecting");
                    if !with_cache(&|shared: &Shared| shared.set_listening(false)) {
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
        let key = (!cache.ttl.is_zero() && is_public_catalog_read(req.method(), req.uri().path()))
            .then(|| {
                let slug = req.extensions().get::<TenantSlug>()?.0.clone();
                Some((slug, url_key(req.uri().path(), req.uri().query())?))
            })
            .flatten();
        let Some(key) = key else {
            return self.next.call(req).await.map(IntoResponse::into_response);
        };
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

    fn entry(generation: u64, body: usize) -> Entry {
        Entry {
            generation,
            fresh_until: Instant::now() + Duration::from_secs(60),
            refreshing: AtomicBool::new(false),
            content_type: HeaderValue::from_static("application/json"),
            body: bytes::Bytes::from(vec![b'x'; body]),
        }
    }

    #[tokio::test]
    async fn a_change_stops_its_shop_s_answers_and_the_entries_stay_within_the_byte_bound() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let changes = CatalogChanges::default();
        let cache = StoreCache::new(Duration::from_secs(60), db, &changes);
        let key = |shop: &str, n: usize| (shop.to_string(), format!("/p/{n}"));
        cache.store(key("tea", 0), entry(0, 10));
        cache.store(key("mugs", 0), entry(0, 10));
        assert!(matches!(cache.lookup(&key("tea", 0)), Lookup::Fresh(_)));
        // What a commit through the domain does.
        cache.shared.invalidate("tea");
        assert!(matches!(cache.lookup(&key("tea", 0)), Lookup::Miss));
        assert!(matches!(cache.lookup(&key("mugs", 0)), Lookup::Fresh(_)));
        // An answer computed before the change is not kept after it.
        cache.store(key("tea", 1), entry(0, 10));
        assert!(matches!(cache.lookup(&key("tea", 1)), Lookup::Miss));

        for n in 0..200 {
            cache.store(key("mugs", n), entry(0, MAX_ENTRY_BYTES));
        }
        cache.shared.entries.run_pending_tasks();
        assert!(cache.shared.entries.weighted_size() <= MAX_BYTES);
    }
}
