//! Unit tests of the firmware-less boot artifacts: structure bytes at their
//! spec offsets, the memory map, the device tree read back with a small
//! independent reader, and the validation errors.

use std::collections::BTreeMap;

use planner::ids::{GuestAddr, GuestRange};
use planner::Plan;

use super::*;
use crate::test_util::{arm_plan, read_u16, read_u32, read_u64, x86_plan};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Two nodes of 512 MiB and 256 MiB from 1 GiB, a 1 GiB hotplug window on
/// node 1, CPU slots: the shape of the lab topologies.
const TWO_NODES: &str = r#"
arch = "aarch64"
platform = "qemu-virt"
[cpus]
sockets = 1
clusters = 2
cores = 2
boot = "0-2"
hotpluggable = "3"
mpidr-policy = "kvm-linear"
[[node]]
memory = "512MiB"
cpus = "0-1"
[[node]]
memory = "256MiB"
cpus = "2-3"
hotplug-memory = "1GiB"
"#;

fn two_nodes() -> Plan {
    arm_plan(TWO_NODES)
}

fn options(cmdline: &str) -> BootOptions {
    BootOptions {
        cmdline: cmdline.to_string(),
        ..BootOptions::default()
    }
}

fn built(plan: &Plan) -> BootArtifacts {
    build(plan, &options("console=ttyAMA0")).expect("valid options")
}

/// The blob bytes at guest address `at`.
fn at(a: &BootArtifacts, at: u64, len: usize) -> &[u8] {
    let start = usize::try_from(at - a.blob_address.0).expect("small");
    &a.blob[start..start + len]
}

fn offset(a: &BootArtifacts, address: u64) -> usize {
    usize::try_from(address - a.blob_address.0).expect("small")
}

// ---------------------------------------------------------------------------
// A tiny device tree reader (Devicetree Specification v0.4 chapter 5),
// independent of the writer: path -> property -> value.
// ---------------------------------------------------------------------------

type Tree = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn read_tree(dtb: &[u8]) -> Tree {
    assert_eq!(be32(dtb, 0), 0xd00d_feed, "magic");
    assert_eq!(be32(dtb, 4) as usize, dtb.len(), "totalsize");
    let structure = be32(dtb, 8) as usize;
    let strings = be32(dtb, 12) as usize;
    let rsvmap = be32(dtb, 16) as usize;
    assert_eq!(&dtb[rsvmap..rsvmap + 16], &[0u8; 16], "no reservations");
    let string_at = |off: usize| -> String {
        let s = &dtb[strings + off..];
        String::from_utf8(s[..s.iter().position(|&c| c == 0).unwrap()].to_vec()).unwrap()
    };
    let mut tree = Tree::new();
    let mut path: Vec<String> = Vec::new();
    let mut at = structure;
    loop {
        let token = be32(dtb, at);
        at += 4;
        match token {
            1 => {
                let end = at + dtb[at..].iter().position(|&c| c == 0).unwrap();
                path.push(String::from_utf8(dtb[at..end].to_vec()).unwrap());
                tree.entry(path.join("/")).or_default();
                at = (end + 1).div_ceil(4) * 4;
            }
            2 => {
                path.pop();
            }
            3 => {
                let len = be32(dtb, at) as usize;
                let name = string_at(be32(dtb, at + 4) as usize);
                let value = dtb[at + 8..at + 8 + len].to_vec();
                let props = tree.get_mut(&path.join("/")).unwrap();
                assert!(props.insert(name, value).is_none(), "duplicate property");
                at = (at + 8 + len).div_ceil(4) * 4;
            }
            9 => break,
            other => panic!("unexpected token {other:#x} at {at:#x}"),
        }
    }
    assert!(path.is_empty(), "every node closed");
    tree
}

fn prop_u32(tree: &Tree, node: &str, name: &str) -> u32 {
    let v = &tree[node][name];
    assert_eq!(v.len(), 4, "{node} {name} is one cell");
    be32(v, 0)
}

fn prop_u64(tree: &Tree, node: &str, name: &str) -> u64 {
    let v = &tree[node][name];
    assert_eq!(v.len(), 8, "{node} {name} is two cells");
    u64::from_be_bytes(v[..].try_into().unwrap())
}

fn prop_str(tree: &Tree, node: &str, name: &str) -> String {
    let v = &tree[node][name];
    assert_eq!(v.last(), Some(&0), "NUL-terminated");
    String::from_utf8(v[..v.len() - 1].to_vec()).unwrap()
}

