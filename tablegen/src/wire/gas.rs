//! ACPI 6.5 §5.2.3.2 Generic Address Structure (GAS).

use zerocopy::little_endian::U64;
use zerocopy::{Immutable, IntoBytes};

/// Address Space ID values used by vtopo (ACPI 6.5 §5.2.3.2, GAS field
/// "Address Space ID").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressSpaceId {
    /// 0x00 System Memory space.
    SystemMemory,
    /// 0x01 System I/O space.
    SystemIo,
}

impl AddressSpaceId {
    const fn value(self) -> u8 {
        match self {
            AddressSpaceId::SystemMemory => 0x00,
            AddressSpaceId::SystemIo => 0x01,
        }
    }
}

/// Access Size values (ACPI 6.5 §5.2.3.2, GAS field "Access Size").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessSize {
    /// 0 Undefined (legacy reasons).
    Undefined,
    /// 1 Byte access.
    Byte,
    /// 2 Word access.
    Word,
    /// 3 Dword access.
    Dword,
    /// 4 Qword access.
    Qword,
}

impl AccessSize {
    const fn value(self) -> u8 {
        match self {
            AccessSize::Undefined => 0,
            AccessSize::Byte => 1,
            AccessSize::Word => 2,
            AccessSize::Dword => 3,
            AccessSize::Qword => 4,
        }
    }
}

/// ACPI 6.5 §5.2.3.2 Generic Address Structure (GAS).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, IntoBytes, Immutable)]
pub struct Gas {
    /// Address Space ID.
    pub address_space_id: u8,
    /// Register Bit Width.
    pub register_bit_width: u8,
    /// Register Bit Offset.
    pub register_bit_offset: u8,
    /// Access Size.
    pub access_size: u8,
    /// Address.
    pub address: U64,
}

const _: () = assert!(size_of::<Gas>() == Gas::LENGTH);

impl Gas {
    /// Length of the structure in bytes.
    pub const LENGTH: usize = 12;

    /// The all-zero GAS: "not supported / not present".
    pub const NONE: Self = Self {
        address_space_id: 0,
        register_bit_width: 0,
        register_bit_offset: 0,
        access_size: 0,
        address: U64::ZERO,
    };

    /// A register at `address` in `space`, `bit_width` bits wide at bit
    /// offset 0, accessed `access` at a time.
    #[must_use]
    pub fn new(space: AddressSpaceId, bit_width: u8, access: AccessSize, address: u64) -> Self {
        Self {
            address_space_id: space.value(),
            register_bit_width: bit_width,
            register_bit_offset: 0,
            access_size: access.value(),
            address: U64::new(address),
        }
    }
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;

    #[test]
    fn test_gas_for_a_pl011_data_register() {
        let gas = Gas::new(
            AddressSpaceId::SystemMemory,
            32,
            AccessSize::Dword,
            0x0900_0000,
        );
        let expected: [u8; 12] = [
            0x00, // [0] Address Space ID: system memory
            0x20, // [1] Register Bit Width 32
            0x00, // [2] Register Bit Offset 0
            0x03, // [3] Access Size: dword
            0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, // [4] Address 0x09000000
        ];
        assert_eq!(gas.as_bytes(), expected);
    }

    #[test]
    fn test_gas_for_com1_io_port() {
        let gas = Gas::new(AddressSpaceId::SystemIo, 8, AccessSize::Byte, 0x3F8);
        let expected: [u8; 12] = [
            0x01, // [0] Address Space ID: system I/O
            0x08, // [1] Register Bit Width 8
            0x00, // [2] Register Bit Offset 0
            0x01, // [3] Access Size: byte
            0xF8, 0x03, 0, 0, 0, 0, 0, 0, // [4] Address 0x3F8
        ];
        assert_eq!(gas.as_bytes(), expected);
    }

    #[test]
    fn test_gas_matches_acpi_tables() {
        use acpi_tables::gas::{AccessSize as A, AddressSpace as S, GAS};
        let theirs = GAS::new(S::SystemMemory, 32, 0, A::DwordAccess, 0x1234_5678_9abc);
        let mut bytes = Vec::new();
        acpi_tables::Aml::to_aml_bytes(&theirs, &mut bytes);
        let ours = Gas::new(
            AddressSpaceId::SystemMemory,
            32,
            AccessSize::Dword,
            0x1234_5678_9abc,
        );
        assert_eq!(ours.as_bytes(), bytes.as_slice());
        assert_eq!(Gas::NONE.as_bytes(), [0u8; 12]);
        assert_eq!(AccessSize::Undefined.value(), 0);
        assert_eq!(AccessSize::Word.value(), 2);
        assert_eq!(AccessSize::Qword.value(), 4);
    }
}
