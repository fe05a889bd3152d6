//! Money: euros as `rust_decimal::Decimal`, never negative, at most two decimals.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount the ledger accepts for one figure: one thousand billion euros.
/// A bigger figure is a typing mistake, not a grant.
pub const AMOUNT_MAX_EUR: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0); // 1e12

/// Why a figure is not a valid amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error(
        "amount {0} is negative: amounts are euros ≥ 0 (a correction is recorded as its own event)"
    )]
    Negative(String),
    #[error("amount {0} has more than 2 decimals: amounts are euros and cents")]
    TooPrecise(String),
    #[error("amount {0} is above the limit of 1,000,000,000,000 €")]
    TooLarge(String),
    #[error("'{0}' is not an amount: write euros with a dot and at most 2 decimals, e.g. 1500.50")]
    Unparsable(String),
}

/// An amount in euros: ≥ 0, at most 2 decimals, at most [`AMOUNT_MAX_EUR`].
///
/// Serialised as a string with exactly two decimals (`"1500.50"`), so that no JSON reader turns it
/// into a float. Read from a string or from a JSON number written with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(Decimal);

impl Amount {
    /// Zero euros.
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    /// Checks a decimal and makes it an amount.
    pub fn new(value: Decimal) -> Result<Self, AmountError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(AmountError::Negative(value.to_string()));
        }
        let normalized = value.normalize();
        if normalized.scale() > 2 {
            return Err(AmountError::TooPrecise(value.to_string()));
        }
        if normalized > AMOUNT_MAX_EUR {
            return Err(AmountError::TooLarge(value.to_string()));
        }
        let mut cents = normalized;
        cents.rescale(2);
        Ok(Amount(cents))
    }

    /// Whole euros, for literals in tests and demo data.
    pub fn euros(value: u64) -> Self {
        Amount::new(Decimal::from(value)).expect("whole euros below the limit are valid")
    }

    /// An amount from a number of cents.
    pub fn from_cents(cents: i64) -> Result<Self, AmountError> {
        Amount::new(Decimal::new(cents, 2))
    }

    /// The value as a decimal with two decimals.
    pub fn value(self) -> Decimal {
        self.0
    }

    /// The value in cents.
    pub fn cents(self) -> i64 {
        let mut cents = self.0 * Decimal::ONE_HUNDRED;
        cents.rescale(0);
        i64::try_from(cents).unwrap_or(i64::MAX)
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Sum of two amounts; `None` above the limit.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        Amount::new(self.0 + other.0).ok()
    }

    /// Difference; `None` when it would be negative.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        Amount::new(self.0 - other.0).ok()
    }

    /// Difference, floored at zero.
    pub fn saturating_sub(self, other: Amount) -> Amount {
        self.checked_sub(other).unwrap_or(Amount::ZERO)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    /// Reads `-?digits(.digits)?` and nothing else: no spaces, no `_`, no `+`, no exponent, no
    /// dangling or leading dot (`Decimal` alone accepts `"1_000"`, `"12."` and `".5"`). The sign and
    /// the number of decimals are then judged by [`Amount::new`], whose messages say what is wrong.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if !is_plain_decimal(text) {
            return Err(AmountError::Unparsable(text.to_string()));
        }
        let value =
            Decimal::from_str_exact(text).map_err(|_| AmountError::Unparsable(text.to_string()))?;
        Amount::new(value)
    }
}

/// Whether `text` is `^-?[0-9]+(\.[0-9]+)?$`: the only spelling of an amount the ledger reads.
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, decimals) = match unsigned.split_once('.') {
        Some((whole, decimals)) => (whole, Some(decimals)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && decimals.is_none_or(digits)
}

impl TryFrom<Decimal> for Amount {
    type Error = AmountError;
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Amount::new(value)
    }
}

impl Sum for Amount {
    /// Sums amounts. Sums in the ledger stay far below the limit; should one pass it, the result
    /// is capped at the limit rather than wrapping.
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        let total: Decimal = iter.map(|a| a.0).sum();
        Amount::new(total).unwrap_or(Amount(AMOUNT_MAX_EUR))
    }
}

/// The JSON Schema of an amount: what [`Amount`]'s `Deserialize` accepts. Events always carry the
/// string form; commands may also give a JSON number with at most two decimals.
impl schemars::JsonSchema for Amount {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Euros ≥ 0 with at most 2 decimals, at most 1,000,000,000,000 €; written as a string such as \"1500.50\" (commands also accept a JSON number).",
            "oneOf": [
                { "type": "string", "pattern": "^[0-9]{1,13}(\\.[0-9]{1,2})?$" },
                { "type": "number", "minimum": 0, "multipleOf": 0.01 }
            ]
        })
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;
        impl de::Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "an amount in euros, as a string or a number, ≥ 0 with at most 2 decimals",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Amount::new(Decimal::from(v)).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                Amount::new(Decimal::from(v)).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                // The shortest representation that round-trips is what the user typed.
                if !v.is_finite() {
                    return Err(E::custom(AmountError::Unparsable(v.to_string())));
                }
                v.to_string().parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(AmountVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rejects_negative_over_precise_and_huge() {
        assert!(matches!(
            Amount::new(dec!(-0.01)),
            Err(AmountError::Negative(_))
        ));
        assert!(matches!(
            Amount::new(dec!(1.001)),
            Err(AmountError::TooPrecise(_))
        ));
        assert!(matches!(
            Amount::new(dec!(1000000000000.01)),
            Err(AmountError::TooLarge(_))
        ));
        assert!(matches!(
            "12,5".parse::<Amount>(),
            Err(AmountError::Unparsable(_))
        ));
        assert_eq!(Amount::new(dec!(1.100)).unwrap().to_string(), "1.10");
        assert_eq!(AMOUNT_MAX_EUR, dec!(1000000000000));
    }

    #[test]
    fn reads_strings_and_numbers_writes_strings() {
        let a: Amount = serde_json::from_str("1500.5").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"1500.50\"");
        let b: Amount = serde_json::from_str("\"23000.00\"").unwrap();
        assert_eq!(b.cents(), 2_300_000);
        assert!(serde_json::from_str::<Amount>("-3").is_err());
        assert!(serde_json::from_str::<Amount>("0.123").is_err());
    }

    #[test]
    fn only_plain_decimals_are_amounts() {
        for text in [
            "1_000", " 12 ", "12.", ".5", "+12", "1e3", "12 ", "", "-", "1.2.3", "١٢",
        ] {
            assert!(
                matches!(text.parse::<Amount>(), Err(AmountError::Unparsable(_))),
                "{text:?} was accepted"
            );
            let json = serde_json::Value::String(text.to_string());
            assert!(serde_json::from_value::<Amount>(json).is_err(), "{text:?}");
        }
        assert!(matches!(
            "-12".parse::<Amount>(),
            Err(AmountError::Negative(_))
        ));
        assert!(matches!(
            "12.345".parse::<Amount>(),
            Err(AmountError::TooPrecise(_))
        ));
        assert_eq!("0012.5".parse::<Amount>().unwrap().to_string(), "12.50");
        assert_eq!("-0".parse::<Amount>().unwrap(), Amount::ZERO);
        let number: Amount = serde_json::from_str("1500.5").unwrap();
        assert_eq!(number.to_string(), "1500.50");
    }

    proptest! {
        #[test]
        fn cents_round_trip(cents in 0i64..100_000_000_000_000) {
            let a = Amount::from_cents(cents).unwrap();
            prop_assert_eq!(a.cents(), cents);
            let back: Amount = a.to_string().parse().unwrap();
            prop_assert_eq!(back, a);
        }
    }
}
