//! ACPI 6.5 §5.2.12 Multiple APIC Description Table (MADT) decoder.

use super::cursor::{field, flag, walk, Bits, Cursor, StructHeader};
use super::{DecodeError, Table};

/// The MADT, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Madt {
    /// Local Interrupt Controller Address.
    pub local_interrupt_controller_address: u32,
    /// Flags (bit 0 PCAT_COMPAT).
    pub flags: u32,
    /// The interrupt controller structures, in table order.
    pub entries: Vec<MadtEntry>,
}

impl Madt {
    /// The processor structures (Local APIC, x2APIC, GICC).
    pub fn processors(&self) -> impl Iterator<Item = &MadtProcessor> {
        self.entries.iter().filter_map(|e| match e {
            MadtEntry::Processor(p) => Some(p),
            _ => None,
        })
    }
}

/// One MADT interrupt controller structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MadtEntry {
    /// A processor: Local APIC (0), Local x2APIC (9) or GICC (0xB).
    Processor(MadtProcessor),
    /// GIC Distributor (0xC).
    Gicd {
        /// Table offset.
        offset: usize,
        /// GIC version (0: discover from hardware).
        gic_version: u8,
    },
    /// GIC Redistributor (0xE).
    Gicr {
        /// Table offset.
        offset: usize,
        /// Discovery Range Base Address.
        base: u64,
        /// Discovery Range Length.
        length: u32,
    },
    /// Any other structure.
    Other {
        /// Table offset.
        offset: usize,
        /// Type.
        kind: u8,
        /// Length.
        length: u8,
    },
}

/// Which processor structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessorKind {
    /// Processor Local APIC (type 0).
    LocalApic,
    /// Processor Local x2APIC (type 9).
    LocalX2Apic,
    /// GIC CPU Interface (type 0xB).
    Gicc,
}

impl ProcessorKind {
    /// The structure's short name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ProcessorKind::LocalApic => "Local APIC",
            ProcessorKind::LocalX2Apic => "Local x2APIC",
            ProcessorKind::Gicc => "GICC",
        }
    }
}

/// A processor structure of the MADT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadtProcessor {
    /// Which structure.
    pub kind: ProcessorKind,
    /// Table offset.
    pub offset: usize,
    /// Length field.
    pub length: u8,
    /// ACPI Processor UID.
    pub uid: u32,
    /// APIC ID, x2APIC ID, or (GICC) MPIDR.
    pub hw_id: u64,
    /// Raw Flags.
    pub flags: u32,
    /// Flags: Enabled (bit 0).
    pub enabled: bool,
    /// Flags: Online Capable (x86 bit 1, GICC bit 3).
    pub online_capable: bool,
    /// GICC GICR Base Address (0 for x86).
    pub gicr_base: u64,
}

impl MadtProcessor {
    /// True for a possible CPU: Enabled, or hot-pluggable (Online Capable).
    #[must_use]
    pub fn is_possible(&self) -> bool {
        self.enabled || self.online_capable
    }
}

/// ACPI 6.5 §5.2.12 Interrupt Controller Structure Types.
pub(crate) fn type_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        0x00 => "Processor Local APIC",
        0x01 => "I/O APIC",
        0x02 => "Interrupt Source Override",
        0x03 => "Non-Maskable Interrupt (NMI) Source",
        0x04 => "Local APIC NMI",
        0x05 => "Local APIC Address Override",
        0x06 => "I/O SAPIC",
        0x07 => "Local SAPIC",
        0x08 => "Platform Interrupt Sources",
        0x09 => "Processor Local x2APIC",
        0x0A => "Local x2APIC NMI",
        0x0B => "GIC CPU Interface (GICC)",
        0x0C => "GIC Distributor (GICD)",
        0x0D => "GIC MSI Frame",
        0x0E => "GIC Redistributor (GICR)",
        0x0F => "GIC Interrupt Translation Service (ITS)",
        0x10 => "Multiprocessor Wakeup",
        0x11 => "Core Programmable Interrupt Controller (CORE PIC)",
        0x12 => "Legacy I/O Programmable Interrupt Controller (LIO PIC)",
        0x13 => "HyperTransport Programmable Interrupt Controller (HT PIC)",
        0x14 => "Extend I/O Programmable Interrupt Controller (EIO PIC)",
        0x15 => "MSI Programmable Interrupt Controller (MSI PIC)",
        0x16 => "Bridge I/O Programmable Interrupt Controller (BIO PIC)",
        0x17 => "Low Pin Count Programmable Interrupt Controller (LPC PIC)",
        0x80..=0xFF => "reserved for OEM use",
        _ => return None,
    })
}

/// ACPI 6.5 §5.2.12 Multiple APIC Flags.
const MADT_FLAGS: &[Bits] = &[flag(0, "PCAT_COMPAT")];

