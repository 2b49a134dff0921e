//! ACPI 6.5 §5.2.30 Processor Properties Topology Table (PPTT), revision 3,
//! from a plan (arm64 only: x86 Linux never reads a PPTT and takes its
//! topology from CPUID).
//!
//! # Processor hierarchy
//!
//! For each socket a package node (Physical package, ID valid, ID = socket
//! index); under it one cluster node per cluster (ID valid, ID = the plan's
//! system-wide `group_id`); with SMT a core node per core (ID valid, ID =
//! `core_id`) whose children are thread leaves (ID valid, Leaf, Thread, ID =
//! ACPI Processor UID); without SMT the core itself is the leaf (ID valid,
//! Leaf, ID = UID). Every possible CPU, boot or hotpluggable, has a leaf:
//! Linux discards the whole PPTT topology if one possible CPU lacks one.
//!
//! # Identical Implementation
//!
//! The flag says that every processor under the node has the same
//! implementation revision (on Arm: the same MIDR/REVIDR); it is not about
//! the *shape* of the subtree. A plan describes one vCPU model for the whole
//! VM, so an asymmetric topology (clusters of 4 and 2 cores) is still
//! identical in implementation. The flag is therefore set on every non-leaf
//! node, symmetric topology or not, and left clear on leaves, where ACPI says
//! OSPM ignores it (as QEMU's PPTT does). Linux's
//! `find_acpi_cpu_topology_hetero_id` then tags every CPU of a socket alike.
//!
//! # Caches
//!
//! Each declared cache gets one instance per sharing domain, attached as a
//! private resource of the node of its `shared-by` level: core caches on the
//! leaf (no SMT) or the core node (SMT), cluster caches on the cluster node,
//! socket caches on the package node. Within one node the instances are
//! chained through Next Level of Cache (L1d -> L2 and L1i -> L2 when L2 is
//! private to the same node), and only the heads of those chains are listed
//! as private resources. A chain never crosses into a parent node: ACPI 6.5
//! defines Next Level of Cache as "the next level of cache that is private
//! to the processor topology instance", and Linux (`acpi_find_cache_level`,
//! `acpi_count_levels`) numbers cache levels by walking each node's chains
//! and adding the depth found below, then records the node where it found a
//! cache as the cache's sharing token (`fw_token`). An L2 private to the
//! core pointing at a cluster-shared L3 would make Linux count L3 twice
//! (4 levels) and report it as private to each core. The level above a
//! node's last cache is found by Linux in the parent node.
//!
//! The PPTT has no level field: a level is implied by the position in the
//! chains and nodes, so a plan that skips a level (L1 and L3, no L2) is seen
//! by the guest with consecutive levels.
//!
//! Cache structures carry every property the plan declares, with its valid
//! flag: size, number of sets, associativity, cache type, write policy,
//! line size, and a Cache ID (unique, from 1, in table order). Allocation
//! type is not declared by a plan and stays invalid.

use planner::plan::{Cache, CacheType as PlannedCacheType, SharedBy, WritePolicy};
use planner::Plan;
use zerocopy::little_endian::U32;

use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::header::Signature;
use crate::wire::pptt::{
    cache_attributes, CacheDescription, CacheFlags, CacheKind, CacheType, CacheWritePolicy,
    ProcessorHierarchyNode, ProcessorNodeFlags, PPTT_REVISION,
};

/// Flags of every cache structure: all valid flags but allocation type.
const CACHE_FLAGS: CacheFlags = CacheFlags::SIZE_VALID
    .union(CacheFlags::NUMBER_OF_SETS_VALID)
    .union(CacheFlags::ASSOCIATIVITY_VALID)
    .union(CacheFlags::CACHE_TYPE_VALID)
    .union(CacheFlags::WRITE_POLICY_VALID)
    .union(CacheFlags::LINE_SIZE_VALID)
    .union(CacheFlags::CACHE_ID_VALID);

const PACKAGE_FLAGS: ProcessorNodeFlags = ProcessorNodeFlags::PHYSICAL_PACKAGE
    .union(ProcessorNodeFlags::ACPI_PROCESSOR_ID_VALID)
    .union(ProcessorNodeFlags::IDENTICAL_IMPLEMENTATION);
const INNER_FLAGS: ProcessorNodeFlags =
    ProcessorNodeFlags::ACPI_PROCESSOR_ID_VALID.union(ProcessorNodeFlags::IDENTICAL_IMPLEMENTATION);