// ---------------------------------------------------------------------------
// Structures
// ---------------------------------------------------------------------------

#[test]
fn test_system_table_header_and_fields() {
    let a = built(&two_nodes());
    let st = at(&a, a.system_table.0, EfiSystemTable::LENGTH);
    // UEFI 2.10 §4.2.1: Signature "IBI SYST", Revision 2.70, HeaderSize 120.
    assert_eq!(&st[0..8], b"IBI SYST");
    assert_eq!(read_u32(st, 8), 0x0002_0046);
    assert_eq!(read_u32(st, 12), 120);
    assert_eq!(read_u32(st, 20), 0, "Reserved");
    // CRC32 over HeaderSize bytes with the CRC32 field zero.
    let mut zeroed = st.to_vec();
    zeroed[16..20].fill(0);
    assert_eq!(read_u32(st, 16), efi::crc32(&zeroed));
    // §4.3.1: FirmwareVendor -> "vtopo" in UCS-2, NUL-terminated.
    let vendor = at(&a, read_u64(st, 24), 12);
    assert_eq!(vendor, b"v\0t\0o\0p\0o\0\0\0");
    // Console handles and protocols, RuntimeServices, BootServices: NULL.
    for field in (40..=96).step_by(8) {
        assert_eq!(read_u64(st, field), 0, "field at offset {field}");
    }
    assert_eq!(read_u64(st, 104), 3, "NumberOfTableEntries");
    assert_eq!(
        read_u64(st, 112),
        a.blob_address.0 + CONFIG_TABLES_OFFSET,
        "ConfigurationTable"
    );
}

#[test]
fn test_configuration_tables_point_at_rsdp_memreserve_and_rt_properties() {
    let a = built(&two_nodes());
    let array = at(&a, a.blob_address.0 + CONFIG_TABLES_OFFSET, 72);
    // UEFI 2.10 §4.6.1: VendorGuid (16 bytes, Appendix A order), VendorTable.
    assert_eq!(
        &array[0..16],
        &[
            0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11, 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c,
            0x88, 0x81
        ]
    );
    assert_eq!(read_u64(array, 16), a.rsdp.0);
    assert_eq!(at(&a, a.rsdp.0, 8), b"RSD PTR ");
    assert_eq!(
        &array[24..40],
        &[
            0xc6, 0xb0, 0x8e, 0x88, 0xde, 0x8e, 0xf5, 0x4f, 0xa8, 0xf0, 0x9a, 0xee, 0x5c, 0xb9,
            0x77, 0xc2
        ]
    );
    // The empty memreserve root: size 0, count 0, next 0.
    assert_eq!(at(&a, read_u64(array, 40), 16), &[0u8; 16]);
    assert_eq!(
        &array[48..64],
        &[
            0x8a, 0x91, 0x66, 0xeb, 0xef, 0x7e, 0x2a, 0x40, 0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3,
            0x8a, 0xe9
        ]
    );
    // EFI_RT_PROPERTIES_TABLE: Version 1, Length 8, RuntimeServicesSupported 0.
    let rt = at(&a, read_u64(array, 64), 8);
    assert_eq!(
        (read_u16(rt, 0), read_u16(rt, 2), read_u32(rt, 4)),
        (1, 8, 0)
    );
    assert_eq!(
        a.config_tables.iter().map(|t| t.name).collect::<Vec<_>>(),
        ["ACPI 2.0", "MEMRESERVE", "RTPROP"]
    );
}

#[test]
fn test_memory_descriptors_are_48_bytes_apart_with_spec_fields() {
    let a = built(&two_nodes());
    let map = at(
        &a,
        a.memory_map.base.0,
        usize::try_from(a.memory_map.size).unwrap(),
    );
    assert_eq!(map.len(), a.memory_map_entries.len() * 48);
    // The first descriptor: node 0's RAM, conventional, write-back.
    // UEFI 2.10 §7.2.3: Type, pad, PhysicalStart, VirtualStart, NumberOfPages, Attribute.
    assert_eq!(read_u32(map, 0), 7, "EfiConventionalMemory");
    assert_eq!(read_u32(map, 4), 0);
    assert_eq!(read_u64(map, 8), GIB);
    assert_eq!(read_u64(map, 16), 0, "VirtualStart");
    assert_eq!(read_u64(map, 24), 512 * MIB / 4096);
    assert_eq!(read_u64(map, 32), 0x8, "EFI_MEMORY_WB");
    assert_eq!(&map[40..48], &[0u8; 8], "descriptor padding");
    // Every descriptor decodes to the typed entry it came from.
    for (i, e) in a.memory_map_entries.iter().enumerate() {
        let d = &map[i * 48..i * 48 + 40];
        assert_eq!(read_u32(d, 0), e.kind.value());
        assert_eq!(read_u64(d, 8), e.range.base.0);
        assert_eq!(read_u64(d, 24) * 4096, e.range.size);
        assert_eq!(read_u64(d, 32), e.attribute.bits());
    }
}

