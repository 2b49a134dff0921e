//! ACPI 6.5 §5.2.30 Processor Properties Topology Table (PPTT), revision 3:
//! the processor hierarchy node and cache type structures.
//!
//! The PPTT has no fixed fields after the header. Structures refer to each
//! other by their byte offset from the start of the table.

use zerocopy::little_endian::{U16, U32};
use zerocopy::{Immutable, IntoBytes};

use super::flags;

/// PPTT revision (ACPI 6.5): revision 3 adds the Cache ID.
pub const PPTT_REVISION: u8 = 3;

/// PPTT structure types (ACPI 6.5 §5.2.30).
pub mod entry_type {
    /// Processor Hierarchy Node Structure.
    pub const PROCESSOR_HIERARCHY_NODE: u8 = 0;
    /// Cache Type Structure.
    pub const CACHE_TYPE: u8 = 1;
}

flags! {
    /// ACPI 6.5 §5.2.30.1 Processor Structure Flags.
    pub struct ProcessorNodeFlags(u32) {
        /// Bit 0 Physical package: the node is the boundary of a physical package.
        const PHYSICAL_PACKAGE = 1 << 0;
        /// Bit 1 ACPI Processor ID valid: the ACPI Processor ID field is meaningful.
        const ACPI_PROCESSOR_ID_VALID = 1 << 1;
        /// Bit 2 Processor is a Thread (ACPI 6.3).
        const PROCESSOR_IS_A_THREAD = 1 << 2;
        /// Bit 3 Node is a Leaf (ACPI 6.3).
        const NODE_IS_A_LEAF = 1 << 3;
        /// Bit 4 Identical Implementation (ACPI 6.3): every child processor
        /// of this node has the same implementation revision (MIDR on Arm);
        /// OSPM ignores it on leaf nodes.
        const IDENTICAL_IMPLEMENTATION = 1 << 4;
    }
}

/// ACPI 6.5 §5.2.30.1 Processor Hierarchy Node Structure (Type 0), without
/// its private resources: `Number of Private Resources` 32-bit offsets
/// follow it, and the Length field ([`ProcessorHierarchyNode::length_for`])
/// counts them.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct ProcessorHierarchyNode {
    /// Type: [`entry_type::PROCESSOR_HIERARCHY_NODE`].
    pub r#type: u8,
    /// Length: 20 + 4 x Number of Private Resources.
    pub length: u8,
    /// Reserved.
    pub _reserved0: U16,
    /// Flags: [`ProcessorNodeFlags`].
    pub flags: U32,
    /// Parent: offset of the parent node, 0 for a root.
    pub parent: U32,
    /// ACPI Processor ID.
    pub acpi_processor_id: U32,
    /// Number of Private Resources.
    pub number_of_private_resources: U32,
}

const _: () =
    assert!(size_of::<ProcessorHierarchyNode>() == ProcessorHierarchyNode::FIXED_LENGTH as usize);

impl ProcessorHierarchyNode {
    /// Structure type.
    pub const TYPE: u8 = entry_type::PROCESSOR_HIERARCHY_NODE;
    /// Length without private resources.
    pub const FIXED_LENGTH: u8 = 20;
    /// Bytes per private resource reference.
    pub const RESOURCE_LENGTH: u8 = 4;
    /// Most private resources whose references still fit the one-byte Length.
    pub const MAX_RESOURCES: u8 = (u8::MAX - Self::FIXED_LENGTH) / Self::RESOURCE_LENGTH;

    /// The structure's Length for `resources` private resources (at most
    /// [`Self::MAX_RESOURCES`]; callers pass no more).
    #[must_use]
    pub const fn length_for(resources: u8) -> u8 {
        let resources = if resources > Self::MAX_RESOURCES {
            Self::MAX_RESOURCES
        } else {
            resources
        };
        Self::FIXED_LENGTH + resources * Self::RESOURCE_LENGTH
    }

    /// A node with `resources` private resources, whose references the
    /// caller appends right after it.
    #[must_use]
    pub fn new(
        flags: ProcessorNodeFlags,
        parent: u32,
        acpi_processor_id: u32,
        resources: u8,
    ) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::length_for(resources),
            _reserved0: U16::ZERO,
            flags: U32::new(flags.bits()),
            parent: U32::new(parent),
            acpi_processor_id: U32::new(acpi_processor_id),
            number_of_private_resources: U32::new(u32::from(resources.min(Self::MAX_RESOURCES))),
        }
    }
}

