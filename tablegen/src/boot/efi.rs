//! Byte-level UEFI structures of the firmware-less boot blob (UEFI 2.10),
//! plus the two Linux-defined configuration tables the arm64 kernel wants.
//!
//! Every struct is packed, little-endian (UEFI 2.10 §2.3.1 "Data Types":
//! little-endian, natural 64-bit pointers on AArch64) and size-asserted, as
//! in [`crate::wire`]. No boot or runtime service exists behind these
//! structures: Linux reads them once, early, through the `/chosen` device
//! tree properties (Documentation/arch/arm/uefi.rst).

use std::fmt;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{Immutable, IntoBytes};

use crate::wire::flags;

/// UEFI 2.10 §2.3.1 EFI_GUID, laid out as UEFI 2.10 Appendix A "GUID and
/// Time Formats" defines it: TimeLow (4 bytes), TimeMid (2), TimeHigh (2),
/// each little-endian, then ClockSeq and Node as 8 bytes in the order
/// written. So `8868e871-e4f1-11d3-bc22-0080c73c8881` is stored as
/// `71 e8 68 88 f1 e4 d3 11 bc 22 00 80 c7 3c 88 81`.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoBytes, Immutable)]
pub struct EfiGuid {
    /// TimeLow (Data1).
    pub data1: U32,
    /// TimeMid (Data2).
    pub data2: U16,
    /// TimeHighAndVersion (Data3).
    pub data3: U16,
    /// ClockSeqHighAndReserved, ClockSeqLow and Node (Data4).
    pub data4: [u8; 8],
}

const _: () = assert!(size_of::<EfiGuid>() == EfiGuid::LENGTH);

impl EfiGuid {
    /// Length of a GUID in bytes.
    pub const LENGTH: usize = 16;

    /// The GUID `data1-data2-data3-data4[0..2]-data4[2..8]`.
    #[must_use]
    pub const fn new(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Self {
        Self {
            data1: U32::new(data1),
            data2: U16::new(data2),
            data3: U16::new(data3),
            data4,
        }
    }
}

impl fmt::Display for EfiGuid {
    /// The registry format, `8868e871-e4f1-11d3-bc22-0080c73c8881`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.data4;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            self.data1.get(),
            self.data2.get(),
            self.data3.get(),
            d[0],
            d[1],
            d[2],
            d[3],
            d[4],
            d[5],
            d[6],
            d[7]
        )
    }
}

/// EFI_ACPI_20_TABLE_GUID (UEFI 2.10 §4.6.1.1 "Industry Standard
/// Configuration Tables"): the VendorTable is the ACPI 2.0+ RSDP. Linux:
/// `ACPI_20_TABLE_GUID` in include/linux/efi.h.
pub const ACPI_20_TABLE_GUID: EfiGuid = EfiGuid::new(
    0x8868_e871,
    0xe4f1,
    0x11d3,
    [0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81],
);

/// LINUX_EFI_MEMRESERVE_TABLE_GUID (Linux include/linux/efi.h,
/// `EFI_GUID(0x888eb0c6, 0x8ede, 0x4ff5, 0xa8, 0xf0, 0x9a, 0xee, 0x5c,
/// 0xb9, 0x77, 0xc2)`): the root of the kernel's persistent memory
/// reservations ([`LinuxEfiMemreserve`]).
pub const LINUX_EFI_MEMRESERVE_TABLE_GUID: EfiGuid = EfiGuid::new(
    0x888e_b0c6,
    0x8ede,
    0x4ff5,
    [0xa8, 0xf0, 0x9a, 0xee, 0x5c, 0xb9, 0x77, 0xc2],
);

/// EFI_RT_PROPERTIES_TABLE_GUID (UEFI 2.10 §4.6.2 "EFI_RT_PROPERTIES_TABLE";
/// Linux include/linux/efi.h).
pub const EFI_RT_PROPERTIES_TABLE_GUID: EfiGuid = EfiGuid::new(
    0xeb66_918a,
    0x7eef,
    0x402a,
    [0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3, 0x8a, 0xe9],
);

