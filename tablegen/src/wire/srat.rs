//! ACPI 6.5 §5.2.16 System Resource Affinity Table (SRAT), revision 3: the
//! fixed fields and the affinity structures vtopo emits.

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{Immutable, IntoBytes};

use super::flags;

/// SRAT revision (ACPI 6.5).
pub const SRAT_REVISION: u8 = 3;

/// ACPI 6.5 §5.2.16 System Resource Affinity Table (SRAT): the fields after
/// the header.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct SratFields {
    /// Reserved: must be 1 for backward compatibility.
    pub _reserved0: U32,
    /// Reserved.
    pub _reserved1: U64,
}

const _: () = assert!(size_of::<SratFields>() == SratFields::LENGTH);

impl SratFields {
    /// Length of the fields after the header.
    pub const LENGTH: usize = 12;

    /// The fixed fields: the first reserved field holds 1, as the spec requires.
    pub const VALUE: Self = Self {
        _reserved0: U32::new(1),
        _reserved1: U64::ZERO,
    };
}

/// Static Resource Allocation Structure types (ACPI 6.5 §5.2.16).
pub mod entry_type {
    /// Memory Affinity.
    pub const MEMORY_AFFINITY: u8 = 1;
    /// Processor Local x2APIC Affinity.
    pub const X2APIC_AFFINITY: u8 = 2;
    /// GICC Affinity.
    pub const GICC_AFFINITY: u8 = 3;
    /// GIC Interrupt Translation Service (ITS) Affinity.
    pub const GIC_ITS_AFFINITY: u8 = 4;
}

flags! {
    /// ACPI 6.5 §5.2.16.2 Memory Affinity Flags.
    pub struct MemoryAffinityFlags(u32) {
        /// Bit 0 Enabled: the OS uses this entry.
        const ENABLED = 1 << 0;
        /// Bit 1 Hot Pluggable: the range may be hot-added or removed.
        const HOT_PLUGGABLE = 1 << 1;
    }
}

flags! {
    /// ACPI 6.5 §5.2.16.3 Processor Local x2APIC Affinity Flags and
    /// §5.2.16.4 GICC Affinity Flags (both define only bit 0).
    pub struct ProcessorAffinityFlags(u32) {
        /// Bit 0 Enabled: the OS uses this entry. Linux ignores entries
        /// without it, so it is set for hotpluggable processors too.
        const ENABLED = 1 << 0;
    }
}

/// ACPI 6.5 §5.2.16.2 Memory Affinity Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct MemoryAffinity {
    /// Type: [`entry_type::MEMORY_AFFINITY`].
    pub r#type: u8,
    /// Length: [`MemoryAffinity::LENGTH`].
    pub length: u8,
    /// Proximity Domain.
    pub proximity_domain: U32,
    /// Reserved.
    pub _reserved0: U16,
    /// Base Address Low.
    pub base_address_low: U32,
    /// Base Address High.
    pub base_address_high: U32,
    /// Length Low.
    pub length_low: U32,
    /// Length High.
    pub length_high: U32,
    /// Reserved.
    pub _reserved1: U32,
    /// Flags: [`MemoryAffinityFlags`].
    pub flags: U32,
    /// Reserved.
    pub _reserved2: U64,
}

const _: () = assert!(size_of::<MemoryAffinity>() == MemoryAffinity::LENGTH as usize);

/// Low and high 32-bit halves of a 64-bit value.
fn split(value: u64) -> (U32, U32) {
    let low = value & u64::from(u32::MAX);
    let high = value >> 32;
    // Both halves fit 32 bits by construction; the fallbacks are unreachable.
    (
        U32::new(u32::try_from(low).unwrap_or(u32::MAX)),
        U32::new(u32::try_from(high).unwrap_or(u32::MAX)),
    )
}

impl MemoryAffinity {
    /// Structure type.
    pub const TYPE: u8 = entry_type::MEMORY_AFFINITY;
    /// Structure length.
    pub const LENGTH: u8 = 40;

    /// `length` bytes at `base` belong to `proximity_domain`.
    #[must_use]
    pub fn new(proximity_domain: u32, base: u64, length: u64, flags: MemoryAffinityFlags) -> Self {
        let (base_address_low, base_address_high) = split(base);
        let (length_low, length_high) = split(length);
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            proximity_domain: U32::new(proximity_domain),
            _reserved0: U16::ZERO,
            base_address_low,
            base_address_high,
            length_low,
            length_high,
            _reserved1: U32::ZERO,
            flags: U32::new(flags.bits()),
            _reserved2: U64::ZERO,
        }
    }
}

