//! ACPI 6.5 §5.2.12 Multiple APIC Description Table (MADT): the fixed
//! fields and the interrupt controller structures vtopo emits.

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{Immutable, IntoBytes};

use super::flags;

/// MADT revision emitted on both architectures.
///
/// Revision 5 is the ACPI 6.3/6.4 layout, whose GICC structure is 80 bytes
/// (see [`Gicc`] for why not the 82-byte revision-6 GICC of ACPI 6.5). On
/// x86, Linux honours the Online Capable flag of Local APIC and x2APIC
/// structures only from MADT revision 5 (`acpi_support_online_capable`,
/// Linux 5.16+), so 5 is also the minimum there. Linux arm64 reads the GICC
/// Online Capable flag without looking at the MADT revision.
pub const MADT_REVISION: u8 = 5;

/// ACPI 6.5 §5.2.12 Multiple APIC Description Table (MADT): the fields
/// after the header.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct MadtFields {
    /// Local Interrupt Controller Address (x86 local APIC; 0 on Arm).
    pub local_interrupt_controller_address: U32,
    /// Flags: [`MadtFlags`].
    pub flags: U32,
}

const _: () = assert!(size_of::<MadtFields>() == MadtFields::LENGTH);

impl MadtFields {
    /// Length of the fields after the header.
    pub const LENGTH: usize = 8;
}

flags! {
    /// ACPI 6.5 §5.2.12 Multiple APIC Flags.
    pub struct MadtFlags(u32) {
        /// Bit 0 PCAT_COMPAT: the system also has a PC-AT-compatible dual-8259 setup.
        const PCAT_COMPAT = 1 << 0;
    }
}

/// Interrupt controller structure types (ACPI 6.5 §5.2.12, Interrupt
/// Controller Structure Types).
pub mod entry_type {
    /// Processor Local APIC.
    pub const LOCAL_APIC: u8 = 0x00;
    /// I/O APIC.
    pub const IO_APIC: u8 = 0x01;
    /// Interrupt Source Override.
    pub const INTERRUPT_SOURCE_OVERRIDE: u8 = 0x02;
    /// Local APIC NMI.
    pub const LOCAL_APIC_NMI: u8 = 0x04;
    /// Processor Local x2APIC.
    pub const LOCAL_X2APIC: u8 = 0x09;
    /// Local x2APIC NMI.
    pub const LOCAL_X2APIC_NMI: u8 = 0x0A;
    /// GIC CPU Interface (GICC).
    pub const GICC: u8 = 0x0B;
    /// GIC Distributor (GICD).
    pub const GICD: u8 = 0x0C;
    /// GIC Redistributor (GICR).
    pub const GICR: u8 = 0x0E;
    /// GIC Interrupt Translation Service (ITS).
    pub const GIC_ITS: u8 = 0x0F;
}

flags! {
    /// ACPI 6.5 §5.2.12.2 Local APIC Flags, shared by the Processor Local
    /// APIC and Processor Local x2APIC structures.
    pub struct LocalApicFlags(u32) {
        /// Bit 0 Enabled: the processor is ready for use.
        const ENABLED = 1 << 0;
        /// Bit 1 Online Capable (ACPI 6.3): with Enabled clear, the
        /// processor can be enabled at run time. Must be 0 when Enabled is set.
        const ONLINE_CAPABLE = 1 << 1;
    }
}

flags! {
    /// ACPI 6.5 §5.2.12.14 GICC CPU Interface Flags.
    pub struct GiccFlags(u32) {
        /// Bit 0 Enabled: the processor is usable at boot.
        const ENABLED = 1 << 0;
        /// Bit 3 Online Capable (ACPI 6.5): with Enabled clear, the
        /// processor can be enabled at run time. Must be 0 when Enabled is set.
        const ONLINE_CAPABLE = 1 << 3;
    }
}

flags! {
    /// ACPI 6.5 §5.2.12.5 MPS INTI Flags (Interrupt Source Override, NMI
    /// structures): bits 1:0 polarity, bits 3:2 trigger mode.
    pub struct MpsIntiFlags(u16) {
        /// Polarity 01: active high.
        const ACTIVE_HIGH = 0b01;
        /// Polarity 11: active low.
        const ACTIVE_LOW = 0b11;
        /// Trigger mode 01: edge-triggered.
        const EDGE = 0b01 << 2;
        /// Trigger mode 11: level-triggered.
        const LEVEL = 0b11 << 2;
    }
}

