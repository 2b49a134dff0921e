//! The I/O ports vtopo-pc answers besides the console and the in-kernel
//! devices (PIC, PIT, I/O APIC, LAPIC, which KVM serves): the FADT's power
//! registers, the i8042 reset line, and legacy devices Linux probes for.
//! Pure decoding (tested below); the VMM turns the outcome into a
//! [`Claim`].
//!
//! - Sleep control register ([`PowerRegisters::sleep_control`], ACPI 6.5
//!   §4.8.3.7): a write with SLP_EN (bit 5) and SLP_TYP (bits 4:2) equal to
//!   the `\_S5` value powers off; other sleep states are ignored (the guest
//!   then polls WAK_STS, which stays 0, as a machine that cannot sleep).
//! - Sleep status register: reads 0; writes (WAK_STS clear) are accepted.
//! - Reset register (§4.8.3.6): RESET_VALUE resets.
//! - i8042 (ports 0x60, 0x64): `vm_superio`'s i8042 decodes the CPU reset
//!   command (0xFE to the command port); reads return 0xFF, an absent
//!   controller (Linux's i8042 probe then gives up after its 16-byte flush
//!   instead of waiting out a 0.5 s self-test timeout).
//! - Legacy devices Linux probes or pokes on a PC (POST code port 0x80,
//!   DMA controllers, CMOS, COM2-COM4, LPT, VGA, PCI configuration
//!   mechanism #1, fast A20, fw_cfg, debug console): accepted silently;
//!   reads return all ones (a floating ISA bus: no device), except the
//!   CMOS data port, which reads 0 (no update in progress: Linux's RTC
//!   reads do not spin on the UIP bit).

use tablegen::fadt::PowerRegisters;
use vm_superio::{I8042Device, Trigger};

use crate::vm::Claim;

/// SLP_EN: bit 5 of the sleep control register.
const SLP_EN: u8 = 1 << 5;
/// SLP_TYP: bits 4:2 of the sleep control register.
const SLP_TYP_SHIFT: u8 = 2;
const SLP_TYP_MASK: u8 = 0x7;

/// i8042 data and command/status ports.
const I8042_DATA: u16 = 0x60;
const I8042_COMMAND: u16 = 0x64;

/// CMOS / RTC index and data ports.
const CMOS_INDEX: u16 = 0x70;
const CMOS_DATA: u16 = 0x71;

/// Legacy port ranges (inclusive) accepted silently.
const QUIET: &[(u16, u16, &str)] = &[
    (0x00, 0x1F, "DMA controller 1"),
    (0x80, 0x80, "POST code"),
    (0x81, 0x8F, "DMA page registers"),
    (0x92, 0x92, "fast A20 / reset"),
    (0xC0, 0xDF, "DMA controller 2"),
    (0xED, 0xED, "I/O delay"),
    (0xF0, 0xFF, "x87 FPU error"),
    (0x278, 0x27F, "LPT2"),
    (0x2E8, 0x2EF, "COM4"),
    (0x2F8, 0x2FF, "COM2"),
    (0x378, 0x37F, "LPT1"),
    (0x3B0, 0x3DF, "VGA"),
    (0x3E8, 0x3EF, "COM3"),
    (0x402, 0x402, "debug console"),
    (0x510, 0x51B, "fw_cfg"),
    (0xCF8, 0xCFF, "PCI configuration"),
];

/// What a port access means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// Not a port vtopo-pc knows.
    Unknown,
    /// Accepted; a read returns this byte in every position.
    Read(u8),
    /// Accepted write with no effect.
    Ignored,
    /// Power off (S5).
    PowerOff,
    /// Reset.
    Reset,
}

impl Port {
    /// The claim for the generic VMM.
    #[must_use]
    pub fn claim(self) -> Claim {
        match self {
            Port::Unknown => Claim::Unclaimed,
            Port::Read(_) | Port::Ignored => Claim::Done,
            Port::PowerOff => Claim::PowerOff,
            Port::Reset => Claim::Reset,
        }
    }
}

/// A `vm_superio` trigger that records that it fired.
#[derive(Debug, Default)]
struct Fired(std::cell::Cell<bool>);

impl Trigger for Fired {
    type E = std::convert::Infallible;
    fn trigger(&self) -> Result<(), Self::E> {
        self.0.set(true);
        Ok(())
    }
}

/// The name of a legacy device port vtopo-pc answers quietly, if it is one.
#[must_use]
pub fn legacy_name(port: u16) -> Option<&'static str> {
    match port {
        I8042_DATA | I8042_COMMAND => Some("i8042"),
        CMOS_INDEX | CMOS_DATA => Some("CMOS"),
        _ => QUIET
            .iter()
            .find(|&&(lo, hi, _)| (lo..=hi).contains(&port))
            .map(|&(_, _, name)| name),
    }
}

