//! PPTT rules: `pptt-coverage`, `pptt-possible-vs-madt`, `pptt-references`.

use std::collections::{BTreeMap, BTreeSet};

use super::{list, plural, Finding, Set, Severity};
use crate::dump::{Pptt, PpttEntry, PpttProcessor};

pub(crate) fn check(set: &Set<'_>, out: &mut Vec<Finding>) {
    let Some((header, pptt)) = set.pptt() else {
        return;
    };
    references(pptt, out);
    leaf_flags(header.revision, pptt, out);
    if let Some((_, madt)) = set.madt() {
        let possible: BTreeSet<u64> = madt
            .processors()
            .filter(|p| p.is_possible())
            .map(|p| u64::from(p.uid))
            .collect();
        coverage(header.revision, pptt, &possible, out);
        possible_vs_madt(header.revision, pptt, &possible, out);
    }
}

/// The leaves as Linux finds them (`acpi_pptt_leaf_node`,
/// drivers/acpi/pptt.c): processor nodes with the Leaf flag (revision 2+),
/// or that no processor node names as its Parent.
pub(crate) fn leaves(revision: u8, pptt: &Pptt) -> Vec<&PpttProcessor> {
    let parents: BTreeSet<u32> = pptt.processors().map(|p| p.parent).collect();
    pptt.processors()
        .filter(|p| {
            (revision >= 2 && p.has(PpttProcessor::LEAF))
                || !u32::try_from(p.offset).is_ok_and(|o| parents.contains(&o))
        })
        .collect()
}

/// The processor node at `offset`, if one starts there.
fn processor_at(pptt: &Pptt, offset: u32) -> Option<&PpttProcessor> {
    match pptt.at(offset)? {
        PpttEntry::Processor(p) => Some(p),
        _ => None,
    }
}

/// `node` and its ancestors, stopping at a missing parent or a cycle.
fn ancestry<'p>(pptt: &'p Pptt, node: &'p PpttProcessor) -> Vec<&'p PpttProcessor> {
    let mut chain = vec![node];
    let mut seen = BTreeSet::from([node.offset]);
    let mut at = node;
    while at.parent != 0 {
        match processor_at(pptt, at.parent) {
            Some(p) if seen.insert(p.offset) => {
                chain.push(p);
                at = p;
            }
            _ => break,
        }
    }
    chain
}

/// Every reference must land on a structure of the right type:
/// Parent -> processor node, private resource -> cache or ID structure,
/// Next Level of Cache -> cache; and parents must not form a cycle.
fn references(pptt: &Pptt, out: &mut Vec<Finding>) {
    let mut bad = Vec::new();
    for e in &pptt.entries {
        match e {
            PpttEntry::Processor(p) => {
                if p.parent != 0 && processor_at(pptt, p.parent).is_none() {
                    bad.push(format!(
                        "node {:#x}: Parent {:#x} is not a processor node",
                        p.offset, p.parent
                    ));
                }
                for r in &p.private_resources {
                    if matches!(pptt.at(*r), None | Some(PpttEntry::Processor(_))) {
                        bad.push(format!(
                            "node {:#x}: private resource {r:#x} is not a cache or ID structure",
                            p.offset
                        ));
                    }
                }
                let chain = ancestry(pptt, p);
                let last = chain.last().map_or(0, |n| n.parent);
                if last != 0 && processor_at(pptt, last).is_some() {
                    bad.push(format!("node {:#x}: its Parent chain loops", p.offset));
                }
            }
            PpttEntry::Cache(c) => {
                if c.next_level != 0 && !matches!(pptt.at(c.next_level), Some(PpttEntry::Cache(_)))
                {
                    bad.push(format!(
                        "cache {:#x}: Next Level of Cache {:#x} is not a cache structure",
                        c.offset, c.next_level
                    ));
                }
            }
            PpttEntry::Other { .. } => {}
        }
    }
    if !bad.is_empty() {
        out.push(Finding::new(
            "pptt-references",
            Severity::Error,
            "PPTT",
            format!("broken references: {}", list(&bad)),
        ));
    }
}