// ---------------------------------------------------------------------------
// Memory map and placement
// ---------------------------------------------------------------------------

#[test]
fn test_memory_map_covers_every_ram_byte_once_and_carves_the_blob() {
    let plan = two_nodes();
    let a = built(&plan);
    let entries = &a.memory_map_entries;
    // Sorted, no overlap.
    for w in entries.windows(2) {
        assert!(w[0].range.end() <= w[1].range.base.0, "{w:?}");
    }
    // Exactly the plan's RAM: the union of the entries equals the RAM ranges.
    let total: u64 = entries.iter().map(|e| e.range.size).sum();
    let ram: u64 = plan.memory.ram.iter().map(|r| r.size).sum();
    assert_eq!(total, ram);
    assert!(entries.iter().all(|e| plan
        .memory
        .ram
        .iter()
        .any(|r| r.base.0 <= e.range.base.0 && e.range.end() <= r.end())));
    // One ACPI reclaim descriptor: the blob's pages; the rest conventional.
    let reclaim: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == EfiMemoryType::AcpiReclaimMemory)
        .collect();
    assert_eq!(reclaim.len(), 1);
    assert_eq!(reclaim[0].range, a.reserved);
    assert_eq!(a.reserved.base, a.blob_address);
    assert_eq!(a.reserved.size, (a.blob.len() as u64).div_ceil(4096) * 4096);
    assert!(entries
        .iter()
        .all(|e| e.attribute == EfiMemoryAttribute::WB && e.range.size % 4096 == 0));
    // Neither the hotplug window nor qemu-virt's flash bank is RAM.
    let not_ram = plan
        .memory
        .hotplug
        .iter()
        .copied()
        .chain(plan.memory.firmware.map(|f| f.range));
    for r in not_ram {
        assert!(entries.iter().all(|e| !e.range.overlaps(&r)), "{r}");
    }
}

#[test]
fn test_default_blob_sits_at_the_top_of_ram_2mib_aligned() {
    let a = built(&two_nodes());
    // RAM: 1 GiB .. 1 GiB + 768 MiB; the blob is well under 2 MiB.
    let top = GIB + 768 * MIB;
    assert_eq!(a.blob_address, GuestAddr(top - 2 * MIB));
    // Node 1's range: conventional below the blob, the blob, conventional after it.
    let last: Vec<(EfiMemoryType, u64, u64)> = a.memory_map_entries[1..]
        .iter()
        .map(|e| (e.kind, e.range.base.0, e.range.end()))
        .collect();
    assert_eq!(
        last,
        [
            (
                EfiMemoryType::ConventionalMemory,
                GIB + 512 * MIB,
                top - 2 * MIB
            ),
            (
                EfiMemoryType::AcpiReclaimMemory,
                top - 2 * MIB,
                a.reserved.end()
            ),
            (EfiMemoryType::ConventionalMemory, a.reserved.end(), top),
        ]
    );
}

#[test]
fn test_given_blob_address_at_the_ram_base_splits_node_0() {
    let plan = two_nodes();
    let mut o = options("");
    o.blob_address = Some(GuestAddr(GIB));
    let a = build(&plan, &o).unwrap();
    assert_eq!(a.blob_address, GuestAddr(GIB));
    let kinds: Vec<EfiMemoryType> = a.memory_map_entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EfiMemoryType::AcpiReclaimMemory,
            EfiMemoryType::ConventionalMemory,
            EfiMemoryType::ConventionalMemory
        ]
    );
    assert_eq!(a.memory_map_entries[1].range.base.0, a.reserved.end());
}