/// A read of `port`.
#[must_use]
pub fn read(power: Option<&PowerRegisters>, port: u16) -> Port {
    if let Some(p) = power {
        if port == p.sleep_control || port == p.sleep_status || port == p.reset {
            return Port::Read(0);
        }
    }
    match port {
        I8042_DATA | I8042_COMMAND => Port::Read(0xFF),
        CMOS_INDEX => Port::Read(0xFF),
        CMOS_DATA => Port::Read(0),
        _ if QUIET.iter().any(|&(lo, hi, _)| (lo..=hi).contains(&port)) => Port::Read(0xFF),
        _ => Port::Unknown,
    }
}

/// A write of `data` (its first byte decides) to `port`.
#[must_use]
pub fn write(power: Option<&PowerRegisters>, port: u16, data: &[u8]) -> Port {
    let value = data.first().copied().unwrap_or(0);
    if let Some(p) = power {
        if port == p.sleep_control {
            let typ = (value >> SLP_TYP_SHIFT) & SLP_TYP_MASK;
            return if value & SLP_EN != 0 && typ == p.s5_sleep_type {
                Port::PowerOff
            } else {
                Port::Ignored
            };
        }
        if port == p.sleep_status {
            return Port::Ignored;
        }
        if port == p.reset {
            return if value == p.reset_value {
                Port::Reset
            } else {
                Port::Ignored
            };
        }
    }
    match port {
        I8042_DATA | I8042_COMMAND => {
            let mut i8042 = I8042Device::new(Fired::default());
            let offset = u8::try_from(port - I8042_DATA).unwrap_or(0);
            // Infallible trigger.
            let _ = i8042.write(offset, value);
            if i8042.reset_evt().0.get() {
                Port::Reset
            } else {
                Port::Ignored
            }
        }
        CMOS_INDEX | CMOS_DATA => Port::Ignored,
        _ if QUIET.iter().any(|&(lo, hi, _)| (lo..=hi).contains(&port)) => Port::Ignored,
        _ => Port::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use tablegen::fadt::VTOPO_PC_POWER;

    use super::*;

    const P: Option<&PowerRegisters> = Some(&VTOPO_PC_POWER);

    #[test]
    fn test_s5_write_powers_off_other_sleep_states_do_not() {
        // Linux acpi_hw_extended_sleep: (SLP_TYP << 2) | SLP_EN.
        assert_eq!(write(P, 0x600, &[(5 << 2) | 0x20]), Port::PowerOff);
        assert_eq!(write(P, 0x600, &[(3 << 2) | 0x20]), Port::Ignored); // S3
        assert_eq!(write(P, 0x600, &[5 << 2]), Port::Ignored); // no SLP_EN
        assert_eq!(write(P, 0x601, &[0x80]), Port::Ignored); // WAK_STS clear
        assert_eq!(read(P, 0x601), Port::Read(0));
        assert_eq!(Port::PowerOff.claim(), Claim::PowerOff);
    }

    #[test]
    fn test_reset_register_and_i8042_reset() {
        assert_eq!(write(P, 0x602, &[1]), Port::Reset);
        assert_eq!(write(P, 0x602, &[2]), Port::Ignored);
        assert_eq!(write(P, 0x64, &[0xFE]), Port::Reset);
        assert_eq!(write(P, 0x64, &[0xAA]), Port::Ignored); // self-test command
        assert_eq!(write(P, 0x60, &[0xFE]), Port::Ignored); // data port
        assert_eq!(Port::Reset.claim(), Claim::Reset);
    }

    #[test]
    fn test_legacy_ports_read_as_absent_quietly() {
        assert_eq!(read(P, 0x64), Port::Read(0xFF)); // i8042 status: no controller
        assert_eq!(read(P, 0x2FD), Port::Read(0xFF)); // COM2 line status
        assert_eq!(read(P, 0xCFC), Port::Read(0xFF)); // PCI config data
        assert_eq!(read(P, 0x71), Port::Read(0)); // CMOS data: no UIP
        assert_eq!(write(P, 0x80, &[0]), Port::Ignored);
        assert_eq!(write(P, 0x70, &[0x8F]), Port::Ignored);
        assert_eq!(Port::Ignored.claim(), Claim::Done);
        assert_eq!(legacy_name(0x2FD), Some("COM2"));
        assert_eq!(legacy_name(0x71), Some("CMOS"));
        assert_eq!(legacy_name(0x600), None);
    }

    #[test]
    fn test_unknown_ports_and_no_power_registers() {
        assert_eq!(read(P, 0x1234), Port::Unknown);
        assert_eq!(write(P, 0x1234, &[1]), Port::Unknown);
        assert_eq!(Port::Unknown.claim(), Claim::Unclaimed);
        // Without power registers (not vtopo-pc) 0x600 is nobody's.
        assert_eq!(write(None, 0x600, &[0x34]), Port::Unknown);
    }
}
