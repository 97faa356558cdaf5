//! Money in minor units of the shop's currency (cents), as `i64`. Every product, sum and share
//! of amounts is checked: a result beyond [`MAX_TOTAL`] is an [`Overflow`], never a wrapped
//! number or a panic.

/// The highest price of one unit: 10^11 minor units (a billion in a two-decimal currency).
pub const MAX_PRICE: i64 = 100_000_000_000;

/// The highest amount any total (a line, a cart, an order) may reach: 10^15 minor units.
/// Shares of it (tax, discounts) stay far inside `i64`.
pub const MAX_TOTAL: i64 = 1_000_000_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the amount would be more than {MAX_TOTAL} minor units")]
pub struct Overflow;

/// `price × quantity`.
pub fn times(price: i64, quantity: i64) -> Result<i64, Overflow> {
    bounded(i128::from(price) * i128::from(quantity))
}

/// The sum of `amounts`.
pub fn sum(amounts: impl IntoIterator<Item = i64>) -> Result<i64, Overflow> {
    amounts.into_iter().try_fold(0i64, |total, amount| {
        bounded(i128::from(total) + i128::from(amount))
    })
}

/// `amount × parts / whole`, rounded half up (away from zero): a rate in basis points is
/// `share(amount, rate, 10_000)`, a percentage `share(amount, percent, 100)`.
pub fn share(amount: i64, parts: i64, whole: i64) -> Result<i64, Overflow> {
    let product = i128::from(amount) * i128::from(parts);
    let half = i128::from(whole) / 2;
    let rounded = if product >= 0 {
        (product + half) / i128::from(whole)
    } else {
        (product - half) / i128::from(whole)
    };
    bounded(rounded)
}

/// `amount` minor units in major units with the currency code, by the currency's ISO 4217
/// exponent: `1999` EUR is `19.99 EUR`, `1200` JPY is `1200 JPY`, `1500` BHD is `1.500 BHD`.
/// An unknown code is taken to have two decimals.
pub fn display(amount: i64, currency: &str) -> String {
    format!("{} {currency}", decimal(amount, currency))
}

/// `amount` minor units as a decimal number of major units, by the currency's ISO 4217
/// exponent (two decimals for an unknown code): `1999` EUR is `19.99`, `1200` JPY `1200`.
pub fn decimal(amount: i64, currency: &str) -> String {
    let exponent = iso_currency::Currency::from_code(currency)
        .and_then(|c| c.exponent())
        .unwrap_or(2) as u32;
    if exponent == 0 {
        return amount.to_string();
    }
    let sign = if amount < 0 { "-" } else { "" };
    let (abs, unit) = (amount.unsigned_abs(), 10u64.pow(exponent));
    let width = exponent as usize;
    format!("{sign}{}.{:0width$}", abs / unit, abs % unit)
}

fn bounded(value: i128) -> Result<i64, Overflow> {
    if value.abs() > i128::from(MAX_TOTAL) {
        Err(Overflow)
    } else {
        Ok(value as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_sums_beyond_the_bound_are_overflows() {
        assert_eq!(times(i64::MAX, 2), Err(Overflow));
        assert_eq!(times(MAX_PRICE, 1_000_000), Err(Overflow));
        assert_eq!(times(MAX_PRICE, 10_000), Ok(MAX_TOTAL));
        assert_eq!(sum([MAX_TOTAL, 1]), Err(Overflow));
        assert_eq!(sum([i64::MAX, i64::MAX]), Err(Overflow));
        assert_eq!(sum([MAX_TOTAL, -1]), Ok(MAX_TOTAL - 1));
    }

    #[test]
    fn amounts_display_by_the_currencys_exponent() {
        assert_eq!(display(1999, "EUR"), "19.99 EUR");
        assert_eq!(display(5, "USD"), "0.05 USD");
        assert_eq!(display(-250, "GBP"), "-2.50 GBP");
        assert_eq!(display(1200, "JPY"), "1200 JPY");
        assert_eq!(display(1500, "BHD"), "1.500 BHD");
    }

    #[test]
    fn shares_round_half_up() {
        assert_eq!(share(1_000, 1_900, 10_000), Ok(190));
        assert_eq!(share(5, 1_000, 10_000), Ok(1)); // 0.5 rounds up
        assert_eq!(share(4, 1_000, 10_000), Ok(0));
        assert_eq!(share(999, 10, 100), Ok(100)); // 99.9
        assert_eq!(share(MAX_TOTAL, 10_000, 10_000), Ok(MAX_TOTAL));
        assert_eq!(share(i64::MAX, 10_000, 10_000), Err(Overflow));
    }
}
