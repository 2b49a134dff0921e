//! Firmware-less arm64 boot artifacts: what a VMM (or QEMU with `-dtb` and
//! `-device loader`) hands an arm64 Linux kernel instead of UEFI firmware,
//! so that the kernel takes its CPUs, topology, NUMA and devices from our
//! ACPI tables.
//!
//! arm64 Linux finds ACPI only through UEFI: `efi_init()` reads the UEFI
//! system table and memory map from `/chosen` device tree properties
//! (drivers/firmware/efi/fdtparams.c, Documentation/arch/arm/uefi.rst), and
//! `acpi_boot_table_init()` takes the RSDP from the system table's
//! ACPI 2.0 configuration table. [`build`] writes:
//!
//! - a stub **device tree**: the root (`#address-cells` = `#size-cells` = 2,
//!   compatible `linux,dummy-virt` as QEMU `virt` names its own tree), a
//!   `/memory` node per boot RAM range, and `/chosen` with `bootargs`
//!   (always with `acpi=force`: a tree with more than `/chosen` is not a
//!   "stub" to arm64's `dt_is_stub()`, so ACPI needs forcing), the optional
//!   initrd range and the UEFI properties (below). No CPU, GIC or timer
//!   nodes: ACPI describes them.
//! - one **blob** for guest RAM, at [`BootArtifacts::blob_address`]:
//!
//!   | offset | content |
//!   | --- | --- |
//!   | 0 | EFI_SYSTEM_TABLE, revision 2.70, boot and runtime services NULL |
//!   | 120 | FirmwareVendor "vtopo" (UCS-2) |
//!   | 136 | 3 EFI_CONFIGURATION_TABLE entries: ACPI 2.0 (-> RSDP), LINUX_EFI_MEMRESERVE, EFI_RT_PROPERTIES |
//!   | 208 | the empty LINUX_EFI_MEMRESERVE root (16 bytes) |
//!   | 224 | EFI_RT_PROPERTIES_TABLE, RuntimeServicesSupported 0 |
//!   | 232 | the EFI memory map (48-byte descriptors, version 1) |
//!   | next 4 KiB | RSDP, XSDT, FADT, DSDT and the other tables ([`crate::link`]) |
//!
//! What each piece is for, from ../shared/docs/guest-lab.md section 8
//! (tried with Debian's 6.12 arm64 kernel): the memory reservation table
//! keeps the GICv3 ITS driver from printing WARN traces, the RT properties
//! table keeps the kernel from calling through the NULL runtime services
//! pointer, and `linux,uefi-secure-boot` is required by Debian's kernels
//! (a Debian patch adds it to the list of mandatory `/chosen` UEFI
//! properties; without it the kernel ignores the UEFI data).
//!
//! # The EFI memory map
//!
//! arm64 Linux discards the device tree's `/memory` nodes once it has an
//! EFI memory map (`reserve_regions()` in drivers/firmware/efi/efi-init.c
//! calls `memblock_remove(0, PHYS_ADDR_MAX)` first), so the map is the
//! kernel's RAM: every boot RAM range of the plan (all nodes) as
//! EfiConventionalMemory with EFI_MEMORY_WB, except the blob's own pages,
//! carved out as one EfiACPIReclaimMemory descriptor (WB). One descriptor
//! for the whole blob, EFI structures and ACPI tables alike, because:
//! arm64 `acpi_os_ioremap()` refuses a table that spans two descriptors;
//! ACPI reclaim memory is added to memblock and reserved (never
//! overwritten) and stays in the linear map, where the kernel writes the
//! memory reservation root at run time. EfiRuntimeServicesData would be
//! mapped out of the linear map (`memblock_mark_nomap`) for no gain: there
//! are no runtime services. Memory hotplug windows are not in the map (the
//! SRAT describes them as hot-pluggable; they are not RAM at boot), nor is
//! qemu-virt's flash bank that the SRAT covers for UEFI's sake.
//!
//! # Where the blob goes
//!
//! By default at the top of the highest boot RAM range, at the highest
//! 2 MiB-aligned address where it fits ([`BLOB_ALIGN`]). Loaders put
//! everything else low: QEMU's direct kernel boot (hw/arm/boot.c) writes its
//! boot stub at the RAM base, the kernel at RAM base + 2 MiB (an Image with
//! text_offset 0), the initrd at RAM base + min(RAM / 2, 128 MiB) and the DTB
//! after the initrd, 2 MiB aligned; a minimal VMM does the same or less. The top of
//! RAM is where none of them writes. A given address (`blob_address`) must be
//! 4 KiB aligned (EFI pages) and the whole blob must lie in one boot RAM
//! range, clear of the initrd.
//!
//! Building cannot panic; every error is a validation error found before any
//! byte is written ([`BootError`]).

