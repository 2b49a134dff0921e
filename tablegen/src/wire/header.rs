//! ACPI 6.5 §5.2.6 System Description Table Header, shared by every table
//! except the RSDP.

use zerocopy::little_endian::U32;
use zerocopy::{Immutable, IntoBytes};

/// A table signature: four ASCII characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, IntoBytes, Immutable)]
#[repr(transparent)]
pub struct Signature(pub [u8; 4]);

impl Signature {
    /// ACPI 6.5 §5.2.9 Fixed ACPI Description Table (FADT).
    pub const FADT: Self = Self(*b"FACP");
    /// ACPI 6.5 §5.2.12 Multiple APIC Description Table (MADT).
    pub const MADT: Self = Self(*b"APIC");
    /// ACPI 6.5 §5.2.16 System Resource Affinity Table (SRAT).
    pub const SRAT: Self = Self(*b"SRAT");
    /// ACPI 6.5 §5.2.17 System Locality Information Table (SLIT).
    pub const SLIT: Self = Self(*b"SLIT");
    /// ACPI 6.5 §5.2.25 Generic Timer Description Table (GTDT).
    pub const GTDT: Self = Self(*b"GTDT");
    /// ACPI 6.5 §5.2.30 Processor Properties Topology Table (PPTT).
    pub const PPTT: Self = Self(*b"PPTT");
    /// Microsoft Serial Port Console Redirection Table (SPCR).
    pub const SPCR: Self = Self(*b"SPCR");
    /// ACPI 6.5 §5.2.8 Extended System Description Table (XSDT).
    pub const XSDT: Self = Self(*b"XSDT");
    /// ACPI 6.5 §5.2.11.1 Differentiated System Description Table (DSDT).
    pub const DSDT: Self = Self(*b"DSDT");

    /// The signature as text (always ASCII for the constants above).
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("????")
    }
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// ACPI 6.5 §5.2.6 System Description Table Header.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct SdtHeader {
    /// Signature: the table's four-character identifier.
    pub signature: Signature,
    /// Length: of the whole table, header included, in bytes.
    pub length: U32,
    /// Revision: of the table's structure definition.
    pub revision: u8,
    /// Checksum: makes the bytes of the whole table sum to zero.
    pub checksum: u8,
    /// OEMID: the OEM's identifier.
    pub oem_id: [u8; 6],
    /// OEM Table ID: the OEM's model identifier for this table.
    pub oem_table_id: [u8; 8],
    /// OEM Revision.
    pub oem_revision: U32,
    /// Creator ID: vendor ID of the tool that created the table.
    pub creator_id: [u8; 4],
    /// Creator Revision: revision of that tool.
    pub creator_revision: U32,
}

const _: () = assert!(size_of::<SdtHeader>() == SdtHeader::LENGTH);

impl SdtHeader {
    /// Length of the header in bytes.
    pub const LENGTH: usize = 36;
    /// Byte offset of the Length field.
    pub const LENGTH_OFFSET: usize = 4;
    /// Byte offset of the Checksum field.
    pub const CHECKSUM_OFFSET: usize = 9;
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;

    #[test]
    fn test_header_bytes_follow_the_spec_offsets() {
        let header = SdtHeader {
            signature: Signature::SRAT,
            length: U32::new(0x0102_0304),
            revision: 3,
            checksum: 0xAB,
            oem_id: *b"OEMID_",
            oem_table_id: *b"TABLEID_",
            oem_revision: U32::new(0x1122_3344),
            creator_id: *b"VTPO",
            creator_revision: U32::new(0x0001_0203),
        };
        let expected: [u8; 36] = [
            b'S', b'R', b'A', b'T', // [0] Signature
            0x04, 0x03, 0x02, 0x01, // [4] Length 0x01020304
            0x03, // [8] Revision
            0xAB, // [9] Checksum
            b'O', b'E', b'M', b'I', b'D', b'_', // [10] OEM ID
            b'T', b'A', b'B', b'L', b'E', b'I', b'D', b'_', // [16] OEM Table ID
            0x44, 0x33, 0x22, 0x11, // [24] OEM Revision 0x11223344
            b'V', b'T', b'P', b'O', // [28] Creator ID
            0x03, 0x02, 0x01, 0x00, // [32] Creator Revision 0x00010203
        ];
        assert_eq!(header.as_bytes(), expected);
        assert_eq!(expected[SdtHeader::LENGTH_OFFSET], 0x04);
        assert_eq!(expected[SdtHeader::CHECKSUM_OFFSET], 0xAB);
    }

    #[test]
    fn test_signature_displays_as_text() {
        assert_eq!(Signature::MADT.to_string(), "APIC");
        assert_eq!(Signature::FADT.as_str(), "FACP");
    }
}
