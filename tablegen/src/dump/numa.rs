//! ACPI 6.5 §5.2.16 System Resource Affinity Table (SRAT) and §5.2.17
//! System Locality Information Table (SLIT) decoders.

use super::cursor::{flag, walk, Bits, Cursor, StructHeader};
use super::madt::ProcessorKind;
use super::{DecodeError, Table};

/// The SRAT, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srat {
    /// The affinity structures, in table order.
    pub entries: Vec<SratEntry>,
}

impl Srat {
    /// The processor affinity structures.
    pub fn processors(&self) -> impl Iterator<Item = &SratProcessor> {
        self.entries.iter().filter_map(|e| match e {
            SratEntry::Processor(p) => Some(p),
            _ => None,
        })
    }

    /// The memory affinity structures.
    pub fn memory(&self) -> impl Iterator<Item = &SratMemory> {
        self.entries.iter().filter_map(|e| match e {
            SratEntry::Memory(m) => Some(m),
            _ => None,
        })
    }

    /// Every proximity domain any structure names.
    pub fn domains(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.iter().filter_map(|e| match e {
            SratEntry::Processor(p) => Some(p.domain),
            SratEntry::Memory(m) => Some(m.domain),
            SratEntry::Other { domain, .. } => *domain,
        })
    }
}

/// One SRAT affinity structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SratEntry {
    /// Processor Local APIC/SAPIC (0), x2APIC (2) or GICC (3) Affinity.
    Processor(SratProcessor),
    /// Memory Affinity (1).
    Memory(SratMemory),
    /// Any other structure (GIC ITS, Generic Initiator/Port, RINTC, ...).
    Other {
        /// Table offset.
        offset: usize,
        /// Type.
        kind: u8,
        /// Length.
        length: u8,
        /// Its proximity domain, for the types that have one.
        domain: Option<u32>,
    },
}

/// A processor affinity structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SratProcessor {
    /// Which MADT structure it refers to: Local APIC (type 0, by APIC ID),
    /// Local x2APIC (type 2, by x2APIC ID) or GICC (type 3, by ACPI
    /// Processor UID).
    pub kind: ProcessorKind,
    /// Table offset.
    pub offset: usize,
    /// Proximity Domain.
    pub domain: u32,
    /// APIC ID, x2APIC ID or ACPI Processor UID.
    pub id: u32,
    /// Flags: Enabled.
    pub enabled: bool,
}

/// A Memory Affinity structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SratMemory {
    /// Table offset.
    pub offset: usize,
    /// Proximity Domain.
    pub domain: u32,
    /// Base Address.
    pub base: u64,
    /// Length.
    pub length: u64,
    /// Flags: Enabled.
    pub enabled: bool,
    /// Flags: Hot Pluggable.
    pub hot_pluggable: bool,
    /// Flags: NonVolatile.
    pub non_volatile: bool,
}

impl SratMemory {
    /// End of the range (exclusive), saturating.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.length)
    }
}

/// ACPI 6.5 §5.2.16 Static Resource Allocation Structure types.
fn type_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        0 => "Processor Local APIC/SAPIC Affinity",
        1 => "Memory Affinity",
        2 => "Processor Local x2APIC Affinity",
        3 => "GICC Affinity",
        4 => "GIC ITS Affinity",
        5 => "Generic Initiator Affinity",
        6 => "Generic Port Affinity",
        7 => "RINTC Affinity",
        _ => return None,
    })
}

/// Processor affinity Flags (types 0, 2, 3, 7).
const PROCESSOR_FLAGS: &[Bits] = &[flag(0, "Enabled")];
/// ACPI 6.5 §5.2.16.2 Memory Affinity Flags.
const MEMORY_FLAGS: &[Bits] = &[
    flag(0, "Enabled"),
    flag(1, "Hot Pluggable"),
    flag(2, "NonVolatile"),
];
/// ACPI 6.5 §5.2.16.6 Generic Initiator Affinity Flags.
const INITIATOR_FLAGS: &[Bits] = &[flag(0, "Enabled"), flag(1, "Architectural Transactions")];

/// Decodes the SRAT after its header.
pub(crate) fn srat(c: &mut Cursor<'_>) -> Result<Table, DecodeError> {
    c.u32("Reserved (must be 1)")?;
    c.raw("Reserved", 8)?;
    let mut entries = Vec::new();
    walk(c, StructHeader::TypeU8LengthU8, |s, kind, length| {
        let offset = s.pos();
        s.u8_named("Type", type_name)?;
        s.u8("Length")?;
        s.annotate(&format!("{length} bytes"));
        entries.push(entry(s, kind, offset, length)?);
        Ok(())
    })?;
    Ok(Table::Srat(Srat { entries }))
}

fn enabled(c: &mut Cursor<'_>, bits: &[Bits]) -> Result<u64, DecodeError> {
    c.flags("Flags", 4, bits)
}

