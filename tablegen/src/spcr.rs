//! Microsoft Serial Port Console Redirection Table (SPCR), revision 2, from
//! a plan: the console UART for Linux's `earlycon` and preferred console.
//!
//! - arm64 PL011: interface type 3, MMIO, 32-bit registers accessed as
//!   dwords (Linux picks `mmio32`), interrupt type ARMH GIC, the plan's GSIV.
//! - x86 16550: interface type 0, I/O port, 8-bit registers accessed as
//!   bytes, interrupt type I/O APIC with the plan's GSI; the PC-AT IRQ field
//!   stays 0 (bit 0 of the interrupt type is clear: a HW-reduced vtopo-pc
//!   has no 8259 for the OS to use).
//! - 115200 baud, 8N1, no flow control, VT100; not a PCI device.

use planner::plan::{Uart, UartKind};
use planner::Plan;

use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::gas::{AccessSize, AddressSpaceId, Gas};
use crate::wire::header::Signature;
use crate::wire::spcr::{baud_rate, interface_type, InterruptType, SpcrFields, SPCR_REVISION};

/// The SPCR fields for `uart`.
#[must_use]
pub fn fields(uart: &Uart) -> SpcrFields {
    match uart.kind {
        UartKind::Pl011 => SpcrFields::new(
            interface_type::ARM_PL011,
            Gas::new(
                AddressSpaceId::SystemMemory,
                32,
                AccessSize::Dword,
                uart.base.0,
            ),
            InterruptType::ARM_GIC,
            uart.gsi,
            baud_rate::B115200,
        ),
        UartKind::Ns16550 => SpcrFields::new(
            interface_type::FULL_16550,
            Gas::new(AddressSpaceId::SystemIo, 8, AccessSize::Byte, uart.base.0),
            InterruptType::IO_APIC,
            uart.gsi,
            baud_rate::B115200,
        ),
    }
}

/// Builds the SPCR.
#[must_use]
pub fn build(plan: &Plan, options: &Options) -> AcpiTable {
    let mut table = Table::new(Signature::SPCR, SPCR_REVISION, options);
    table.push(&fields(&plan.devices.uart));
    table.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{arm_plan, header_ok, x86_plan};

    #[test]
    fn test_arm_spcr_describes_the_pl011() {
        let src =
            "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n";
        let spcr = build(&arm_plan(src), &Options::default());
        header_ok(spcr.bytes(), b"SPCR", 2);
        assert_eq!(spcr.len(), 80);
        let b = spcr.bytes();
        assert_eq!(b[36], 3); // Interface Type: PL011
        assert_eq!(
            b[40..52],
            [0x00, 0x20, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, 0, 0, 0, 0]
        ); // MMIO 0x09000000
        assert_eq!(b[52], 0x08); // Interrupt Type: ARMH GIC
        assert_eq!(b[54..58], [33, 0, 0, 0]); // GSIV 33 = SPI 1
        assert_eq!(b[58], 7); // 115200
    }

    #[test]
    fn test_x86_spcr_describes_com1() {
        let src =
            "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n";
        let spcr = build(&x86_plan(src), &Options::default());
        header_ok(spcr.bytes(), b"SPCR", 2);
        let expected: [u8; 44] = [
            0x00, // [36] Interface Type: full 16550
            0x00, 0x00, 0x00, // [37] Reserved
            0x01, 0x08, 0x00,
            0x01, // [40] Base Address GAS: I/O, 8 bits, offset 0, byte access
            0xF8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // [44] ... port 0x3F8
            0x02, // [52] Interrupt Type: I/O APIC
            0x00, // [53] IRQ (PC-AT): not used
            0x04, 0x00, 0x00, 0x00, // [54] Global System Interrupt 4
            0x07, // [58] Configured Baud Rate: 115200
            0x00, // [59] Parity: none
            0x01, // [60] Stop Bits: 1
            0x00, // [61] Flow Control: none
            0x00, // [62] Terminal Type: VT100
            0x00, // [63] Language
            0xFF, 0xFF, // [64] PCI Device ID: not PCI
            0xFF, 0xFF, // [66] PCI Vendor ID: not PCI
            0x00, 0x00, 0x00, // [68] PCI Bus, Device, Function
            0x00, 0x00, 0x00, 0x00, // [71] PCI Flags
            0x00, // [75] PCI Segment
            0x00, 0x00, 0x00, 0x00, // [76] Reserved
        ];
        assert_eq!(&spcr.bytes()[36..], expected);
    }
}