/// UEFI 2.10 §4.2.1 EFI_TABLE_HEADER.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct EfiTableHeader {
    /// Signature: identifies the table ([`EfiSystemTable::SIGNATURE`]).
    pub signature: U64,
    /// Revision: the UEFI revision the table conforms to (major << 16 | minor).
    pub revision: U32,
    /// HeaderSize: the size of the entire table, header included.
    pub header_size: U32,
    /// CRC32: of HeaderSize bytes, computed with this field 0 ([`crc32`]).
    pub crc32: U32,
    /// Reserved: must be 0.
    pub _reserved0: U32,
}

const _: () = assert!(size_of::<EfiTableHeader>() == EfiTableHeader::LENGTH);

impl EfiTableHeader {
    /// Length of the header in bytes.
    pub const LENGTH: usize = 24;
    /// Offset of the CRC32 field.
    pub const CRC32_OFFSET: usize = 16;
}

/// UEFI 2.10 §4.3.1 EFI_SYSTEM_TABLE, 64-bit (every UINTN and pointer is 8
/// bytes; FirmwareRevision is followed by 4 bytes of natural-alignment
/// padding, as in Linux's `efi_system_table_64_t`).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct EfiSystemTable {
    /// Hdr: signature [`EfiSystemTable::SIGNATURE`], HeaderSize 120.
    pub hdr: EfiTableHeader,
    /// FirmwareVendor: pointer to a NUL-terminated UCS-2 string.
    pub firmware_vendor: U64,
    /// FirmwareRevision: vendor-defined.
    pub firmware_revision: U32,
    /// Padding to the next 8-byte field.
    pub _reserved0: U32,
    /// ConsoleInHandle: none.
    pub console_in_handle: U64,
    /// ConIn: none.
    pub con_in: U64,
    /// ConsoleOutHandle: none.
    pub console_out_handle: U64,
    /// ConOut: none.
    pub con_out: U64,
    /// StandardErrorHandle: none.
    pub standard_error_handle: U64,
    /// StdErr: none.
    pub std_err: U64,
    /// RuntimeServices: NULL (no runtime services; the
    /// [`EfiRtPropertiesTable`] tells Linux not to call any).
    pub runtime_services: U64,
    /// BootServices: NULL (boot services ended before the kernel runs).
    pub boot_services: U64,
    /// NumberOfTableEntries: entries of the ConfigurationTable array.
    pub number_of_table_entries: U64,
    /// ConfigurationTable: pointer to the [`EfiConfigurationTable`] array.
    pub configuration_table: U64,
}

const _: () = assert!(size_of::<EfiSystemTable>() == EfiSystemTable::LENGTH);

impl EfiSystemTable {
    /// Length of the table in bytes (its HeaderSize).
    pub const LENGTH: usize = 120;
    /// EFI_SYSTEM_TABLE_SIGNATURE: "IBI SYST" read as a little-endian u64.
    pub const SIGNATURE: u64 = 0x5453_5953_2049_4249;
    /// EFI_2_70_SYSTEM_TABLE_REVISION ((2 << 16) | 70): Linux prints "EFI v2.7".
    pub const REVISION_2_70: u32 = (2 << 16) | 70;
}

/// UEFI 2.10 §4.6.1 EFI_CONFIGURATION_TABLE.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct EfiConfigurationTable {
    /// VendorGuid: what the table is.
    pub vendor_guid: EfiGuid,
    /// VendorTable: its address.
    pub vendor_table: U64,
}

const _: () = assert!(size_of::<EfiConfigurationTable>() == EfiConfigurationTable::LENGTH);

impl EfiConfigurationTable {
    /// Length of one entry in bytes.
    pub const LENGTH: usize = 24;
}

/// UEFI 2.10 §4.6.2 EFI_RT_PROPERTIES_TABLE.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct EfiRtPropertiesTable {
    /// Version: EFI_RT_PROPERTIES_TABLE_VERSION (1).
    pub version: U16,
    /// Length: of this table, 8.
    pub length: U16,
    /// RuntimeServicesSupported: bitmask of the runtime services that can be
    /// called after ExitBootServices(). 0: none (Linux's
    /// `efi.runtime_supported_mask` becomes 0 and nothing calls through the
    /// NULL RuntimeServices pointer).
    pub runtime_services_supported: U32,
}

