//! Every integration test, in one binary, so the test command compiles and links the harness and
//! its dependencies' generic code once: `cargo test --release --test integration catalog::`
//! runs one area. Each area is a folder: the API's cross-cutting behaviour (`api`), the admin
//! audit log (`audit`), backups (`backups`), the catalog, storefront and carts (`catalog`), the
//! admin dashboard (`dashboard`), the deploy files run (`deploy`: Traefik), the job platform
//! (`jobs`), checkout and orders (`orders`), payments (`payments`: Stripe keys), and shops,
//! accounts and mail (`tenants`).

mod api;
mod audit;
mod backups;
mod catalog;
mod dashboard;
mod deploy;
mod jobs;
mod orders;
mod payments;
mod tenants;