const CORE_LEAF_FLAGS: ProcessorNodeFlags =
    ProcessorNodeFlags::ACPI_PROCESSOR_ID_VALID.union(ProcessorNodeFlags::NODE_IS_A_LEAF);
const THREAD_LEAF_FLAGS: ProcessorNodeFlags =
    CORE_LEAF_FLAGS.union(ProcessorNodeFlags::PROCESSOR_IS_A_THREAD);

/// The processor node a cache attaches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    Core,
    Group,
    Package,
}

fn domain(shared_by: SharedBy) -> Domain {
    match shared_by {
        SharedBy::Core => Domain::Core,
        SharedBy::Cluster | SharedBy::Die => Domain::Group,
        SharedBy::Socket => Domain::Package,
    }
}

struct Builder<'a> {
    table: Table,
    caches: &'a [Cache],
    next_cache_id: u32,
}

impl Builder<'_> {
    /// Emits one instance of every cache of `domain`, chained, and returns
    /// the offsets of the chain heads (the node's private resources).
    fn caches(&mut self, domain_of_node: Domain) -> Vec<u32> {
        let local: Vec<&Cache> = self
            .caches
            .iter()
            .filter(|c| domain(c.shared_by) == domain_of_node)
            .collect();
        let next: Vec<Option<usize>> = local.iter().map(|c| next_level(&local, c)).collect();
        // Emit the highest level first so that every Next Level of Cache
        // offset is known when its referrer is written.
        let mut order: Vec<usize> = (0..local.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(local[i].level), local[i].kind));
        let mut offsets = vec![0u32; local.len()];
        for i in order {
            let next_offset = next[i].map_or(0, |n| offsets[n]);
            offsets[i] = self.table.offset();
            let description = self.describe(local[i]);
            self.table
                .push(&CacheType::new(CACHE_FLAGS, next_offset, description));
        }
        // Heads: instances no other instance of this node points at, by level then type.
        let mut heads: Vec<usize> = (0..local.len())
            .filter(|i| !next.contains(&Some(*i)))
            .collect();
        heads.sort_by_key(|&i| (local[i].level, local[i].kind));
        heads.into_iter().map(|i| offsets[i]).collect()
    }

    fn describe(&mut self, cache: &Cache) -> CacheDescription {
        let cache_id = self.next_cache_id;
        self.next_cache_id = self.next_cache_id.saturating_add(1);
        // The planner bounds size (< 4 GiB), sets (u32) and ways (1..=255);
        // the saturating conversions never take their fallback there.
        CacheDescription {
            size: u32::try_from(cache.size).unwrap_or(u32::MAX),
            number_of_sets: cache.sets,
            associativity: u8::try_from(cache.ways).unwrap_or(u8::MAX),
            attributes: cache_attributes(kind(cache.kind), policy(cache.write_policy)),
            line_size: u16::try_from(cache.line_size).unwrap_or(u16::MAX),
            cache_id,
        }
    }

    /// Emits a processor node with `resources` and returns its offset.
    fn node(&mut self, flags: ProcessorNodeFlags, parent: u32, id: u32, resources: &[u32]) -> u32 {
        let offset = self.table.offset();
        let count = u8::try_from(resources.len())
            .unwrap_or(u8::MAX)
            .min(ProcessorHierarchyNode::MAX_RESOURCES);
        self.table
            .push(&ProcessorHierarchyNode::new(flags, parent, id, count));
        for &resource in resources.iter().take(usize::from(count)) {
            self.table.push(&U32::new(resource));
        }
        offset
    }
}

/// The cache of the same node that the next level of `cache` is: the
/// lowest higher level holding a unified cache or one of the same type.
fn next_level(local: &[&Cache], cache: &Cache) -> Option<usize> {
    local
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.level > cache.level
                && (c.kind == PlannedCacheType::Unified
                    || (c.kind == cache.kind && cache.kind != PlannedCacheType::Unified))
        })
        .min_by_key(|(_, c)| (c.level, c.kind))
        .map(|(i, _)| i)
}

fn kind(kind: PlannedCacheType) -> CacheKind {
    match kind {
        PlannedCacheType::Data => CacheKind::Data,
        PlannedCacheType::Instruction => CacheKind::Instruction,
        PlannedCacheType::Unified => CacheKind::Unified,
    }
}

fn policy(policy: WritePolicy) -> CacheWritePolicy {
    match policy {
        WritePolicy::WriteBack => CacheWritePolicy::WriteBack,
        WritePolicy::WriteThrough => CacheWritePolicy::WriteThrough,
    }
}

