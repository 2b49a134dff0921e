//! Decoder tests: our own tables (built from plans and linked), the QEMU 10
//! fixture tables, and precise errors for broken input.

use std::path::PathBuf;

use super::*;
use crate::lint::test_support::{bytes_of, fix, nth, put_u32, tables, ARM, MADT_START, X86};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

fn topology(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../topologies")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The decoding of table `name` of `files`.
fn decoded(files: &[TableFile], name: &str) -> Decoded {
    let file = files.iter().find(|f| f.name == name).unwrap();
    decode(&file.bytes).unwrap()
}

/// The rendering of table `name` of `files`.
fn text(files: &[TableFile], name: &str) -> String {
    render(&decoded(files, name))
}

/// True when a rendered line ends with `name : value`.
fn has(text: &str, name: &str, value: &str) -> bool {
    let want = format!("{name} : {value}");
    text.lines()
        .any(|l| l.trim_start().ends_with(&want) || l.contains(&format!(" {want}")))
}

#[test]
fn test_header_lines_use_the_iasl_layout() {
    let files = tables(ARM);
    let madt = text(&files, "APIC");
    let lines: Vec<&str> = madt.lines().collect();
    assert_eq!(lines[0], "APIC: Multiple APIC Description Table (MADT)");
    assert_eq!(
        lines[1],
        "[000h 0000   4]                            Signature : \"APIC\" (Multiple APIC \
         Description Table (MADT))"
    );
    assert_eq!(
        lines[3],
        "[008h 0008   1]                             Revision : 0x05"
    );
    assert!(has(&madt, "Creator ID", "\"VTPO\""));
}

#[test]
fn test_arm_madt_gicc_fields_and_flags() {
    let files = tables(ARM);
    let madt = text(&files, "APIC");
    assert!(has(&madt, "Type", "0x0B (GIC CPU Interface (GICC))"));
    assert!(has(&madt, "Length", "0x50 (80 bytes)"));
    assert!(has(&madt, "ACPI Processor UID", "0x00000003"));
    // CPU 3 is hotpluggable: Online Capable, not Enabled.
    assert!(has(&madt, "Flags", "0x00000008 (Online Capable)"));
    assert!(has(&madt, "Online Capable", "1"));
    assert!(has(
        &madt,
        "Performance Interrupt Mode",
        "0 (level-triggered)"
    ));
    assert!(has(&madt, "MPIDR", "0x0000000000000003"));
    assert!(has(&madt, "GIC version", "0x03 (GICv3)"));
    assert!(has(&madt, "Type", "0x0E (GIC Redistributor (GICR))"));
    assert!(has(
        &madt,
        "Type",
        "0x0F (GIC Interrupt Translation Service (ITS))"
    ));
}

#[test]
fn test_arm_madt_typed_processors() {
    let files = tables(ARM);
    let Table::Madt(madt) = decoded(&files, "APIC").table else {
        panic!("not a MADT");
    };
    let summary: Vec<(u32, bool, bool, u8)> = madt
        .processors()
        .map(|p| (p.uid, p.enabled, p.online_capable, p.length))
        .collect();
    assert_eq!(
        summary,
        [
            (0, true, false, 80),
            (1, true, false, 80),
            (2, true, false, 80),
            (3, false, true, 80)
        ]
    );
    assert!(madt
        .processors()
        .all(|p| p.kind == ProcessorKind::Gicc && p.gicr_base == 0));
}

#[test]
fn test_x86_madt_apic_structures() {
    let files = tables(X86);
    let madt = text(&files, "APIC");
    assert!(has(
        &madt,
        "Local Interrupt Controller Address",
        "0xFEE00000"
    ));
    assert!(has(&madt, "Type", "0x00 (Processor Local APIC)"));
    assert!(has(&madt, "APIC ID", "0x03"));
    assert!(has(&madt, "Flags", "0x00000002 (Online Capable)"));
    assert!(has(&madt, "Type", "0x01 (I/O APIC)"));
    assert!(has(&madt, "I/O APIC Address", "0xFEC00000"));
    assert!(has(&madt, "Type", "0x04 (Local APIC NMI)"));
    assert!(has(&madt, "ACPI Processor UID", "0xFF (all processors)"));
    assert!(has(&madt, "Local APIC LINT#", "0x01"));
}

#[test]
fn test_srat_processor_and_memory_affinity() {
    let files = tables(ARM);
    let srat = text(&files, "SRAT");
    assert!(has(&srat, "Reserved (must be 1)", "0x00000001"));
    assert!(has(&srat, "Type", "0x03 (GICC Affinity)"));
    assert!(has(&srat, "Type", "0x01 (Memory Affinity)"));
    assert!(has(&srat, "Hot Pluggable", "0"));
    let Table::Srat(table) = decoded(&files, "SRAT").table else {
        panic!("not an SRAT");
    };
    let cpus: Vec<(u32, u32, bool)> = table
        .processors()
        .map(|p| (p.id, p.domain, p.enabled))
        .collect();
    assert_eq!(
        cpus,
        [(0, 0, true), (1, 0, true), (2, 1, true), (3, 1, true)]
    );
    let domains: Vec<u32> = table.memory().map(|m| m.domain).collect();
    assert_eq!(domains, [0, 1]);
    assert!(table.memory().all(|m| m.enabled && m.length == 1 << 30));
}

#[test]
fn test_x86_srat_uses_x2apic_affinity() {
    let files = tables(X86);
    let srat = text(&files, "SRAT");
    assert!(has(&srat, "Type", "0x02 (Processor Local x2APIC Affinity)"));
    assert!(has(&srat, "X2APIC ID", "0x00000003"));
}

#[test]
fn test_slit_matrix_rows() {
    let files = tables(ARM);
    let slit = text(&files, "SLIT");
    assert!(has(
        &slit,
        "Number of System Localities",
        "0x0000000000000002"
    ));
    // Planner default: 10 local, 20 (0x14) remote.
    assert!(has(&slit, "Entry [0][0..2]", "0A 14"));
    assert!(has(&slit, "Entry [1][0..2]", "14 0A"));
    let Table::Slit(table) = decoded(&files, "SLIT").table else {
        panic!("not a SLIT");
    };
    assert_eq!(table.rows, [vec![10, 20], vec![20, 10]]);
}

#[test]
fn test_pptt_nodes_and_caches() {
    let files = tables(&topology("kunpeng920-like.toml"));
    let pptt = text(&files, "PPTT");
    assert!(has(&pptt, "Type", "0x00 (Processor Hierarchy Node)"));
    assert!(has(&pptt, "Physical package", "1"));
    assert!(has(&pptt, "Node is a Leaf", "1"));
    assert!(has(&pptt, "Parent", "0x00000000 (none: a root node)"));
    assert!(has(&pptt, "Type", "0x01 (Cache Type)"));
    assert!(has(&pptt, "Length", "0x1C (28 bytes)"));
    assert!(has(&pptt, "Cache Type", "2 (Unified)"));
    assert!(has(&pptt, "Cache Type", "0 (Data)"));
    assert!(has(&pptt, "Cache Type", "1 (Instruction)"));
    assert!(has(&pptt, "Write Policy", "0 (Write-back)"));
    assert!(has(&pptt, "Cache ID valid", "1"));
    assert!(pptt.contains("Private Resource [0] : 0x"));
    let Table::Pptt(table) = decoded(&files, "PPTT").table else {
        panic!("not a PPTT");
    };
    assert!(table
        .entries
        .iter()
        .any(|e| matches!(e, PpttEntry::Cache(c) if c.cache_id.is_some())));
}

#[test]
fn test_gtdt_and_spcr_fields() {
    let files = tables(ARM);
    let gtdt = text(&files, "GTDT");
    assert!(has(&gtdt, "Virtual EL1 Timer GSIV", "0x0000001B"));
    assert!(has(&gtdt, "Timer Interrupt Mode", "0 (level-triggered)"));
    assert!(has(
        &gtdt,
        "CntControlBase Physical Address",
        "0xFFFFFFFFFFFFFFFF"
    ));
    let spcr = text(&files, "SPCR");
    assert!(has(&spcr, "Interface Type", "0x03 (Arm PL011 UART)"));
    assert!(has(&spcr, "Interrupt Type", "0x08 (ARM GIC)"));
    assert!(has(&spcr, "Address Space ID", "0x00 (System Memory)"));
    assert!(has(&spcr, "Base Address", "[Generic Address Structure]"));
}

#[test]
fn test_fadt_flags_and_boot_architecture() {
    let files = tables(ARM);
    let fadt = text(&files, "FACP");
    assert!(has(
        &fadt,
        "Flags",
        "0x00100030 (PWR_BUTTON, SLP_BUTTON, HW_REDUCED_ACPI)"
    ));
    assert!(has(&fadt, "HW_REDUCED_ACPI", "1"));
    assert!(has(
        &fadt,
        "ARM_BOOT_ARCH",
        "0x0003 (PSCI_COMPLIANT, PSCI_USE_HVC)"
    ));
    assert!(has(&fadt, "FADT Minor Version", "0x05 (FADT version 6.5)"));
    assert!(has(&fadt, "RESET_REG", "[Generic Address Structure]"));
    let Table::Fadt(f) = decoded(&files, "FACP").table else {
        panic!("not a FADT");
    };
    let dsdt = files.iter().position(|t| t.name == "DSDT").unwrap();
    assert!(f.x_dsdt.is_some_and(|a| a != 0));
    assert!(dsdt > 0);
}

#[test]
fn test_xsdt_rsdp_and_dsdt() {
    let files = tables(ARM);
    let Table::Xsdt(xsdt) = decoded(&files, "XSDT").table else {
        panic!("not an XSDT");
    };
    // Every table but the RSDP, XSDT and DSDT.
    assert_eq!(xsdt.entries.len(), files.len() - 3);
    assert_eq!(xsdt.stray_bytes, 0);
    let rsdp = decoded(&files, "RSDP");
    assert_eq!(rsdp.signature, "RSD PTR ");
    let Table::Rsdp(r) = &rsdp.table else {
        panic!("not an RSDP");
    };
    assert!(r.checksum_ok && r.extended_checksum_ok == Some(true));
    assert_eq!(r.length, Some(36));
    let dsdt = text(&files, "DSDT");
    let aml = bytes_of(&mut files.clone(), "DSDT").len() - HEADER_LENGTH;
    assert!(dsdt.contains(&format!("AML: {aml} bytes at offset 0x24 (use iasl -d)")));
}

#[test]
fn test_unknown_signature_gets_header_and_byte_count() {
    let table = crate::lint::test_support::sdt(b"WAET", &[1, 2, 3, 4]);
    let d = decode(&table).unwrap();
    assert_eq!(d.table, Table::Other);
    assert!(render(&d).contains("body: 4 bytes not decoded"));
}

#[test]
fn test_bad_checksum_is_a_field_not_an_error() {
    let mut files = tables(ARM);
    let srat = bytes_of(&mut files, "SRAT");
    let stored = srat[9];
    srat[9] = stored.wrapping_add(1);
    let d = decode(srat).unwrap();
    assert!(!d.header.as_ref().unwrap().checksum_ok());
    let line = format!(
        "Checksum : {:#04X} (INVALID, expected {:#04X})",
        stored.wrapping_add(1),
        stored
    )
    .replace("0X", "0x");
    assert!(render(&d).contains(&line), "{line}");
}

#[test]
fn test_rsdp_with_bad_checksums() {
    let mut files = tables(ARM);
    let rsdp = bytes_of(&mut files, "RSDP");
    rsdp[10] ^= 0x01;
    let d = decode(rsdp).unwrap();
    let Table::Rsdp(r) = &d.table else {
        panic!("not an RSDP");
    };
    assert!(!r.checksum_ok);
    assert_eq!(r.extended_checksum_ok, Some(false));
    assert_eq!(render(&d).matches("INVALID").count(), 2);
}

#[test]
fn test_truncated_table_is_length_past_end() {
    let files = tables(ARM);
    let madt = &files.iter().find(|f| f.name == "APIC").unwrap().bytes;
    let err = decode(&madt[..100]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "APIC: Length field is {} bytes, larger than the input (100 bytes)",
            madt.len()
        )
    );
}

