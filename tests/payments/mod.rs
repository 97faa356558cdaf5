//! Payments: a shop's Stripe keys (sealed at rest, write-only).

mod stripe_keys;
