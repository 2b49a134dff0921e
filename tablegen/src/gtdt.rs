//! ACPI 6.5 §5.2.25 Generic Timer Description Table (GTDT), revision 3, for
//! arm64 guests: the five architected per-processor timers, no
//! memory-mapped counter block, no platform (memory-mapped) timers.
//!
//! Interrupts and flags are those of QEMU `virt` (hw/arm/virt-acpi-build.c
//! `build_gtdt`, with the INTIDs of include/hw/arm/bsa.h):
//! - GSIVs are PPI INTIDs: secure EL1 physical 29 (PPI 13), non-secure EL1
//!   physical 30 (PPI 14), virtual EL1 27 (PPI 11, the timer a Linux guest
//!   uses), non-secure EL2 physical 26 (PPI 10), non-secure EL2 virtual 28
//!   (PPI 12).
//! - Every timer is level-triggered and active high (flags bits 0 and 1
//!   clear). QEMU's comment: "set only Timer interrupt Mode and assume Timer
//!   Interrupt polarity bit as 0: Interrupt is Active high". GICv3 PPIs have
//!   no polarity setting, so active low would only be a description; KVM's
//!   timer PPIs are level, active high, as in QEMU's device tree
//!   (`GIC_FDT_IRQ_FLAGS_LEVEL_HI`).
//! - Always-on Capability (bit 2) on the non-secure EL1 physical timer
//!   only, as QEMU sets it.

use planner::Plan;

use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::gtdt::{ArchTimers, GtdtFields, Timer, TimerFlags, GTDT_REVISION};
use crate::wire::header::Signature;

/// The architected timers of a KVM arm64 guest, as QEMU `virt` describes them.
pub const ARCH_TIMERS: ArchTimers = ArchTimers {
    secure_el1: Timer {
        gsiv: 29,
        flags: TimerFlags::LEVEL_ACTIVE_HIGH,
    },
    non_secure_el1: Timer {
        gsiv: 30,
        flags: TimerFlags::ALWAYS_ON,
    },
    virtual_el1: Timer {
        gsiv: 27,
        flags: TimerFlags::LEVEL_ACTIVE_HIGH,
    },
    el2: Timer {
        gsiv: 26,
        flags: TimerFlags::LEVEL_ACTIVE_HIGH,
    },
    virtual_el2: Timer {
        gsiv: 28,
        flags: TimerFlags::LEVEL_ACTIVE_HIGH,
    },
};

/// Builds the GTDT. The timers are architectural: nothing in the plan
/// changes them, so the plan is taken only for symmetry with the other builders.
#[must_use]
pub fn build(_plan: &Plan, options: &Options) -> AcpiTable {
    let mut table = Table::new(Signature::GTDT, GTDT_REVISION, options);
    table.push(&GtdtFields::new(&ARCH_TIMERS));
    table.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{arm_plan, header_ok};

    #[test]
    fn test_gtdt_bytes_after_the_header() {
        let src =
            "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n";
        let gtdt = build(&arm_plan(src), &Options::default());
        header_ok(gtdt.bytes(), b"GTDT", 3);
        assert_eq!(gtdt.len(), 104);
        let expected: [u8; 68] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, // [36] CntControlBase: not provided
            0x00, 0x00, 0x00, 0x00, // [44] Reserved
            0x1D, 0x00, 0x00, 0x00, // [48] Secure EL1 Timer GSIV 29
            0x00, 0x00, 0x00, 0x00, // [52] Secure EL1 Timer Flags: level, active high
            0x1E, 0x00, 0x00, 0x00, // [56] Non-Secure EL1 Timer GSIV 30
            0x04, 0x00, 0x00,
            0x00, // [60] Non-Secure EL1 Timer Flags: level, active high, always-on
            0x1B, 0x00, 0x00, 0x00, // [64] Virtual EL1 Timer GSIV 27
            0x00, 0x00, 0x00, 0x00, // [68] Virtual EL1 Timer Flags: level, active high
            0x1A, 0x00, 0x00, 0x00, // [72] EL2 Timer GSIV 26
            0x00, 0x00, 0x00, 0x00, // [76] EL2 Timer Flags: level, active high
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // [80] CntReadBase: not provided
            0x00, 0x00, 0x00, 0x00, // [88] Platform Timer Count 0
            0x00, 0x00, 0x00, 0x00, // [92] Platform Timer Offset 0
            0x1C, 0x00, 0x00, 0x00, // [96] Virtual EL2 Timer GSIV 28
            0x00, 0x00, 0x00, 0x00, // [100] Virtual EL2 Timer Flags: level, active high
        ];
        assert_eq!(&gtdt.bytes()[36..], expected);
    }
}
