//! ACPI 6.5 §5.2.30 Processor Properties Topology Table (PPTT) decoder.

use super::cursor::{field, flag, walk, Bits, Cursor, StructHeader};
use super::{DecodeError, Table};

/// The PPTT, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pptt {
    /// The structures, in table order.
    pub entries: Vec<PpttEntry>,
}

impl Pptt {
    /// The processor hierarchy nodes.
    pub fn processors(&self) -> impl Iterator<Item = &PpttProcessor> {
        self.entries.iter().filter_map(|e| match e {
            PpttEntry::Processor(p) => Some(p),
            _ => None,
        })
    }

    /// The structure at table offset `offset`, if one starts there.
    #[must_use]
    pub fn at(&self, offset: u32) -> Option<&PpttEntry> {
        let offset = usize::try_from(offset).ok()?;
        self.entries.iter().find(|e| e.offset() == offset)
    }
}

/// One PPTT structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PpttEntry {
    /// Processor Hierarchy Node (type 0).
    Processor(PpttProcessor),
    /// Cache Type Structure (type 1).
    Cache(PpttCache),
    /// ID Structure (type 2) or an unknown type.
    Other {
        /// Table offset.
        offset: usize,
        /// Type.
        kind: u8,
        /// Length.
        length: u8,
    },
}

impl PpttEntry {
    /// Table offset of the structure.
    #[must_use]
    pub fn offset(&self) -> usize {
        match self {
            PpttEntry::Processor(p) => p.offset,
            PpttEntry::Cache(c) => c.offset,
            PpttEntry::Other { offset, .. } => *offset,
        }
    }
}

/// ACPI 6.5 §5.2.30.1 Processor Hierarchy Node Structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpttProcessor {
    /// Table offset (other structures refer to it by this).
    pub offset: usize,
    /// Flags.
    pub flags: u32,
    /// Parent: offset of the parent node, 0 for none.
    pub parent: u32,
    /// ACPI Processor ID.
    pub acpi_processor_id: u32,
    /// Private resource references (offsets).
    pub private_resources: Vec<u32>,
}

impl PpttProcessor {
    /// Flags bit 0 Physical package.
    pub const PHYSICAL_PACKAGE: u32 = 1 << 0;
    /// Flags bit 1 ACPI Processor ID valid.
    pub const ID_VALID: u32 = 1 << 1;
    /// Flags bit 2 Processor is a Thread (ACPI 6.3, PPTT revision 2).
    pub const THREAD: u32 = 1 << 2;
    /// Flags bit 3 Node is a Leaf (ACPI 6.3, PPTT revision 2).
    pub const LEAF: u32 = 1 << 3;
    /// Flags bit 4 Identical Implementation (ACPI 6.3).
    pub const IDENTICAL: u32 = 1 << 4;

    /// True when every flag of `mask` is set.
    #[must_use]
    pub fn has(&self, mask: u32) -> bool {
        self.flags & mask == mask
    }
}

/// ACPI 6.5 §5.2.30.2 Cache Type Structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpttCache {
    /// Table offset.
    pub offset: usize,
    /// Flags.
    pub flags: u32,
    /// Next Level of Cache (offset, 0 for none).
    pub next_level: u32,
    /// Size.
    pub size: u32,
    /// Number of sets.
    pub number_of_sets: u32,
    /// Associativity.
    pub associativity: u8,
    /// Attributes.
    pub attributes: u8,
    /// Line size.
    pub line_size: u16,
    /// Cache ID (revision 3 layout, 28 bytes).
    pub cache_id: Option<u32>,
}

/// ACPI 6.5 §5.2.30 PPTT structure types.
fn type_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        0 => "Processor Hierarchy Node",
        1 => "Cache Type",
        2 => "ID",
        _ => return None,
    })
}

/// ACPI 6.5 §5.2.30.1 Processor Structure Flags.
const PROCESSOR_FLAGS: &[Bits] = &[
    flag(0, "Physical package"),
    flag(1, "ACPI Processor ID valid"),
    flag(2, "Processor is a Thread"),
    flag(3, "Node is a Leaf"),
    flag(4, "Identical Implementation"),
];

/// ACPI 6.5 §5.2.30.2 Cache Structure Flags.
const CACHE_FLAGS: &[Bits] = &[
    flag(0, "Size valid"),
    flag(1, "Number of sets valid"),
    flag(2, "Associativity valid"),
    flag(3, "Allocation type valid"),
    flag(4, "Cache type valid"),
    flag(5, "Write policy valid"),
    flag(6, "Line size valid"),
    flag(7, "Cache ID valid"),
];