/// Warnings about leaf flags: ID valid clear, Thread in revision 1, no
/// Physical package above.
fn leaf_flags(revision: u8, pptt: &Pptt, out: &mut Vec<Finding>) {
    let leaves = leaves(revision, pptt);
    let no_id: Vec<String> = leaves
        .iter()
        .filter(|p| !p.has(PpttProcessor::ID_VALID))
        .map(|p| format!("{:#x}", p.offset))
        .collect();
    if !no_id.is_empty() {
        out.push(Finding::new(
            "pptt-coverage",
            Severity::Warning,
            "PPTT",
            format!(
                "leaf nodes at offsets {} have ACPI Processor ID valid clear: ACPI requires it \
                 on leaves (Linux matches their ACPI Processor ID anyway)",
                list(&no_id)
            ),
        ));
    }
    if revision < 2 {
        let threads: Vec<String> = pptt
            .processors()
            .filter(|p| p.has(PpttProcessor::THREAD))
            .map(|p| format!("{:#x}", p.offset))
            .collect();
        if !threads.is_empty() {
            out.push(Finding::new(
                "pptt-coverage",
                Severity::Warning,
                "PPTT",
                format!(
                    "nodes at offsets {} set Processor is a Thread, which PPTT revision \
                     {revision} does not define: Linux (acpi_pptt_cpu_is_thread) reads it from \
                     revision 2 on and falls back to MPIDR.MT",
                    list(&threads)
                ),
            ));
        }
    }
    let no_package: BTreeSet<u64> = leaves
        .iter()
        .filter(|leaf| {
            !ancestry(pptt, leaf)
                .iter()
                .any(|n| n.has(PpttProcessor::PHYSICAL_PACKAGE))
        })
        .map(|leaf| u64::from(leaf.acpi_processor_id))
        .collect();
    if !no_package.is_empty() {
        out.push(Finding::new(
            "pptt-coverage",
            Severity::Warning,
            "PPTT",
            format!(
                "no node at or above the leaves of {} has the Physical package flag: Linux \
                 (find_acpi_cpu_topology_package) then takes the topmost node as the package",
                plural("UID", &no_package)
            ),
        ));
    }
}

/// Linux `parse_acpi_topology` (drivers/base/arch_topology.c) looks up the
/// leaf of every possible CPU; one miss discards the whole PPTT topology
/// (`reset_cpu_topology`).
fn coverage(revision: u8, pptt: &Pptt, possible: &BTreeSet<u64>, out: &mut Vec<Finding>) {
    let leaf_ids: BTreeSet<u64> = leaves(revision, pptt)
        .iter()
        .map(|p| u64::from(p.acpi_processor_id))
        .collect();
    let missing: BTreeSet<u64> = possible.difference(&leaf_ids).copied().collect();
    if !missing.is_empty() {
        out.push(Finding::new(
            "pptt-coverage",
            Severity::Error,
            "PPTT",
            format!(
                "possible CPUs (MADT Enabled or Online Capable) with {} have no PPTT leaf: Linux \
                 (parse_acpi_topology) discards the whole PPTT topology",
                plural("UID", &missing)
            ),
        ));
    }
}

