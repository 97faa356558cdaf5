//! Payments: a shop's Stripe keys (sealed at rest, write-only), card payments through Stripe,
//! and the Stripe fake they are tested against.

mod card;
mod stripe_fake;
mod stripe_keys;
