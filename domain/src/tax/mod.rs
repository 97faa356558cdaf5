//! Tax by address: which of a shop's rules applies to a line (the most specific), and the tax
//! of lines and shipping, per line, rounded half up in minor units, with prices that include
//! tax or not. Carts and checkouts compute their tax here and nowhere else.

pub mod rules;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use cartwheel_entity::{TenantId, store_settings, tax_rules};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, JoinType, QuerySelect};

use crate::money::{self, Overflow};

/// The tax class of an item whose admin set none, and of shipping.
pub const STANDARD_CLASS: &str = "standard";

/// What the tax of a shop's goods sent to one country depends on.
pub struct ShopTax {
    /// Where the goods go.
    pub country: String,
    /// The shop's currency (every price is in its minor units).
    pub currency: String,
    pub prices_include_tax: bool,
    /// The shop's rules for that country.
    pub rules: Vec<tax_rules::Model>,
}

/// A shop's settings and all its tax rules, as last read.
struct Shop {
    settings: store_settings::Model,
    rules: Vec<tax_rules::Model>,
}

/// How long a shop's settings and rules are reused. A change made through this process is seen
/// at once (`forget`); one made through another replica within this long.
const TTL: Duration = Duration::from_secs(2);
const MAX_SHOPS: u64 = 10_000;

/// Every cart change and checkout step prices its lines: the shop's tax, remembered per process
/// (a `moka` cache, bounded and expiring) instead of read on each of them.
static SHOPS: LazyLock<moka::sync::Cache<TenantId, Arc<Shop>>> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .max_capacity(MAX_SHOPS)
        .time_to_live(TTL)
        .build()
});

/// Raised by every `forget`: a read that began before a change is not cached after it.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The shop's tax setting and its rules for `country` (the shop's own country when `None`);
/// `None` for a shop not set up yet.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn shop_tax<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    country: Option<&str>,
) -> Result<Option<ShopTax>, DbErr> {
    let shop = match SHOPS.get(&tenant_id) {
        Some(shop) => shop,
        None => {
            let generation = GENERATION.load(Ordering::SeqCst);
            let rows = shop_query(tenant_id).all(db).await?;
            let Some((settings, _)) = rows.first() else {
                // Not cached: the shop's defaults are on their way.
                return Ok(None);
            };
            let shop = Arc::new(Shop {
                settings: settings.clone(),
                rules: rows.into_iter().filter_map(|(_, rule)| rule).collect(),
            });
            // A change forgotten while this read ran (which may have read the rows before it)
            // takes back what it cached: `forget` raises the generation before it invalidates.
            SHOPS.insert(tenant_id, shop.clone());
            if GENERATION.load(Ordering::SeqCst) != generation {
                SHOPS.invalidate(&tenant_id);
            }
            shop
        }
    };
    let country = country.map_or_else(|| shop.settings.country.clone(), str::to_ascii_uppercase);
    Ok(Some(ShopTax {
        rules: shop
            .rules
            .iter()
            .filter(|r| r.country == country)
            .cloned()
            .collect(),
        country,
        currency: shop.settings.currency.clone(),
        prices_include_tax: shop.settings.prices_include_tax,
    }))
}

/// Drops what this process remembers of the shop's tax: called after its settings or rules
/// changed (and committed).
pub fn forget(tenant_id: TenantId) {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    SHOPS.invalidate(&tenant_id);
}

/// The shop's settings, each joined to one of its rules (or none), in one statement.
fn shop_query(
    tenant_id: TenantId,
) -> sea_orm::SelectTwo<store_settings::Entity, tax_rules::Entity> {
    let rules = store_settings::Entity::belongs_to(tax_rules::Entity)
        .from(store_settings::Column::TenantId)
        .to(tax_rules::Column::TenantId);
    store_settings::Entity::find_by_id(tenant_id)
        .select_also(tax_rules::Entity)
        .join(JoinType::LeftJoin, rules.into())
}

/// Where the goods go: the rules of this country apply, and of this region where one names it.
#[derive(Clone, Copy, Debug)]
pub struct Destination<'a> {
    pub country: &'a str,
    pub region: Option<&'a str>,
}

