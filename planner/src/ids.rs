//! Newtypes for every identifier and address in a plan.
//!
//! A processor UID is never an APIC ID and an index is never an address, even
//! when the numbers happen to be equal (style guide 2.3 rule 3).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident($inner:ty), $fmt:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, $fmt, self.0)
            }
        }
    };
}

id_newtype!(
    /// Position of a CPU in the plan's enumeration order (socket, cluster or
    /// die, core, thread), starting at 0. This is also the vCPU index a VMM uses.
    CpuIndex(u32),
    "{}"
);
id_newtype!(
    /// ACPI Processor UID: MADT, PPTT leaf, SRAT GICC affinity and DSDT `_UID`.
    AcpiUid(u32),
    "{}"
);
id_newtype!(
    /// ACPI proximity domain; dense from 0, equal to the SLIT index.
    ProximityDomain(u32),
    "{}"
);
id_newtype!(
    /// x2APIC ID (x86_64): MADT, SRAT, KVM vcpu id and CPUID leaves 0xB/0x1F.
    ApicId(u32),
    "{:#x}"
);
id_newtype!(
    /// MPIDR affinity value (arm64) in the ACPI GICC layout: Aff3 in bits
    /// 39:32, Aff2..Aff0 in bits 23:0, every other bit zero.
    Mpidr(u64),
    "{:#x}"
);
id_newtype!(
    /// A guest physical address.
    GuestAddr(u64),
    "{:#x}"
);

impl Mpidr {
    /// Packs four affinity levels into the GICC MPIDR layout.
    #[must_use]
    pub fn from_affinity(aff3: u8, aff2: u8, aff1: u8, aff0: u8) -> Self {
        Self(
            (u64::from(aff3) << 32)
                | (u64::from(aff2) << 16)
                | (u64::from(aff1) << 8)
                | u64::from(aff0),
        )
    }

    /// Affinity level `level` (0..=3).
    #[must_use]
    pub fn aff(self, level: u32) -> u8 {
        let shift = if level == 3 { 32 } else { level * 8 };
        ((self.0 >> shift) & 0xff) as u8
    }

    /// True when only the architected affinity bits are set.
    #[must_use]
    pub fn is_affinity_only(self) -> bool {
        self.0 & !0xff_00ff_ffff == 0
    }
}

/// A range of guest physical memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GuestRange {
    /// First byte.
    pub base: GuestAddr,
    /// Length in bytes (never zero in a plan).
    pub size: u64,
}

impl GuestRange {
    /// One past the last byte.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.base.0 + self.size
    }

    /// True when the two ranges share at least one byte.
    #[must_use]
    pub fn overlaps(&self, other: &GuestRange) -> bool {
        self.base.0 < other.end() && other.base.0 < self.end()
    }
}

impl fmt::Display for GuestRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#x}..{:#x} ({})",
            self.base.0,
            self.end(),
            crate::size::ByteSize(self.size)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_mpidr_packs_aff3_above_bit_32() {
        // GICC MPIDR layout: Aff3 at 39:32, Aff2 at 23:16, Aff1 at 15:8, Aff0 at 7:0.
        let mpidr = Mpidr::from_affinity(1, 2, 3, 4);
        assert_eq!(mpidr.0, 0x01_0002_0304);
        assert_eq!(
            (mpidr.aff(3), mpidr.aff(2), mpidr.aff(1), mpidr.aff(0)),
            (1, 2, 3, 4)
        );
        assert!(mpidr.is_affinity_only());
    }

    #[test]
    fn test_mpidr_with_bit_31_is_not_affinity_only() {
        assert!(!Mpidr(0x8000_0000).is_affinity_only());
    }

    #[test]
    fn test_ranges_touching_do_not_overlap() {
        let a = GuestRange {
            base: GuestAddr(0),
            size: 0x1000,
        };
        let b = GuestRange {
            base: GuestAddr(0x1000),
            size: 0x1000,
        };
        assert!(!a.overlaps(&b));
        assert!(a.overlaps(&GuestRange {
            base: GuestAddr(0xfff),
            size: 1
        }));
    }
}