const _: () = assert!(size_of::<EfiRtPropertiesTable>() == EfiRtPropertiesTable::LENGTH as usize);

impl EfiRtPropertiesTable {
    /// Length of the table in bytes (the type of its Length field).
    pub const LENGTH: u16 = 8;
    /// EFI_RT_PROPERTIES_TABLE_VERSION.
    pub const VERSION: u16 = 1;
}

/// Linux's `struct linux_efi_memreserve` (include/linux/efi.h), the table
/// behind [`LINUX_EFI_MEMRESERVE_TABLE_GUID`]: a linked list of memory
/// reservations that survive kexec. The root is empty (Size 0, Count 0,
/// Next 0); the GICv3 ITS driver links its pending tables behind it at run
/// time (`efi_mem_reserve_persistent` writes `next`), so the root must be in
/// memory the kernel maps writable: the blob is EfiACPIReclaimMemory, which
/// arm64 Linux keeps in its linear map.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct LinuxEfiMemreserve {
    /// size: capacity of the `entry[]` array that follows (0: none).
    pub size: U32,
    /// count: entries in use.
    pub count: U32,
    /// next: physical address of the next list element (0: end).
    pub next: U64,
}

const _: () = assert!(size_of::<LinuxEfiMemreserve>() == LinuxEfiMemreserve::LENGTH);

impl LinuxEfiMemreserve {
    /// Length of the header (an empty root has no entries) in bytes.
    pub const LENGTH: usize = 16;
}

/// EFI_MEMORY_TYPE values (UEFI 2.10 §7.2.1 EFI_BOOT_SERVICES.AllocatePages(),
/// "Related Definitions"), the ones the boot memory map uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EfiMemoryType {
    /// EfiRuntimeServicesData (6): not used by vtopo (there are no runtime
    /// services); listed for decoding.
    RuntimeServicesData,
    /// EfiConventionalMemory (7): free memory.
    ConventionalMemory,
    /// EfiACPIReclaimMemory (9): holds ACPI tables. arm64 Linux adds it to
    /// memblock and reserves it (`reserve_regions` in
    /// drivers/firmware/efi/efi-init.c), so nothing overwrites it.
    AcpiReclaimMemory,
}

impl EfiMemoryType {
    /// The Type field's value.
    #[must_use]
    pub const fn value(self) -> u32 {
        match self {
            EfiMemoryType::RuntimeServicesData => 6,
            EfiMemoryType::ConventionalMemory => 7,
            EfiMemoryType::AcpiReclaimMemory => 9,
        }
    }

    /// The spec's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EfiMemoryType::RuntimeServicesData => "EfiRuntimeServicesData",
            EfiMemoryType::ConventionalMemory => "EfiConventionalMemory",
            EfiMemoryType::AcpiReclaimMemory => "EfiACPIReclaimMemory",
        }
    }
}

flags! {
    /// EFI_MEMORY_DESCRIPTOR Attribute bits (UEFI 2.10 §7.2.3
    /// EFI_BOOT_SERVICES.GetMemoryMap(), "Memory Attribute Definitions").
    pub struct EfiMemoryAttribute(u64) {
        /// EFI_MEMORY_UC: uncacheable.
        const UC = 0x1;
        /// EFI_MEMORY_WC: write-combining.
        const WC = 0x2;
        /// EFI_MEMORY_WT: write-through.
        const WT = 0x4;
        /// EFI_MEMORY_WB: write-back. arm64 Linux uses a region as RAM only
        /// when it can be mapped write-back (`is_usable_memory`).
        const WB = 0x8;
        /// EFI_MEMORY_RUNTIME: needs a virtual mapping for runtime services.
        const RUNTIME = 0x8000_0000_0000_0000;
    }
}

/// UEFI 2.10 §7.2.3 EFI_MEMORY_DESCRIPTOR (version 1). The map's
/// DescriptorSize may exceed this structure ([`DESCRIPTOR_SIZE`]): readers
/// step by DescriptorSize, never by `sizeof`.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct EfiMemoryDescriptor {
    /// Type: an [`EfiMemoryType`] value.
    pub kind: U32,
    /// Padding to the 8-byte PhysicalStart (natural alignment).
    pub _reserved0: U32,
    /// PhysicalStart: 4 KiB aligned.
    pub physical_start: U64,
    /// VirtualStart: 0 (no runtime mapping).
    pub virtual_start: U64,
    /// NumberOfPages: 4 KiB pages.
    pub number_of_pages: U64,
    /// Attribute: [`EfiMemoryAttribute`] bits.
    pub attribute: U64,
}