pub mod efi;
pub mod fdt;

use planner::arch::Arch;
use planner::ids::{GuestAddr, GuestRange};
use planner::Plan;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::IntoBytes;

use crate::link::{self, LinkedTable, Placement};
use crate::Options;
use efi::{
    EfiConfigurationTable, EfiGuid, EfiMemoryAttribute, EfiMemoryDescriptor, EfiMemoryType,
    EfiRtPropertiesTable, EfiSystemTable, EfiTableHeader, LinuxEfiMemreserve,
};

/// Alignment of the default blob address: 2 MiB, the arm64 block size with
/// 4 KiB pages and a multiple of every arm64 page size (4, 16 and 64 KiB), so
/// that no kernel page holds both usable memory below the blob and the blob.
pub const BLOB_ALIGN: u64 = 2 << 20;
/// arm64 COMMAND_LINE_SIZE (arch/arm64/include/uapi/asm/setup.h): the
/// command line, NUL included, must fit.
pub const COMMAND_LINE_SIZE: usize = 2048;
/// The FirmwareVendor string of the system table (Linux prints "EFI v2.7 by
/// vtopo").
pub const FIRMWARE_VENDOR: &str = "vtopo";
/// `linux,uefi-secure-boot` value: `efi_secureboot_mode_disabled` (2) of
/// Linux's `enum efi_secureboot_mode` (include/linux/efi.h).
pub const SECURE_BOOT_DISABLED: u32 = 2;

/// Offset of the EFI system table in the blob.
pub const SYSTEM_TABLE_OFFSET: u64 = 0;
/// Offset of the FirmwareVendor string.
pub const VENDOR_OFFSET: u64 = EfiSystemTable::LENGTH as u64;
/// Offset of the configuration table array.
pub const CONFIG_TABLES_OFFSET: u64 =
    align_up(VENDOR_OFFSET + 2 * (FIRMWARE_VENDOR.len() as u64 + 1), 8);
/// Configuration table entries: ACPI 2.0, memory reservation, RT properties.
pub const CONFIG_TABLE_COUNT: u64 = 3;
/// Offset of the LINUX_EFI_MEMRESERVE root.
pub const MEMRESERVE_OFFSET: u64 =
    CONFIG_TABLES_OFFSET + CONFIG_TABLE_COUNT * EfiConfigurationTable::LENGTH as u64;
/// Offset of the EFI_RT_PROPERTIES_TABLE.
pub const RT_PROPERTIES_OFFSET: u64 = MEMRESERVE_OFFSET + LinuxEfiMemreserve::LENGTH as u64;
/// Offset of the EFI memory map.
pub const MEMORY_MAP_OFFSET: u64 = align_up(
    RT_PROPERTIES_OFFSET + EfiRtPropertiesTable::LENGTH as u64,
    8,
);

const _: () = assert!(CONFIG_TABLES_OFFSET == 136);
const _: () = assert!(MEMORY_MAP_OFFSET == 232);

const fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align) * align
}

const fn align_down(value: u64, align: u64) -> u64 {
    value / align * align
}

/// What to build besides the plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootOptions {
    /// The kernel command line; `acpi=force` is prepended unless it already
    /// has `acpi=force` or `acpi=on`.
    pub cmdline: String,
    /// Where the loader puts the initrd (`/chosen` `linux,initrd-start` and
    /// `linux,initrd-end`), if there is one. QEMU overwrites both with its own.
    pub initrd: Option<GuestRange>,
    /// The blob's address; `None` chooses the top of boot RAM.
    pub blob_address: Option<GuestAddr>,
    /// OEM fields of the ACPI tables.
    pub tables: Options,
}