flags! {
    /// ACPI 6.5 §5.2.30.2 Cache Structure Flags.
    pub struct CacheFlags(u32) {
        /// Bit 0 Size property valid.
        const SIZE_VALID = 1 << 0;
        /// Bit 1 Number of sets valid.
        const NUMBER_OF_SETS_VALID = 1 << 1;
        /// Bit 2 Associativity valid.
        const ASSOCIATIVITY_VALID = 1 << 2;
        /// Bit 3 Allocation type valid.
        const ALLOCATION_TYPE_VALID = 1 << 3;
        /// Bit 4 Cache type valid.
        const CACHE_TYPE_VALID = 1 << 4;
        /// Bit 5 Write policy valid.
        const WRITE_POLICY_VALID = 1 << 5;
        /// Bit 6 Line size valid.
        const LINE_SIZE_VALID = 1 << 6;
        /// Bit 7 Cache ID valid (ACPI 6.4, PPTT revision 3).
        const CACHE_ID_VALID = 1 << 7;
    }
}

/// Cache type, attributes bits 3:2 (ACPI 6.5 §5.2.30.2 Cache Structure
/// Attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    /// 0b00 Data.
    Data,
    /// 0b01 Instruction.
    Instruction,
    /// 0b10 Unified (0b11 also means unified).
    Unified,
}

/// Write policy, attributes bit 4 (ACPI 6.5 §5.2.30.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheWritePolicy {
    /// 0 Write-back.
    WriteBack,
    /// 1 Write-through.
    WriteThrough,
}

/// The Attributes byte for a cache of `kind` with `policy`; allocation type
/// (bits 1:0) is 0 and marked invalid, because a plan does not declare it.
#[must_use]
pub const fn cache_attributes(kind: CacheKind, policy: CacheWritePolicy) -> u8 {
    let kind_bits = match kind {
        CacheKind::Data => 0b00,
        CacheKind::Instruction => 0b01,
        CacheKind::Unified => 0b10,
    };
    let policy_bit = match policy {
        CacheWritePolicy::WriteBack => 0,
        CacheWritePolicy::WriteThrough => 1,
    };
    (kind_bits << 2) | (policy_bit << 4)
}

/// ACPI 6.5 §5.2.30.2 Cache Type Structure (Type 1), revision 3 layout
/// (with Cache ID).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct CacheType {
    /// Type: [`entry_type::CACHE_TYPE`].
    pub r#type: u8,
    /// Length: [`CacheType::LENGTH`].
    pub length: u8,
    /// Reserved.
    pub _reserved0: U16,
    /// Flags: [`CacheFlags`].
    pub flags: U32,
    /// Next Level of Cache: offset of the next cache private to the same
    /// processor node, 0 for the last.
    pub next_level_of_cache: U32,
    /// Size in bytes.
    pub size: U32,
    /// Number of sets.
    pub number_of_sets: U32,
    /// Associativity.
    pub associativity: u8,
    /// Attributes: see [`cache_attributes`].
    pub attributes: u8,
    /// Line size in bytes.
    pub line_size: U16,
    /// Cache ID (revision 3): unique, non-zero.
    pub cache_id: U32,
}

const _: () = assert!(size_of::<CacheType>() == CacheType::LENGTH as usize);

/// The geometry and identity of one cache instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheDescription {
    /// Size in bytes.
    pub size: u32,
    /// Number of sets.
    pub number_of_sets: u32,
    /// Associativity.
    pub associativity: u8,
    /// Attributes byte ([`cache_attributes`]).
    pub attributes: u8,
    /// Line size in bytes.
    pub line_size: u16,
    /// Cache ID.
    pub cache_id: u32,
}

impl CacheType {
    /// Structure type.
    pub const TYPE: u8 = entry_type::CACHE_TYPE;
    /// Structure length (revision 3).
    pub const LENGTH: u8 = 28;