#[test]
fn test_short_inputs() {
    assert_eq!(
        decode(&[]).unwrap_err(),
        DecodeError::NoSignature { available: 0 }
    );
    assert_eq!(
        decode(b"APIC\x08").unwrap_err().to_string(),
        "APIC: input is 5 bytes, shorter than the 36-byte table header"
    );
    let mut header = crate::lint::test_support::sdt(b"SLIT", &[]);
    put_u32(&mut header, 4, 20);
    assert_eq!(
        decode(&header).unwrap_err().to_string(),
        "SLIT: Length field is 20 bytes, smaller than the 36-byte table header"
    );
    assert!(decode(b"RSD PTR \x00").is_err());
    assert!(decode(b"FACS\x40\x00\x00\x00").is_err());
}

#[test]
fn test_zero_length_structure_is_an_error() {
    let mut files = tables(ARM);
    let madt = bytes_of(&mut files, "APIC");
    madt[MADT_START + 1] = 0;
    fix(madt);
    assert_eq!(
        decode(madt).unwrap_err().to_string(),
        "APIC: structure type 0x0b at offset 0x2c has Length 0, shorter than 2 bytes"
    );
}

#[test]
fn test_structure_past_the_end_is_an_error() {
    let mut files = tables(ARM);
    let madt = bytes_of(&mut files, "APIC");
    let its = nth(madt, MADT_START, 0x0F, 0);
    madt[its + 1] = 0x40;
    fix(madt);
    let err = decode(madt).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::StructurePastEnd {
                kind: 0x0F,
                length: 0x40,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn test_short_gicc_is_an_error() {
    let mut files = tables(ARM);
    let madt = bytes_of(&mut files, "APIC");
    // 40 bytes of GICC, then the rest of it reads as 40 bytes of structures.
    madt[MADT_START + 1] = 40;
    madt[MADT_START + 41] = 40;
    fix(madt);
    assert_eq!(
        decode(madt).unwrap_err().to_string(),
        "APIC: GIC CPU Interface (GICC) structure at offset 0x2c has Length 40, shorter than \
         76 bytes"
    );
}

#[test]
fn test_private_resources_past_the_node() {
    let mut files = tables(ARM);
    let pptt = bytes_of(&mut files, "PPTT");
    // Number of Private Resources of the first node: 1000.
    put_u32(pptt, 36 + 16, 1000);
    fix(pptt);
    let err = decode(pptt).unwrap_err().to_string();
    assert!(
        err.starts_with("PPTT: Private Resources (1000 x 4 bytes) at offset 0x38 (4000 bytes)"),
        "{err}"
    );
}

#[test]
fn test_slit_matrix_past_the_table() {
    let mut files = tables(ARM);
    let slit = bytes_of(&mut files, "SLIT");
    slit[36] = 3;
    fix(slit);
    let err = decode(slit).unwrap_err().to_string();
    assert!(
        err.starts_with("SLIT: Entry matrix (3 x 3 bytes) at offset 0x2c (9 bytes) runs past"),
        "{err}"
    );
}

#[test]
fn test_bytes_after_length_are_noted() {
    let files = tables(ARM);
    let mut slit = files
        .iter()
        .find(|f| f.name == "SLIT")
        .unwrap()
        .bytes
        .clone();
    slit.extend_from_slice(&[0xAA; 5]);
    let d = decode(&slit).unwrap();
    assert!(render(&d).contains("5 bytes after the table's Length (48) not decoded"));
}

#[test]
fn test_qemu_virt_fixture_decodes() {
    let files = decode_dir(&fixture("qemu-10.0-virt-smp2-max4")).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "APIC.dat", "DBG2.dat", "DSDT.dat", "FACP.dat", "GTDT.dat", "IORT.dat", "MCFG.dat",
            "PPTT.dat", "SLIT.dat", "SPCR.dat", "SRAT.dat"
        ]
    );
    assert!(files.iter().all(|f| f.decoded.is_ok()));
    let get = |name: &str| {
        files
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .decoded
            .clone()
            .unwrap()
    };
    let Table::Madt(madt) = get("APIC.dat").table else {
        panic!("not a MADT");
    };
    assert_eq!(madt.processors().count(), 2);
    let pptt = get("PPTT.dat");
    assert_eq!(pptt.header.as_ref().unwrap().revision, 2);
    let Table::Pptt(p) = &pptt.table else {
        panic!("not a PPTT");
    };
    let leaf_ids: Vec<u32> = p
        .processors()
        .filter(|n| n.has(PpttProcessor::LEAF))
        .map(|n| n.acpi_processor_id)
        .collect();
    assert_eq!(leaf_ids, [0, 1, 2, 3]);
    let fadt = render(&get("FACP.dat"));
    assert!(has(&fadt, "FADT Minor Version", "0x03 (FADT version 6.3)"));
    assert!(has(
        &fadt,
        "Hypervisor Vendor Identity",
        "0x00000000554D4551 (\"QEMU\\x00\\x00\\x00\\x00\")"
    ));
    assert!(has(&render(&get("MCFG.dat")), "End Bus Number", "0xFF"));
}

