//! Generic Event Device (ACPI 6.5 §5.6.9, `ACPI0013`): the event selector
//! register behind `\_SB.GED0._EVT`. One 32-bit register, read-to-clear, as
//! QEMU's GED (`hw/acpi/generic_event_device.c`): the VMM sets event bits and
//! raises the GED interrupt (edge); the guest's `_EVT` reads and clears them.

/// Event bit: CPU hotplug (QEMU's `ACPI_GED_CPU_HOTPLUG_EVT`; vtopo's DSDT tests it).
pub const CPU_HOTPLUG: u32 = 0x8;

/// Length of the register window.
pub const REGISTER_LEN: u64 = 4;

/// The GED's event selector.
#[derive(Debug, Clone, Default)]
pub struct Ged {
    pending: u32,
}

impl Ged {
    /// Sets `bits`; the VMM then injects the GED interrupt.
    pub fn raise(&mut self, bits: u32) {
        self.pending |= bits;
    }

    /// Events not yet read by the guest.
    #[must_use]
    pub fn pending(&self) -> u32 {
        self.pending
    }

    /// A guest read: the pending events, cleared by the read. Any access
    /// other than a dword at offset 0 reads as zero and clears nothing.
    pub fn read(&mut self, offset: u64, data: &mut [u8]) -> bool {
        if offset == 0 && data.len() == 4 {
            data.copy_from_slice(&std::mem::take(&mut self.pending).to_le_bytes());
            true
        } else {
            data.fill(0);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_read_returns_and_clears_events() {
        let mut ged = Ged::default();
        ged.raise(CPU_HOTPLUG);
        let mut b = [0u8; 4];
        assert!(ged.read(0, &mut b));
        assert_eq!(u32::from_le_bytes(b), CPU_HOTPLUG);
        assert!(ged.read(0, &mut b));
        assert_eq!(u32::from_le_bytes(b), 0);
    }

    #[test]
    fn test_odd_access_reads_zero_and_keeps_events() {
        let mut ged = Ged::default();
        ged.raise(CPU_HOTPLUG);
        let mut b = [0xFFu8; 2];
        assert!(!ged.read(0, &mut b));
        assert_eq!(b, [0, 0]);
        assert_eq!(ged.pending(), CPU_HOTPLUG);
    }
}
