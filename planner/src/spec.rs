//! The topology language: serde input types for `topologies/*.toml`.
//!
//! `docs/topology.md` documents every key, unit and default. Every table
//! rejects unknown keys. Values that later rules check carry their TOML span
//! so that a diagnostic can name file, line and column.

use serde::Deserialize;
use toml::Spanned;

use crate::arch::{Arch, MpidrPolicy};
use crate::platform::PlatformKind;
use crate::selector::Selector;
use crate::size::ByteSize;

/// A whole topology file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Spec {
    /// Free-form name shown in `vtopo plan`.
    pub name: Option<String>,
    /// Guest architecture.
    pub arch: Spanned<Arch>,
    /// The machine whose fixed addresses the plan uses.
    pub platform: Spanned<PlatformKind>,
    /// Total memory of a VM without `[[node]]` tables (one implicit node).
    pub memory: Option<Spanned<ByteSize>>,
    /// Memory hotplug window of a VM without `[[node]]` tables.
    pub hotplug_memory: Option<Spanned<ByteSize>>,
    /// The CPU hierarchy, boot and hotpluggable sets, ID policy.
    pub cpus: Spanned<CpusSpec>,
    /// Declared caches.
    #[serde(default, rename = "cache")]
    pub caches: Vec<Spanned<CacheSpec>>,
    /// NUMA nodes, in proximity-domain order.
    #[serde(default, rename = "node")]
    pub nodes: Vec<Spanned<NodeSpec>>,
    /// NUMA distances.
    pub distances: Option<Spanned<DistancesSpec>>,
}

/// `[cpus]`: the hierarchy and the slots.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CpusSpec {
    /// Symmetric form: number of sockets (default 1).
    pub sockets: Option<Spanned<u32>>,
    /// Symmetric form, aarch64: clusters per socket (default 1).
    pub clusters: Option<Spanned<u32>>,
    /// Symmetric form, x86_64: dies per socket (default 1).
    pub dies: Option<Spanned<u32>>,
    /// Symmetric form: cores per cluster or die.
    pub cores: Option<Spanned<u32>>,
    /// Threads per core (default 1), both forms.
    pub threads: Option<Spanned<u32>>,
    /// Explicit form: one entry per socket.
    #[serde(rename = "socket")]
    pub socket_list: Option<Spanned<Vec<Spanned<SocketSpec>>>>,
    /// CPUs present at boot (default: every CPU not hotpluggable).
    pub boot: Option<Spanned<Selector>>,
    /// Hotpluggable slots (default: every CPU not in `boot`).
    pub hotpluggable: Option<Spanned<Selector>>,
    /// aarch64 MPIDR policy (default `kvm-linear`).
    pub mpidr_policy: Option<Spanned<MpidrPolicy>>,
    /// Explicit IDs for single CPUs.
    #[serde(default, rename = "override")]
    pub overrides: Vec<Spanned<OverrideSpec>>,
}

/// `[[cpus.socket]]`: one socket of an asymmetric shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketSpec {
    /// Cores of each cluster (aarch64) or die (x86_64) of this socket.
    pub cores: Spanned<Vec<Spanned<u32>>>,
}

/// `[[cpus.override]]`: a fixed ID for one CPU.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OverrideSpec {
    /// CPU index.
    pub cpu: Spanned<u32>,
    /// aarch64: the MPIDR affinity value (GICC layout).
    pub mpidr: Option<Spanned<u64>>,
    /// x86_64: the x2APIC ID.
    pub apic_id: Option<Spanned<u64>>,
}

/// Cache type.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CacheType {
    /// Data cache.
    Data,
    /// Instruction cache.
    Instruction,
    /// Unified cache.
    Unified,
}

/// The hierarchy level whose CPUs share a cache.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SharedBy {
    /// Private to a core (its threads share it).
    Core,
    /// Shared by a cluster (aarch64).
    Cluster,
    /// Shared by a die (x86_64).
    Die,
    /// Shared by a socket.
    Socket,
}

/// Cache write policy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum WritePolicy {
    /// Write-back.
    WriteBack,
    /// Write-through.
    WriteThrough,
}

/// `[[cache]]`: one cache, replicated per sharing domain.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CacheSpec {
    /// Cache level, 1..=4.
    pub level: Spanned<u8>,
    /// `data`, `instruction` or `unified`.
    #[serde(rename = "type")]
    pub kind: Spanned<CacheType>,
    /// Total size of one instance.
    pub size: Spanned<ByteSize>,
    /// Associativity (ways).
    pub ways: Spanned<u32>,
    /// Line size in bytes.
    pub line_size: Spanned<u32>,
    /// Which level shares one instance.
    pub shared_by: Spanned<SharedBy>,
    /// Write policy (default `write-back`).
    pub write_policy: Option<WritePolicy>,
}

/// `[[node]]`: one NUMA node; its position is its proximity domain.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NodeSpec {
    /// Memory present at boot (default 0: a memory-less node).
    pub memory: Option<Spanned<ByteSize>>,
    /// The node's CPUs, boot and hotpluggable (default none: a CPU-less node).
    pub cpus: Option<Spanned<Selector>>,
    /// Size of a memory hotplug window for this node (default none).
    pub hotplug_memory: Option<Spanned<ByteSize>>,
}

/// `[distances]`: a matrix or pairs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistancesSpec {
    /// Row-major square matrix, one row per node.
    pub matrix: Option<Spanned<Vec<MatrixRow>>>,
    /// Pairwise distances; a pair given one way holds both ways.
    #[serde(default)]
    pub pair: Vec<Spanned<PairSpec>>,
}

/// One row of a distance matrix, each entry with its place.
pub type MatrixRow = Spanned<Vec<Spanned<u8>>>;

/// `[[distances.pair]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    /// Source node.
    pub from: Spanned<u32>,
    /// Destination node.
    pub to: Spanned<u32>,
    /// Relative distance (10 = local).
    pub distance: Spanned<u8>,
}