/// The rate in basis points for an item of `class` sent to `to`: among the rules of the
/// destination's country that fit (a rule naming a region fits only that region, compared
/// without regard to case; a rule naming a class only that class), the most specific wins: a
/// rule for the class over one for every class, then one for the region over one for the whole
/// country. No rule: no tax.
pub fn rate(rules: &[tax_rules::Model], to: Destination<'_>, class: &str) -> i64 {
    rules
        .iter()
        .filter(|r| r.country.eq_ignore_ascii_case(to.country))
        .filter(|r| match (&r.region, to.region) {
            (None, _) => true,
            (Some(rule), Some(address)) => rule.trim().eq_ignore_ascii_case(address.trim()),
            (Some(_), None) => false,
        })
        .filter(|r| r.tax_class.as_deref().is_none_or(|c| c == class))
        .max_by_key(|r| (r.tax_class.is_some(), r.region.is_some()))
        .map(|r| i64::from(r.rate_basis_points))
        .unwrap_or(0)
}

/// The tax in `amount` at `rate` basis points, rounded half up: on top of it, or, when prices
/// include tax, the part of it that is tax (the amount less its net, the net rounded half up).
pub fn tax_of(amount: i64, rate: i64, prices_include_tax: bool) -> Result<i64, Overflow> {
    if prices_include_tax {
        Ok(amount - money::share(amount, 10_000, 10_000 + rate)?)
    } else {
        money::share(amount, rate, 10_000)
    }
}

/// `discount` spread over lines in proportion to their totals, each share rounded down and the
/// minor units left over given to the largest lines first, so the shares sum to the discount
/// exactly (capped at the lines' sum).
pub fn allocate(discount: i64, line_totals: &[i64]) -> Result<Vec<i64>, Overflow> {
    let subtotal = money::sum(line_totals.iter().copied())?;
    if subtotal <= 0 || discount <= 0 {
        return Ok(vec![0; line_totals.len()]);
    }
    let discount = discount.min(subtotal);
    let mut shares: Vec<i64> = line_totals
        .iter()
        .map(|&t| (i128::from(t) * i128::from(discount) / i128::from(subtotal)) as i64)
        .collect();
    let mut left = discount - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..line_totals.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(line_totals[i]));
    for i in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        if shares[i] < line_totals[i] {
            shares[i] += 1;
            left -= 1;
        }
    }
    Ok(shares)
}

/// A line to be taxed: its total (unit price × quantity) and its item's tax class.
pub struct Taxable<'a> {
    pub total: i64,
    pub class: &'a str,
}

/// The tax of one line, after its share of the discount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineTax {
    pub rate: i64,
    /// The line's total less its share of the discount: what the rate applies to.
    pub taxable: i64,
    pub tax: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    /// Every line's tax and the shipping's.
    pub tax: i64,
    /// What the shopper pays: with prices that include tax, the tax is inside it.
    pub total: i64,
    pub lines: Vec<LineTax>,
    pub shipping_tax: LineTax,
}

