//! Byte sizes written as integers or as strings with binary units.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A size in bytes. In TOML: an integer (bytes) or a string such as `"512MiB"`,
/// `"4GiB"`, `"64KiB"`, `"1TiB"`. Units are binary (KiB = 1024 bytes); `K`,
/// `M`, `G`, `T` and `KB`, `MB`, `GB`, `TB` are accepted as the same binary units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

const KIB: u64 = 1024;
const MIB: u64 = KIB * 1024;
const GIB: u64 = MIB * 1024;
const TIB: u64 = GIB * 1024;

impl ByteSize {
    /// Parses `"<number><unit>"`; see the type documentation.
    ///
    /// # Errors
    /// A message naming what is wrong with the text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !c.is_ascii_digit() && c != '_')
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let number = number.replace('_', "");
        if number.is_empty() {
            return Err(format!("size {text:?} does not start with a number"));
        }
        let value: u64 = number
            .parse()
            .map_err(|_| format!("size {text:?} is too large"))?;
        if unit.starts_with('.') {
            return Err(format!(
                "size {text:?} has a fraction; use a smaller unit (1.5GiB = 1536MiB)"
            ));
        }
        let multiplier = match unit.trim() {
            "" | "B" => 1,
            "K" | "KB" | "KiB" => KIB,
            "M" | "MB" | "MiB" => MIB,
            "G" | "GB" | "GiB" => GIB,
            "T" | "TB" | "TiB" => TIB,
            other => {
                return Err(format!(
                    "size {text:?} has unknown unit {other:?} (use B, KiB, MiB, GiB or TiB)"
                ))
            }
        };
        value
            .checked_mul(multiplier)
            .map(ByteSize)
            .ok_or_else(|| format!("size {text:?} is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        for (unit, name) in [(TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
            if v >= unit && v % unit == 0 {
                return write!(f, "{}{name}", v / unit);
            }
        }
        write!(f, "{v}B")
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size: bytes as an integer, or a string such as \"4GiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("size {v} is negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_binary_units() {
        assert_eq!(ByteSize::parse("4GiB"), Ok(ByteSize(4 << 30)));
        assert_eq!(ByteSize::parse("512M"), Ok(ByteSize(512 << 20)));
        assert_eq!(ByteSize::parse("1_024"), Ok(ByteSize(1024)));
        assert_eq!(ByteSize::parse("2 TiB"), Ok(ByteSize(2 << 40)));
    }

    #[test]
    fn test_unknown_unit_is_named() {
        let err = ByteSize::parse("4 parsecs").unwrap_err();
        assert!(err.contains("\"parsecs\""), "{err}");
    }

    #[test]
    fn test_overflow_is_an_error_not_a_wrap() {
        assert!(ByteSize::parse("99999999999TiB").is_err());
    }

    #[test]
    fn test_display_picks_largest_exact_unit() {
        assert_eq!(ByteSize(3 << 30).to_string(), "3GiB");
        assert_eq!(ByteSize(1536 << 20).to_string(), "1536MiB");
        assert_eq!(ByteSize(100).to_string(), "100B");
    }
}