    /// A cache structure.
    #[must_use]
    pub fn new(flags: CacheFlags, next_level_of_cache: u32, cache: CacheDescription) -> Self {
        Self {
            r#type: Self::TYPE,
            length: Self::LENGTH,
            _reserved0: U16::ZERO,
            flags: U32::new(flags.bits()),
            next_level_of_cache: U32::new(next_level_of_cache),
            size: U32::new(cache.size),
            number_of_sets: U32::new(cache.number_of_sets),
            associativity: cache.associativity,
            attributes: cache.attributes,
            line_size: U16::new(cache.line_size),
            cache_id: U32::new(cache.cache_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;

    #[test]
    fn test_package_node_with_one_private_resource_bytes() {
        let node = ProcessorHierarchyNode::new(
            ProcessorNodeFlags::PHYSICAL_PACKAGE
                | ProcessorNodeFlags::ACPI_PROCESSOR_ID_VALID
                | ProcessorNodeFlags::IDENTICAL_IMPLEMENTATION,
            0,
            1,
            1,
        );
        let expected: [u8; 20] = [
            0x00, // [0] Type: Processor Hierarchy Node
            0x18, // [1] Length 24 = 20 + 4 x 1 resource
            0x00, 0x00, // [2] Reserved
            0x13, 0x00, 0x00, 0x00, // [4] Flags: package | ID valid | identical
            0x00, 0x00, 0x00, 0x00, // [8] Parent: none
            0x01, 0x00, 0x00, 0x00, // [12] ACPI Processor ID 1
            0x01, 0x00, 0x00, 0x00, // [16] Number of Private Resources 1
        ];
        assert_eq!(node.as_bytes(), expected);
    }

    #[test]
    fn test_thread_leaf_node_bytes() {
        let node = ProcessorHierarchyNode::new(
            ProcessorNodeFlags::ACPI_PROCESSOR_ID_VALID
                | ProcessorNodeFlags::PROCESSOR_IS_A_THREAD
                | ProcessorNodeFlags::NODE_IS_A_LEAF,
            0x64,
            9,
            0,
        );
        let expected: [u8; 20] = [
            0x00, // [0] Type: Processor Hierarchy Node
            0x14, // [1] Length 20
            0x00, 0x00, // [2] Reserved
            0x0E, 0x00, 0x00, 0x00, // [4] Flags: ID valid | thread | leaf
            0x64, 0x00, 0x00, 0x00, // [8] Parent at offset 0x64
            0x09, 0x00, 0x00, 0x00, // [12] ACPI Processor ID 9
            0x00, 0x00, 0x00, 0x00, // [16] Number of Private Resources 0
        ];
        assert_eq!(node.as_bytes(), expected);
    }

    #[test]
    fn test_node_matches_acpi_tables() {
        use acpi_tables::pptt::{ProcessorNode, PPTT};
        // acpi_tables hands out offsets only through a table; build one to get handles.
        let mut table = PPTT::new(*b"OEMID_", *b"TABLEID_", 1);
        let parent = table.add_processor(ProcessorNode::new(None, 0).physical().valid());
        let theirs = ProcessorNode::new(Some(&parent), 3).valid().leaf();
        let mut bytes = Vec::new();
        acpi_tables::Aml::to_aml_bytes(&theirs, &mut bytes);
        let ours = ProcessorHierarchyNode::new(
            ProcessorNodeFlags::ACPI_PROCESSOR_ID_VALID | ProcessorNodeFlags::NODE_IS_A_LEAF,
            36,
            3,
            0,
        );
        assert_eq!(ours.as_bytes(), bytes.as_slice());
    }

    #[test]
    fn test_length_saturates_at_the_largest_resource_count() {
        assert_eq!(ProcessorHierarchyNode::MAX_RESOURCES, 58);
        assert_eq!(ProcessorHierarchyNode::length_for(58), 252);
        assert_eq!(ProcessorHierarchyNode::length_for(200), 252);
    }

    #[test]
    fn test_l2_unified_cache_bytes() {
        let flags = CacheFlags::SIZE_VALID
            | CacheFlags::NUMBER_OF_SETS_VALID
            | CacheFlags::ASSOCIATIVITY_VALID
            | CacheFlags::CACHE_TYPE_VALID
            | CacheFlags::WRITE_POLICY_VALID
            | CacheFlags::LINE_SIZE_VALID
            | CacheFlags::CACHE_ID_VALID;
        let cache = CacheType::new(
            flags,
            0x48,
            CacheDescription {
                size: 1 << 20,
                number_of_sets: 2048,
                associativity: 8,
                attributes: cache_attributes(CacheKind::Unified, CacheWritePolicy::WriteBack),
                line_size: 64,
                cache_id: 3,
            },
        );
        let expected: [u8; 28] = [
            0x01, // [0] Type: Cache Type
            0x1C, // [1] Length 28
            0x00, 0x00, // [2] Reserved
            0xF7, 0x00, 0x00, 0x00, // [4] Flags: all valid but allocation type
            0x48, 0x00, 0x00, 0x00, // [8] Next Level of Cache at offset 0x48
            0x00, 0x00, 0x10, 0x00, // [12] Size 1 MiB
            0x00, 0x08, 0x00, 0x00, // [16] Number of sets 2048
            0x08, // [20] Associativity 8
            0x08, // [21] Attributes: unified (0b10 << 2), write-back
            0x40, 0x00, // [22] Line size 64
            0x03, 0x00, 0x00, 0x00, // [24] Cache ID 3
        ];
        assert_eq!(cache.as_bytes(), expected);
    }

    #[test]
    fn test_cache_attributes_encode_type_and_policy() {
        assert_eq!(
            cache_attributes(CacheKind::Data, CacheWritePolicy::WriteBack),
            0x00
        );
        assert_eq!(
            cache_attributes(CacheKind::Instruction, CacheWritePolicy::WriteBack),
            0x04
        );
        assert_eq!(
            cache_attributes(CacheKind::Data, CacheWritePolicy::WriteThrough),
            0x10
        );
    }
}
