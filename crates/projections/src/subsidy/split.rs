//! Splitting an amount in cents by weights so that the parts add up exactly (largest remainder).
//!
//! Each part first gets the floor of its exact share; the cents left over go one each to the
//! parts with the largest remainders (ties: the earlier part). The arithmetic is in integers, so
//! the result is exact and the same on every machine.

use rust_decimal::Decimal;

/// Weights are scaled to integers with this many decimals (shares have 2, weights at most 4).
const WEIGHT_DECIMALS: u32 = 4;

/// Splits `total_cents` in proportion to `weights`. Zero or negative weights count as zero; if
/// every weight is zero, the split is equal. Returns one part per weight, summing to
/// `total_cents`; an empty `weights` gives an empty result.
pub fn split_cents(total_cents: i64, weights: &[Decimal]) -> Vec<i64> {
    split_cents_scaled(total_cents, &scaled_weights(weights))
}

/// Weights as [`split_cents`] uses them (integers, zero for zero or negative weights): for
/// splitting many amounts by the same weights without converting them each time.
pub fn scaled_weights(weights: &[Decimal]) -> Vec<i128> {
    weights.iter().map(|w| scale(*w)).collect()
}

/// [`split_cents`] by weights already scaled by [`scaled_weights`] (or any non-negative
/// integers: only their ratios count).
pub fn split_cents_scaled(total_cents: i64, scaled: &[i128]) -> Vec<i64> {
    if scaled.is_empty() {
        return Vec::new();
    }
    let equal;
    let mut scaled = scaled;
    if scaled.iter().all(|w| *w == 0) {
        equal = vec![1; scaled.len()];
        scaled = &equal;
    }
    let weight_total: i128 = scaled.iter().sum();
    let total = i128::from(total_cents);
    let mut parts = Vec::with_capacity(scaled.len());
    let mut remainders = Vec::with_capacity(scaled.len());
    for (index, weight) in scaled.iter().enumerate() {
        let product = total * weight;
        parts.push(product.div_euclid(weight_total));
        remainders.push((product.rem_euclid(weight_total), index));
    }
    let leftover = total - parts.iter().sum::<i128>();
    // Largest remainder first; equal remainders keep their order.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders.iter().take(leftover.max(0) as usize) {
        parts[*index] += 1;
    }
    parts
        .into_iter()
        .map(|p| i64::try_from(p).unwrap_or(i64::MAX))
        .collect()
}

fn scale(weight: Decimal) -> i128 {
    if weight <= Decimal::ZERO {
        return 0;
    }
    let mut scaled = weight * Decimal::from(10_i64.pow(WEIGHT_DECIMALS));
    scaled = scaled.trunc();
    i128::try_from(scaled).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(units: i64, scale: u32) -> Decimal {
        Decimal::new(units, scale)
    }

    #[test]
    fn splits_by_weights_and_gives_leftover_cents_to_largest_remainders() {
        assert_eq!(
            split_cents(100, &[dec(1, 0), dec(1, 0), dec(1, 0)]),
            vec![34, 33, 33]
        );
        assert_eq!(
            split_cents(1000, &[dec(2300, 0), dec(2700, 0)]),
            vec![460, 540]
        );
        assert_eq!(split_cents(1, &[dec(1, 0), dec(3, 0)]), vec![0, 1]);
        assert_eq!(split_cents(7, &[dec(0, 0), dec(0, 0)]), vec![4, 3]);
        assert_eq!(split_cents(10, &[dec(6667, 2), dec(3333, 2)]), vec![7, 3]);
        assert!(split_cents(10, &[]).is_empty());
    }

    proptest! {
        #[test]
        fn parts_add_up_exactly(
            total in 0i64..100_000_000_000_000,
            weights in proptest::collection::vec(0u32..100_000, 1..30),
        ) {
            let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
            let parts = split_cents(total, &weights);
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            prop_assert!(parts.iter().all(|p| *p >= 0));
            // No part is more than one cent away from its exact share.
            let weight_total: Decimal = weights.iter().sum();
            if !weight_total.is_zero() {
                for (part, weight) in parts.iter().zip(&weights) {
                    let exact = Decimal::from(total) * weight / weight_total;
                    prop_assert!((Decimal::from(*part) - exact).abs() < Decimal::ONE);
                }
            }
        }
    }
}
