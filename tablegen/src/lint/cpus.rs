//! Processor rules: `fadt-hw-reduced-arm`, `online-capable-with-enabled`,
//! `madt-revision-online-capable`, `madt-hotplug-usable`, `gicc-length`,
//! `gicr-discovery`, `uid-consistency`, `srat-cpu-coverage`.

use std::collections::BTreeSet;

use super::aml::{processors as aml_processors, AmlProcessor};
use super::{list, plural, Finding, Set, Severity};
use crate::dump::{Madt, MadtEntry, MadtProcessor, PpttProcessor, ProcessorKind, SratProcessor};

pub(crate) fn check(set: &Set<'_>, out: &mut Vec<Finding>) {
    fadt_hw_reduced_arm(set, out);
    if let Some((header, madt)) = set.madt() {
        online_capable_with_enabled(madt, out);
        madt_revision_online_capable(header.revision, madt, out);
        madt_hotplug_usable(set, madt, out);
        gicc_length(header.revision, madt, out);
        gicr_discovery(madt, out);
        uid_consistency(set, madt, out);
        srat_cpu_coverage(set, madt, out);
    }
}

/// FADT Flags bit 20 HW_REDUCED_ACPI.
const HW_REDUCED_ACPI: u32 = 1 << 20;
/// ARM_BOOT_ARCH bit 0 PSCI_COMPLIANT.
const PSCI_COMPLIANT: u16 = 1 << 0;

/// True when FADT `revision`.`minor` is at least `want_rev`.`want_minor`.
fn fadt_at_least(revision: u8, minor: Option<u8>, want_rev: u8, want_minor: u8) -> bool {
    revision > want_rev || (revision == want_rev && minor.unwrap_or(0) >= want_minor)
}

/// Linux arm64 `acpi_fadt_sanity_check` (arch/arm64/kernel/acpi.c) turns
/// ACPI off unless the FADT is 5.1+ and HW-reduced; without PSCI_COMPLIANT
/// Linux has no way to start secondary CPUs.
fn fadt_hw_reduced_arm(set: &Set<'_>, out: &mut Vec<Finding>) {
    if !set.is_arm() {
        return;
    }
    let Some((header, fadt)) = set.fadt() else {
        return;
    };
    let mut problems = Vec::new();
    if !fadt_at_least(header.revision, fadt.minor_version, 5, 1) {
        problems.push(format!(
            "FADT version {}.{} is older than 5.1",
            header.revision,
            fadt.minor_version.unwrap_or(0)
        ));
    }
    if fadt.flags.unwrap_or(0) & HW_REDUCED_ACPI == 0 {
        problems.push("HW_REDUCED_ACPI (Flags bit 20) is clear".to_string());
    }
    let acpi_off = !problems.is_empty();
    if fadt.arm_boot_arch.unwrap_or(0) & PSCI_COMPLIANT == 0 {
        problems.push("ARM_BOOT_ARCH lacks PSCI_COMPLIANT".to_string());
    }
    if problems.is_empty() {
        return;
    }
    let consequence = if acpi_off {
        "Linux arm64 (acpi_fadt_sanity_check) ignores ACPI and falls back to a device tree"
    } else {
        "Linux cannot bring up secondary CPUs through PSCI"
    };
    out.push(Finding::new(
        "fadt-hw-reduced-arm",
        Severity::Error,
        "FACP",
        format!(
            "the MADT has GICC structures (arm64) but {}: {consequence}",
            problems.join(", ")
        ),
    ));
}

/// "GICC UIDs 1,3" for processor structures of mixed or single kinds.
fn describe(processors: &[&MadtProcessor]) -> String {
    let kinds: BTreeSet<ProcessorKind> = processors.iter().map(|p| p.kind).collect();
    let uids: BTreeSet<u64> = processors.iter().map(|p| u64::from(p.uid)).collect();
    let kind = kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join("/");
    format!("{kind} {}", plural("UID", &uids))
}