/// ACPI 6.5 §5.2.12.2 Local APIC Flags (Local APIC and x2APIC).
const LOCAL_APIC_FLAGS: &[Bits] = &[flag(0, "Enabled"), flag(1, "Online Capable")];
/// Local APIC Flags bit 1.
const LOCAL_APIC_ONLINE_CAPABLE: u32 = 1 << 1;

/// ACPI 6.5 §5.2.12.14 GICC CPU Interface Flags.
const GICC_FLAGS: &[Bits] = &[
    flag(0, "Enabled"),
    field(
        1,
        1,
        "Performance Interrupt Mode",
        &["level-triggered", "edge-triggered"],
    ),
    field(
        2,
        1,
        "VGIC Maintenance Interrupt Mode",
        &["level-triggered", "edge-triggered"],
    ),
    flag(3, "Online Capable"),
    flag(4, "GICR non-coherent"),
];
/// GICC Flags bit 3.
const GICC_ONLINE_CAPABLE: u32 = 1 << 3;
/// Enabled (bit 0) of both flag sets.
const ENABLED: u32 = 1 << 0;

/// ACPI 6.5 §5.2.12.5 MPS INTI Flags.
const MPS_INTI_FLAGS: &[Bits] = &[
    field(
        0,
        2,
        "Polarity",
        &[
            "conforms to the bus",
            "active high",
            "reserved",
            "active low",
        ],
    ),
    field(
        2,
        2,
        "Trigger Mode",
        &[
            "conforms to the bus",
            "edge-triggered",
            "reserved",
            "level-triggered",
        ],
    ),
];

/// ACPI 6.5 §5.2.12.17 GICR Flags.
const GICR_FLAGS: &[Bits] = &[flag(0, "GICR non-coherent")];
/// ACPI 6.5 §5.2.12.16 GIC MSI Frame Flags.
const MSI_FRAME_FLAGS: &[Bits] = &[flag(0, "SPI Count/Base Select")];

/// GICD GIC version names.
fn gic_version(v: u8) -> Option<&'static str> {
    Some(match v {
        0 => "no version given: discover from hardware",
        1 => "GICv1",
        2 => "GICv2",
        3 => "GICv3",
        4 => "GICv4",
        _ => return None,
    })
}

/// The least GICC Length: the ACPI 5.1 layout, up to the MPIDR (Linux's
/// `BAD_MADT_GICC_ENTRY` accepts any Length from here on).
pub const GICC_MIN_LENGTH: usize = 76;

/// Decodes the MADT after its header.
pub(crate) fn madt(c: &mut Cursor<'_>) -> Result<Table, DecodeError> {
    let local_interrupt_controller_address = c.u32("Local Interrupt Controller Address")?;
    let flags = u32::try_from(c.flags("Flags", 4, MADT_FLAGS)?).unwrap_or(0);
    let mut entries = Vec::new();
    walk(c, StructHeader::TypeU8LengthU8, |s, kind, length| {
        let offset = s.pos();
        s.u8_named("Type", type_name)?;
        s.u8("Length")?;
        s.annotate(&format!("{length} bytes"));
        entries.push(entry(s, kind, offset, length)?);
        Ok(())
    })?;
    Ok(Table::Madt(Madt {
        local_interrupt_controller_address,
        flags,
        entries,
    }))
}

fn flags32(c: &mut Cursor<'_>, bits: &[Bits]) -> Result<u32, DecodeError> {
    Ok(u32::try_from(c.flags("Flags", 4, bits)?).unwrap_or(0))
}

