//! NUMA rules: `srat-memory-overlap`, `slit-diagonal`, `slit-remote`,
//! `slit-size`.

use std::collections::BTreeSet;

use super::{list, plural, Finding, Set, Severity};
use crate::dump::{Slit, Srat, SratMemory};

pub(crate) fn check(set: &Set<'_>, out: &mut Vec<Finding>) {
    if let Some(srat) = set.srat() {
        srat_memory_overlap(srat, out);
    }
    if let Some(slit) = set.slit() {
        slit_entries(slit, out);
        if let Some(srat) = set.srat() {
            slit_size(slit, srat, out);
        }
    }
}

fn describe(m: &SratMemory) -> String {
    format!(
        "[{:#x}, {:#x}) (domain {}{}, offset {:#x})",
        m.base,
        m.end(),
        m.domain,
        if m.hot_pluggable {
            ", hot-pluggable"
        } else {
            ""
        },
        m.offset
    )
}

/// Overlapping Enabled memory ranges: Linux x86 `numa_cleanup_meminfo`
/// rejects ranges of different nodes that overlap (NUMA off), and a
/// hot-pluggable range over boot memory makes memblock mark boot memory
/// hot-removable. Structures with Enabled clear are ignored by Linux and
/// here.
fn srat_memory_overlap(srat: &Srat, out: &mut Vec<Finding>) {
    let ranges: Vec<&SratMemory> = srat
        .memory()
        .filter(|m| m.enabled && m.length > 0)
        .collect();
    let mut pairs = Vec::new();
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            if a.base < b.end() && b.base < a.end() {
                let kind = if a.hot_pluggable != b.hot_pluggable {
                    "hot-pluggable over boot memory: "
                } else if a.domain != b.domain {
                    "two domains: "
                } else {
                    ""
                };
                pairs.push(format!("{kind}{} and {}", describe(a), describe(b)));
            }
        }
    }
    if !pairs.is_empty() {
        out.push(Finding::new(
            "srat-memory-overlap",
            Severity::Error,
            "SRAT",
            format!("Enabled memory ranges overlap: {}", list(&pairs)),
        ));
    }
}

/// Linux `slit_valid` (drivers/acpi/numa/srat.c): every diagonal entry must
/// be 10 (LOCAL_DISTANCE) and every other entry more than 10, else "SLIT
/// table looks invalid. Not used."
fn slit_entries(slit: &Slit, out: &mut Vec<Finding>) {
    let mut diagonal = Vec::new();
    let mut remote = Vec::new();
    for (i, row) in slit.rows.iter().enumerate() {
        for (j, &d) in row.iter().enumerate() {
            if i == j && d != 10 {
                diagonal.push(format!("[{i}][{j}] = {d}"));
            } else if i != j && d <= 10 {
                remote.push(format!("[{i}][{j}] = {d}"));
            }
        }
    }
    if !diagonal.is_empty() {
        out.push(Finding::new(
            "slit-diagonal",
            Severity::Error,
            "SLIT",
            format!(
                "the distance of a locality to itself must be 10: {}; Linux discards the SLIT",
                list(&diagonal)
            ),
        ));
    }
    if !remote.is_empty() {
        out.push(Finding::new(
            "slit-remote",
            Severity::Error,
            "SLIT",
            format!(
                "distances between different localities must be more than 10 (255: \
                 unreachable): {}; Linux discards the SLIT",
                list(&remote)
            ),
        ));
    }
}

/// SLIT indices are proximity domains: a domain >= N has no distances.
fn slit_size(slit: &Slit, srat: &Srat, out: &mut Vec<Finding>) {
    let outside: BTreeSet<u64> = srat
        .domains()
        .map(u64::from)
        .filter(|&d| d >= slit.localities)
        .collect();
    if !outside.is_empty() {
        out.push(Finding::new(
            "slit-size",
            Severity::Error,
            "SLIT",
            format!(
                "no SLIT row for SRAT {}: the SLIT has {} localities (its indices are proximity \
                 domains)",
                plural("proximity domain", &outside),
                slit.localities
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        lint_rule, nth, patch, put_u32, put_u64, tables, ARM, SRAT_START,
    };
    use super::super::Severity;

    #[test]
    fn test_slit_diagonal_must_be_10() {
        let mut files = tables(ARM);
        patch(&mut files, "SLIT", |s| s[44] = 11);
        let found = lint_rule(&files, "slit-diagonal");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "the distance of a locality to itself must be 10: [0][0] = 11; Linux discards the SLIT"
        );
    }

    #[test]
    fn test_slit_remote_must_exceed_10() {
        let mut files = tables(ARM);
        patch(&mut files, "SLIT", |s| s[45] = 10);
        let found = lint_rule(&files, "slit-remote");
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .ends_with("unreachable): [0][1] = 10; Linux discards the SLIT"));
    }

    #[test]
    fn test_slit_size_covers_every_srat_domain() {
        let mut files = tables(ARM);
        patch(&mut files, "SRAT", |s| {
            let at = nth(s, SRAT_START, 0x01, 1);
            put_u32(s, at + 2, 7);
        });
        let found = lint_rule(&files, "slit-size");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "no SLIT row for SRAT proximity domain 7: the SLIT has 2 localities (its indices \
             are proximity domains)"
        );
    }

    /// The ARM set with the second memory range moved onto the first.
    fn overlapping(flags: u32) -> Vec<crate::dump::TableFile> {
        let mut files = tables(ARM);
        patch(&mut files, "SRAT", |s| {
            let first = nth(s, SRAT_START, 0x01, 0);
            let second = nth(s, SRAT_START, 0x01, 1);
            let base = u64::from_le_bytes(s[first + 8..first + 16].try_into().unwrap());
            put_u64(s, second + 8, base + 0x1000);
            put_u32(s, second + 28, flags);
        });
        files
    }

    #[test]
    fn test_srat_memory_overlap_between_domains() {
        let found = lint_rule(&overlapping(1), "srat-memory-overlap");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0]
            .message
            .starts_with("Enabled memory ranges overlap: two domains: ["));
        assert!(found[0].message.contains("(domain 1, offset 0x"));
    }

    #[test]
    fn test_srat_hotpluggable_over_boot_memory() {
        let found = lint_rule(&overlapping(0b11), "srat-memory-overlap");
        assert!(found[0]
            .message
            .contains("hot-pluggable over boot memory: ["));
        assert!(found[0]
            .message
            .contains("(domain 1, hot-pluggable, offset 0x"));
    }

    #[test]
    fn test_disabled_memory_ranges_are_ignored() {
        assert!(lint_rule(&overlapping(0), "srat-memory-overlap").is_empty());
    }
}