const _: () = assert!(size_of::<EfiMemoryDescriptor>() == EfiMemoryDescriptor::LENGTH);

impl EfiMemoryDescriptor {
    /// Length of the structure in bytes.
    pub const LENGTH: usize = 40;
}

/// EFI_MEMORY_DESCRIPTOR_VERSION.
pub const DESCRIPTOR_VERSION: u32 = 1;
/// The map's DescriptorSize: 48, as edk2 reports (the structure plus 8 bytes,
/// so that readers cannot get away with `sizeof`); the lab's firmware-less
/// boots used it (../shared/docs/guest-lab.md section 8).
pub const DESCRIPTOR_SIZE: usize = 48;
/// EFI_PAGE_SIZE: the unit of NumberOfPages and the alignment of PhysicalStart.
pub const PAGE_SIZE: u64 = 4096;

/// CRC-32 as UEFI's CalculateCrc32() computes it (UEFI 2.10 §4.2.1: "the
/// 32-bit CRC for the entire table"): the IEEE 802.3 polynomial, reflected
/// (0xEDB88320), initial value and final XOR 0xFFFFFFFF.
#[must_use]
pub fn crc32(bytes: &[u8]) -> u32 {
    const POLY: u32 = 0xEDB8_8320;
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = 0u32.wrapping_sub(crc & 1);
            crc = (crc >> 1) ^ (POLY & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_crc32_check_value() {
        // The CRC-32/ISO-HDLC check value of "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn test_guid_bytes_follow_appendix_a() {
        // 8868e871-e4f1-11d3-bc22-0080c73c8881: the first three fields
        // little-endian, the last 8 bytes as written.
        assert_eq!(
            ACPI_20_TABLE_GUID.as_bytes(),
            [
                0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11, 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c,
                0x88, 0x81
            ]
        );
        // 888eb0c6-8ede-4ff5-a8f0-9aee5cb977c2.
        assert_eq!(
            LINUX_EFI_MEMRESERVE_TABLE_GUID.as_bytes(),
            [
                0xc6, 0xb0, 0x8e, 0x88, 0xde, 0x8e, 0xf5, 0x4f, 0xa8, 0xf0, 0x9a, 0xee, 0x5c, 0xb9,
                0x77, 0xc2
            ]
        );
        // eb66918a-7eef-402a-842e-931d21c38ae9.
        assert_eq!(
            EFI_RT_PROPERTIES_TABLE_GUID.as_bytes(),
            [
                0x8a, 0x91, 0x66, 0xeb, 0xef, 0x7e, 0x2a, 0x40, 0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3,
                0x8a, 0xe9
            ]
        );
    }

    #[test]
    fn test_guid_display_is_the_registry_format() {
        assert_eq!(
            ACPI_20_TABLE_GUID.to_string(),
            "8868e871-e4f1-11d3-bc22-0080c73c8881"
        );
        assert_eq!(
            LINUX_EFI_MEMRESERVE_TABLE_GUID.to_string(),
            "888eb0c6-8ede-4ff5-a8f0-9aee5cb977c2"
        );
    }

    #[test]
    fn test_system_table_signature_reads_ibi_syst() {
        assert_eq!(&EfiSystemTable::SIGNATURE.to_le_bytes(), b"IBI SYST");
        assert_eq!(EfiSystemTable::REVISION_2_70, 0x0002_0046);
    }

    #[test]
    fn test_memory_type_values() {
        assert_eq!(EfiMemoryType::RuntimeServicesData.value(), 6);
        assert_eq!(EfiMemoryType::ConventionalMemory.value(), 7);
        assert_eq!(EfiMemoryType::AcpiReclaimMemory.value(), 9);
        assert_eq!(EfiMemoryAttribute::WB.bits(), 8);
    }
}