#[test]
fn test_tables_are_linked_inside_the_blob_after_the_efi_structures() {
    let a = built(&two_nodes());
    // The ACPI image starts on the first page after the memory map.
    assert_eq!(a.rsdp.0 % 4096, 0);
    assert!(a.rsdp.0 >= a.memory_map.end());
    for t in &a.tables {
        let addr = t.address.expect("linked").0;
        assert_eq!(
            at(&a, addr, t.bytes.len()),
            t.bytes.as_slice(),
            "{}",
            t.name
        );
    }
    // RSDP -> XSDT -> every other table, all inside the blob.
    let rsdp = at(&a, a.rsdp.0, 36);
    let xsdt_at = read_u64(rsdp, 24);
    let xsdt = at(&a, xsdt_at, 36);
    assert_eq!(&xsdt[0..4], b"XSDT");
    let len = read_u32(xsdt, 4) as usize;
    let xsdt = at(&a, xsdt_at, len);
    let signatures: Vec<&[u8]> = (36..len)
        .step_by(8)
        .map(|o| at(&a, read_u64(xsdt, o), 4))
        .collect();
    assert_eq!(
        signatures,
        [
            &b"FACP"[..],
            b"APIC",
            b"GTDT",
            b"SPCR",
            b"SRAT",
            b"SLIT",
            b"PPTT"
        ]
    );
    assert!(a.blob.len() <= usize::try_from(a.reserved.size).unwrap());
    assert_eq!(offset(&a, a.system_table.0), 0);
}

#[test]
fn test_same_plan_same_bytes() {
    let plan = two_nodes();
    assert_eq!(built(&plan), built(&plan));
}

// ---------------------------------------------------------------------------
// Device tree
// ---------------------------------------------------------------------------

#[test]
fn test_device_tree_chosen_carries_the_uefi_properties() {
    let a = built(&two_nodes());
    let tree = read_tree(&a.dtb);
    assert_eq!(prop_u32(&tree, "", "#address-cells"), 2);
    assert_eq!(prop_u32(&tree, "", "#size-cells"), 2);
    assert_eq!(prop_str(&tree, "", "compatible"), "linux,dummy-virt");
    let c = "/chosen";
    assert_eq!(prop_str(&tree, c, "bootargs"), "acpi=force console=ttyAMA0");
    assert_eq!(
        prop_u64(&tree, c, "linux,uefi-system-table"),
        a.system_table.0
    );
    assert_eq!(
        prop_u64(&tree, c, "linux,uefi-mmap-start"),
        a.memory_map.base.0
    );
    assert_eq!(
        u64::from(prop_u32(&tree, c, "linux,uefi-mmap-size")),
        a.memory_map.size
    );
    assert_eq!(prop_u32(&tree, c, "linux,uefi-mmap-desc-size"), 48);
    assert_eq!(prop_u32(&tree, c, "linux,uefi-mmap-desc-ver"), 1);
    assert_eq!(prop_u32(&tree, c, "linux,uefi-secure-boot"), 2);
    assert!(!tree[c].contains_key("linux,initrd-start"));
    // Only the root, /chosen and the memory nodes: ACPI describes the rest.
    let nodes: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(
        nodes,
        ["", "/chosen", "/memory@40000000", "/memory@60000000"]
    );
}

#[test]
fn test_device_tree_memory_nodes_are_the_ram_ranges() {
    let plan = two_nodes();
    let tree = read_tree(&built(&plan).dtb);
    for r in &plan.memory.ram {
        let node = format!("/memory@{:x}", r.base.0);
        assert_eq!(prop_str(&tree, &node, "device_type"), "memory");
        let reg = &tree[&node]["reg"];
        assert_eq!(reg.len(), 16, "one <address size> pair of two cells each");
        assert_eq!(u64::from_be_bytes(reg[0..8].try_into().unwrap()), r.base.0);
        assert_eq!(u64::from_be_bytes(reg[8..16].try_into().unwrap()), r.size);
    }
}

