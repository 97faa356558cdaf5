//! How shops take payment: `manual` (bank transfer or cash on delivery, marked paid by an
//! admin; `crate::orders`) and by card through Stripe: the shop's keys (`stripe_keys`), the calls
//! to Stripe (`stripe`), a card checkout's payment and the one path that places a paid order
//! (`card`), and the webhook's events (`events`).

pub mod card;
pub mod events;
pub mod refunds;
pub mod stripe;
pub mod stripe_keys;
