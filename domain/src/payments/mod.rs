//! How shops take payment: `manual` (bank transfer or cash on delivery, marked paid by an
//! admin; `crate::orders`) and Stripe, whose per-shop keys live in `stripe_keys`.

pub mod stripe_keys;