impl MpsIntiFlags {
    /// Polarity and trigger mode 00: conforms to the bus specification
    /// (ISA: edge-triggered, active high).
    pub const CONFORMS: Self = Self::EMPTY;
}

/// ACPI 6.5 §5.2.12.14 GIC CPU Interface (GICC) Structure.
///
/// Length 80, the ACPI 6.3/6.4 layout (SPE overflow interrupt at offset 78,
/// no TRBE interrupt), not the 82 bytes of ACPI 6.5:
/// - the 6.5 addition is the TRBE interrupt, which KVM does not give guests,
///   so the two extra bytes would always be zero;
/// - 80 is what QEMU's `virt` and Cloud Hypervisor emit, so it is the length
///   Linux guests are tested with; Linux accepts any length from 76
///   (`BAD_MADT_GICC_ENTRY`, since 4.20), while other consumers (Xen until
///   2026) accepted only 80;
/// - an 82-byte GICC implies MADT revision 6; keeping 80 lets one MADT
///   revision ([`MADT_REVISION`] = 5) serve both architectures;
/// - iasl 20200925 (Debian 12, our CI cross-check) decodes these 80 bytes
///   field by field (it would skip the TRBE field of an 82-byte GICC).
///
/// The Online Capable flag (bit 3) is an ACPI 6.5 definition; Linux 6.11+
/// reads it from the flags regardless of the MADT revision.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct Gicc {
    /// Type: [`entry_type::GICC`].
    pub r#type: u8,
    /// Length: [`Gicc::LENGTH`].
    pub length: u8,
    /// Reserved.
    pub _reserved0: U16,
    /// CPU Interface Number: 0 for GICv3 without legacy (GICv2) compatibility.
    pub cpu_interface_number: U32,
    /// ACPI Processor UID.
    pub acpi_processor_uid: U32,
    /// Flags: [`GiccFlags`].
    pub flags: U32,
    /// Parking Protocol Version: 0, PSCI is used.
    pub parking_protocol_version: U32,
    /// Performance Interrupt GSIV.
    pub performance_interrupt_gsiv: U32,
    /// Parked Address.
    pub parked_address: U64,
    /// Physical Base Address: of the GICv2 CPU interface; 0 for GICv3.
    pub physical_base_address: U64,
    /// GICV: GICv2 virtual CPU interface; 0.
    pub gicv: U64,
    /// GICH: GICv2 hypervisor control; 0.
    pub gich: U64,
    /// VGIC Maintenance Interrupt: 0 (no nested virtualization).
    pub vgic_maintenance_interrupt: U32,
    /// GICR Base Address: 0, redistributors are described by GICR structures.
    pub gicr_base_address: U64,
    /// MPIDR: Aff3 in bits 39:32, Aff2..Aff0 in bits 23:0.
    pub mpidr: U64,
    /// Processor Power Efficiency Class.
    pub processor_power_efficiency_class: u8,
    /// Reserved.
    pub _reserved1: u8,
    /// SPE overflow Interrupt (ACPI 6.3): 0, no SPE.
    pub spe_overflow_interrupt: U16,
}

const _: () = assert!(size_of::<Gicc>() == Gicc::LENGTH as usize);

impl Gicc {
    /// Structure type.
    pub const TYPE: u8 = entry_type::GICC;
    /// Structure length (ACPI 6.3/6.4 layout; see the type's documentation).
    pub const LENGTH: u8 = 80;

    /// A GICv3 CPU interface for processor `uid` with affinity `mpidr`.
    #[must_use]
    pub fn new(uid: u32, flags: GiccFlags, mpidr: u64, performance_interrupt_gsiv: u32) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            _reserved0: U16::ZERO,
            cpu_interface_number: U32::ZERO,
            acpi_processor_uid: U32::new(uid),
            flags: U32::new(flags.bits()),
            parking_protocol_version: U32::ZERO,
            performance_interrupt_gsiv: U32::new(performance_interrupt_gsiv),
            parked_address: U64::ZERO,
            physical_base_address: U64::ZERO,
            gicv: U64::ZERO,
            gich: U64::ZERO,
            vgic_maintenance_interrupt: U32::ZERO,
            gicr_base_address: U64::ZERO,
            mpidr: U64::new(mpidr),
            processor_power_efficiency_class: 0,
            _reserved1: 0,
            spe_overflow_interrupt: U16::ZERO,
        }
    }
}