/// The possible-CPU set must agree (acpi-notes §12): a PPTT leaf for a CPU
/// the MADT does not list as possible describes a CPU that can never come
/// up. QEMU 10's arm64 `virt` with `maxcpus` > `cpus` does exactly this:
/// its PPTT covers maxcpus, its MADT only the boot CPUs.
fn possible_vs_madt(revision: u8, pptt: &Pptt, possible: &BTreeSet<u64>, out: &mut Vec<Finding>) {
    let mut by_id: BTreeMap<u64, usize> = BTreeMap::new();
    for p in leaves(revision, pptt) {
        *by_id.entry(u64::from(p.acpi_processor_id)).or_default() += 1;
    }
    let leaf_ids: BTreeSet<u64> = by_id.keys().copied().collect();
    let extra: BTreeSet<u64> = leaf_ids.difference(possible).copied().collect();
    if extra.is_empty() {
        return;
    }
    out.push(Finding::new(
        "pptt-possible-vs-madt",
        Severity::Error,
        "PPTT",
        format!(
            "the PPTT describes {} CPUs ({}), the MADT lists {} possible CPUs ({}): {} can \
             never be brought up; the MADT must list every possible CPU (Online Capable for \
             hotplug slots)",
            leaf_ids.len(),
            plural("UID", &leaf_ids),
            possible.len(),
            plural("UID", possible),
            plural("UID", &extra)
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        lint_rule, nth, patch, put_u32, structures, tables, ARM, ARM_SMT, MADT_START, PPTT_START,
    };
    use super::super::Severity;
    use crate::dump::PpttProcessor;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    /// PPTT offsets of the processor nodes whose Flags contain `mask`.
    fn nodes_with(pptt: &[u8], mask: u32) -> Vec<usize> {
        structures(pptt, PPTT_START)
            .into_iter()
            .filter(|&(at, kind)| kind == 0 && u32_at(pptt, at + 4) & mask == mask)
            .map(|(at, _)| at)
            .collect()
    }

    /// PPTT offset of the leaf of UID `uid`.
    fn leaf(pptt: &[u8], uid: u32) -> usize {
        nodes_with(pptt, PpttProcessor::LEAF)
            .into_iter()
            .find(|&at| u32_at(pptt, at + 12) == uid)
            .unwrap()
    }

    #[test]
    fn test_a_possible_cpu_without_a_leaf_discards_the_pptt() {
        let mut files = tables(ARM);
        patch(&mut files, "PPTT", |p| {
            let at = leaf(p, 3);
            put_u32(p, at + 12, 99);
        });
        let found = lint_rule(&files, "pptt-coverage");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].message,
            "possible CPUs (MADT Enabled or Online Capable) with UID 3 have no PPTT leaf: Linux \
             (parse_acpi_topology) discards the whole PPTT topology"
        );
    }

    #[test]
    fn test_leaf_without_id_valid_is_a_warning() {
        let mut files = tables(ARM);
        let mut offset = 0;
        patch(&mut files, "PPTT", |p| {
            offset = leaf(p, 2);
            let flags = u32_at(p, offset + 4) & !PpttProcessor::ID_VALID;
            put_u32(p, offset + 4, flags);
        });
        let found = lint_rule(&files, "pptt-coverage");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.starts_with(&format!(
            "leaf nodes at offsets {offset:#x} have ACPI Processor ID valid clear"
        )));
    }

    #[test]
    fn test_thread_flag_in_revision_1_is_a_warning() {
        let mut files = tables(ARM_SMT);
        patch(&mut files, "PPTT", |p| p[8] = 1);
        let found = lint_rule(&files, "pptt-coverage");
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .contains("set Processor is a Thread, which PPTT revision 1 does not define"));
    }

    #[test]
    fn test_no_physical_package_above_the_leaves_is_a_warning() {
        let mut files = tables(ARM);
        patch(&mut files, "PPTT", |p| {
            for at in nodes_with(p, PpttProcessor::PHYSICAL_PACKAGE) {
                let flags = u32_at(p, at + 4) & !PpttProcessor::PHYSICAL_PACKAGE;
                put_u32(p, at + 4, flags);
            }
        });
        let found = lint_rule(&files, "pptt-coverage");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.starts_with(
            "no node at or above the leaves of UIDs 0-3 has the Physical package flag"
        ));
    }

    #[test]
    fn test_pptt_describing_cpus_the_madt_does_not_list() {
        let mut files = tables(ARM);
        // CPU 3 neither Enabled nor Online Capable: not a possible CPU.
        patch(&mut files, "APIC", |m| {
            let at = nth(m, MADT_START, 0x0B, 3);
            put_u32(m, at + 12, 0);
        });
        let found = lint_rule(&files, "pptt-possible-vs-madt");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "the PPTT describes 4 CPUs (UIDs 0-3), the MADT lists 3 possible CPUs (UIDs 0-2): \
             UID 3 can never be brought up; the MADT must list every possible CPU (Online \
             Capable for hotplug slots)"
        );
    }

    #[test]
    fn test_parent_pointing_nowhere() {
        let mut files = tables(ARM);
        let mut offset = 0;
        patch(&mut files, "PPTT", |p| {
            offset = leaf(p, 0);
            put_u32(p, offset + 8, 7);
        });
        let found = lint_rule(&files, "pptt-references");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            format!("broken references: node {offset:#x}: Parent 0x7 is not a processor node")
        );
    }

    #[test]
    fn test_parent_cycle() {
        let mut files = tables(ARM);
        patch(&mut files, "PPTT", |p| {
            let package = nodes_with(p, PpttProcessor::PHYSICAL_PACKAGE)[0];
            let child = leaf(p, 0);
            put_u32(p, package + 8, u32::try_from(child).unwrap());
        });
        let found = lint_rule(&files, "pptt-references");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("its Parent chain loops"),
            "{}",
            found[0].message
        );
    }
}