/// ACPI 6.5 §5.2.16.3 Processor Local x2APIC Affinity Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct X2ApicAffinity {
    /// Type: [`entry_type::X2APIC_AFFINITY`].
    pub r#type: u8,
    /// Length: [`X2ApicAffinity::LENGTH`].
    pub length: u8,
    /// Reserved.
    pub _reserved0: U16,
    /// Proximity Domain.
    pub proximity_domain: U32,
    /// X2APIC ID.
    pub x2apic_id: U32,
    /// Flags: [`ProcessorAffinityFlags`].
    pub flags: U32,
    /// Clock Domain.
    pub clock_domain: U32,
    /// Reserved.
    pub _reserved1: U32,
}

const _: () = assert!(size_of::<X2ApicAffinity>() == X2ApicAffinity::LENGTH as usize);

impl X2ApicAffinity {
    /// Structure type.
    pub const TYPE: u8 = entry_type::X2APIC_AFFINITY;
    /// Structure length.
    pub const LENGTH: u8 = 24;

    /// Processor `x2apic_id` belongs to `proximity_domain` (clock domain 0).
    #[must_use]
    pub fn new(proximity_domain: u32, x2apic_id: u32, flags: ProcessorAffinityFlags) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            _reserved0: U16::ZERO,
            proximity_domain: U32::new(proximity_domain),
            x2apic_id: U32::new(x2apic_id),
            flags: U32::new(flags.bits()),
            clock_domain: U32::ZERO,
            _reserved1: U32::ZERO,
        }
    }
}

/// ACPI 6.5 §5.2.16.4 GICC Affinity Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct GiccAffinity {
    /// Type: [`entry_type::GICC_AFFINITY`].
    pub r#type: u8,
    /// Length: [`GiccAffinity::LENGTH`].
    pub length: u8,
    /// Proximity Domain.
    pub proximity_domain: U32,
    /// ACPI Processor UID.
    pub acpi_processor_uid: U32,
    /// Flags: [`ProcessorAffinityFlags`].
    pub flags: U32,
    /// Clock Domain.
    pub clock_domain: U32,
}

const _: () = assert!(size_of::<GiccAffinity>() == GiccAffinity::LENGTH as usize);

impl GiccAffinity {
    /// Structure type.
    pub const TYPE: u8 = entry_type::GICC_AFFINITY;
    /// Structure length.
    pub const LENGTH: u8 = 18;

    /// Processor `uid` belongs to `proximity_domain` (clock domain 0).
    #[must_use]
    pub fn new(proximity_domain: u32, uid: u32, flags: ProcessorAffinityFlags) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            proximity_domain: U32::new(proximity_domain),
            acpi_processor_uid: U32::new(uid),
            flags: U32::new(flags.bits()),
            clock_domain: U32::ZERO,
        }
    }
}

/// ACPI 6.5 §5.2.16.5 GIC Interrupt Translation Service (ITS) Affinity Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct GicItsAffinity {
    /// Type: [`entry_type::GIC_ITS_AFFINITY`].
    pub r#type: u8,
    /// Length: [`GicItsAffinity::LENGTH`].
    pub length: u8,
    /// Proximity Domain.
    pub proximity_domain: U32,
    /// Reserved.
    pub _reserved0: U16,
    /// ITS ID: matches the MADT GIC ITS structure's GIC ITS ID.
    pub its_id: U32,
}

const _: () = assert!(size_of::<GicItsAffinity>() == GicItsAffinity::LENGTH as usize);

impl GicItsAffinity {
    /// Structure type.
    pub const TYPE: u8 = entry_type::GIC_ITS_AFFINITY;
    /// Structure length.
    pub const LENGTH: u8 = 12;