fn online_capable_with_enabled(madt: &Madt, out: &mut Vec<Finding>) {
    let both: Vec<&MadtProcessor> = madt
        .processors()
        .filter(|p| p.enabled && p.online_capable)
        .collect();
    if both.is_empty() {
        return;
    }
    let offsets: Vec<String> = both.iter().map(|p| format!("{:#x}", p.offset)).collect();
    out.push(Finding::new(
        "online-capable-with-enabled",
        Severity::Error,
        "APIC",
        format!(
            "{} (at {}): both Enabled and Online Capable are set; ACPI 6.5 reserves Online \
             Capable (must be 0) when Enabled is set",
            describe(&both),
            list(&offsets)
        ),
    ));
}

fn is_x86(p: &MadtProcessor) -> bool {
    matches!(
        p.kind,
        ProcessorKind::LocalApic | ProcessorKind::LocalX2Apic
    )
}

fn madt_revision_online_capable(revision: u8, madt: &Madt, out: &mut Vec<Finding>) {
    if revision >= 5 {
        return;
    }
    let used: Vec<&MadtProcessor> = madt
        .processors()
        .filter(|p| is_x86(p) && p.online_capable)
        .collect();
    if used.is_empty() {
        return;
    }
    out.push(Finding::new(
        "madt-revision-online-capable",
        Severity::Warning,
        "APIC",
        format!(
            "MADT revision {revision} predates the Online Capable flag (ACPI 6.3, MADT revision \
             5), yet it is set on {}: Linux 5.16+ before the 2025 fixes honours it only in a \
             revision 5+ MADT",
            describe(&used)
        ),
    ));
}

/// Linux x86 `acpi_is_processor_usable` (arch/x86/kernel/acpi/boot.c),
/// since "x86/acpi/boot: Correct acpi_is_processor_usable() check again"
/// (Nov 2025, in Debian's 6.12.95): a disabled Local APIC/x2APIC entry is a
/// possible (hotpluggable) CPU only if it is Online Capable and the FADT is
/// 6.3+, or, with an older FADT, only under a hypervisor Linux detects by
/// its CPUID signature. Verified in the guest lab: QEMU 10 q35 under TCG
/// with `-smp 2,maxcpus=4` boots with `possible=0-1`.
fn madt_hotplug_usable(set: &Set<'_>, madt: &Madt, out: &mut Vec<Finding>) {
    let Some((fadt_header, fadt)) = set.fadt() else {
        return;
    };
    let unusable: Vec<&MadtProcessor> = madt
        .processors()
        .filter(|p| is_x86(p) && !p.enabled && !p.online_capable)
        .collect();
    if unusable.is_empty() {
        return;
    }
    let ids: BTreeSet<u64> = unusable.iter().map(|p| p.hw_id).collect();
    let what = format!(
        "{} ({}) are disabled without Online Capable",
        describe(&unusable),
        plural("APIC ID", &ids)
    );
    let version = format!(
        "{}.{}",
        fadt_header.revision,
        fadt.minor_version.unwrap_or(0)
    );
    let message = if fadt_at_least(fadt_header.revision, fadt.minor_version, 6, 3) {
        format!(
            "{what} and the FADT is version {version}: with an ACPI 6.3+ FADT Linux counts a \
             disabled entry as a hotpluggable CPU only if it is Online Capable, so these can \
             never be hot-added"
        )
    } else {
        format!(
            "{what} and the FADT is version {version} (< 6.3): Linux >= 6.12.95 counts them as \
             hotpluggable CPUs only when it detects a hypervisor by its CPUID signature (KVM: \
             yes; QEMU TCG: no, the guest gets no hotplug slots); use FADT >= 6.3, MADT \
             revision >= 5 and Online Capable"
        )
    };
    out.push(Finding::new(
        "madt-hotplug-usable",
        Severity::Warning,
        "APIC",
        message,
    ));
}