/// Builds the PPTT.
#[must_use]
pub fn build(plan: &Plan, options: &Options) -> AcpiTable {
    let mut b = Builder {
        table: Table::new(Signature::PPTT, PPTT_REVISION, options),
        caches: &plan.caches,
        next_cache_id: 1,
    };
    let smt = plan.topology.threads_per_core > 1;
    // Offsets of the current package, group and core nodes, with the place
    // they stand for; plan.cpus is in socket-major enumeration order.
    let mut package: Option<(u32, u32)> = None;
    let mut group: Option<((u32, u32), u32)> = None;
    let mut core: Option<(u32, u32)> = None;
    for cpu in &plan.cpus {
        let package_offset = match package {
            Some((socket, offset)) if socket == cpu.socket => offset,
            _ => {
                let resources = b.caches(Domain::Package);
                let offset = b.node(PACKAGE_FLAGS, 0, cpu.socket, &resources);
                package = Some((cpu.socket, offset));
                offset
            }
        };
        let group_offset = match group {
            Some((place, offset)) if place == (cpu.socket, cpu.group) => offset,
            _ => {
                let resources = b.caches(Domain::Group);
                let offset = b.node(INNER_FLAGS, package_offset, cpu.group_id, &resources);
                group = Some(((cpu.socket, cpu.group), offset));
                offset
            }
        };
        if smt {
            let core_offset = match core {
                Some((core_id, offset)) if core_id == cpu.core_id => offset,
                _ => {
                    let resources = b.caches(Domain::Core);
                    let offset = b.node(INNER_FLAGS, group_offset, cpu.core_id, &resources);
                    core = Some((cpu.core_id, offset));
                    offset
                }
            };
            b.node(THREAD_LEAF_FLAGS, core_offset, cpu.uid.0, &[]);
        } else {
            let resources = b.caches(Domain::Core);
            b.node(CORE_LEAF_FLAGS, group_offset, cpu.uid.0, &resources);
        }
    }
    b.table.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{arm_plan, header_ok, read_u16, read_u32, structures};

    /// A parsed PPTT structure: its offset and bytes.
    fn entries(bytes: &[u8]) -> Vec<(u32, &[u8])> {
        let mut offset = 36u32;
        structures(bytes, 36)
            .into_iter()
            .map(|s| {
                let at = offset;
                offset += u32::from(s[1]);
                (at, s)
            })
            .collect()
    }

    /// The structure at `offset`.
    fn at<'a>(e: &[(u32, &'a [u8])], offset: u32) -> &'a [u8] {
        e.iter()
            .find(|(o, _)| *o == offset)
            .map(|(_, s)| *s)
            .unwrap()
    }

    /// The parent node of `node`.
    fn parent<'a>(e: &[(u32, &'a [u8])], node: &[u8]) -> &'a [u8] {
        at(e, read_u32(node, 8))
    }

    fn resources(node: &[u8]) -> Vec<u32> {
        let n = read_u32(node, 16) as usize;
        (0..n).map(|i| read_u32(node, 20 + 4 * i)).collect()
    }

    const NO_SMT: &str = "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n[cpus]\nclusters = 1\ncores = 2\nhotpluggable = \"1\"\n";

    #[test]
    fn test_single_cluster_no_smt_no_cache_layout() {
        let pptt = build(&arm_plan(NO_SMT), &Options::default());
        let bytes = pptt.bytes();
        header_ok(bytes, b"PPTT", 3);
        let e = entries(bytes);
        // package @36, cluster @56, leaf @76, leaf @96.
        let offsets: Vec<u32> = e.iter().map(|(o, _)| *o).collect();
        assert_eq!(offsets, vec![36, 56, 76, 96]);
        let package: [u8; 20] = [
            0x00, 0x14, 0x00, 0x00, // Type 0, Length 20, Reserved
            0x13, 0x00, 0x00, 0x00, // Flags: package | ID valid | identical
            0x00, 0x00, 0x00, 0x00, // Parent: none
            0x00, 0x00, 0x00, 0x00, // ACPI Processor ID: socket 0
            0x00, 0x00, 0x00, 0x00, // No private resources
        ];
        assert_eq!(e[0].1, package);
        let cluster: [u8; 20] = [
            0x00, 0x14, 0x00, 0x00, // Type 0, Length 20, Reserved
            0x12, 0x00, 0x00, 0x00, // Flags: ID valid | identical
            0x24, 0x00, 0x00, 0x00, // Parent: the package at 36
            0x00, 0x00, 0x00, 0x00, // ACPI Processor ID: group_id 0
            0x00, 0x00, 0x00, 0x00, // No private resources
        ];
        assert_eq!(e[1].1, cluster);
        let leaf1: [u8; 20] = [
            0x00, 0x14, 0x00, 0x00, // Type 0, Length 20, Reserved
            0x0A, 0x00, 0x00, 0x00, // Flags: ID valid | leaf (hotpluggable CPUs too)
            0x38, 0x00, 0x00, 0x00, // Parent: the cluster at 56
            0x01, 0x00, 0x00, 0x00, // ACPI Processor ID: UID 1
            0x00, 0x00, 0x00, 0x00, // No private resources
        ];
        assert_eq!(e[3].1, leaf1);
    }

    const SMT_CACHES: &str = "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\nsockets = 2\nclusters = 2\ncores = 2\nthreads = 2\n\
[[cache]]\nlevel = 1\ntype = \"instruction\"\nsize = \"64KiB\"\nways = 4\nline-size = 64\nshared-by = \"core\"\n\
[[cache]]\nlevel = 1\ntype = \"data\"\nsize = \"64KiB\"\nways = 4\nline-size = 64\nshared-by = \"core\"\n\
[[cache]]\nlevel = 2\ntype = \"unified\"\nsize = \"1MiB\"\nways = 8\nline-size = 64\nshared-by = \"core\"\n\
[[cache]]\nlevel = 3\ntype = \"unified\"\nsize = \"4MiB\"\nways = 16\nline-size = 64\nshared-by = \"cluster\"\nwrite-policy = \"write-through\"\n\
[[cache]]\nlevel = 4\ntype = \"unified\"\nsize = \"32MiB\"\nways = 16\nline-size = 64\nshared-by = \"socket\"\n";

    #[test]
    fn test_smt_every_cpu_has_a_thread_leaf_under_a_core_node() {
        let plan = arm_plan(SMT_CACHES);
        let pptt = build(&plan, &Options::default());
        let e = entries(pptt.bytes());
        let leaves: Vec<&(u32, &[u8])> = e
            .iter()
            .filter(|(_, s)| s[0] == 0 && read_u32(s, 4) & 0x8 != 0)
            .collect();
        assert_eq!(leaves.len(), 16);
        let leaf = leaves[5].1;
        assert_eq!(read_u32(leaf, 4), 0b1110); // ID valid | thread | leaf
        assert_eq!(read_u32(leaf, 12), 5); // UID 5
        let core = parent(&e, leaf);
        assert_eq!(read_u32(core, 4), 0b1_0010); // ID valid | identical
        assert_eq!(read_u32(core, 12), plan.cpus[5].core_id); // core_id 2
        let cluster = parent(&e, core);
        assert_eq!(read_u32(cluster, 12), plan.cpus[5].group_id); // group_id 1
        let package = parent(&e, cluster);
        assert_eq!(read_u32(package, 4), 0b1_0011);
        assert_eq!(read_u32(package, 8), 0);
        // CPU 9 is on socket 1: leaf -> core -> cluster -> package 1.
        let p9 = parent(&e, parent(&e, parent(&e, leaves[9].1)));
        assert_eq!(read_u32(p9, 12), 1);
    }

    #[test]
    fn test_core_caches_chain_within_the_core_node() {
        let pptt = build(&arm_plan(SMT_CACHES), &Options::default());
        let e = entries(pptt.bytes());
        let first_core = e
            .iter()
            .find(|(_, s)| {
                s[0] == 0 && read_u32(s, 4) == 0b1_0010 && s[1] > 20 && read_u32(s, 16) == 2
            })
            .unwrap()
            .1;
        let heads = resources(first_core);
        let cache = |offset: u32| at(&e, offset);
        // Private resources: L1d then L1i (data sorts before instruction).
        let l1d = cache(heads[0]);
        let l1i = cache(heads[1]);
        assert_eq!(l1d[21] >> 2 & 0b11, 0b00);
        assert_eq!(l1i[21] >> 2 & 0b11, 0b01);
        // Both point at the core's L2, which ends the chain inside the core.
        assert_eq!(read_u32(l1d, 8), read_u32(l1i, 8));
        let l2 = cache(read_u32(l1d, 8));
        assert_eq!(read_u32(l2, 12), 1 << 20);
        assert_eq!(read_u32(l2, 8), 0);
        assert_eq!(read_u16(l1d, 22), 64);
        assert_eq!(l1d[20], 4);
        assert_eq!(read_u32(l1d, 16), 256); // 64 KiB / (4 ways x 64 B)
        assert_eq!(read_u32(l1d, 4), 0xF7);
    }

    #[test]
    fn test_cluster_and_socket_caches_sit_on_their_nodes() {
        let pptt = build(&arm_plan(SMT_CACHES), &Options::default());
        let e = entries(pptt.bytes());
        let cache = |offset: u32| at(&e, offset);
        let package = e
            .iter()
            .find(|(_, s)| s[0] == 0 && read_u32(s, 4) & 1 == 1)
            .unwrap()
            .1;
        let l4 = cache(resources(package)[0]);
        assert_eq!(read_u32(l4, 12), 32 << 20);
        assert_eq!(read_u32(l4, 8), 0);
        // The first cluster node: ID valid | identical, not a package, parent the package.
        let cluster = e
            .iter()
            .find(|(_, s)| s[0] == 0 && read_u32(s, 4) == 0b1_0010)
            .unwrap()
            .1;
        assert_eq!(parent(&e, cluster), package);
        let l3 = cache(resources(cluster)[0]);
        assert_eq!(read_u32(l3, 12), 4 << 20);
        assert_eq!(l3[21], 0x18); // unified, write-through
    }

    #[test]
    fn test_cache_ids_are_unique_and_start_at_one() {
        let pptt = build(&arm_plan(SMT_CACHES), &Options::default());
        let ids: Vec<u32> = entries(pptt.bytes())
            .iter()
            .filter(|(_, s)| s[0] == 1)
            .map(|(_, s)| read_u32(s, 24))
            .collect();
        // 2 packages x L4 + 4 clusters x L3 + 8 cores x (L1i, L1d, L2).
        assert_eq!(ids.len(), 2 + 4 + 8 * 3);
        assert_eq!(ids, (1..=30).collect::<Vec<u32>>());
    }

    #[test]
    fn test_no_smt_core_caches_sit_on_the_leaf() {
        let src = "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n\
[[cache]]\nlevel = 1\ntype = \"data\"\nsize = \"32KiB\"\nways = 8\nline-size = 64\nshared-by = \"core\"\n\
[[cache]]\nlevel = 2\ntype = \"unified\"\nsize = \"512KiB\"\nways = 8\nline-size = 64\nshared-by = \"cluster\"\n";
        let pptt = build(&arm_plan(src), &Options::default());
        let e = entries(pptt.bytes());
        let kinds: Vec<u8> = e.iter().map(|(_, s)| s[0]).collect();
        // package, L2 (cluster's), cluster, L1d (leaf's), leaf.
        assert_eq!(kinds, vec![0, 1, 0, 1, 0]);
        let leaf = e[4].1;
        assert_eq!(leaf[1], 24);
        assert_eq!(resources(leaf), vec![e[3].0]);
        // The leaf's L1d does not chain into the cluster's L2.
        assert_eq!(read_u32(e[3].1, 8), 0);
        assert_eq!(resources(e[2].1), vec![e[1].0]);
    }

    #[test]
    fn test_asymmetric_topology_is_still_identical_implementation() {
        let src = "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\n[[cpus.socket]]\ncores = [2, 1]\n";
        let plan = arm_plan(src);
        assert!(!plan.topology.symmetric);
        let pptt = build(&plan, &Options::default());
        let flags: Vec<u32> = entries(pptt.bytes())
            .iter()
            .map(|(_, s)| read_u32(s, 4))
            .collect();
        // package, cluster 0, leaf, leaf, cluster 1, leaf.
        assert_eq!(flags, vec![0x13, 0x12, 0x0A, 0x0A, 0x12, 0x0A]);
    }

    #[test]
    fn test_next_level_prefers_same_type_or_unified() {
        let cache = |level, kind| Cache {
            level,
            kind,
            size: 1024,
            ways: 1,
            line_size: 64,
            sets: 16,
            shared_by: SharedBy::Core,
            write_policy: WritePolicy::WriteBack,
        };
        let l1d = cache(1, PlannedCacheType::Data);
        let l1i = cache(1, PlannedCacheType::Instruction);
        let l2d = cache(2, PlannedCacheType::Data);
        let l2i = cache(2, PlannedCacheType::Instruction);
        let l3 = cache(3, PlannedCacheType::Unified);
        let local = [&l1d, &l1i, &l2d, &l2i, &l3];
        assert_eq!(next_level(&local, &l1d), Some(2));
        assert_eq!(next_level(&local, &l1i), Some(3));
        assert_eq!(next_level(&local, &l2d), Some(4));
        assert_eq!(next_level(&local, &l3), None);
    }
}