/// GIC Version field of the GICD structure: 3 for GICv3.
pub const GIC_VERSION_3: u8 = 3;

/// ACPI 6.5 §5.2.12.15 GIC Distributor (GICD) Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct Gicd {
    /// Type: [`entry_type::GICD`].
    pub r#type: u8,
    /// Length: [`Gicd::LENGTH`].
    pub length: u8,
    /// Reserved.
    pub _reserved0: U16,
    /// GIC ID.
    pub gic_id: U32,
    /// Physical Base Address.
    pub physical_base_address: U64,
    /// System Vector Base: must be 0.
    pub system_vector_base: U32,
    /// GIC version.
    pub gic_version: u8,
    /// Reserved.
    pub _reserved1: [u8; 3],
}

const _: () = assert!(size_of::<Gicd>() == Gicd::LENGTH as usize);

impl Gicd {
    /// Structure type.
    pub const TYPE: u8 = entry_type::GICD;
    /// Structure length.
    pub const LENGTH: u8 = 24;

    /// A GICv3 distributor at `base`.
    #[must_use]
    pub fn new(gic_id: u32, base: u64, gic_version: u8) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            _reserved0: U16::ZERO,
            gic_id: U32::new(gic_id),
            physical_base_address: U64::new(base),
            system_vector_base: U32::ZERO,
            gic_version,
            _reserved1: [0; 3],
        }
    }
}

/// ACPI 6.5 §5.2.12.17 GIC Redistributor (GICR) Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct Gicr {
    /// Type: [`entry_type::GICR`].
    pub r#type: u8,
    /// Length: [`Gicr::LENGTH`].
    pub length: u8,
    /// Flags (ACPI 6.5: bit 0 GICR non-coherent); reserved before, 0.
    pub flags: u8,
    /// Reserved.
    pub _reserved0: u8,
    /// Discovery Range Base Address.
    pub discovery_range_base_address: U64,
    /// Discovery Range Length.
    pub discovery_range_length: U32,
}

const _: () = assert!(size_of::<Gicr>() == Gicr::LENGTH as usize);

impl Gicr {
    /// Structure type.
    pub const TYPE: u8 = entry_type::GICR;
    /// Structure length.
    pub const LENGTH: u8 = 16;

    /// A redistributor discovery range.
    #[must_use]
    pub fn new(base: u64, length: u32) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            flags: 0,
            _reserved0: 0,
            discovery_range_base_address: U64::new(base),
            discovery_range_length: U32::new(length),
        }
    }
}

/// ACPI 6.5 §5.2.12.18 GIC Interrupt Translation Service (ITS) Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct GicIts {
    /// Type: [`entry_type::GIC_ITS`].
    pub r#type: u8,
    /// Length: [`GicIts::LENGTH`].
    pub length: u8,
    /// Reserved.
    pub _reserved0: U16,
    /// GIC ITS ID.
    pub gic_its_id: U32,
    /// Physical Base Address.
    pub physical_base_address: U64,
    /// Reserved.
    pub _reserved1: U32,
}

const _: () = assert!(size_of::<GicIts>() == GicIts::LENGTH as usize);

impl GicIts {
    /// Structure type.
    pub const TYPE: u8 = entry_type::GIC_ITS;
    /// Structure length.
    pub const LENGTH: u8 = 20;

    /// An ITS at `base`.
    #[must_use]
    pub fn new(its_id: u32, base: u64) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            _reserved0: U16::ZERO,
            gic_its_id: U32::new(its_id),
            physical_base_address: U64::new(base),
            _reserved1: U32::ZERO,
        }
    }
}

/// ACPI 6.5 §5.2.12.2 Processor Local APIC Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct LocalApic {
    /// Type: [`entry_type::LOCAL_APIC`].
    pub r#type: u8,
    /// Length: [`LocalApic::LENGTH`].
    pub length: u8,
    /// ACPI Processor UID.
    pub acpi_processor_uid: u8,
    /// APIC ID.
    pub apic_id: u8,
    /// Flags: [`LocalApicFlags`].
    pub flags: U32,
}

const _: () = assert!(size_of::<LocalApic>() == LocalApic::LENGTH as usize);

impl LocalApic {
    /// Structure type.
    pub const TYPE: u8 = entry_type::LOCAL_APIC;
    /// Structure length.
    pub const LENGTH: u8 = 8;