/// Invalid boot options for a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BootError {
    /// The plan is not an arm64 plan.
    #[error("Firmware-less boot artifacts are for aarch64 plans; this plan is {arch} (x86 guests find ACPI without UEFI: the RSDP is found by a memory scan)")]
    NotAarch64 {
        /// The plan's architecture.
        arch: &'static str,
    },
    /// The command line has a NUL byte.
    #[error("The kernel command line has a NUL byte at byte {position}")]
    CommandLineNul {
        /// Byte position.
        position: usize,
    },
    /// The command line is too long for the kernel.
    #[error("The kernel command line is {len} bytes with acpi=force; arm64 Linux takes at most {} (its COMMAND_LINE_SIZE, {}, counts the NUL)", COMMAND_LINE_SIZE - 1, COMMAND_LINE_SIZE)]
    CommandLineTooLong {
        /// Bytes, `acpi=force` included.
        len: usize,
    },
    /// The command line turns ACPI off.
    #[error(
        "The kernel command line has {option:?}; a firmware-less guest is described only by ACPI"
    )]
    AcpiOff {
        /// The option found.
        option: String,
    },
    /// The given blob address is not page aligned.
    #[error("Blob address {address:#x} is not 4 KiB aligned (EFI memory descriptors start on 4 KiB pages)")]
    BlobAlignment {
        /// The address given.
        address: u64,
    },
    /// The blob at the given address is not inside one boot RAM range.
    #[error("The boot blob at {address:#x}..{end:#x} ({size} bytes) is not inside one boot RAM range; boot RAM: {ram}")]
    BlobOutsideRam {
        /// The address given.
        address: u64,
        /// End of the blob's pages.
        end: u64,
        /// Size of the blob's pages.
        size: u64,
        /// The plan's boot RAM ranges.
        ram: String,
    },
    /// No boot RAM range can hold the blob.
    #[error("No boot RAM range holds the {size}-byte boot blob; boot RAM: {ram}")]
    NoRoomForBlob {
        /// Size of the blob's pages.
        size: u64,
        /// The plan's boot RAM ranges.
        ram: String,
    },
    /// The initrd range is empty.
    #[error("The initrd at {start:#x} is empty")]
    InitrdEmpty {
        /// Its start.
        start: u64,
    },
    /// The initrd is not inside one boot RAM range.
    #[error(
        "The initrd at {start:#x}..{end:#x} is not inside one boot RAM range; boot RAM: {ram}"
    )]
    InitrdOutsideRam {
        /// Its start.
        start: u64,
        /// Its end.
        end: u64,
        /// The plan's boot RAM ranges.
        ram: String,
    },
    /// The initrd overlaps the blob.
    #[error("The initrd at {start:#x}..{end:#x} overlaps the boot blob at {blob_start:#x}..{blob_end:#x}; move one of them")]
    InitrdOverlapsBlob {
        /// Initrd start.
        start: u64,
        /// Initrd end.
        end: u64,
        /// Blob start.
        blob_start: u64,
        /// Blob end (pages).
        blob_end: u64,
    },
}

/// One descriptor of the EFI memory map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryMapEntry {
    /// Type.
    pub kind: EfiMemoryType,
    /// The range (whole 4 KiB pages).
    pub range: GuestRange,
    /// Attribute.
    pub attribute: EfiMemoryAttribute,
}

/// One configuration table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigTable {
    /// Linux's name for it in its "efi: ..." boot line.
    pub name: &'static str,
    /// VendorGuid.
    pub guid: EfiGuid,
    /// VendorTable.
    pub address: GuestAddr,
}

/// Everything a loader needs instead of firmware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootArtifacts {
    /// The device tree blob.
    pub dtb: Vec<u8>,
    /// The blob's bytes (load them at [`BootArtifacts::blob_address`]).
    pub blob: Vec<u8>,
    /// Where the blob goes.
    pub blob_address: GuestAddr,
    /// The EfiACPIReclaimMemory range: the blob rounded up to 4 KiB pages.
    pub reserved: GuestRange,
    /// The EFI system table.
    pub system_table: GuestAddr,
    /// The configuration tables, in array order.
    pub config_tables: Vec<ConfigTable>,
    /// The EFI memory map (`linux,uefi-mmap-start` and `-size`).
    pub memory_map: GuestRange,
    /// Its descriptors, ascending.
    pub memory_map_entries: Vec<MemoryMapEntry>,
    /// The RSDP.
    pub rsdp: GuestAddr,
    /// Every ACPI table at its address (RSDP, XSDT, FADT, DSDT, ...).
    pub tables: Vec<LinkedTable>,
    /// `/chosen` `bootargs`.
    pub bootargs: String,
    /// `/chosen` initrd range.
    pub initrd: Option<GuestRange>,
}