#[test]
fn test_device_tree_initrd_range() {
    let mut o = options("console=ttyAMA0");
    o.initrd = Some(GuestRange {
        base: GuestAddr(0x4800_0000),
        size: 0x12_3456,
    });
    let tree = read_tree(&build(&two_nodes(), &o).unwrap().dtb);
    assert_eq!(
        prop_u64(&tree, "/chosen", "linux,initrd-start"),
        0x4800_0000
    );
    assert_eq!(prop_u64(&tree, "/chosen", "linux,initrd-end"), 0x4812_3456);
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

#[test]
fn test_acpi_force_is_added_once() {
    assert_eq!(bootargs("").unwrap(), "acpi=force");
    assert_eq!(bootargs("  quiet ").unwrap(), "acpi=force quiet");
    assert_eq!(bootargs("quiet acpi=force").unwrap(), "quiet acpi=force");
    assert_eq!(bootargs("acpi=on").unwrap(), "acpi=on");
}

#[test]
fn test_acpi_off_is_rejected() {
    let e = build(&two_nodes(), &options("quiet acpi=off")).unwrap_err();
    assert_eq!(
        e,
        BootError::AcpiOff {
            option: "acpi=off".into()
        }
    );
}

#[test]
fn test_nul_and_overlong_command_lines_are_rejected() {
    assert_eq!(
        bootargs("a\0b").unwrap_err(),
        BootError::CommandLineNul { position: 1 }
    );
    // 2037 + "acpi=force " = 2048 bytes: no room for the NUL.
    let long = "x".repeat(2037);
    assert_eq!(
        bootargs(&long).unwrap_err(),
        BootError::CommandLineTooLong { len: 2048 }
    );
    assert!(bootargs(&"x".repeat(2036)).is_ok());
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

#[test]
fn test_x86_plan_is_rejected() {
    let plan = x86_plan(
        "arch = \"x86_64\"\nplatform = \"qemu-q35\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\n",
    );
    let e = build(&plan, &options("")).unwrap_err();
    assert_eq!(e, BootError::NotAarch64 { arch: "x86_64" });
    assert!(e.to_string().contains("x86_64"));
}

#[test]
fn test_misaligned_blob_address_is_rejected() {
    let mut o = options("");
    o.blob_address = Some(GuestAddr(GIB + 0x10));
    let e = build(&two_nodes(), &o).unwrap_err();
    assert_eq!(
        e,
        BootError::BlobAlignment {
            address: GIB + 0x10
        }
    );
    assert!(e.to_string().contains("0x40000010"));
}

#[test]
fn test_blob_address_outside_ram_is_rejected() {
    let mut o = options("");
    // Below RAM (qemu-virt's flash), and across the end of RAM.
    for address in [0x400_0000, GIB + 768 * MIB - 4096] {
        o.blob_address = Some(GuestAddr(address));
        let e = build(&two_nodes(), &o).unwrap_err();
        assert!(
            matches!(e, BootError::BlobOutsideRam { address: a, .. } if a == address),
            "{e}"
        );
        assert!(e.to_string().contains("0x40000000..0x60000000"), "{e}");
    }
}

#[test]
fn test_blob_across_two_nodes_is_rejected() {
    // Node 0 ends at 0x60000000: a blob starting one page earlier spans both
    // nodes' ranges, so it would need two descriptors.
    let mut o = options("");
    o.blob_address = Some(GuestAddr(0x6000_0000 - 4096));
    assert!(matches!(
        build(&two_nodes(), &o).unwrap_err(),
        BootError::BlobOutsideRam { .. }
    ));
}

#[test]
fn test_initrd_errors() {
    let plan = two_nodes();
    let mut o = options("");
    o.initrd = Some(GuestRange {
        base: GuestAddr(0x4800_0000),
        size: 0,
    });
    assert_eq!(
        build(&plan, &o).unwrap_err(),
        BootError::InitrdEmpty { start: 0x4800_0000 }
    );
    o.initrd = Some(GuestRange {
        base: GuestAddr(0x1000),
        size: 0x1000,
    });
    assert!(matches!(
        build(&plan, &o).unwrap_err(),
        BootError::InitrdOutsideRam { start: 0x1000, .. }
    ));
    o.initrd = Some(GuestRange {
        base: GuestAddr(GIB + 766 * MIB),
        size: MIB,
    });
    let e = build(&plan, &o).unwrap_err();
    assert!(
        matches!(e, BootError::InitrdOverlapsBlob { blob_start, .. } if blob_start == GIB + 766 * MIB),
        "{e}"
    );
}

#[test]
fn test_smallest_ram_holds_the_blob_at_its_base() {
    // 2 MiB, the smallest RAM a plan can have: the highest 2 MiB-aligned
    // address where the blob fits is the RAM base.
    let plan = arm_plan(
        "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"2MiB\"\n[cpus]\ncores = 2\n",
    );
    let a = build(&plan, &options("")).unwrap();
    assert_eq!(a.blob_address, GuestAddr(GIB));
    assert_eq!(a.memory_map_entries.len(), 2);
}