    /// A local APIC.
    #[must_use]
    pub fn new(uid: u8, apic_id: u8, flags: LocalApicFlags) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            acpi_processor_uid: uid,
            apic_id,
            flags: U32::new(flags.bits()),
        }
    }
}

/// ACPI 6.5 §5.2.12.12 Processor Local x2APIC Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct LocalX2Apic {
    /// Type: [`entry_type::LOCAL_X2APIC`].
    pub r#type: u8,
    /// Length: [`LocalX2Apic::LENGTH`].
    pub length: u8,
    /// Reserved.
    pub _reserved0: U16,
    /// X2APIC ID.
    pub x2apic_id: U32,
    /// Flags: [`LocalApicFlags`].
    pub flags: U32,
    /// ACPI Processor UID.
    pub acpi_processor_uid: U32,
}

const _: () = assert!(size_of::<LocalX2Apic>() == LocalX2Apic::LENGTH as usize);

impl LocalX2Apic {
    /// Structure type.
    pub const TYPE: u8 = entry_type::LOCAL_X2APIC;
    /// Structure length.
    pub const LENGTH: u8 = 16;

    /// A local x2APIC.
    #[must_use]
    pub fn new(uid: u32, x2apic_id: u32, flags: LocalApicFlags) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            _reserved0: U16::ZERO,
            x2apic_id: U32::new(x2apic_id),
            flags: U32::new(flags.bits()),
            acpi_processor_uid: U32::new(uid),
        }
    }
}

/// ACPI 6.5 §5.2.12.3 I/O APIC Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct IoApic {
    /// Type: [`entry_type::IO_APIC`].
    pub r#type: u8,
    /// Length: [`IoApic::LENGTH`].
    pub length: u8,
    /// I/O APIC ID.
    pub io_apic_id: u8,
    /// Reserved.
    pub _reserved0: u8,
    /// I/O APIC Address.
    pub io_apic_address: U32,
    /// Global System Interrupt Base.
    pub global_system_interrupt_base: U32,
}

const _: () = assert!(size_of::<IoApic>() == IoApic::LENGTH as usize);

impl IoApic {
    /// Structure type.
    pub const TYPE: u8 = entry_type::IO_APIC;
    /// Structure length.
    pub const LENGTH: u8 = 12;

    /// An I/O APIC.
    #[must_use]
    pub fn new(id: u8, address: u32, gsi_base: u32) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            io_apic_id: id,
            _reserved0: 0,
            io_apic_address: U32::new(address),
            global_system_interrupt_base: U32::new(gsi_base),
        }
    }
}

/// Bus field of the Interrupt Source Override structure: 0 = ISA.
pub const BUS_ISA: u8 = 0;

/// ACPI 6.5 §5.2.12.5 Interrupt Source Override Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct InterruptSourceOverride {
    /// Type: [`entry_type::INTERRUPT_SOURCE_OVERRIDE`].
    pub r#type: u8,
    /// Length: [`InterruptSourceOverride::LENGTH`].
    pub length: u8,
    /// Bus: 0, ISA.
    pub bus: u8,
    /// Source: bus-relative interrupt source (IRQ).
    pub source: u8,
    /// Global System Interrupt the source signals.
    pub global_system_interrupt: U32,
    /// Flags: [`MpsIntiFlags`].
    pub flags: U16,
}

const _: () =
    assert!(size_of::<InterruptSourceOverride>() == InterruptSourceOverride::LENGTH as usize);

impl InterruptSourceOverride {
    /// Structure type.
    pub const TYPE: u8 = entry_type::INTERRUPT_SOURCE_OVERRIDE;
    /// Structure length.
    pub const LENGTH: u8 = 10;

    /// ISA IRQ `source` signals `gsi`.
    #[must_use]
    pub fn isa(source: u8, gsi: u32, flags: MpsIntiFlags) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            bus: BUS_ISA,
            source,
            global_system_interrupt: U32::new(gsi),
            flags: U16::new(flags.bits()),
        }
    }
}

/// Local APIC LINT# input wired to NMI on PC-compatible systems.
pub const LINT1: u8 = 1;

/// ACPI Processor UID meaning "all processors" in a Local APIC NMI structure.
pub const ALL_PROCESSORS_U8: u8 = 0xFF;

/// ACPI Processor UID meaning "all processors" in a Local x2APIC NMI structure.
pub const ALL_PROCESSORS_U32: u32 = 0xFFFF_FFFF;