/// The GICC lengths ACPI defines: 76 (5.1), 80 (6.0-6.4), 82 (6.5).
const GICC_LENGTHS: [u8; 3] = [76, 80, 82];

fn gicc_length(revision: u8, madt: &Madt, out: &mut Vec<Finding>) {
    for p in madt.processors().filter(|p| p.kind == ProcessorKind::Gicc) {
        if !GICC_LENGTHS.contains(&p.length) {
            out.push(Finding::new(
                "gicc-length",
                Severity::Error,
                "APIC",
                format!(
                    "GICC UID {} at offset {:#x} has Length {}: ACPI defines 76 (5.1), 80 \
                     (6.0-6.4) and 82 (6.5) only, and consumers other than Linux reject others",
                    p.uid, p.offset, p.length
                ),
            ));
        } else if p.length == 82 && revision < 6 {
            out.push(Finding::new(
                "gicc-length",
                Severity::Warning,
                "APIC",
                format!(
                    "GICC UID {} at offset {:#x} has the 82-byte ACPI 6.5 layout in a revision \
                     {revision} MADT (82 bytes goes with MADT revision 6)",
                    p.uid, p.offset
                ),
            ));
        }
    }
}

/// Linux `gic_acpi_init` / `gic_acpi_collect_gicr_base`
/// (drivers/irqchip/irq-gic-v3.c): redistributors come from GICR
/// structures or from every GICC's GICR Base, never both; a CPU whose
/// redistributor cannot be found cannot be brought online.
fn gicr_discovery(madt: &Madt, out: &mut Vec<Finding>) {
    let gic_version = madt.entries.iter().find_map(|e| match e {
        MadtEntry::Gicd { gic_version, .. } => Some(*gic_version),
        _ => None,
    });
    if matches!(gic_version, Some(1 | 2)) {
        return;
    }
    let giccs: Vec<&MadtProcessor> = madt
        .processors()
        .filter(|p| p.kind == ProcessorKind::Gicc)
        .collect();
    if giccs.is_empty() {
        return;
    }
    let gicr_structures = madt
        .entries
        .iter()
        .filter(|e| matches!(e, MadtEntry::Gicr { .. }))
        .count();
    let with_base: Vec<&MadtProcessor> =
        giccs.iter().copied().filter(|p| p.gicr_base != 0).collect();
    if gicr_structures > 0 && !with_base.is_empty() {
        out.push(Finding::new(
            "gicr-discovery",
            Severity::Error,
            "APIC",
            format!(
                "{}: GICR Base Address is set, and the MADT also has {gicr_structures} GICR \
                 structure(s): the two ways of discovering redistributors are mutually exclusive",
                describe(&with_base)
            ),
        ));
    }
    if gicr_structures > 0 {
        return;
    }
    let lost: Vec<&MadtProcessor> = giccs
        .iter()
        .copied()
        .filter(|p| p.is_possible() && p.gicr_base == 0)
        .collect();
    if !lost.is_empty() {
        out.push(Finding::new(
            "gicr-discovery",
            Severity::Error,
            "APIC",
            format!(
                "{}: GICR Base Address is 0 and the MADT has no GICR structure: Linux reports \
                 \"redistributor is inaccessible: this CPU can't be brought online\" (hotplug \
                 needs GICR structures covering every possible CPU)",
                describe(&lost)
            ),
        ));
    }
}

/// The UIDs of the PPTT leaves (see [`super::topology::leaves`]).
fn pptt_leaf_ids(set: &Set<'_>) -> Option<BTreeSet<u64>> {
    let (header, pptt) = set.pptt()?;
    let leaves: Vec<&PpttProcessor> = super::topology::leaves(header.revision, pptt);
    Some(
        leaves
            .iter()
            .map(|p| u64::from(p.acpi_processor_id))
            .collect(),
    )
}

