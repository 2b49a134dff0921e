//! ACPI 6.5 §5.2.17 System Locality Information Table (SLIT), revision 1:
//! the locality count that follows the header (the N x N entry matrix of
//! one-byte distances follows it).

use zerocopy::little_endian::U64;
use zerocopy::{Immutable, IntoBytes};

/// SLIT revision (ACPI 6.5).
pub const SLIT_REVISION: u8 = 1;

/// ACPI 6.5 §5.2.17 System Locality Information Table (SLIT): the fields
/// after the header.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct SlitFields {
    /// Number of System Localities.
    pub number_of_system_localities: U64,
}

const _: () = assert!(size_of::<SlitFields>() == SlitFields::LENGTH);

impl SlitFields {
    /// Length of the fields after the header.
    pub const LENGTH: usize = 8;
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;

    #[test]
    fn test_slit_fields_bytes() {
        let fields = SlitFields {
            number_of_system_localities: U64::new(3),
        };
        // [36] Number of System Localities 3
        assert_eq!(fields.as_bytes(), [3, 0, 0, 0, 0, 0, 0, 0]);
    }
}