/// ACPI 6.5 §5.2.12.7 Local APIC NMI Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct LocalApicNmi {
    /// Type: [`entry_type::LOCAL_APIC_NMI`].
    pub r#type: u8,
    /// Length: [`LocalApicNmi::LENGTH`].
    pub length: u8,
    /// ACPI Processor UID (0xFF: all processors).
    pub acpi_processor_uid: u8,
    /// Flags: [`MpsIntiFlags`].
    pub flags: U16,
    /// Local APIC LINT#.
    pub local_apic_lint: u8,
}

const _: () = assert!(size_of::<LocalApicNmi>() == LocalApicNmi::LENGTH as usize);

impl LocalApicNmi {
    /// Structure type.
    pub const TYPE: u8 = entry_type::LOCAL_APIC_NMI;
    /// Structure length.
    pub const LENGTH: u8 = 6;

    /// NMI on `lint` of processor `uid`.
    #[must_use]
    pub fn new(uid: u8, flags: MpsIntiFlags, lint: u8) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            acpi_processor_uid: uid,
            flags: U16::new(flags.bits()),
            local_apic_lint: lint,
        }
    }
}

/// ACPI 6.5 §5.2.12.13 Local x2APIC NMI Structure.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct LocalX2ApicNmi {
    /// Type: [`entry_type::LOCAL_X2APIC_NMI`].
    pub r#type: u8,
    /// Length: [`LocalX2ApicNmi::LENGTH`].
    pub length: u8,
    /// Flags: [`MpsIntiFlags`].
    pub flags: U16,
    /// ACPI Processor UID (0xFFFFFFFF: all processors).
    pub acpi_processor_uid: U32,
    /// Local x2APIC LINT#.
    pub local_x2apic_lint: u8,
    /// Reserved.
    pub _reserved0: [u8; 3],
}

const _: () = assert!(size_of::<LocalX2ApicNmi>() == LocalX2ApicNmi::LENGTH as usize);

impl LocalX2ApicNmi {
    /// Structure type.
    pub const TYPE: u8 = entry_type::LOCAL_X2APIC_NMI;
    /// Structure length.
    pub const LENGTH: u8 = 12;