fn ram_list(ram: &[GuestRange]) -> String {
    ram.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn inside_one(ram: &[GuestRange], start: u64, end: u64) -> bool {
    ram.iter().any(|r| r.base.0 <= start && end <= r.end())
}

/// The bootargs: `cmdline` with `acpi=force` in front unless it already
/// forces ACPI.
fn bootargs(cmdline: &str) -> Result<String, BootError> {
    if let Some(position) = cmdline.bytes().position(|b| b == 0) {
        return Err(BootError::CommandLineNul { position });
    }
    let mut forced = false;
    for word in cmdline.split_ascii_whitespace() {
        match word {
            "acpi=force" | "acpi=on" => forced = true,
            "acpi=off" => {
                return Err(BootError::AcpiOff {
                    option: word.to_string(),
                })
            }
            _ => {}
        }
    }
    let trimmed = cmdline.trim();
    let args = match (forced, trimmed.is_empty()) {
        (true, _) => trimmed.to_string(),
        (false, true) => "acpi=force".to_string(),
        (false, false) => format!("acpi=force {trimmed}"),
    };
    if args.len() >= COMMAND_LINE_SIZE {
        return Err(BootError::CommandLineTooLong { len: args.len() });
    }
    Ok(args)
}

/// Validated placement of everything.
#[derive(Debug)]
struct Layout {
    base: u64,
    acpi_offset: u64,
    /// The blob's length in bytes.
    len: u64,
    /// The blob's pages.
    reserved: GuestRange,
}

impl Layout {
    fn new(plan: &Plan, options: &BootOptions, acpi_len: u64) -> Result<Self, BootError> {
        let ram = &plan.memory.ram;
        // Carving the blob out of one range splits it into at most three.
        let map_capacity = ram.len() as u64 + 2;
        let acpi_offset = align_up(
            MEMORY_MAP_OFFSET + map_capacity * efi::DESCRIPTOR_SIZE as u64,
            efi::PAGE_SIZE,
        );
        let len = acpi_offset + acpi_len;
        let size = align_up(len, efi::PAGE_SIZE);
        let base = match options.blob_address {
            Some(GuestAddr(address)) => {
                if address % efi::PAGE_SIZE != 0 {
                    return Err(BootError::BlobAlignment { address });
                }
                let end = address.saturating_add(size);
                if !inside_one(ram, address, end) {
                    return Err(BootError::BlobOutsideRam {
                        address,
                        end,
                        size,
                        ram: ram_list(ram),
                    });
                }
                address
            }
            None => ram
                .iter()
                .rev()
                .find_map(|r| {
                    let at = align_down(r.end().checked_sub(size)?, BLOB_ALIGN);
                    (at >= r.base.0).then_some(at)
                })
                .ok_or_else(|| BootError::NoRoomForBlob {
                    size,
                    ram: ram_list(ram),
                })?,
        };
        let reserved = GuestRange {
            base: GuestAddr(base),
            size,
        };
        if let Some(initrd) = options.initrd {
            let (start, end) = (initrd.base.0, initrd.base.0.saturating_add(initrd.size));
            if initrd.size == 0 {
                return Err(BootError::InitrdEmpty { start });
            }
            if !inside_one(ram, start, end) {
                return Err(BootError::InitrdOutsideRam {
                    start,
                    end,
                    ram: ram_list(ram),
                });
            }
            if start < reserved.end() && reserved.base.0 < end {
                return Err(BootError::InitrdOverlapsBlob {
                    start,
                    end,
                    blob_start: reserved.base.0,
                    blob_end: reserved.end(),
                });
            }
        }
        Ok(Self {
            base,
            acpi_offset,
            len,
            reserved,
        })
    }

    fn at(&self, offset: u64) -> u64 {
        self.base + offset
    }
}

/// The EFI memory map: every boot RAM range as conventional memory, the
/// blob's pages carved out as ACPI reclaim memory.
fn memory_map(ram: &[GuestRange], blob: GuestRange) -> Vec<MemoryMapEntry> {
    let entry = |kind, base: u64, end: u64| MemoryMapEntry {
        kind,
        range: GuestRange {
            base: GuestAddr(base),
            size: end - base,
        },
        attribute: EfiMemoryAttribute::WB,
    };
    let mut out = Vec::with_capacity(ram.len() + 2);
    for r in ram {
        // Plan RAM is 2 MiB granular (planner rule memory-alignment), so
        // every range is whole pages.
        if r.base.0 <= blob.base.0 && blob.end() <= r.end() {
            if r.base.0 < blob.base.0 {
                out.push(entry(
                    EfiMemoryType::ConventionalMemory,
                    r.base.0,
                    blob.base.0,
                ));
            }
            out.push(entry(
                EfiMemoryType::AcpiReclaimMemory,
                blob.base.0,
                blob.end(),
            ));
            if blob.end() < r.end() {
                out.push(entry(
                    EfiMemoryType::ConventionalMemory,
                    blob.end(),
                    r.end(),
                ));
            }
        } else {
            out.push(entry(EfiMemoryType::ConventionalMemory, r.base.0, r.end()));
        }
    }
    out
}

fn put(blob: &mut [u8], offset: u64, bytes: &[u8]) {
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    if let Some(slot) = start
        .checked_add(bytes.len())
        .and_then(|end| blob.get_mut(start..end))
    {
        slot.copy_from_slice(bytes);
    }
}

/// The stub device tree.
fn device_tree(
    ram: &[GuestRange],
    bootargs: &str,
    initrd: Option<GuestRange>,
    system_table: u64,
    memory_map: GuestRange,
) -> Vec<u8> {
    let mut t = fdt::Fdt::new();
    t.begin_node("");
    t.property_u32("#address-cells", 2);
    t.property_u32("#size-cells", 2);
    t.property_string("compatible", "linux,dummy-virt");
    t.property_string("model", "linux,dummy-virt");
    t.begin_node("chosen");
    t.property_string("bootargs", bootargs);
    if let Some(initrd) = initrd {
        t.property_u64("linux,initrd-start", initrd.base.0);
        t.property_u64("linux,initrd-end", initrd.end());
    }
    t.property_u64("linux,uefi-system-table", system_table);
    t.property_u64("linux,uefi-mmap-start", memory_map.base.0);
    t.property_u32(
        "linux,uefi-mmap-size",
        u32::try_from(memory_map.size).unwrap_or(u32::MAX),
    );
    t.property_u32(
        "linux,uefi-mmap-desc-size",
        crate::table::u32_len(efi::DESCRIPTOR_SIZE),
    );
    t.property_u32("linux,uefi-mmap-desc-ver", efi::DESCRIPTOR_VERSION);
    t.property_u32("linux,uefi-secure-boot", SECURE_BOOT_DISABLED);
    t.end_node();
    for r in ram {
        t.begin_node(&format!("memory@{:x}", r.base.0));
        t.property_string("device_type", "memory");
        t.property_u64s("reg", &[r.base.0, r.size]);
        t.end_node();
    }
    t.end_node();
    t.finish()
}

/// Builds the device tree and the blob for `plan`.
///
/// # Errors
/// [`BootError`] when the plan is not aarch64, or the options do not fit
/// the plan (command line, blob address, initrd).
pub fn build(plan: &Plan, options: &BootOptions) -> Result<BootArtifacts, BootError> {
    if plan.arch != Arch::Aarch64 {
        return Err(BootError::NotAarch64 {
            arch: plan.arch.name(),
        });
    }
    let bootargs = bootargs(&options.cmdline)?;
    let set = crate::build(plan, &options.tables);
    // Table lengths do not depend on where they go: link once at a page
    // boundary for the size, then again at the real one.
    let probe = link::link(
        &set,
        Placement::Linked {
            base: GuestAddr(0),
            facs: None,
        },
    );
    let acpi_len = probe.image.as_ref().map_or(0, Vec::len) as u64;
    let layout = Layout::new(plan, options, acpi_len)?;

    let acpi_base = layout.at(layout.acpi_offset);
    let linked = link::link(
        &set,
        Placement::Linked {
            base: GuestAddr(acpi_base),
            facs: None,
        },
    );
    let rsdp = acpi_base;
    let entries = memory_map(&plan.memory.ram, layout.reserved);
    let memory_map = GuestRange {
        base: GuestAddr(layout.at(MEMORY_MAP_OFFSET)),
        size: entries.len() as u64 * efi::DESCRIPTOR_SIZE as u64,
    };
    let config_tables = vec![
        ConfigTable {
            name: "ACPI 2.0",
            guid: efi::ACPI_20_TABLE_GUID,
            address: GuestAddr(rsdp),
        },
        ConfigTable {
            name: "MEMRESERVE",
            guid: efi::LINUX_EFI_MEMRESERVE_TABLE_GUID,
            address: GuestAddr(layout.at(MEMRESERVE_OFFSET)),
        },
        ConfigTable {
            name: "RTPROP",
            guid: efi::EFI_RT_PROPERTIES_TABLE_GUID,
            address: GuestAddr(layout.at(RT_PROPERTIES_OFFSET)),
        },
    ];

    let mut blob = vec![0u8; usize::try_from(layout.len).unwrap_or(0)];
    let mut system_table = EfiSystemTable {
        hdr: EfiTableHeader {
            signature: U64::new(EfiSystemTable::SIGNATURE),
            revision: U32::new(EfiSystemTable::REVISION_2_70),
            header_size: U32::new(crate::table::u32_len(EfiSystemTable::LENGTH)),
            crc32: U32::ZERO,
            _reserved0: U32::ZERO,
        },
        firmware_vendor: U64::new(layout.at(VENDOR_OFFSET)),
        firmware_revision: U32::ZERO,
        _reserved0: U32::ZERO,
        console_in_handle: U64::ZERO,
        con_in: U64::ZERO,
        console_out_handle: U64::ZERO,
        con_out: U64::ZERO,
        standard_error_handle: U64::ZERO,
        std_err: U64::ZERO,
        runtime_services: U64::ZERO,
        boot_services: U64::ZERO,
        number_of_table_entries: U64::new(CONFIG_TABLE_COUNT),
        configuration_table: U64::new(layout.at(CONFIG_TABLES_OFFSET)),
    };
    system_table.hdr.crc32 = U32::new(efi::crc32(system_table.as_bytes()));
    put(&mut blob, SYSTEM_TABLE_OFFSET, system_table.as_bytes());
    let vendor: Vec<u8> = FIRMWARE_VENDOR
        .encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect();
    put(&mut blob, VENDOR_OFFSET, &vendor);
    for (i, t) in config_tables.iter().enumerate() {
        let entry = EfiConfigurationTable {
            vendor_guid: t.guid,
            vendor_table: U64::new(t.address.0),
        };
        put(
            &mut blob,
            CONFIG_TABLES_OFFSET + i as u64 * EfiConfigurationTable::LENGTH as u64,
            entry.as_bytes(),
        );
    }
    let memreserve = LinuxEfiMemreserve {
        size: U32::ZERO,
        count: U32::ZERO,
        next: U64::ZERO,
    };
    put(&mut blob, MEMRESERVE_OFFSET, memreserve.as_bytes());
    let rt_properties = EfiRtPropertiesTable {
        version: U16::new(EfiRtPropertiesTable::VERSION),
        length: U16::new(EfiRtPropertiesTable::LENGTH),
        runtime_services_supported: U32::ZERO,
    };
    put(&mut blob, RT_PROPERTIES_OFFSET, rt_properties.as_bytes());
    // At most `ram.len() + 2` descriptors: the room Layout::new made.
    for (i, e) in entries.iter().enumerate() {
        let descriptor = EfiMemoryDescriptor {
            kind: U32::new(e.kind.value()),
            _reserved0: U32::ZERO,
            physical_start: U64::new(e.range.base.0),
            virtual_start: U64::ZERO,
            number_of_pages: U64::new(e.range.size / efi::PAGE_SIZE),
            attribute: U64::new(e.attribute.bits()),
        };
        put(
            &mut blob,
            MEMORY_MAP_OFFSET + i as u64 * efi::DESCRIPTOR_SIZE as u64,
            descriptor.as_bytes(),
        );
    }
    if let Some(image) = &linked.image {
        put(&mut blob, layout.acpi_offset, image);
    }

    let dtb = device_tree(
        &plan.memory.ram,
        &bootargs,
        options.initrd,
        layout.at(SYSTEM_TABLE_OFFSET),
        memory_map,
    );
    Ok(BootArtifacts {
        dtb,
        blob,
        blob_address: GuestAddr(layout.base),
        reserved: layout.reserved,
        system_table: GuestAddr(layout.at(SYSTEM_TABLE_OFFSET)),
        config_tables,
        memory_map,
        memory_map_entries: entries,
        rsdp: GuestAddr(rsdp),
        tables: linked.tables,
        bootargs,
        initrd: options.initrd,
    })
}

#[cfg(test)]
mod tests;
