//! The table builder: a header description plus a body of appended
//! structures; [`Table::finalize`] computes Length and Checksum once
//! (ACPI 6.5 §5.2.6 System Description Table Header).

use zerocopy::little_endian::U32;
use zerocopy::{Immutable, IntoBytes};

use crate::options::Options;
use crate::wire::header::{SdtHeader, Signature};

/// Creator ID of every vtopo table.
pub const CREATOR_ID: [u8; 4] = *b"VTPO";

/// Creator Revision of every vtopo table: this crate's version as
/// `0x00MMmmpp` (major, minor, patch; 0.1.0 is 0x00000100).
pub const CREATOR_REVISION: u32 = (parse_decimal(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
    | (parse_decimal(env!("CARGO_PKG_VERSION_MINOR")) << 8)
    | parse_decimal(env!("CARGO_PKG_VERSION_PATCH"));

/// A version component (at most 255; Cargo gives only decimal digits).
const fn parse_decimal(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i].wrapping_sub(b'0');
        if digit < 10 && value < 0xFF {
            value = value * 10 + digit as u32;
        }
        i += 1;
    }
    if value > 0xFF {
        0xFF
    } else {
        value
    }
}

/// The byte that makes `bytes` sum to zero modulo 256.
#[must_use]
pub fn checksum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |sum, b| sum.wrapping_add(*b)))
}

/// A length or offset as the 32-bit value ACPI stores. Tables are far below
/// 4 GiB (the largest plan gives a PPTT of about 0.5 MiB), so the saturating
/// fallback is never taken.
pub(crate) fn u32_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// A table under construction: header values and a body of structures.
#[derive(Debug, Clone)]
pub struct Table {
    signature: Signature,
    revision: u8,
    oem_id: [u8; 6],
    oem_table_id: [u8; 8],
    oem_revision: u32,
    body: Vec<u8>,
}

impl Table {
    /// An empty table with the OEM fields of `options`.
    #[must_use]
    pub fn new(signature: Signature, revision: u8, options: &Options) -> Self {
        Self {
            signature,
            revision,
            oem_id: options.oem_id(),
            oem_table_id: options.oem_table_id(),
            oem_revision: options.oem_revision(),
            body: Vec::new(),
        }
    }

    /// Appends a structure's bytes.
    pub fn push<T: IntoBytes + Immutable + ?Sized>(&mut self, structure: &T) {
        self.body.extend_from_slice(structure.as_bytes());
    }

    /// Offset, from the start of the table, at which the next structure
    /// will land (PPTT references are such offsets).
    #[must_use]
    pub fn offset(&self) -> u32 {
        u32_len(SdtHeader::LENGTH + self.body.len())
    }

    /// Writes the header, with Length and Checksum computed over the whole
    /// table, and returns the finished table.
    #[must_use]
    pub fn finalize(self) -> AcpiTable {
        let header = SdtHeader {
            signature: self.signature,
            length: U32::new(u32_len(SdtHeader::LENGTH + self.body.len())),
            revision: self.revision,
            checksum: 0,
            oem_id: self.oem_id,
            oem_table_id: self.oem_table_id,
            oem_revision: U32::new(self.oem_revision),
            creator_id: CREATOR_ID,
            creator_revision: U32::new(CREATOR_REVISION),
        };
        let mut bytes = Vec::with_capacity(SdtHeader::LENGTH + self.body.len());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&self.body);
        bytes[SdtHeader::CHECKSUM_OFFSET] = checksum(&bytes);
        AcpiTable {
            signature: self.signature,
            bytes,
        }
    }
}

/// A finished table: its signature and its bytes, checksummed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcpiTable {
    signature: Signature,
    bytes: Vec<u8>,
}

impl AcpiTable {
    /// The table's signature.
    #[must_use]
    pub fn signature(&self) -> Signature {
        self.signature
    }

    /// The table's bytes, header included.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Never true: a table has at least its header.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes, consuming the table.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use zerocopy::little_endian::U16;

    use super::*;

    #[test]
    fn test_creator_revision_encodes_the_crate_version() {
        let expected = (env!("CARGO_PKG_VERSION_MAJOR").parse::<u32>().unwrap() << 16)
            | (env!("CARGO_PKG_VERSION_MINOR").parse::<u32>().unwrap() << 8)
            | env!("CARGO_PKG_VERSION_PATCH").parse::<u32>().unwrap();
        assert_eq!(CREATOR_REVISION, expected);
    }

    #[test]
    fn test_parse_decimal_saturates_at_255() {
        assert_eq!(parse_decimal("0"), 0);
        assert_eq!(parse_decimal("42"), 42);
        assert_eq!(parse_decimal("300"), 255);
    }

    #[test]
    fn test_checksum_makes_the_sum_zero() {
        assert_eq!(checksum(&[]), 0);
        assert_eq!(checksum(&[1]), 0xFF);
        assert_eq!(checksum(&[0x80, 0x80]), 0);
        assert_eq!(checksum(&[0x10, 0x20]), 0xD0);
    }

    #[test]
    fn test_finalize_writes_length_and_checksum_once() {
        let options = Options::new("OEMID_", "TABLEID_", 0x0102_0304).unwrap();
        let mut table = Table::new(Signature::SLIT, 1, &options);
        assert_eq!(table.offset(), 36);
        table.push(&U16::new(0xBEEF));
        table.push(&[0x01u8, 0x02][..]);
        assert_eq!(table.offset(), 40);
        let done = table.finalize();

        let mut expected: Vec<u8> = [
            &b"SLIT"[..],                    // [0] Signature
            &[40, 0, 0, 0],                  // [4] Length 40
            &[1],                            // [8] Revision 1
            &[0],                            // [9] Checksum (patched below)
            b"OEMID_",                       // [10] OEM ID
            b"TABLEID_",                     // [16] OEM Table ID
            &[0x04, 0x03, 0x02, 0x01],       // [24] OEM Revision
            b"VTPO",                         // [28] Creator ID
            &CREATOR_REVISION.to_le_bytes(), // [32] Creator Revision
            &[0xEF, 0xBE, 0x01, 0x02],       // [36] body
        ]
        .concat();
        let sum = expected.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        expected[9] = 0u8.wrapping_sub(sum);

        assert_eq!(done.bytes(), expected.as_slice());
        assert_eq!(done.signature(), Signature::SLIT);
        assert_eq!(done.len(), 40);
        assert!(!done.is_empty());
        assert_eq!(done.bytes().iter().fold(0u8, |a, b| a.wrapping_add(*b)), 0);
        assert_eq!(done.into_bytes().len(), 40);
    }
}