fn entry(
    c: &mut Cursor<'_>,
    kind: u8,
    offset: usize,
    length: usize,
) -> Result<SratEntry, DecodeError> {
    let length = u8::try_from(length).unwrap_or(u8::MAX);
    let processor = |kind, domain, id, flags: u64| {
        SratEntry::Processor(SratProcessor {
            kind,
            offset,
            domain,
            id,
            enabled: flags & 1 != 0,
        })
    };
    let other = |domain| SratEntry::Other {
        offset,
        kind,
        length,
        domain,
    };
    Ok(match kind {
        0 => {
            let low = c.u8("Proximity Domain [7:0]")?;
            let apic_id = c.u8("APIC ID")?;
            let flags = enabled(c, PROCESSOR_FLAGS)?;
            c.u8("Local SAPIC EID")?;
            let high = c.uint("Proximity Domain [31:8]", 3)?;
            let domain = u32::try_from(high << 8 | u64::from(low)).unwrap_or(u32::MAX);
            c.annotate(&format!("Proximity Domain {domain:#x}"));
            c.u32("Clock Domain")?;
            processor(ProcessorKind::LocalApic, domain, u32::from(apic_id), flags)
        }
        1 => {
            let domain = c.u32("Proximity Domain")?;
            c.raw("Reserved", 2)?;
            let base_low = c.u32("Base Address Low")?;
            let base_high = c.u32("Base Address High")?;
            let base = u64::from(base_high) << 32 | u64::from(base_low);
            c.annotate(&format!("Base Address {base:#x}"));
            let len_low = c.u32("Length Low")?;
            let len_high = c.u32("Length High")?;
            let len = u64::from(len_high) << 32 | u64::from(len_low);
            c.annotate(&format!(
                "Length {len:#x}, end {:#x}",
                base.saturating_add(len)
            ));
            c.raw("Reserved", 4)?;
            let flags = enabled(c, MEMORY_FLAGS)?;
            c.raw("Reserved", 8)?;
            SratEntry::Memory(SratMemory {
                offset,
                domain,
                base,
                length: len,
                enabled: flags & 1 != 0,
                hot_pluggable: flags & 2 != 0,
                non_volatile: flags & 4 != 0,
            })
        }
        2 => {
            c.raw("Reserved", 2)?;
            let domain = c.u32("Proximity Domain")?;
            let id = c.u32("X2APIC ID")?;
            let flags = enabled(c, PROCESSOR_FLAGS)?;
            c.u32("Clock Domain")?;
            c.raw("Reserved", 4)?;
            processor(ProcessorKind::LocalX2Apic, domain, id, flags)
        }
        3 => {
            let domain = c.u32("Proximity Domain")?;
            let uid = c.u32("ACPI Processor UID")?;
            let flags = enabled(c, PROCESSOR_FLAGS)?;
            c.u32("Clock Domain")?;
            processor(ProcessorKind::Gicc, domain, uid, flags)
        }
        4 => {
            let domain = c.u32("Proximity Domain")?;
            c.raw("Reserved", 2)?;
            c.u32("ITS ID")?;
            other(Some(domain))
        }
        5 | 6 => {
            c.raw("Reserved", 1)?;
            c.u8_named("Device Handle Type", |t| match t {
                0 => Some("ACPI Device Handle"),
                1 => Some("PCI Device Handle"),
                _ => None,
            })?;
            let domain = c.u32("Proximity Domain")?;
            c.raw("Device Handle", 16)?;
            enabled(c, INITIATOR_FLAGS)?;
            c.raw("Reserved", 4)?;
            other(Some(domain))
        }
        7 => {
            c.raw("Reserved", 2)?;
            let domain = c.u32("Proximity Domain")?;
            c.u32("ACPI Processor UID")?;
            enabled(c, PROCESSOR_FLAGS)?;
            c.u32("Clock Domain")?;
            other(Some(domain))
        }
        _ => {
            c.rest("Data (not decoded)")?;
            other(None)
        }
    })
}

/// The SLIT, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slit {
    /// Number of System Localities.
    pub localities: u64,
    /// The matrix, row by row (`rows[i][j]`: distance from i to j).
    pub rows: Vec<Vec<u8>>,
}

/// Decodes the SLIT after its header: N, then N rows of N bytes.
pub(crate) fn slit(c: &mut Cursor<'_>) -> Result<Table, DecodeError> {
    let n = c.u64("Number of System Localities")?;
    let size = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(n))
        .unwrap_or(usize::MAX);
    if !c.fits(size) {
        // Report the whole matrix, not its first row.
        c.raw(&format!("Entry matrix ({n} x {n} bytes)"), size)?;
    }
    let n = usize::try_from(n).unwrap_or(0);
    let mut rows = Vec::with_capacity(n);
    c.blank();
    for i in 0..n {
        rows.push(c.raw(&format!("Entry [{i}][0..{n}]"), n)?.to_vec());
    }
    c.rest("Unknown trailing bytes")?;
    Ok(Table::Slit(Slit {
        localities: u64::try_from(n).unwrap_or(0),
        rows,
    }))
}