#[test]
fn test_qemu_q35_fixture_decodes() {
    let files = decode_dir(&fixture("qemu-10.0-q35-smp2-max4")).unwrap();
    assert!(files.iter().all(|f| f.decoded.is_ok()));
    let get = |name: &str| {
        files
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .decoded
            .clone()
            .unwrap()
    };
    let madt = get("APIC.dat");
    assert_eq!(madt.header.as_ref().unwrap().revision, 3);
    let Table::Madt(m) = &madt.table else {
        panic!("not a MADT");
    };
    let flags: Vec<(u32, bool, bool)> = m
        .processors()
        .map(|p| (p.uid, p.enabled, p.online_capable))
        .collect();
    assert_eq!(
        flags,
        [
            (0, true, false),
            (1, true, false),
            (2, false, false),
            (3, false, false)
        ]
    );
    let facs = get("FACS.dat");
    assert_eq!(facs.table, Table::Facs);
    assert!(facs.header.is_none());
    let fadt = get("FACP.dat");
    assert_eq!(fadt.header.as_ref().unwrap().length, 244);
    let text = render(&fadt);
    assert!(has(&text, "X_PM1a_EVT_BLK", "[Generic Address Structure]"));
    assert!(has(&text, "Address Space ID", "0x01 (System I/O)"));
    let srat = render(&get("SRAT.dat"));
    assert!(has(
        &srat,
        "Type",
        "0x00 (Processor Local APIC/SAPIC Affinity)"
    ));
    assert!(has(
        &srat,
        "Proximity Domain [31:8]",
        "0x000000 (Proximity Domain 0x1)"
    ));
}