/// ACPI 6.5 §5.2.30.2 Cache Structure Attributes.
const CACHE_ATTRIBUTES: &[Bits] = &[
    field(
        0,
        2,
        "Allocation Type",
        &[
            "Read allocate",
            "Write allocate",
            "Read and Write allocate",
            "Read and Write allocate",
        ],
    ),
    field(
        2,
        2,
        "Cache Type",
        &["Data", "Instruction", "Unified", "Unified"],
    ),
    field(4, 1, "Write Policy", &["Write-back", "Write-through"]),
];

/// Decodes the PPTT after its header.
pub(crate) fn pptt(c: &mut Cursor<'_>, revision: u8) -> Result<Table, DecodeError> {
    let mut entries = Vec::new();
    if revision < 2 {
        c.note(format!(
            "Revision {revision}: the Thread and Leaf flags (ACPI 6.3, revision 2) are not defined"
        ));
    }
    walk(c, StructHeader::TypeU8LengthU8, |s, kind, length| {
        let offset = s.pos();
        s.u8_named("Type", type_name)?;
        s.u8("Length")?;
        s.annotate(&format!("{length} bytes"));
        let length = u8::try_from(length).unwrap_or(u8::MAX);
        entries.push(match kind {
            0 => PpttEntry::Processor(processor(s, offset)?),
            1 => PpttEntry::Cache(cache(s, offset)?),
            2 => {
                s.raw("Reserved", 2)?;
                s.ascii("VENDOR_ID", 4)?;
                s.u64("LEVEL_1_ID")?;
                s.u64("LEVEL_2_ID")?;
                s.u16("MAJOR_REV")?;
                s.u16("MINOR_REV")?;
                s.u16("SPIN_REV")?;
                PpttEntry::Other {
                    offset,
                    kind,
                    length,
                }
            }
            _ => {
                s.rest("Data (not decoded)")?;
                PpttEntry::Other {
                    offset,
                    kind,
                    length,
                }
            }
        });
        Ok(())
    })?;
    Ok(Table::Pptt(Pptt { entries }))
}

fn processor(c: &mut Cursor<'_>, offset: usize) -> Result<PpttProcessor, DecodeError> {
    c.raw("Reserved", 2)?;
    let flags = u32::try_from(c.flags("Flags", 4, PROCESSOR_FLAGS)?).unwrap_or(0);
    let parent = c.u32("Parent")?;
    if parent == 0 {
        c.annotate("none: a root node");
    }
    let acpi_processor_id = c.u32("ACPI Processor ID")?;
    let count = c.u32("Number of Private Resources")?;
    let needed = usize::try_from(count)
        .ok()
        .and_then(|n| n.checked_mul(4))
        .unwrap_or(usize::MAX);
    if !c.fits(needed) {
        c.raw(&format!("Private Resources ({count} x 4 bytes)"), needed)?;
    }
    let mut private_resources = Vec::new();
    for i in 0..count {
        private_resources.push(c.u32(&format!("Private Resource [{i}]"))?);
    }
    Ok(PpttProcessor {
        offset,
        flags,
        parent,
        acpi_processor_id,
        private_resources,
    })
}

fn cache(c: &mut Cursor<'_>, offset: usize) -> Result<PpttCache, DecodeError> {
    c.raw("Reserved", 2)?;
    let flags = u32::try_from(c.flags("Flags", 4, CACHE_FLAGS)?).unwrap_or(0);
    let next_level = c.u32("Next Level of Cache")?;
    if next_level == 0 {
        c.annotate("none");
    }
    let size = c.u32("Size")?;
    let number_of_sets = c.u32("Number of sets")?;
    let associativity = c.u8("Associativity")?;
    let attributes = u8::try_from(c.flags("Attributes", 1, CACHE_ATTRIBUTES)?).unwrap_or(0);
    let line_size = c.u16("Line size")?;
    let cache_id = if c.fits(4) {
        Some(c.u32("Cache ID")?)
    } else {
        None
    };
    Ok(PpttCache {
        offset,
        flags,
        next_level,
        size,
        number_of_sets,
        associativity,
        attributes,
        line_size,
        cache_id,
    })
}