/// The totals of lines, a discount and shipping sent to `to` under `rules`: tax per line on
/// the line less its share of the discount, and on shipping at the standard class's rate.
pub fn totals(
    rules: &[tax_rules::Model],
    to: Destination<'_>,
    prices_include_tax: bool,
    lines: &[Taxable<'_>],
    discount: i64,
    shipping: i64,
) -> Result<Totals, Overflow> {
    let line_totals: Vec<i64> = lines.iter().map(|l| l.total).collect();
    let subtotal = money::sum(line_totals.iter().copied())?;
    let shares = allocate(discount, &line_totals)?;
    let discount = shares.iter().sum::<i64>();
    let taxed = |amount: i64, class: &str| -> Result<LineTax, Overflow> {
        let rate = rate(rules, to, class);
        Ok(LineTax {
            rate,
            taxable: amount,
            tax: tax_of(amount, rate, prices_include_tax)?,
        })
    };
    let line_taxes = lines
        .iter()
        .zip(&shares)
        .map(|(line, share)| taxed(line.total - share, line.class))
        .collect::<Result<Vec<_>, _>>()?;
    let shipping_tax = taxed(shipping, STANDARD_CLASS)?;
    let tax = money::sum(line_taxes.iter().map(|l| l.tax).chain([shipping_tax.tax]))?;
    let before_tax = money::sum([subtotal, -discount, shipping])?;
    let total = if prices_include_tax {
        before_tax
    } else {
        money::sum([before_tax, tax])?
    };
    Ok(Totals {
        subtotal,
        discount,
        shipping,
        tax,
        total,
        lines: line_taxes,
        shipping_tax,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        country: &str,
        region: Option<&str>,
        class: Option<&str>,
        rate: i32,
    ) -> tax_rules::Model {
        let now = chrono::Utc::now();
        tax_rules::Model {
            id: uuid::Uuid::now_v7(),
            tenant_id: cartwheel_entity::TenantId(uuid::Uuid::nil()),
            name: format!("{country} {region:?} {class:?}"),
            country: country.into(),
            region: region.map(Into::into),
            tax_class: class.map(Into::into),
            rate_basis_points: rate,
            created_at: now,
            updated_at: now,
        }
    }

    fn to<'a>(country: &'a str, region: Option<&'a str>) -> Destination<'a> {
        Destination { country, region }
    }

    #[test]
    fn a_shops_tax_is_one_statement_joining_all_its_rules() {
        use sea_orm::{DbBackend, QueryTrait};
        let sql = shop_query(TenantId(uuid::Uuid::nil()))
            .build(DbBackend::Postgres)
            .to_string();
        assert!(
            sql.contains(
                r#"LEFT JOIN "tax_rules" ON "store_settings"."tenant_id" = "tax_rules"."tenant_id""#
            ),
            "{sql}"
        );
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules = [
            rule("DE", None, None, 1900),
            rule("DE", None, Some("reduced"), 700),
            rule("US", None, None, 0),
            rule("US", Some("CA"), None, 725),
            rule("US", Some("CA"), Some("reduced"), 100),
            rule("US", None, Some("reduced"), 50),
        ];
        assert_eq!(rate(&rules, to("DE", None), "standard"), 1900);
        assert_eq!(rate(&rules, to("de", Some("Bavaria")), "reduced"), 700);
        assert_eq!(rate(&rules, to("US", Some("NY")), "standard"), 0);
        assert_eq!(rate(&rules, to("US", Some("ca")), "standard"), 725);
        assert_eq!(rate(&rules, to("US", None), "standard"), 0);
        // A class beats a region; both beat either.
        assert_eq!(rate(&rules, to("US", Some("NY")), "reduced"), 50);
        assert_eq!(rate(&rules, to("US", Some("CA")), "reduced"), 100);
        // No rule for the country: no tax.
        assert_eq!(rate(&rules, to("FR", None), "standard"), 0);
    }

    #[test]
    fn tax_is_rounded_half_up_on_top_of_or_inside_the_price() {
        // 10 % of 1005 = 100.5 → 101.
        assert_eq!(tax_of(1005, 1000, false), Ok(101));
        assert_eq!(tax_of(1004, 1000, false), Ok(100));
        // 19 % inside 1190: net 1000, tax 190.
        assert_eq!(tax_of(1190, 1900, true), Ok(190));
        // 19 % inside 999: net 839.49… → 839, tax 160.
        assert_eq!(tax_of(999, 1900, true), Ok(160));
        assert_eq!(tax_of(999, 0, true), Ok(0));
    }

    #[test]
    fn a_discount_is_spread_exactly_over_the_lines() {
        assert_eq!(allocate(100, &[300, 300, 300]), Ok(vec![34, 33, 33]));
        assert_eq!(allocate(1, &[100, 300]), Ok(vec![0, 1]));
        assert_eq!(allocate(0, &[100]), Ok(vec![0]));
        // Never more than the lines hold.
        assert_eq!(allocate(500, &[100, 200]), Ok(vec![100, 200]));
        assert_eq!(allocate(5, &[]), Ok(vec![]));
    }

    #[test]
    fn totals_tax_each_line_after_its_discount_and_the_shipping() {
        let rules = [
            rule("DE", None, None, 1900),
            rule("DE", None, Some("reduced"), 700),
        ];
        let lines = [
            Taxable {
                total: 2000,
                class: "standard",
            },
            Taxable {
                total: 1000,
                class: "reduced",
            },
        ];
        let t = totals(&rules, to("DE", None), false, &lines, 300, 500).unwrap();
        // Discount 300 → 200 and 100; taxes 19 % of 1800 = 342, 7 % of 900 = 63, 19 % of 500 = 95.
        assert_eq!((t.subtotal, t.discount, t.shipping), (3000, 300, 500));
        assert_eq!(
            t.lines.iter().map(|l| l.tax).collect::<Vec<_>>(),
            vec![342, 63]
        );
        assert_eq!(t.shipping_tax.tax, 95);
        assert_eq!(t.tax, 500);
        assert_eq!(t.total, 3000 - 300 + 500 + 500);

        // The same prices with tax included: the total is what the prices say.
        let t = totals(&rules, to("DE", None), true, &lines, 300, 500).unwrap();
        assert_eq!(t.total, 3200);
        // 1800 − round(1800 / 1.19) = 1800 − 1513 = 287; 900 − 841 = 59; 500 − 420 = 80.
        assert_eq!(t.tax, 287 + 59 + 80);
    }
}
