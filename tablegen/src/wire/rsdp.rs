//! ACPI 6.5 §5.2.5.3 Root System Description Pointer (RSDP) Structure,
//! revision 2 (ACPI 2.0 and later).

use zerocopy::little_endian::{U32, U64};
use zerocopy::{Immutable, IntoBytes};

/// ACPI 6.5 §5.2.5.3 Root System Description Pointer (RSDP) Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct Rsdp {
    /// Signature: `"RSD PTR "` (with the trailing space).
    pub signature: [u8; 8],
    /// Checksum: of the first 20 bytes (the ACPI 1.0 part).
    pub checksum: u8,
    /// OEMID.
    pub oem_id: [u8; 6],
    /// Revision: 2 for ACPI 2.0 and later.
    pub revision: u8,
    /// RsdtAddress: 32-bit address of the RSDT; 0, vtopo has only an XSDT.
    pub rsdt_address: U32,
    /// Length: of this structure, 36.
    pub length: U32,
    /// XsdtAddress: 64-bit address of the XSDT.
    pub xsdt_address: U64,
    /// Extended Checksum: of the whole structure.
    pub extended_checksum: u8,
    /// Reserved.
    pub _reserved0: [u8; 3],
}

const _: () = assert!(size_of::<Rsdp>() == Rsdp::LENGTH);

impl Rsdp {
    /// Length of the structure in bytes.
    pub const LENGTH: usize = 36;
    /// The signature.
    pub const SIGNATURE: [u8; 8] = *b"RSD PTR ";
    /// Revision 2: the ACPI 2.0+ structure with an XSDT address.
    pub const REVISION: u8 = 2;
    /// Bytes covered by the (first) Checksum field.
    pub const CHECKSUM_SPAN: usize = 20;
}
