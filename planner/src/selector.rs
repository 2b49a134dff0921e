//! CPU selectors: which CPUs a node, the boot set or the hotpluggable set holds.
//!
//! In TOML a selector is one of
//! - a CPU list string in Linux's cpulist syntax: `"0-3,8,10-11"` (indices in
//!   the plan's enumeration order; `""` selects nothing);
//! - a place in the hierarchy: `{ socket = 1 }`, `{ socket = 0, cluster = 2 }`,
//!   `{ socket = 1, die = 0, core = 3, thread = 1 }`; levels left out match
//!   every value (`core` counts within its cluster or die, `thread` within its core);
//! - an array mixing both: `[{ socket = 0 }, "12-13"]`.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A place pattern in the CPU hierarchy; `None` matches every value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// Socket index.
    pub socket: Option<u32>,
    /// Cluster index within the socket (aarch64).
    pub cluster: Option<u32>,
    /// Die index within the socket (x86_64).
    pub die: Option<u32>,
    /// Core index within the cluster or die.
    pub core: Option<u32>,
    /// Thread index within the core.
    pub thread: Option<u32>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (name, value) in [
            ("socket", self.socket),
            ("cluster", self.cluster),
            ("die", self.die),
            ("core", self.core),
            ("thread", self.thread),
        ] {
            if let Some(v) = value {
                parts.push(format!("{name} = {v}"));
            }
        }
        write!(f, "{{ {} }}", parts.join(", "))
    }
}

/// One element of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectorItem {
    /// Inclusive index ranges from a cpulist string.
    List(Vec<(u32, u32)>),
    /// A place pattern.
    Place(Place),
}

/// A set of CPUs, written as a cpulist string, a place or an array of both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(pub Vec<SelectorItem>);

/// Every cpulist parse error starts with this, so the planner can name the rule.
pub const CPULIST_ERROR_PREFIX: &str = "CPU list ";

/// Parses Linux cpulist syntax (`"0-3,8"`) into inclusive ranges.
///
/// # Errors
/// A message naming the malformed part.
pub fn parse_cpulist(text: &str) -> Result<Vec<(u32, u32)>, String> {
    let mut ranges = Vec::new();
    if text.trim().is_empty() {
        return Ok(ranges);
    }
    for part in text.split(',') {
        let part = part.trim();
        let number = |s: &str| {
            s.trim().parse::<u32>().map_err(|_| {
                format!("CPU list {text:?}: {part:?} is not a CPU index or a range a-b")
            })
        };
        let range = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(part)?;
                (n, n)
            }
        };
        if range.0 > range.1 {
            return Err(format!("CPU list {text:?}: range {part:?} runs backwards"));
        }
        ranges.push(range);
    }
    Ok(ranges)
}

/// Formats sorted indices as a cpulist (`0-3,8`), as Linux prints them.
#[must_use]
pub fn format_cpulist(indices: impl IntoIterator<Item = u32>) -> String {
    let mut out = String::new();
    let mut iter = indices.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}-{end}"));
        }
    }
    out
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = SelectorItem;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CPU list string such as \"0-3,8\" or a place such as { socket = 1 }")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<SelectorItem, E> {
        parse_cpulist(v).map(SelectorItem::List).map_err(E::custom)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SelectorItem, A::Error> {
        Place::deserialize(de::value::MapAccessDeserializer::new(map)).map(SelectorItem::Place)
    }
}

impl<'de> Deserialize<'de> for SelectorItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SelectorVisitor;
        impl<'de> Visitor<'de> for SelectorVisitor {
            type Value = Selector;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a CPU selector: a CPU list string, a place such as { socket = 1 }, or an array of them",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Selector, E> {
                ItemVisitor.visit_str(v).map(|item| Selector(vec![item]))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Selector, A::Error> {
                ItemVisitor.visit_map(map).map(|item| Selector(vec![item]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Selector, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<SelectorItem>()? {
                    items.push(item);
                }
                Ok(Selector(items))
            }
        }
        deserializer.deserialize_any(SelectorVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cpulist_ranges_and_singles() {
        assert_eq!(
            parse_cpulist("0-3, 8,10-11"),
            Ok(vec![(0, 3), (8, 8), (10, 11)])
        );
        assert_eq!(parse_cpulist(""), Ok(vec![]));
    }

    #[test]
    fn test_cpulist_rejects_backward_range() {
        let err = parse_cpulist("5-2").unwrap_err();
        assert!(err.contains("\"5-2\" runs backwards"), "{err}");
    }

    #[test]
    fn test_cpulist_rejects_garbage() {
        assert!(parse_cpulist("0-x").is_err());
        assert!(parse_cpulist("-1").is_err());
    }

    #[test]
    fn test_format_cpulist_merges_runs() {
        assert_eq!(format_cpulist([0, 1, 2, 3, 8, 10, 11]), "0-3,8,10-11");
        assert_eq!(format_cpulist([]), "");
    }
}