/// How to report the difference between the MADT's ids and another table's.
struct Comparison<'s> {
    /// The other table.
    table: &'s str,
    /// "UID" or "APIC ID".
    noun: &'s str,
    /// Message for ids the other table has and the MADT lacks (`{}`: the ids).
    extra: &'s str,
    /// Message for MADT ids the other table lacks (`{}`: the ids).
    missing: &'s str,
    /// Severity of the `missing` direction.
    missing_severity: Severity,
}

fn compare(
    madt_ids: &BTreeSet<u64>,
    other: &BTreeSet<u64>,
    c: &Comparison<'_>,
    out: &mut Vec<Finding>,
) {
    let extra: BTreeSet<u64> = other.difference(madt_ids).copied().collect();
    if !extra.is_empty() {
        out.push(Finding::new(
            "uid-consistency",
            Severity::Error,
            c.table,
            c.extra.replace("{}", &plural(c.noun, &extra)),
        ));
    }
    let missing: BTreeSet<u64> = madt_ids.difference(other).copied().collect();
    if !missing.is_empty() {
        out.push(Finding::new(
            "uid-consistency",
            c.missing_severity,
            c.table,
            c.missing.replace("{}", &plural(c.noun, &missing)),
        ));
    }
}

/// ACPI 6.5 §5.2.12.14, §5.2.16.4, §5.2.30.1, §8.4 and acpi-notes §12: one
/// ACPI Processor UID per CPU across MADT, PPTT leaves, SRAT GICC Affinity
/// and the DSDT/SSDT processor objects; one APIC ID across the MADT and the
/// SRAT's APIC affinity structures.
fn uid_consistency(set: &Set<'_>, madt: &Madt, out: &mut Vec<Finding>) {
    let madt_uids: BTreeSet<u64> = madt.processors().map(|p| u64::from(p.uid)).collect();
    if madt_uids.is_empty() {
        return;
    }
    if let Some(leaf_ids) = pptt_leaf_ids(set) {
        compare(
            &madt_uids,
            &leaf_ids,
            &Comparison {
                table: "PPTT",
                noun: "UID",
                extra: "PPTT describes {} that the MADT does not list",
                missing: "the MADT lists {} that no PPTT leaf describes",
                missing_severity: Severity::Error,
            },
            out,
        );
    }
    if let Some(srat) = set.srat() {
        let gicc: BTreeSet<u64> = srat
            .processors()
            .filter(|p| p.kind == ProcessorKind::Gicc)
            .map(|p| u64::from(p.id))
            .collect();
        if !gicc.is_empty() {
            compare(
                &madt_uids,
                &gicc,
                &Comparison {
                    table: "SRAT",
                    noun: "UID",
                    extra: "SRAT has GICC Affinity for {} that the MADT does not list",
                    missing: "the MADT lists {} without a GICC Affinity structure in the SRAT",
                    missing_severity: Severity::Error,
                },
                out,
            );
        }
        let apic: BTreeSet<u64> = srat
            .processors()
            .filter(|p| p.kind != ProcessorKind::Gicc)
            .map(|p| u64::from(p.id))
            .collect();
        let madt_apic: BTreeSet<u64> = madt
            .processors()
            .filter(|p| is_x86(p))
            .map(|p| p.hw_id)
            .collect();
        if !apic.is_empty() && !madt_apic.is_empty() {
            compare(
                &madt_apic,
                &apic,
                &Comparison {
                    table: "SRAT",
                    noun: "APIC ID",
                    extra: "SRAT has APIC/x2APIC Affinity for {} that the MADT does not list",
                    missing:
                        "the MADT lists {} without an APIC/x2APIC Affinity structure in the SRAT",
                    missing_severity: Severity::Error,
                },
                out,
            );
        }
    }
    aml_uids(set, &madt_uids, out);
}