fn entry(
    c: &mut Cursor<'_>,
    kind: u8,
    offset: usize,
    length: usize,
) -> Result<MadtEntry, DecodeError> {
    let length_u8 = u8::try_from(length).unwrap_or(u8::MAX);
    let other = MadtEntry::Other {
        offset,
        kind,
        length: length_u8,
    };
    let processor = |kind, uid, hw_id, flags: u32, oc_bit: u32, gicr_base| {
        MadtEntry::Processor(MadtProcessor {
            kind,
            offset,
            length: length_u8,
            uid,
            hw_id,
            flags,
            enabled: flags & ENABLED != 0,
            online_capable: flags & oc_bit != 0,
            gicr_base,
        })
    };
    Ok(match kind {
        0x00 => {
            let uid = c.u8("ACPI Processor UID")?;
            let apic_id = c.u8("APIC ID")?;
            let flags = flags32(c, LOCAL_APIC_FLAGS)?;
            processor(
                ProcessorKind::LocalApic,
                u32::from(uid),
                u64::from(apic_id),
                flags,
                LOCAL_APIC_ONLINE_CAPABLE,
                0,
            )
        }
        0x01 => {
            c.u8("I/O APIC ID")?;
            c.raw("Reserved", 1)?;
            c.u32("I/O APIC Address")?;
            c.u32("Global System Interrupt Base")?;
            other
        }
        0x02 => {
            c.u8_named("Bus", |b| (b == 0).then_some("ISA"))?;
            c.u8("Source")?;
            c.u32("Global System Interrupt")?;
            c.flags("Flags", 2, MPS_INTI_FLAGS)?;
            other
        }
        0x03 => {
            c.flags("Flags", 2, MPS_INTI_FLAGS)?;
            c.u32("Global System Interrupt")?;
            other
        }
        0x04 => {
            c.u8_named("ACPI Processor UID", |u| {
                (u == 0xFF).then_some("all processors")
            })?;
            c.flags("Flags", 2, MPS_INTI_FLAGS)?;
            c.u8("Local APIC LINT#")?;
            other
        }
        0x05 => {
            c.raw("Reserved", 2)?;
            c.u64("Local APIC Address")?;
            other
        }
        0x09 => {
            c.raw("Reserved", 2)?;
            let x2apic_id = c.u32("X2APIC ID")?;
            let flags = flags32(c, LOCAL_APIC_FLAGS)?;
            let uid = c.u32("ACPI Processor UID")?;
            processor(
                ProcessorKind::LocalX2Apic,
                uid,
                u64::from(x2apic_id),
                flags,
                LOCAL_APIC_ONLINE_CAPABLE,
                0,
            )
        }
        0x0A => {
            c.flags("Flags", 2, MPS_INTI_FLAGS)?;
            let uid = c.u32("ACPI Processor UID")?;
            if uid == u32::MAX {
                c.annotate("all processors");
            }
            c.u8("Local x2APIC LINT#")?;
            c.raw("Reserved", 3)?;
            other
        }
        0x0B => gicc(c, offset, length, processor)?,
        0x0C => {
            c.raw("Reserved", 2)?;
            c.u32("GIC ID")?;
            c.u64("Physical Base Address")?;
            c.u32("System Vector Base")?;
            let version = c.u8_named("GIC version", gic_version)?;
            c.raw("Reserved", 3)?;
            MadtEntry::Gicd {
                offset,
                gic_version: version,
            }
        }
        0x0D => {
            c.raw("Reserved", 2)?;
            c.u32("GIC MSI Frame ID")?;
            c.u64("Physical Base Address")?;
            flags32(c, MSI_FRAME_FLAGS)?;
            c.u16("SPI Count")?;
            c.u16("SPI Base")?;
            other
        }
        0x0E => {
            c.flags("Flags", 1, GICR_FLAGS)?;
            c.raw("Reserved", 1)?;
            let base = c.u64("Discovery Range Base Address")?;
            let length = c.u32("Discovery Range Length")?;
            MadtEntry::Gicr {
                offset,
                base,
                length,
            }
        }
        0x0F => {
            c.raw("Reserved", 2)?;
            c.u32("GIC ITS ID")?;
            c.u64("Physical Base Address")?;
            c.raw("Reserved", 4)?;
            other
        }
        _ => {
            c.rest("Data (not decoded)")?;
            other
        }
    })
}

/// ACPI 6.5 §5.2.12.14 GICC: 76 bytes (ACPI 5.1), 80 (6.0-6.4: + Processor
/// Power Efficiency Class, SPE overflow interrupt) or 82 (6.5: + TRBE).
fn gicc(
    c: &mut Cursor<'_>,
    offset: usize,
    length: usize,
    processor: impl Fn(ProcessorKind, u32, u64, u32, u32, u64) -> MadtEntry,
) -> Result<MadtEntry, DecodeError> {
    if length < GICC_MIN_LENGTH {
        return Err(DecodeError::StructureTooShort {
            table: c.table().to_string(),
            name: "GIC CPU Interface (GICC) structure".to_string(),
            offset,
            length,
            minimum: GICC_MIN_LENGTH,
        });
    }
    c.raw("Reserved", 2)?;
    c.u32("CPU Interface Number")?;
    let uid = c.u32("ACPI Processor UID")?;
    let flags = flags32(c, GICC_FLAGS)?;
    c.u32("Parking Protocol Version")?;
    c.u32("Performance Interrupt GSIV")?;
    c.u64("Parked Address")?;
    c.u64("Physical Base Address")?;
    c.u64("GICV")?;
    c.u64("GICH")?;
    c.u32("VGIC Maintenance Interrupt")?;
    let gicr_base = c.u64("GICR Base Address")?;
    let mpidr = c.u64("MPIDR")?;
    if length >= 80 {
        c.u8("Processor Power Efficiency Class")?;
        c.raw("Reserved", 1)?;
        c.u16("SPE overflow Interrupt")?;
    }
    if length >= 82 {
        c.u16("TRBE Interrupt")?;
    }
    Ok(processor(
        ProcessorKind::Gicc,
        uid,
        mpidr,
        flags,
        GICC_ONLINE_CAPABLE,
        gicr_base,
    ))
}