    /// ITS `its_id` belongs to `proximity_domain`.
    #[must_use]
    pub fn new(proximity_domain: u32, its_id: u32) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            proximity_domain: U32::new(proximity_domain),
            _reserved0: U16::ZERO,
            its_id: U32::new(its_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;

    #[test]
    fn test_srat_fields_bytes() {
        let expected: [u8; 12] = [
            0x01, 0x00, 0x00, 0x00, // [36] Reserved, must be 1
            0, 0, 0, 0, 0, 0, 0, 0, // [40] Reserved
        ];
        assert_eq!(SratFields::VALUE.as_bytes(), expected);
    }

    #[test]
    fn test_memory_affinity_hotplug_window_bytes() {
        // Node 1, 4 GiB at 0x1_4000_0000, a hotplug window.
        let entry = MemoryAffinity::new(
            1,
            0x1_4000_0000,
            0x1_0000_0000,
            MemoryAffinityFlags::ENABLED | MemoryAffinityFlags::HOT_PLUGGABLE,
        );
        let expected: [u8; 40] = [
            0x01, // [0] Type: Memory Affinity
            0x28, // [1] Length 40
            0x01, 0x00, 0x00, 0x00, // [2] Proximity Domain 1
            0x00, 0x00, // [6] Reserved
            0x00, 0x00, 0x00, 0x40, // [8] Base Address Low 0x40000000
            0x01, 0x00, 0x00, 0x00, // [12] Base Address High 0x1
            0x00, 0x00, 0x00, 0x00, // [16] Length Low 0
            0x01, 0x00, 0x00, 0x00, // [20] Length High 0x1
            0x00, 0x00, 0x00, 0x00, // [24] Reserved
            0x03, 0x00, 0x00, 0x00, // [28] Flags: Enabled | Hot Pluggable
            0, 0, 0, 0, 0, 0, 0, 0, // [32] Reserved
        ];
        assert_eq!(entry.as_bytes(), expected);
    }

    #[test]
    fn test_memory_affinity_matches_acpi_tables() {
        let theirs = acpi_tables::srat::MemoryAffinity::new(2, 0x4000_0000, 0x8000_0000).enabled();
        let mut bytes = Vec::new();
        acpi_tables::Aml::to_aml_bytes(&theirs, &mut bytes);
        let ours = MemoryAffinity::new(2, 0x4000_0000, 0x8000_0000, MemoryAffinityFlags::ENABLED);
        assert_eq!(ours.as_bytes(), bytes.as_slice());
    }

    #[test]
    fn test_x2apic_affinity_bytes() {
        let entry = X2ApicAffinity::new(1, 0x13, ProcessorAffinityFlags::ENABLED);
        let expected: [u8; 24] = [
            0x02, // [0] Type: Processor Local x2APIC Affinity
            0x18, // [1] Length 24
            0x00, 0x00, // [2] Reserved
            0x01, 0x00, 0x00, 0x00, // [4] Proximity Domain 1
            0x13, 0x00, 0x00, 0x00, // [8] X2APIC ID 0x13
            0x01, 0x00, 0x00, 0x00, // [12] Flags: Enabled
            0x00, 0x00, 0x00, 0x00, // [16] Clock Domain 0
            0x00, 0x00, 0x00, 0x00, // [20] Reserved
        ];
        assert_eq!(entry.as_bytes(), expected);
    }

    #[test]
    fn test_gicc_affinity_bytes() {
        let entry = GiccAffinity::new(1, 6, ProcessorAffinityFlags::ENABLED);
        let expected: [u8; 18] = [
            0x03, // [0] Type: GICC Affinity
            0x12, // [1] Length 18
            0x01, 0x00, 0x00, 0x00, // [2] Proximity Domain 1
            0x06, 0x00, 0x00, 0x00, // [6] ACPI Processor UID 6
            0x01, 0x00, 0x00, 0x00, // [10] Flags: Enabled
            0x00, 0x00, 0x00, 0x00, // [14] Clock Domain 0
        ];
        assert_eq!(entry.as_bytes(), expected);
    }

    #[test]
    fn test_gic_its_affinity_bytes() {
        let entry = GicItsAffinity::new(0, 0);
        let expected: [u8; 12] = [
            0x04, // [0] Type: GIC ITS Affinity
            0x0C, // [1] Length 12
            0x00, 0x00, 0x00, 0x00, // [2] Proximity Domain 0
            0x00, 0x00, // [6] Reserved
            0x00, 0x00, 0x00, 0x00, // [8] ITS ID 0
        ];
        assert_eq!(entry.as_bytes(), expected);
    }
}