/// The DSDT/SSDT half of `uid-consistency`.
fn aml_uids(set: &Set<'_>, madt_uids: &BTreeSet<u64>, out: &mut Vec<Finding>) {
    let mut any_aml = false;
    let mut found: Vec<(String, AmlProcessor)> = Vec::new();
    for (file, sig) in set.aml_tables() {
        any_aml = true;
        for p in aml_processors(&file.bytes) {
            found.push((sig.to_string(), p));
        }
    }
    if !any_aml {
        return;
    }
    if found.is_empty() {
        out.push(Finding::new(
            "uid-consistency",
            Severity::Warning,
            "DSDT",
            "the DSDT/SSDTs declare no processor the scan recognises (it understands \
             Device () { Name (_HID, \"ACPI0007\") Name (_UID, integer) } and Processor ()): \
             the MADT's UIDs cannot be checked against them",
        ));
        return;
    }
    for (sig, p) in found.iter().filter(|(_, p)| p.uid.is_none()) {
        out.push(Finding::new(
            "uid-consistency",
            Severity::Warning,
            sig,
            format!(
                "processor device {} at offset {:#x} has a _UID the scan cannot read (it \
                 understands only Name (_UID, <integer constant>)): left out of the UID check",
                p.path, p.offset
            ),
        ));
    }
    let uids: BTreeSet<u64> = found.iter().filter_map(|(_, p)| p.uid).collect();
    let unreadable = found.iter().filter(|(_, p)| p.uid.is_none()).count();
    let table = found
        .first()
        .map_or("DSDT".to_string(), |(sig, _)| sig.clone());
    let missing = if unreadable == 0 {
        "the MADT lists {} without a processor device in the DSDT/SSDTs".to_string()
    } else {
        format!(
            "the MADT lists {{}} without a processor device in the DSDT/SSDTs whose _UID the \
             scan could read ({unreadable} device(s) with an unreadable _UID)"
        )
    };
    compare(
        madt_uids,
        &uids,
        &Comparison {
            table: &table,
            noun: "UID",
            extra: "the DSDT/SSDTs declare processor devices with {} that the MADT does not list",
            missing: &missing,
            missing_severity: if unreadable == 0 {
                Severity::Error
            } else {
                Severity::Warning
            },
        },
        out,
    );
}

/// The SRAT key of a MADT processor: its UID (GICC) or APIC ID (x86).
fn srat_key(p: &MadtProcessor) -> u64 {
    match p.kind {
        ProcessorKind::Gicc => u64::from(p.uid),
        ProcessorKind::LocalApic | ProcessorKind::LocalX2Apic => p.hw_id,
    }
}

/// True when SRAT structure `s` gives the affinity of MADT processor `p`:
/// GICC Affinity by UID, Local APIC / x2APIC Affinity by APIC ID.
fn refers_to(s: &SratProcessor, p: &MadtProcessor) -> bool {
    match p.kind {
        ProcessorKind::Gicc => s.kind == ProcessorKind::Gicc && s.id == p.uid,
        ProcessorKind::LocalApic | ProcessorKind::LocalX2Apic => {
            s.kind != ProcessorKind::Gicc && u64::from(s.id) == p.hw_id
        }
    }
}

