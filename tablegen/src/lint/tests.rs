//! Lint on real foreign tables (QEMU 10, tests/fixtures) and on our own
//! tables for every topology of the corpus.

use std::path::{Path, PathBuf};

use super::aml::processors;
use super::test_support::tables;
use super::*;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// (severity, rule, table, message) of each finding.
fn summary(findings: &[Finding]) -> Vec<(Severity, &str, &str, &str)> {
    findings
        .iter()
        .map(|f| (f.severity, f.rule, f.table.as_str(), f.message.as_str()))
        .collect()
}

#[test]
fn test_qemu_10_virt_pptt_describes_maxcpus_but_madt_only_boot_cpus() {
    // QEMU 10.0.2 arm64 virt, -smp 2,maxcpus=4 (tests/fixtures/README.md):
    // MADT 2 GICCs, PPTT 4 leaves, SRAT 4 GICC Affinity, DSDT 2 CPU devices.
    let findings = lint_dir(&repo("tests/fixtures/qemu-10.0-virt-smp2-max4")).unwrap();
    assert_eq!(
        summary(&findings),
        [
            (
                Severity::Error,
                "uid-consistency",
                "PPTT",
                "PPTT describes UIDs 2-3 that the MADT does not list"
            ),
            (
                Severity::Error,
                "uid-consistency",
                "SRAT",
                "SRAT has GICC Affinity for UIDs 2-3 that the MADT does not list"
            ),
            (
                Severity::Error,
                "pptt-possible-vs-madt",
                "PPTT",
                "the PPTT describes 4 CPUs (UIDs 0-3), the MADT lists 2 possible CPUs (UIDs \
                 0-1): UIDs 2-3 can never be brought up; the MADT must list every possible CPU \
                 (Online Capable for hotplug slots)"
            ),
        ]
    );
}

#[test]
fn test_qemu_10_q35_disabled_cpus_are_not_hotpluggable_on_new_linux() {
    // QEMU 10.0.2 q35, -smp 2,maxcpus=4: MADT revision 3 with two disabled,
    // not Online Capable Local APICs; FADT 3.0. The guest (6.12.95, TCG)
    // booted with possible=0-1.
    let findings = lint_dir(&repo("tests/fixtures/qemu-10.0-q35-smp2-max4")).unwrap();
    assert_eq!(
        summary(&findings),
        [(
            Severity::Warning,
            "madt-hotplug-usable",
            "APIC",
            "Local APIC UIDs 2-3 (APIC IDs 2-3) are disabled without Online Capable and the \
             FADT is version 3.0 (< 6.3): Linux >= 6.12.95 counts them as hotpluggable CPUs \
             only when it detects a hypervisor by its CPUID signature (KVM: yes; QEMU TCG: no, \
             the guest gets no hotplug slots); use FADT >= 6.3, MADT revision >= 5 and Online \
             Capable"
        )]
    );
}

#[test]
fn test_qemu_fixture_dsdts_are_scanned() {
    // virt: Device (C000) / (C001) with ACPI0007; q35: Processor (C000..C003).
    let virt = std::fs::read(repo("tests/fixtures/qemu-10.0-virt-smp2-max4/DSDT.dat")).unwrap();
    let uids: Vec<Option<u64>> = processors(&virt).into_iter().map(|p| p.uid).collect();
    assert_eq!(uids, [Some(0), Some(1)]);
    let q35 = std::fs::read(repo("tests/fixtures/qemu-10.0-q35-smp2-max4/DSDT.dat")).unwrap();
    let found = processors(&q35);
    let uids: Vec<Option<u64>> = found.iter().map(|p| p.uid).collect();
    assert_eq!(uids, [Some(0), Some(1), Some(2), Some(3)]);
    assert_eq!(found[0].path, "\\_SB.CPUS.C000");
}

/// Every topology of the corpus, as (file name, TOML).
fn topologies() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(repo("topologies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn test_our_tables_for_every_topology_lint_clean() {
    let corpus = topologies();
    assert!(corpus.len() >= 15);
    for (name, toml) in corpus {
        let files = tables(&toml);
        let findings = lint(&files);
        let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(findings.is_empty(), "{name}:\n{}", text.join("\n"));
    }
}

#[test]
fn test_our_dsdt_declares_every_madt_processor() {
    // The clean result above includes the DSDT: make sure the scan sees it.
    for (name, toml) in topologies() {
        let files = tables(&toml);
        let dsdt = &files.iter().find(|f| f.name == "DSDT").unwrap().bytes;
        let madt = files
            .iter()
            .find(|f| f.name == "APIC")
            .unwrap()
            .decode()
            .unwrap();
        let crate::dump::Table::Madt(m) = madt.table else {
            panic!("not a MADT");
        };
        let found = processors(dsdt);
        assert_eq!(found.len(), m.processors().count(), "{name}");
        assert!(found.iter().all(|p| p.uid.is_some()), "{name}");
    }
}

#[test]
fn test_rule_names_are_unique_kebab_case() {
    let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
    assert!(names.iter().all(|n| n
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), RULES.len());
}

#[test]
fn test_finding_display() {
    let f = Finding::new("slit-remote", Severity::Error, "SLIT", "[0][1] = 10");
    assert_eq!(f.to_string(), "error[slit-remote] SLIT: [0][1] = 10");
    let w = Finding::new("table-duplicate", Severity::Warning, "APIC", "twice");
    assert_eq!(w.to_string(), "warning[table-duplicate] APIC: twice");
    assert!(Severity::Error > Severity::Warning);
}

#[test]
fn test_ranges_and_lists() {
    assert_eq!(ranges([5, 0, 1, 2, 8, 7]), "0-2,5,7-8");
    assert_eq!(
        ranges([u64::MAX, u64::MAX - 1]),
        format!("{}-{}", u64::MAX - 1, u64::MAX)
    );
    assert_eq!(ranges([]), "");
    let items: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(list(&items), "0, 1, 2, 3, 4, 5, 6, 7, and 2 more");
}

#[test]
fn test_empty_and_partial_sets() {
    assert!(lint(&[]).is_empty());
    let only_slit: Vec<TableFile> = tables(test_support::ARM)
        .into_iter()
        .filter(|f| f.name == "SLIT")
        .collect();
    assert!(lint(&only_slit).is_empty());
}

#[test]
fn test_lint_dir_of_a_missing_directory_is_an_error() {
    assert!(lint_dir(Path::new("/nonexistent/vtopo")).is_err());
}
