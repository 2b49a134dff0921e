//! The command line: exit codes (0 ok, 1 invalid input, 2 usage) and formats.

use crate::util::vtopo;

#[test]
fn test_version_prints_package_version() {
    let out = vtopo(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("vtopo {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn test_unknown_subcommand_is_usage_error() {
    assert_eq!(vtopo(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn test_missing_file_is_invalid_input_naming_the_file() {
    let out = vtopo(&["check", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Cannot read no/such/file.toml"), "{stderr}");
}

const VALID: &str = "topologies/arm64-virt-hotplug.toml";
const INVALID: &str = "topologies/invalid/cpu-in-two-nodes.toml";

#[test]
fn test_check_valid_file_exits_zero_and_says_ok() {
    let out = vtopo(&["check", VALID]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("{VALID}: ok (")));
}

#[test]
fn test_check_reports_every_file_and_fails_if_one_is_invalid() {
    let out = vtopo(&["check", VALID, INVALID]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{VALID}: ok")));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{INVALID}:")));
}

#[test]
fn test_check_json_gives_records_with_rule_and_place() {
    let out = vtopo(&["check", "--json", INVALID]);
    assert_eq!(out.status.code(), Some(1));
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(records[0]["rule"], "cpu-in-two-nodes");
    assert_eq!(records[0]["file"], INVALID);
}

#[test]
fn test_plan_json_is_a_plan() {
    let out = vtopo(&["plan", VALID, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let plan: planner::Plan = serde_json::from_slice(&out.stdout).expect("a Plan");
    assert_eq!(plan.arch, planner::arch::Arch::Aarch64);
    assert!(plan.hotpluggable_cpus().count() > 0);
}

#[test]
fn test_plan_text_shows_the_tree() {
    let out = vtopo(&["plan", VALID]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("socket 0\n  cluster 0"), "{text}");
    assert!(text.contains("hotpluggable"), "{text}");
}

#[test]
fn test_plan_of_invalid_file_exits_one_with_no_stdout() {
    let out = vtopo(&["plan", INVALID]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn test_bad_format_value_is_usage_error() {
    assert_eq!(
        vtopo(&["plan", VALID, "--format", "yaml"]).status.code(),
        Some(2)
    );
}

#[test]
fn test_check_without_files_is_usage_error() {
    assert_eq!(vtopo(&["check"]).status.code(), Some(2));
}

#[test]
fn test_help_lists_subcommands() {
    let out = vtopo(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["check", "plan", "rules"] {
        assert!(text.contains(sub), "{text}");
    }
}

#[test]
fn test_rules_lists_every_rule() {
    let out = vtopo(&["rules"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for rule in planner::Rule::ALL {
        assert!(
            text.contains(rule.name()),
            "{} missing from:\n{text}",
            rule.name()
        );
    }
}

mod compile {
    //! `vtopo compile`: files, manifest, linking, options, atomic output.

    use std::path::Path;

    use crate::iasl::tempdir;
    use crate::util::vtopo;

    const TOPOLOGY: &str = "topologies/arm64-vtopo-hotplug.toml";

    fn read(dir: &Path, file: &str) -> Vec<u8> {
        std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
    }

    fn sum(b: &[u8]) -> u8 {
        b.iter().fold(0u8, |a, x| a.wrapping_add(*x))
    }

    fn compile(args: &[&str]) -> (std::process::Output, std::path::PathBuf) {
        let dir = tempdir("compile").join("out");
        let mut all = vec!["compile", TOPOLOGY, "-o", dir.to_str().expect("utf-8")];
        all.extend_from_slice(args);
        (vtopo(&all), dir)
    }

    #[test]
    fn test_compile_writes_every_table_and_a_manifest_that_pins_them() {
        let (out, dir) = compile(&[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&read(&dir, "manifest.json")).expect("JSON");
        let tables = manifest["tables"].as_array().expect("tables");
        let files: Vec<&str> = tables
            .iter()
            .map(|t| t["file"].as_str().expect("file"))
            .collect();
        assert_eq!(
            files,
            [
                "RSDP.aml", "XSDT.aml", "FACP.aml", "DSDT.aml", "APIC.aml", "GTDT.aml", "SPCR.aml",
                "SRAT.aml", "SLIT.aml", "PPTT.aml"
            ]
        );
        for t in tables {
            let bytes = read(&dir, t["file"].as_str().expect("file"));
            assert_eq!(t["length"].as_u64(), Some(bytes.len() as u64));
            let digest: String = {
                use sha2::Digest;
                sha2::Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            };
            assert_eq!(t["sha256"].as_str(), Some(digest.as_str()), "{}", t["file"]);
        }
        assert_eq!(manifest["linked"], false);
        assert_eq!(manifest["plan_sha256"].as_str().map(str::len), Some(64));
    }

    #[test]
    fn test_rsdp_checksums_and_unlinked_pointers() {
        let (_, dir) = compile(&[]);
        let rsdp = read(&dir, "RSDP.aml");
        assert_eq!(&rsdp[..8], b"RSD PTR ");
        assert_eq!(rsdp.len(), 36);
        assert_eq!(sum(&rsdp[..20]), 0, "ACPI 1.0 checksum over bytes 0..20");
        assert_eq!(sum(&rsdp), 0, "extended checksum over all 36 bytes");
        assert_eq!(rsdp[15], 2, "revision 2");
        // Unlinked: the XSDT address is 0 and the manifest says where to patch it.
        assert_eq!(u64_at(&rsdp, 24), 0);
        let manifest: serde_json::Value =
            serde_json::from_slice(&read(&dir, "manifest.json")).expect("JSON");
        let pointer = &manifest["pointers"][0];
        assert_eq!(
            (
                pointer["table"].as_str(),
                pointer["offset"].as_u64(),
                pointer["target"].as_str()
            ),
            (Some("RSDP"), Some(24), Some("XSDT"))
        );
    }

    #[test]
    fn test_linked_image_resolves_rsdp_to_xsdt_to_tables() {
        let (out, dir) = compile(&["--base", "0x40000000"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let image = read(&dir, "image.bin");
        let at = |addr: u64| usize::try_from(addr - 0x4000_0000).expect("inside the image");
        assert_eq!(&image[..8], b"RSD PTR ");
        let xsdt = at(u64_at(&image, 24));
        assert_eq!(&image[xsdt..xsdt + 4], b"XSDT");
        let xsdt_len =
            u32::from_le_bytes(image[xsdt + 4..xsdt + 8].try_into().expect("4 bytes")) as usize;
        let signatures: Vec<String> = (xsdt + 36..xsdt + xsdt_len)
            .step_by(8)
            .map(|e| String::from_utf8_lossy(&image[at(u64_at(&image, e))..][..4]).to_string())
            .collect();
        assert_eq!(
            signatures,
            ["FACP", "APIC", "GTDT", "SPCR", "SRAT", "SLIT", "PPTT"]
        );
        let fadt = at(u64_at(&image, xsdt + 36));
        let dsdt = at(u64_at(&image, fadt + 140));
        assert_eq!(&image[dsdt..dsdt + 4], b"DSDT");
        // Every table in the image sums to zero.
        let len =
            u32::from_le_bytes(image[dsdt + 4..dsdt + 8].try_into().expect("4 bytes")) as usize;
        assert_eq!(sum(&image[dsdt..dsdt + len]), 0);
    }

    #[test]
    fn test_oem_options_reach_every_table() {
        let (_, dir) = compile(&[
            "--oem-id",
            "BOCHS",
            "--oem-table-id",
            "BXPC",
            "--oem-revision",
            "0x2",
        ]);
        for file in ["APIC.aml", "DSDT.aml", "FACP.aml", "SRAT.aml"] {
            let t = read(&dir, file);
            assert_eq!(
                (&t[10..16], &t[16..24], &t[24..28]),
                (&b"BOCHS "[..], &b"BXPC    "[..], &[2u8, 0, 0, 0][..]),
                "{file}"
            );
        }
    }

    #[test]
    fn test_bad_oem_id_is_a_usage_error_naming_the_value() {
        let (out, dir) = compile(&["--oem-id", "TOOLONGID"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("\"TOOLONGID\""),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!dir.exists(), "no output on error");
    }

    #[test]
    fn test_dsdt_address_with_base_is_a_usage_error() {
        let (out, _) = compile(&["--base", "0x1000", "--dsdt-address", "0x2000"]);
        assert_eq!(out.status.code(), Some(2));
    }

    #[test]
    fn test_invalid_topology_leaves_no_output_directory() {
        let dir = tempdir("compile-invalid").join("out");
        let out = vtopo(&[
            "compile",
            "topologies/invalid/cpu-in-two-nodes.toml",
            "-o",
            dir.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(!dir.exists());
        let parent = dir.parent().expect("parent");
        assert!(
            std::fs::read_dir(parent)
                .expect("parent exists")
                .next()
                .is_none(),
            "no staging directory left behind"
        );
    }

    #[test]
    fn test_refuses_to_replace_a_directory_that_is_not_vtopo_output() {
        let dir = tempdir("compile-foreign").join("out");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("precious.txt"), "keep me").expect("write");
        let out = vtopo(&["compile", TOPOLOGY, "-o", dir.to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to replace it"));
        assert_eq!(
            std::fs::read_to_string(dir.join("precious.txt")).expect("kept"),
            "keep me"
        );
    }

    #[test]
    fn test_recompiling_replaces_previous_output() {
        let (first, dir) = compile(&[]);
        assert!(first.status.success());
        let out = vtopo(&[
            "compile",
            TOPOLOGY,
            "-o",
            dir.to_str().expect("utf-8"),
            "--oem-revision",
            "7",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(read(&dir, "APIC.aml")[24], 7);
    }
}

mod dump_and_lint {
    //! `vtopo dump` and `vtopo lint` on our tables, QEMU's, and broken ones.

    use crate::iasl::tempdir;
    use crate::util::vtopo;

    const QEMU_VIRT: &str = "tests/fixtures/qemu-10.0-virt-smp2-max4";

    fn compiled() -> std::path::PathBuf {
        let dir = tempdir("dump-lint").join("out");
        let out = vtopo(&[
            "compile",
            "topologies/arm64-virt-hotplug.toml",
            "-o",
            dir.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success());
        dir
    }

    #[test]
    fn test_dump_one_table_names_fields_as_the_spec() {
        let dir = compiled();
        let out = vtopo(&["dump", dir.join("APIC.aml").to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Type : 0x0B (GIC CPU Interface (GICC))"),
            "{text}"
        );
        assert!(text.contains("Online Capable : 1"), "{text}");
    }

    #[test]
    fn test_dump_directory_shows_every_table() {
        let out = vtopo(&["dump", QEMU_VIRT]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        for sig in ["APIC", "PPTT", "SRAT", "DSDT", "FACP"] {
            assert!(text.contains(&format!("{sig}:")), "{sig} missing");
        }
    }

    #[test]
    fn test_dump_truncated_table_is_invalid_input_with_a_precise_error() {
        let dir = compiled();
        let mut madt = std::fs::read(dir.join("APIC.aml")).expect("MADT");
        madt.truncate(100);
        let broken = dir.parent().expect("parent").join("broken.aml");
        std::fs::write(&broken, &madt).expect("write");
        let out = vtopo(&["dump", broken.to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("APIC") && stderr.contains("744"),
            "{stderr}"
        );
    }

    #[test]
    fn test_lint_our_tables_is_clean() {
        let dir = compiled();
        let out = vtopo(&["lint", dir.to_str().expect("utf-8")]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).ends_with("0 errors, 0 warnings\n"));
    }

    #[test]
    fn test_lint_reports_qemu_virt_pptt_madt_disagreement() {
        let out = vtopo(&["lint", QEMU_VIRT]);
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("error[pptt-possible-vs-madt] PPTT"), "{text}");
    }

    #[test]
    fn test_lint_without_directory_is_usage_error() {
        assert_eq!(vtopo(&["lint"]).status.code(), Some(2));
        assert_eq!(vtopo(&["lint", "--rules"]).status.code(), Some(0));
    }
}

/// A topology of the architecture this host does not run.
fn foreign_topology() -> &'static str {
    if std::env::consts::ARCH == "aarch64" {
        "topologies/x86-single-node.toml"
    } else {
        "topologies/lab-arm64-kvm.toml"
    }
}

#[test]
fn test_boot_refuses_an_invalid_topology_before_kvm() {
    let out = vtopo(&["boot", INVALID, "--kernel", "no/such/kernel"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[cpu-in-two-nodes]"), "{stderr}");
}

#[test]
fn test_boot_refuses_a_plan_of_the_other_architecture() {
    let topology = foreign_topology();
    let out = vtopo(&["boot", topology, "--kernel", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(topology) && stderr.contains("KVM on this host runs"),
        "{stderr}"
    );
}

#[test]
fn test_boot_names_a_missing_kernel() {
    let own = if std::env::consts::ARCH == "aarch64" {
        "topologies/lab-arm64-kvm.toml"
    } else {
        "topologies/x86-single-node.toml"
    };
    let out = vtopo(&["boot", own, "--kernel", "no/such/kernel"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read no/such/kernel"), "{stderr}");
}

#[test]
fn test_hotplug_raw_request_must_be_one_line() {
    let out = vtopo(&["hotplug", "no/such/socket", "raw", "{\"cmd\":\n\"status\"}"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one line"));
}