/// Linux `acpi_numa_gicc_affinity_init` / `acpi_numa_x2apic_affinity_init`
/// (drivers/acpi/numa/srat.c, arch/arm64/kernel/acpi_numa.c) ignore
/// structures with Enabled clear, and assign nodes to possible CPUs at boot:
/// a possible CPU without an Enabled structure gets no node from the SRAT.
/// Error when the SRAT has several proximity domains (the CPU lands on the
/// wrong node); a warning with one domain (nothing to get wrong yet).
fn srat_cpu_coverage(set: &Set<'_>, madt: &Madt, out: &mut Vec<Finding>) {
    let Some(srat) = set.srat() else {
        return;
    };
    let mut absent = Vec::new();
    let mut disabled = Vec::new();
    for p in madt.processors().filter(|p| p.is_possible()) {
        let key = srat_key(p);
        let entries: Vec<_> = srat.processors().filter(|s| refers_to(s, p)).collect();
        if entries.is_empty() {
            absent.push((p, key));
        } else if !entries.iter().any(|s| s.enabled) {
            disabled.push((p, key));
        }
    }
    if absent.is_empty() && disabled.is_empty() {
        return;
    }
    let domains: BTreeSet<u32> = srat.domains().collect();
    let severity = if domains.len() > 1 {
        Severity::Error
    } else {
        Severity::Warning
    };
    let keyed = |items: &[(&MadtProcessor, u64)]| -> String {
        let gicc: BTreeSet<u64> = items
            .iter()
            .filter(|(p, _)| p.kind == ProcessorKind::Gicc)
            .map(|(_, k)| *k)
            .collect();
        let apic: BTreeSet<u64> = items
            .iter()
            .filter(|(p, _)| p.kind != ProcessorKind::Gicc)
            .map(|(_, k)| *k)
            .collect();
        let mut parts = Vec::new();
        if !gicc.is_empty() {
            parts.push(plural("UID", &gicc));
        }
        if !apic.is_empty() {
            parts.push(plural("APIC ID", &apic));
        }
        parts.join(" and ")
    };
    let mut parts = Vec::new();
    if !absent.is_empty() {
        parts.push(format!("{} (no structure)", keyed(&absent)));
    }
    if !disabled.is_empty() {
        parts.push(format!(
            "{} (only structures with Enabled clear, which Linux ignores)",
            keyed(&disabled)
        ));
    }
    out.push(Finding::new(
        "srat-cpu-coverage",
        severity,
        "SRAT",
        format!(
            "possible CPUs (MADT Enabled or Online Capable) lack an Enabled processor affinity \
             structure: {}; Linux gives them no node from the SRAT, which has {} proximity \
             domain(s)",
            parts.join(", "),
            domains.len()
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        bytes_of, lint_rule, nth, patch, put_u32, put_u64, sdt, tables, ARM, ARM_SMT, MADT_START,
        SRAT_START, X86,
    };
    use super::super::Severity;

    /// MADT offset of the GICC of CPU `n`.
    fn gicc(madt: &[u8], n: usize) -> usize {
        nth(madt, MADT_START, 0x0B, n)
    }

    #[test]
    fn test_fadt_without_hw_reduced_on_arm() {
        let mut files = tables(ARM);
        patch(&mut files, "FACP", |f| f[114] &= !0x10);
        let found = lint_rule(&files, "fadt-hw-reduced-arm");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "the MADT has GICC structures (arm64) but HW_REDUCED_ACPI (Flags bit 20) is clear: \
             Linux arm64 (acpi_fadt_sanity_check) ignores ACPI and falls back to a device tree"
        );
    }

    #[test]
    fn test_fadt_older_than_5_1_on_arm() {
        let mut files = tables(ARM);
        patch(&mut files, "FACP", |f| {
            f[8] = 5;
            f[131] = 0;
        });
        let found = lint_rule(&files, "fadt-hw-reduced-arm");
        assert!(found[0]
            .message
            .contains("FADT version 5.0 is older than 5.1"));
    }

    #[test]
    fn test_fadt_without_psci_on_arm() {
        let mut files = tables(ARM);
        patch(&mut files, "FACP", |f| f[129] = 0);
        let found = lint_rule(&files, "fadt-hw-reduced-arm");
        assert_eq!(
            found[0].message,
            "the MADT has GICC structures (arm64) but ARM_BOOT_ARCH lacks PSCI_COMPLIANT: \
             Linux cannot bring up secondary CPUs through PSCI"
        );
    }

    #[test]
    fn test_fadt_rule_ignores_x86() {
        let mut files = tables(X86);
        patch(&mut files, "FACP", |f| f[114] &= !0x10);
        assert!(lint_rule(&files, "fadt-hw-reduced-arm").is_empty());
    }

    #[test]
    fn test_online_capable_with_enabled() {
        let mut files = tables(ARM);
        patch(&mut files, "APIC", |m| {
            let at = gicc(m, 1);
            put_u32(m, at + 12, 0b1001);
        });
        let found = lint_rule(&files, "online-capable-with-enabled");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0]
                .message
                .starts_with("GICC UID 1 (at 0x7c): both Enabled and Online Capable"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn test_madt_revision_online_capable() {
        let mut files = tables(X86);
        patch(&mut files, "APIC", |m| m[8] = 3);
        let found = lint_rule(&files, "madt-revision-online-capable");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0]
            .message
            .starts_with("MADT revision 3 predates the Online Capable flag"));
        assert!(found[0].message.contains("it is set on Local APIC UID 3"));
    }

    /// The x86 set with the Online Capable flag of CPU 3 cleared.
    fn x86_disabled_cpu3() -> Vec<crate::dump::TableFile> {
        let mut files = tables(X86);
        patch(&mut files, "APIC", |m| {
            let at = nth(m, MADT_START, 0x00, 3);
            put_u32(m, at + 4, 0);
        });
        files
    }

    #[test]
    fn test_madt_hotplug_usable_with_an_old_fadt() {
        let mut files = x86_disabled_cpu3();
        patch(&mut files, "FACP", |f| {
            f[8] = 3;
            f[131] = 0;
        });
        let found = lint_rule(&files, "madt-hotplug-usable");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.starts_with(
            "Local APIC UID 3 (APIC ID 3) are disabled without Online Capable and the FADT is \
             version 3.0 (< 6.3): Linux >= 6.12.95 counts them as hotpluggable CPUs only when it \
             detects a hypervisor"
        ));
    }

    #[test]
    fn test_madt_hotplug_usable_with_a_6_5_fadt() {
        let files = x86_disabled_cpu3();
        let found = lint_rule(&files, "madt-hotplug-usable");
        assert!(found[0]
            .message
            .ends_with("and the FADT is version 6.5: with an ACPI 6.3+ FADT Linux counts a disabled entry as a hotpluggable CPU only if it is Online Capable, so these can never be hot-added"));
    }

    /// Makes the last GICC `extra` bytes longer.
    fn longer_last_gicc(extra: u8) -> Vec<crate::dump::TableFile> {
        let mut files = tables(ARM);
        patch(&mut files, "APIC", |m| {
            let at = gicc(m, 3);
            m[at + 1] += extra;
            let end = at + 80;
            m.splice(end..end, std::iter::repeat_n(0, usize::from(extra)));
        });
        files
    }

    #[test]
    fn test_gicc_length_82_needs_madt_revision_6() {
        let found = lint_rule(&longer_last_gicc(2), "gicc-length");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0]
            .message
            .contains("82-byte ACPI 6.5 layout in a revision 5 MADT"));
    }

    #[test]
    fn test_gicc_length_84_is_an_error() {
        let found = lint_rule(&longer_last_gicc(4), "gicc-length");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0]
            .message
            .starts_with("GICC UID 3 at offset 0x11c has Length 84"));
    }

    #[test]
    fn test_gicr_base_and_gicr_structures_are_exclusive() {
        let mut files = tables(ARM);
        patch(&mut files, "APIC", |m| {
            let at = gicc(m, 0);
            put_u64(m, at + 60, 0x080A_0000);
        });
        let found = lint_rule(&files, "gicr-discovery");
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .starts_with("GICC UID 0: GICR Base Address is set, and the MADT also has 1 GICR"));
    }

    #[test]
    fn test_no_gicr_structure_leaves_redistributors_inaccessible() {
        let mut files = tables(ARM);
        patch(&mut files, "APIC", |m| {
            let at = nth(m, MADT_START, 0x0E, 0);
            m.drain(at..at + 16);
        });
        let found = lint_rule(&files, "gicr-discovery");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.starts_with(
            "GICC UIDs 0-3: GICR Base Address is 0 and the MADT has no GICR structure: Linux \
             reports \"redistributor is inaccessible"
        ));
    }

    #[test]
    fn test_uid_consistency_names_every_table() {
        let mut files = tables(ARM);
        patch(&mut files, "APIC", |m| {
            let at = gicc(m, 3);
            put_u32(m, at + 8, 42);
        });
        let found: Vec<String> = lint_rule(&files, "uid-consistency")
            .into_iter()
            .map(|f| format!("{}: {}", f.table, f.message))
            .collect();
        assert_eq!(
            found,
            [
                "PPTT: PPTT describes UID 3 that the MADT does not list",
                "PPTT: the MADT lists UID 42 that no PPTT leaf describes",
                "SRAT: SRAT has GICC Affinity for UID 3 that the MADT does not list",
                "SRAT: the MADT lists UID 42 without a GICC Affinity structure in the SRAT",
                "DSDT: the DSDT/SSDTs declare processor devices with UID 3 that the MADT does not list",
                "DSDT: the MADT lists UID 42 without a processor device in the DSDT/SSDTs",
            ]
        );
    }

    #[test]
    fn test_uid_consistency_compares_x86_apic_ids_with_the_srat() {
        let mut files = tables(X86);
        patch(&mut files, "APIC", |m| {
            let at = nth(m, MADT_START, 0x00, 3);
            m[at + 3] = 9;
        });
        let found: Vec<String> = lint_rule(&files, "uid-consistency")
            .into_iter()
            .map(|f| f.message)
            .collect();
        assert_eq!(
            found,
            [
                "SRAT has APIC/x2APIC Affinity for APIC ID 3 that the MADT does not list",
                "the MADT lists APIC ID 9 without an APIC/x2APIC Affinity structure in the SRAT",
            ]
        );
    }

    #[test]
    fn test_unreadable_dsdt_uid_is_a_warning() {
        let mut files = tables(ARM);
        // Device (C000) { Name (_HID, "ACPI0007") Name (_UID, "0") }: PkgLength 28 =
        // 1 (PkgLength) + 4 (name) + 15 (_HID) + 8 (_UID).
        let aml = b"\x5B\x82\x1C\x43\x30\x30\x30\
                    \x08_HID\x0DACPI0007\x00\
                    \x08_UID\x0D0\x00";
        *bytes_of(&mut files, "DSDT") = sdt(b"DSDT", aml);
        let found = lint_rule(&files, "uid-consistency");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "processor device C000 at offset 0x24 has a _UID the scan cannot read (it \
             understands only Name (_UID, <integer constant>)): left out of the UID check"
        );
        assert_eq!(found[1].severity, Severity::Warning);
        assert!(found[1]
            .message
            .ends_with("(1 device(s) with an unreadable _UID)"));
    }

    #[test]
    fn test_dsdt_without_processors_is_a_warning() {
        let mut files = tables(ARM);
        *bytes_of(&mut files, "DSDT") = sdt(b"DSDT", &[]);
        let found = lint_rule(&files, "uid-consistency");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0]
            .message
            .starts_with("the DSDT/SSDTs declare no processor"));
    }

    #[test]
    fn test_disabled_srat_affinity_is_an_error_with_two_nodes() {
        let mut files = tables(ARM);
        patch(&mut files, "SRAT", |s| {
            let at = nth(s, SRAT_START, 0x03, 3);
            put_u32(s, at + 10, 0);
        });
        let found = lint_rule(&files, "srat-cpu-coverage");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].message,
            "possible CPUs (MADT Enabled or Online Capable) lack an Enabled processor affinity \
             structure: UID 3 (only structures with Enabled clear, which Linux ignores); Linux \
             gives them no node from the SRAT, which has 2 proximity domain(s)"
        );
    }

    #[test]
    fn test_missing_srat_affinity_is_a_warning_with_one_node() {
        let mut files = tables(ARM_SMT);
        patch(&mut files, "SRAT", |s| {
            let at = nth(s, SRAT_START, 0x03, 2);
            s.drain(at..at + 18);
        });
        let found = lint_rule(&files, "srat-cpu-coverage");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("UID 2 (no structure)"));
    }
}
