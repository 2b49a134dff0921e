//! Golden snapshots of the plan of every topology in `topologies/`.
//! Review snapshot changes as diffs (`cargo insta review`); CI never writes them.

use crate::util::{files_in, rel, root, snapshot_settings};

#[test]
fn test_every_topology_plan_text_snapshot() {
    let files = files_in("topologies", "toml");
    assert!(files.len() >= 6, "the corpus has the required topologies");
    for file in files {
        let source = std::fs::read_to_string(&file).expect("readable topology");
        let plan = planner::plan_source(&rel(&file), &source).unwrap_or_else(|e| panic!("{e}"));
        let name = file
            .file_stem()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("plan-text-{name}"), planner::text::render(&plan));
        });
    }
}

#[test]
fn test_small_topology_plan_json_snapshots() {
    for name in ["arm64-virt-hotplug", "x86-2s-smt-hotplug"] {
        let path = root().join("topologies").join(format!("{name}.toml"));
        let source = std::fs::read_to_string(&path).expect("readable topology");
        let plan = planner::plan_source(&rel(&path), &source).unwrap_or_else(|e| panic!("{e}"));
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("plan-json-{name}"), plan.to_json());
        });
    }
}

#[test]
fn test_plan_json_is_deterministic_and_round_trips() {
    for file in files_in("topologies", "toml") {
        let source = std::fs::read_to_string(&file).expect("readable topology");
        let first = planner::plan_source("a", &source).expect("valid").to_json();
        let second = planner::plan_source("a", &source).expect("valid").to_json();
        assert_eq!(first, second, "{}", file.display());
        let parsed: planner::Plan = serde_json::from_str(&first).expect("plan JSON parses back");
        assert_eq!(parsed.to_json(), first, "{}", file.display());
    }
}

/// Topologies whose dumps are too large to review (megabytes of text): their
/// tables are pinned by length and SHA-256 instead.
const TOO_LARGE_TO_DUMP: &[&str] = &["arm64-4096"];

fn compiled_tables(topology: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let dir = crate::iasl::tempdir("golden-dump");
    let out = crate::util::vtopo(&[
        "compile",
        &rel(topology),
        "-o",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("output")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "aml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let stem = f.file_stem().expect("name").to_string_lossy().to_string();
            (stem, std::fs::read(&f).expect("table"))
        })
        .collect()
}

#[test]
fn test_every_table_dump_snapshot() {
    for topology in files_in("topologies", "toml") {
        let name = topology
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let tables = compiled_tables(&topology);
        if TOO_LARGE_TO_DUMP.contains(&name.as_str()) {
            let pins: String = tables
                .iter()
                .map(|(sig, bytes)| {
                    use sha2::Digest;
                    let digest: String = sha2::Sha256::digest(bytes)
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    format!("{sig:<5} {:>8} bytes  sha256 {digest}\n", bytes.len())
                })
                .collect();
            snapshot_settings().bind(|| insta::assert_snapshot!(format!("tables-{name}"), pins));
            continue;
        }
        for (sig, bytes) in tables {
            let decoded =
                tablegen::dump::decode(&bytes).unwrap_or_else(|e| panic!("{name} {sig}: {e}"));
            snapshot_settings().bind(|| {
                insta::assert_snapshot!(
                    format!("dump-{name}-{sig}"),
                    tablegen::dump::render(&decoded)
                );
            });
        }
    }
}

#[test]
fn test_no_orphan_snapshots() {
    // insta cannot see snapshots whose test input was deleted; list what the
    // tests produce and reject anything else in snapshots/.
    let mut expected: Vec<String> = files_in("topologies", "toml")
        .iter()
        .map(|f| {
            format!(
                "plan-text-{}.snap",
                f.file_stem().expect("name").to_string_lossy()
            )
        })
        .collect();
    expected.extend([
        "plan-json-arm64-virt-hotplug.snap".into(),
        "plan-json-x86-2s-smt-hotplug.snap".into(),
    ]);
    expected.extend(files_in("topologies/invalid", "toml").iter().map(|f| {
        format!(
            "check-invalid-{}.snap",
            f.file_stem().expect("name").to_string_lossy()
        )
    }));
    for topology in files_in("topologies", "toml") {
        let name = topology
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if TOO_LARGE_TO_DUMP.contains(&name.as_str()) {
            expected.push(format!("tables-{name}.snap"));
            continue;
        }
        let platform =
            planner::plan_source("t", &std::fs::read_to_string(&topology).expect("readable"))
                .expect("valid")
                .arch;
        let mut sigs = vec![
            "APIC", "DSDT", "FACP", "RSDP", "SLIT", "SPCR", "SRAT", "XSDT",
        ];
        if platform == planner::arch::Arch::Aarch64 {
            sigs.extend(["GTDT", "PPTT"]);
        }
        expected.extend(sigs.iter().map(|sig| format!("dump-{name}-{sig}.snap")));
    }
    let orphans: Vec<String> = files_in("snapshots", "snap")
        .iter()
        .map(|f| f.file_name().expect("name").to_string_lossy().to_string())
        .filter(|name| {
            ["plan-", "check-", "dump-", "tables-"]
                .iter()
                .any(|p| name.starts_with(p))
        })
        .filter(|name| !expected.contains(name))
        .collect();
    assert!(
        orphans.is_empty(),
        "snapshots with no test input (delete them): {orphans:?}"
    );
}
