//! ACPI 6.5 §5.2.25 Generic Timer Description Table (GTDT), revision 3:
//! the 68 bytes after the header, without platform timer structures.

use zerocopy::little_endian::{U32, U64};
use zerocopy::{Immutable, IntoBytes};

use super::flags;
use super::header::SdtHeader;

/// GTDT revision (ACPI 6.5): revision 3 adds the virtual EL2 timer.
pub const GTDT_REVISION: u8 = 3;

/// CntControlBase / CntReadBase value meaning "not provided" (QEMU `virt`
/// writes this; a guest reads the counter through system registers).
pub const NO_COUNTER_BLOCK: u64 = u64::MAX;

flags! {
    /// ACPI 6.5 §5.2.25 GTDT Timer Flags (shared by every timer of the table).
    pub struct TimerFlags(u32) {
        /// Bit 0 Timer interrupt Mode: 1 edge-triggered, 0 level-triggered.
        const EDGE_TRIGGERED = 1 << 0;
        /// Bit 1 Timer interrupt polarity: 1 active low, 0 active high.
        const ACTIVE_LOW = 1 << 1;
        /// Bit 2 Always-on Capability: the timer keeps running in every power state.
        const ALWAYS_ON = 1 << 2;
    }
}

impl TimerFlags {
    /// Level-triggered, active high.
    pub const LEVEL_ACTIVE_HIGH: Self = Self::EMPTY;
}

/// ACPI 6.5 §5.2.25 Generic Timer Description Table (GTDT): the fields
/// after the header.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct GtdtFields {
    /// CntControlBase Physical Address.
    pub cnt_control_base_physical_address: U64,
    /// Reserved.
    pub _reserved0: U32,
    /// Secure EL1 Timer GSIV.
    pub secure_el1_timer_gsiv: U32,
    /// Secure EL1 Timer Flags.
    pub secure_el1_timer_flags: U32,
    /// Non-Secure EL1 Timer GSIV.
    pub non_secure_el1_timer_gsiv: U32,
    /// Non-Secure EL1 Timer Flags.
    pub non_secure_el1_timer_flags: U32,
    /// Virtual EL1 Timer GSIV.
    pub virtual_el1_timer_gsiv: U32,
    /// Virtual EL1 Timer Flags.
    pub virtual_el1_timer_flags: U32,
    /// EL2 Timer GSIV.
    pub el2_timer_gsiv: U32,
    /// EL2 Timer Flags.
    pub el2_timer_flags: U32,
    /// CntReadBase Physical Address.
    pub cnt_read_base_physical_address: U64,
    /// Platform Timer Count.
    pub platform_timer_count: U32,
    /// Platform Timer Offset.
    pub platform_timer_offset: U32,
    /// Virtual EL2 Timer GSIV (revision 3).
    pub virtual_el2_timer_gsiv: U32,
    /// Virtual EL2 Timer Flags (revision 3).
    pub virtual_el2_timer_flags: U32,
}

const _: () = assert!(size_of::<GtdtFields>() == GtdtFields::LENGTH);
const _: () = assert!(SdtHeader::LENGTH + GtdtFields::LENGTH == GtdtFields::TABLE_LENGTH);

impl GtdtFields {
    /// Length of the fields after the header.
    pub const LENGTH: usize = 68;
    /// Length of the table without platform timers.
    pub const TABLE_LENGTH: usize = 104;
}

/// One timer's interrupt and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    /// GSIV (for a PPI: the INTID, 16 + PPI number).
    pub gsiv: u32,
    /// Flags.
    pub flags: TimerFlags,
}

/// The five architected per-processor timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchTimers {
    /// Secure EL1 physical timer.
    pub secure_el1: Timer,
    /// Non-secure EL1 physical timer.
    pub non_secure_el1: Timer,
    /// Virtual EL1 timer (the one a Linux guest uses).
    pub virtual_el1: Timer,
    /// Non-secure EL2 physical timer.
    pub el2: Timer,
    /// Non-secure EL2 virtual timer.
    pub virtual_el2: Timer,
}

impl GtdtFields {
    /// The fields for `timers`, no memory-mapped counter and no platform timers.
    #[must_use]
    pub fn new(timers: &ArchTimers) -> Self {
        Self {
            cnt_control_base_physical_address: U64::new(NO_COUNTER_BLOCK),
            _reserved0: U32::ZERO,
            secure_el1_timer_gsiv: U32::new(timers.secure_el1.gsiv),
            secure_el1_timer_flags: U32::new(timers.secure_el1.flags.bits()),
            non_secure_el1_timer_gsiv: U32::new(timers.non_secure_el1.gsiv),
            non_secure_el1_timer_flags: U32::new(timers.non_secure_el1.flags.bits()),
            virtual_el1_timer_gsiv: U32::new(timers.virtual_el1.gsiv),
            virtual_el1_timer_flags: U32::new(timers.virtual_el1.flags.bits()),
            el2_timer_gsiv: U32::new(timers.el2.gsiv),
            el2_timer_flags: U32::new(timers.el2.flags.bits()),
            cnt_read_base_physical_address: U64::new(NO_COUNTER_BLOCK),
            platform_timer_count: U32::ZERO,
            platform_timer_offset: U32::ZERO,
            virtual_el2_timer_gsiv: U32::new(timers.virtual_el2.gsiv),
            virtual_el2_timer_flags: U32::new(timers.virtual_el2.flags.bits()),
        }
    }
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;

    #[test]
    fn test_gtdt_fields_bytes() {
        let level = TimerFlags::LEVEL_ACTIVE_HIGH;
        let fields = GtdtFields::new(&ArchTimers {
            secure_el1: Timer {
                gsiv: 29,
                flags: level,
            },
            non_secure_el1: Timer {
                gsiv: 30,
                flags: TimerFlags::ALWAYS_ON,
            },
            virtual_el1: Timer {
                gsiv: 27,
                flags: level,
            },
            el2: Timer {
                gsiv: 26,
                flags: TimerFlags::EDGE_TRIGGERED | TimerFlags::ACTIVE_LOW,
            },
            virtual_el2: Timer {
                gsiv: 28,
                flags: level,
            },
        });
        let expected: [u8; 68] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, // [36] CntControlBase: not provided
            0x00, 0x00, 0x00, 0x00, // [44] Reserved
            0x1D, 0x00, 0x00, 0x00, // [48] Secure EL1 Timer GSIV 29
            0x00, 0x00, 0x00, 0x00, // [52] Secure EL1 Timer Flags: level, active high
            0x1E, 0x00, 0x00, 0x00, // [56] Non-Secure EL1 Timer GSIV 30
            0x04, 0x00, 0x00, 0x00, // [60] Non-Secure EL1 Timer Flags: always-on
            0x1B, 0x00, 0x00, 0x00, // [64] Virtual EL1 Timer GSIV 27
            0x00, 0x00, 0x00, 0x00, // [68] Virtual EL1 Timer Flags
            0x1A, 0x00, 0x00, 0x00, // [72] EL2 Timer GSIV 26
            0x03, 0x00, 0x00, 0x00, // [76] EL2 Timer Flags: edge, active low
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // [80] CntReadBase: not provided
            0x00, 0x00, 0x00, 0x00, // [88] Platform Timer Count 0
            0x00, 0x00, 0x00, 0x00, // [92] Platform Timer Offset 0
            0x1C, 0x00, 0x00, 0x00, // [96] Virtual EL2 Timer GSIV 28
            0x00, 0x00, 0x00, 0x00, // [100] Virtual EL2 Timer Flags
        ];
        assert_eq!(fields.as_bytes(), expected);
    }
}