#[test]
fn test_table_file_names() {
    for name in ["APIC", "SSDT1", "SSDT12", "DSDT.aml", "x.dat", "t.BIN"] {
        assert!(is_table_file_name(name), "{name}");
    }
    for name in ["README.md", "dynamic", "API", "Apic", "APIC1x", "notes.txt"] {
        assert!(!is_table_file_name(name), "{name}");
    }
}

#[test]
fn test_read_dir_skips_subdirectories_and_other_files() {
    let dir = std::env::temp_dir().join(format!("vtopo-dump-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("dynamic")).unwrap();
    let files = tables(ARM);
    for f in &files {
        std::fs::write(dir.join(&f.name), &f.bytes).unwrap();
    }
    std::fs::write(dir.join("README.md"), "not a table").unwrap();
    std::fs::write(dir.join("dynamic").join("SSDT2"), [0u8; 4]).unwrap();
    let read = read_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let mut expected: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    expected.sort();
    let names: Vec<String> = read.iter().map(|f| f.name.clone()).collect();
    assert_eq!(names, expected);
}

#[test]
fn test_missing_directory_is_an_error() {
    let err = decode_dir(Path::new("/nonexistent/vtopo")).unwrap_err();
    assert_eq!(err.to_string(), "Cannot list directory /nonexistent/vtopo");
}