    /// NMI on `lint` of processor `uid`.
    #[must_use]
    pub fn new(uid: u32, flags: MpsIntiFlags, lint: u8) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            flags: U16::new(flags.bits()),
            acpi_processor_uid: U32::new(uid),
            local_x2apic_lint: lint,
            _reserved0: [0; 3],
        }
    }
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;

    fn acpi_tables_bytes(aml: &dyn acpi_tables::Aml) -> Vec<u8> {
        let mut bytes = Vec::new();
        aml.to_aml_bytes(&mut bytes);
        bytes
    }

    #[test]
    fn test_madt_fields_bytes() {
        let fields = MadtFields {
            local_interrupt_controller_address: U32::new(0xFEE0_0000),
            flags: U32::new(MadtFlags::PCAT_COMPAT.bits()),
        };
        let expected: [u8; 8] = [
            0x00, 0x00, 0xE0, 0xFE, // [36] Local Interrupt Controller Address 0xFEE00000
            0x01, 0x00, 0x00, 0x00, // [40] Flags: PCAT_COMPAT
        ];
        assert_eq!(fields.as_bytes(), expected);
    }

    #[test]
    fn test_gicc_online_capable_bytes() {
        // UID 5, hotpluggable (Online Capable, not Enabled), PMU GSIV 23,
        // MPIDR Aff3=1 Aff2=2 Aff1=3 Aff0=4.
        let gicc = Gicc::new(5, GiccFlags::ONLINE_CAPABLE, 0x01_0002_0304, 23);
        let expected: [u8; 80] = [
            0x0B, // [0] Type: GICC
            0x50, // [1] Length 80
            0x00, 0x00, // [2] Reserved
            0x00, 0x00, 0x00, 0x00, // [4] CPU Interface Number 0
            0x05, 0x00, 0x00, 0x00, // [8] ACPI Processor UID 5
            0x08, 0x00, 0x00, 0x00, // [12] Flags: Online Capable (bit 3), not Enabled
            0x00, 0x00, 0x00, 0x00, // [16] Parking Protocol Version 0
            0x17, 0x00, 0x00, 0x00, // [20] Performance Interrupt GSIV 23
            0, 0, 0, 0, 0, 0, 0, 0, // [24] Parked Address
            0, 0, 0, 0, 0, 0, 0, 0, // [32] Physical Base Address
            0, 0, 0, 0, 0, 0, 0, 0, // [40] GICV
            0, 0, 0, 0, 0, 0, 0, 0, // [48] GICH
            0x00, 0x00, 0x00, 0x00, // [56] VGIC Maintenance Interrupt 0
            0, 0, 0, 0, 0, 0, 0, 0, // [60] GICR Base Address 0
            0x04, 0x03, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, // [68] MPIDR 0x0100020304
            0x00, // [76] Processor Power Efficiency Class
            0x00, // [77] Reserved
            0x00, 0x00, // [78] SPE overflow Interrupt 0
        ];
        assert_eq!(gicc.as_bytes(), expected);
    }

    #[test]
    fn test_gicc_matches_the_first_80_bytes_of_acpi_tables() {
        use acpi_tables::madt::{EnabledStatus, Gicc as TheirGicc};
        let theirs = TheirGicc::new(EnabledStatus::Enabled)
            .acpi_processor_uid(7)
            .mpidr(0x0102);
        let mut bytes = acpi_tables_bytes(&theirs);
        // acpi_tables writes the 82-byte ACPI 6.5 layout; ours stops before TRBE.
        bytes[1] = Gicc::LENGTH;
        bytes.truncate(usize::from(Gicc::LENGTH));
        assert_eq!(
            Gicc::new(7, GiccFlags::ENABLED, 0x0102, 0).as_bytes(),
            bytes.as_slice()
        );
    }

    #[test]
    fn test_gicd_bytes() {
        let gicd = Gicd::new(0, 0x0800_0000, GIC_VERSION_3);
        let expected: [u8; 24] = [
            0x0C, // [0] Type: GICD
            0x18, // [1] Length 24
            0x00, 0x00, // [2] Reserved
            0x00, 0x00, 0x00, 0x00, // [4] GIC ID 0
            0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
            0x00, // [8] Physical Base Address 0x08000000
            0x00, 0x00, 0x00, 0x00, // [16] System Vector Base 0
            0x03, // [20] GIC version 3
            0x00, 0x00, 0x00, // [21] Reserved
        ];
        assert_eq!(gicd.as_bytes(), expected);
        let theirs =
            acpi_tables::madt::Gicd::new(0, 0x0800_0000, acpi_tables::madt::GicVersion::GICv3);
        assert_eq!(gicd.as_bytes(), acpi_tables_bytes(&theirs).as_slice());
    }

    #[test]
    fn test_gicr_bytes() {
        let gicr = Gicr::new(0x080A_0000, 0x00F6_0000);
        let expected: [u8; 16] = [
            0x0E, // [0] Type: GICR
            0x10, // [1] Length 16
            0x00, // [2] Flags
            0x00, // [3] Reserved
            0x00, 0x00, 0x0A, 0x08, 0x00, 0x00, 0x00,
            0x00, // [4] Discovery Range Base 0x080A0000
            0x00, 0x00, 0xF6, 0x00, // [12] Discovery Range Length 0xF60000
        ];
        assert_eq!(gicr.as_bytes(), expected);
        let theirs = acpi_tables::madt::Gicr::new(0x080A_0000, 0x00F6_0000);
        assert_eq!(gicr.as_bytes(), acpi_tables_bytes(&theirs).as_slice());
    }

    #[test]
    fn test_gic_its_bytes() {
        let its = GicIts::new(0, 0x0808_0000);
        let expected: [u8; 20] = [
            0x0F, // [0] Type: GIC ITS
            0x14, // [1] Length 20
            0x00, 0x00, // [2] Reserved
            0x00, 0x00, 0x00, 0x00, // [4] GIC ITS ID 0
            0x00, 0x00, 0x08, 0x08, 0x00, 0x00, 0x00,
            0x00, // [8] Physical Base Address 0x08080000
            0x00, 0x00, 0x00, 0x00, // [16] Reserved
        ];
        assert_eq!(its.as_bytes(), expected);
        let theirs = acpi_tables::madt::GicIts::new(0, 0x0808_0000);
        assert_eq!(its.as_bytes(), acpi_tables_bytes(&theirs).as_slice());
    }

    #[test]
    fn test_local_apic_bytes() {
        let lapic = LocalApic::new(3, 0x12, LocalApicFlags::ONLINE_CAPABLE);
        let expected: [u8; 8] = [
            0x00, // [0] Type: Processor Local APIC
            0x08, // [1] Length 8
            0x03, // [2] ACPI Processor UID 3
            0x12, // [3] APIC ID 0x12
            0x02, 0x00, 0x00, 0x00, // [4] Flags: Online Capable, not Enabled
        ];
        assert_eq!(lapic.as_bytes(), expected);
        let theirs = acpi_tables::madt::ProcessorLocalApic::new(
            3,
            0x12,
            acpi_tables::madt::EnabledStatus::DisabledOnlineCapable,
        );
        assert_eq!(lapic.as_bytes(), acpi_tables_bytes(&theirs).as_slice());
    }

    #[test]
    fn test_local_x2apic_bytes() {
        let x2apic = LocalX2Apic::new(0x101, 0x0203_0405, LocalApicFlags::ENABLED);
        let expected: [u8; 16] = [
            0x09, // [0] Type: Processor Local x2APIC
            0x10, // [1] Length 16
            0x00, 0x00, // [2] Reserved
            0x05, 0x04, 0x03, 0x02, // [4] X2APIC ID 0x02030405
            0x01, 0x00, 0x00, 0x00, // [8] Flags: Enabled
            0x01, 0x01, 0x00, 0x00, // [12] ACPI Processor UID 0x101
        ];
        assert_eq!(x2apic.as_bytes(), expected);
    }

    #[test]
    fn test_io_apic_bytes() {
        let ioapic = IoApic::new(0, 0xFEC0_0000, 0);
        let expected: [u8; 12] = [
            0x01, // [0] Type: I/O APIC
            0x0C, // [1] Length 12
            0x00, // [2] I/O APIC ID 0
            0x00, // [3] Reserved
            0x00, 0x00, 0xC0, 0xFE, // [4] I/O APIC Address 0xFEC00000
            0x00, 0x00, 0x00, 0x00, // [8] Global System Interrupt Base 0
        ];
        assert_eq!(ioapic.as_bytes(), expected);
        let theirs = acpi_tables::madt::IoApic::new(0, 0xFEC0_0000, 0);
        assert_eq!(ioapic.as_bytes(), acpi_tables_bytes(&theirs).as_slice());
    }

    #[test]
    fn test_interrupt_source_override_bytes() {
        let iso =
            InterruptSourceOverride::isa(9, 9, MpsIntiFlags::ACTIVE_HIGH | MpsIntiFlags::LEVEL);
        let expected: [u8; 10] = [
            0x02, // [0] Type: Interrupt Source Override
            0x0A, // [1] Length 10
            0x00, // [2] Bus: ISA
            0x09, // [3] Source: IRQ 9
            0x09, 0x00, 0x00, 0x00, // [4] Global System Interrupt 9
            0x0D, 0x00, // [8] Flags: active high (01), level (11 << 2)
        ];
        assert_eq!(iso.as_bytes(), expected);
        assert_eq!(
            MpsIntiFlags::ACTIVE_LOW.bits() | MpsIntiFlags::EDGE.bits(),
            0b0111
        );
    }

    #[test]
    fn test_local_apic_nmi_bytes() {
        let nmi = LocalApicNmi::new(ALL_PROCESSORS_U8, MpsIntiFlags::CONFORMS, LINT1);
        let expected: [u8; 6] = [
            0x04, // [0] Type: Local APIC NMI
            0x06, // [1] Length 6
            0xFF, // [2] ACPI Processor UID: all processors
            0x00, 0x00, // [3] Flags: conforms to the bus
            0x01, // [5] Local APIC LINT# 1
        ];
        assert_eq!(nmi.as_bytes(), expected);
    }

    #[test]
    fn test_local_x2apic_nmi_bytes() {
        let nmi = LocalX2ApicNmi::new(ALL_PROCESSORS_U32, MpsIntiFlags::CONFORMS, LINT1);
        let expected: [u8; 12] = [
            0x0A, // [0] Type: Local x2APIC NMI
            0x0C, // [1] Length 12
            0x00, 0x00, // [2] Flags: conforms to the bus
            0xFF, 0xFF, 0xFF, 0xFF, // [4] ACPI Processor UID: all processors
            0x01, // [8] Local x2APIC LINT# 1
            0x00, 0x00, 0x00, // [9] Reserved
        ];
        assert_eq!(nmi.as_bytes(), expected);
    }
}
