//! Microsoft Serial Port Console Redirection Table (SPCR), revision 2 (the
//! revision Linux has accepted since SPCR support landed; revision 3 only
//! adds the UART clock at offset 76, revision 4 a precise baud rate and a
//! namespace string): the 44 bytes after the header.
//!
//! The SPCR is not defined by the ACPI specification; ACPI 6.5 §5.2.6
//! reserves its signature and points to Microsoft's specification.

use zerocopy::little_endian::{U16, U32};
use zerocopy::{Immutable, IntoBytes};

use super::flags;
use super::gas::Gas;
use super::header::SdtHeader;

/// SPCR revision.
pub const SPCR_REVISION: u8 = 2;

/// Interface Type values (Microsoft DBG2 "Serial" port subtypes).
pub mod interface_type {
    /// 0x0000 Full 16550 interface.
    pub const FULL_16550: u8 = 0x00;
    /// 0x0003 Arm PL011 UART.
    pub const ARM_PL011: u8 = 0x03;
}

flags! {
    /// SPCR Interrupt Type.
    pub struct InterruptType(u8) {
        /// Bit 0: PC-AT-compatible dual-8259 IRQ interrupt.
        const PC_AT_8259 = 1 << 0;
        /// Bit 1: I/O APIC interrupt (Global System Interrupt).
        const IO_APIC = 1 << 1;
        /// Bit 3: ARMH GIC interrupt (Global System Interrupt).
        const ARM_GIC = 1 << 3;
    }
}

/// SPCR Configured Baud Rate values.
pub mod baud_rate {
    /// 0: as is, the OS relies on the current UART configuration.
    pub const AS_IS: u8 = 0;
    /// 7: 115200 bit/s.
    pub const B115200: u8 = 7;
}

/// SPCR Terminal Type 0: VT100.
pub const TERMINAL_VT100: u8 = 0;

/// PCI Device ID / Vendor ID meaning "not a PCI device".
pub const NOT_PCI: u16 = 0xFFFF;

/// Serial Port Console Redirection Table (SPCR), revision 2: the fields
/// after the header.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct SpcrFields {
    /// Interface Type: [`interface_type`].
    pub interface_type: u8,
    /// Reserved.
    pub _reserved0: [u8; 3],
    /// Base Address: the UART's register block.
    pub base_address: Gas,
    /// Interrupt Type: [`InterruptType`].
    pub interrupt_type: u8,
    /// IRQ: PC-AT IRQ, valid only with [`InterruptType::PC_AT_8259`].
    pub irq: u8,
    /// Global System Interrupt.
    pub global_system_interrupt: U32,
    /// Configured Baud Rate: [`baud_rate`].
    pub configured_baud_rate: u8,
    /// Parity: 0, no parity.
    pub parity: u8,
    /// Stop Bits: 1.
    pub stop_bits: u8,
    /// Flow Control: 0, none.
    pub flow_control: u8,
    /// Terminal Type.
    pub terminal_type: u8,
    /// Language: must be 0.
    pub language: u8,
    /// PCI Device ID.
    pub pci_device_id: U16,
    /// PCI Vendor ID.
    pub pci_vendor_id: U16,
    /// PCI Bus Number.
    pub pci_bus_number: u8,
    /// PCI Device Number.
    pub pci_device_number: u8,
    /// PCI Function Number.
    pub pci_function_number: u8,
    /// PCI Flags.
    pub pci_flags: U32,
    /// PCI Segment.
    pub pci_segment: u8,
    /// Reserved (revision 3+: UART Clock Frequency).
    pub _reserved1: U32,
}

const _: () = assert!(size_of::<SpcrFields>() == SpcrFields::LENGTH);
const _: () = assert!(SdtHeader::LENGTH + SpcrFields::LENGTH == SpcrFields::TABLE_LENGTH);

impl SpcrFields {
    /// Length of the fields after the header.
    pub const LENGTH: usize = 44;
    /// Length of the table.
    pub const TABLE_LENGTH: usize = 80;

    /// A non-PCI UART at `base`, 8N1 without flow control, VT100.
    #[must_use]
    pub fn new(
        interface: u8,
        base: Gas,
        interrupt_type: InterruptType,
        gsi: u32,
        baud: u8,
    ) -> Self {
        Self {
            interface_type: interface,
            _reserved0: [0; 3],
            base_address: base,
            interrupt_type: interrupt_type.bits(),
            irq: 0,
            global_system_interrupt: U32::new(gsi),
            configured_baud_rate: baud,
            parity: 0,
            stop_bits: 1,
            flow_control: 0,
            terminal_type: TERMINAL_VT100,
            language: 0,
            pci_device_id: U16::new(NOT_PCI),
            pci_vendor_id: U16::new(NOT_PCI),
            pci_bus_number: 0,
            pci_device_number: 0,
            pci_function_number: 0,
            pci_flags: U32::ZERO,
            pci_segment: 0,
            _reserved1: U32::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;
    use crate::wire::gas::{AccessSize, AddressSpaceId};

    #[test]
    fn test_pl011_spcr_fields_bytes() {
        let base = Gas::new(
            AddressSpaceId::SystemMemory,
            32,
            AccessSize::Dword,
            0x0900_0000,
        );
        let fields = SpcrFields::new(
            interface_type::ARM_PL011,
            base,
            InterruptType::ARM_GIC,
            33,
            baud_rate::B115200,
        );
        let expected: [u8; 44] = [
            0x03, // [36] Interface Type: Arm PL011
            0x00, 0x00, 0x00, // [37] Reserved
            0x00, 0x20, 0x00, 0x03, // [40] Base Address GAS: memory, 32 bits, offset 0, dword
            0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, // [44] ... address 0x09000000
            0x08, // [52] Interrupt Type: ARMH GIC
            0x00, // [53] IRQ (PC-AT): not used
            0x21, 0x00, 0x00, 0x00, // [54] Global System Interrupt 33
            0x07, // [58] Configured Baud Rate: 115200
            0x00, // [59] Parity: none
            0x01, // [60] Stop Bits: 1
            0x00, // [61] Flow Control: none
            0x00, // [62] Terminal Type: VT100
            0x00, // [63] Language
            0xFF, 0xFF, // [64] PCI Device ID: not PCI
            0xFF, 0xFF, // [66] PCI Vendor ID: not PCI
            0x00, // [68] PCI Bus Number
            0x00, // [69] PCI Device Number
            0x00, // [70] PCI Function Number
            0x00, 0x00, 0x00, 0x00, // [71] PCI Flags
            0x00, // [75] PCI Segment
            0x00, 0x00, 0x00, 0x00, // [76] Reserved
        ];
        assert_eq!(fields.as_bytes(), expected);
        assert_eq!(baud_rate::AS_IS, 0);
        assert_eq!(InterruptType::PC_AT_8259.bits(), 1);
    }
}
