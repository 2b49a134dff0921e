//! The `Plan`: the single, plain-data output of the planner.
//!
//! A `Plan` holds no live resources and is valid by construction: only
//! [`crate::plan_source`] makes one, after every rule has passed. The other
//! crates consume it; the same input always gives the same `Plan` and
//! byte-identical JSON.

use serde::{Deserialize, Serialize};

use crate::arch::{Arch, MpidrPolicy, X2ApicLayout};
use crate::ids::{AcpiUid, ApicId, CpuIndex, GuestAddr, GuestRange, Mpidr, ProximityDomain};
pub use crate::platform::{
    AddressSpace, Devices, HotplugEvent, HotplugRegisters, InterruptController, IoApic, Mmio,
    PlatformKind, RedistributorRegion, Uart, UartKind,
};
pub use crate::spec::{CacheType, SharedBy, WritePolicy};

/// Version of the plan's JSON layout; bumped on any incompatible change.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// A validated topology, ready for table generation and for a VMM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    /// The topology's `name`, if any.
    pub name: Option<String>,
    /// Guest architecture.
    pub arch: Arch,
    /// The machine whose addresses are used.
    pub platform: PlatformKind,
    /// The CPU hierarchy's shape and ID scheme.
    pub topology: Topology,
    /// Every possible CPU, in index order.
    pub cpus: Vec<Cpu>,
    /// NUMA nodes in proximity-domain order.
    pub nodes: Vec<Node>,
    /// SLIT distances, `distances[from][to]`, indexed by proximity domain.
    pub distances: Vec<Vec<u8>>,
    /// GICv3 or APIC layout, sized for every possible CPU.
    pub interrupt_controller: InterruptController,
    /// Console UART and the CPU hotplug interface.
    pub devices: Devices,
    /// Declared caches, by level then type.
    pub caches: Vec<Cache>,
    /// The guest physical memory map.
    pub memory: MemoryMap,
}

/// The level between socket and core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupLevel {
    /// arm64 cluster.
    Cluster,
    /// x86 die.
    Die,
}

/// How arch IDs are assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum IdScheme {
    /// arm64 MPIDRs.
    Mpidr {
        /// The policy.
        policy: MpidrPolicy,
    },
    /// x86 x2APIC IDs with per-level widths.
    X2Apic {
        /// The widths.
        layout: X2ApicLayout,
    },
}

/// The shape of the CPU hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Cluster (arm64) or die (x86).
    pub group_level: GroupLevel,
    /// For each socket, the core count of each of its clusters or dies.
    pub sockets: Vec<Vec<u32>>,
    /// Threads per core.
    pub threads_per_core: u32,
    /// True when every socket has the same shape and every group the same core count.
    pub symmetric: bool,
    /// How MPIDRs or x2APIC IDs were derived.
    pub ids: IdScheme,
}

/// Whether a CPU is there at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Slot {
    /// Present and enabled at boot.
    Boot,
    /// Described at boot, enabled later by hotplug.
    Hotpluggable,
}

/// One possible CPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cpu {
    /// Enumeration index = vCPU index.
    pub index: CpuIndex,
    /// ACPI Processor UID.
    pub uid: AcpiUid,
    /// arm64 MPIDR (GICC layout).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mpidr: Option<Mpidr>,
    /// x86 x2APIC ID.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x2apic_id: Option<ApicId>,
    /// Socket index.
    pub socket: u32,
    /// Cluster (arm64) or die (x86) index within the socket.
    pub group: u32,
    /// Core index within the cluster or die.
    pub core: u32,
    /// Thread index within the core.
    pub thread: u32,
    /// System-wide index of the cluster or die (PPTT cluster node ID).
    pub group_id: u32,
    /// System-wide index of the core (PPTT core node ID).
    pub core_id: u32,
    /// NUMA node.
    pub node: ProximityDomain,
    /// Boot CPU or hotpluggable slot.
    pub slot: Slot,
    /// arm64: this CPU's GICv3 redistributor frame.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub redistributor: Option<GuestAddr>,
}

/// One NUMA node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Proximity domain (= SLIT index).
    pub id: ProximityDomain,
    /// CPUs, boot and hotpluggable, ascending.
    pub cpus: Vec<CpuIndex>,
    /// Boot memory in bytes, as declared.
    pub memory_size: u64,
    /// Where that memory lives (several ranges when it spans a hole).
    pub memory: Vec<GuestRange>,
    /// Memory hotplug windows.
    pub hotplug: Vec<GuestRange>,
}

/// One declared cache; one instance exists per sharing domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    /// Level, 1..=4.
    pub level: u8,
    /// Data, instruction or unified.
    #[serde(rename = "type")]
    pub kind: CacheType,
    /// Bytes per instance.
    pub size: u64,
    /// Associativity.
    pub ways: u32,
    /// Line size in bytes.
    pub line_size: u32,
    /// Number of sets (= size / (ways x line size)).
    pub sets: u32,
    /// Sharing level.
    pub shared_by: SharedBy,
    /// Write policy.
    pub write_policy: WritePolicy,
}

/// Guest physical memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryMap {
    /// Boot RAM ranges, ascending (all nodes).
    pub ram: Vec<GuestRange>,
    /// Memory hotplug windows, ascending (all nodes).
    pub hotplug: Vec<GuestRange>,
    /// Firmware memory the OS may count as RAM (see
    /// `PlatformKind::firmware_memory`), with the node the SRAT gives it: the
    /// node of the lowest RAM range.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub firmware: Option<FirmwareMemory>,
}

/// A firmware range described in the SRAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmwareMemory {
    /// The range.
    pub range: GuestRange,
    /// Its proximity domain.
    pub node: ProximityDomain,
}

impl Plan {
    /// CPUs present at boot.
    pub fn boot_cpus(&self) -> impl Iterator<Item = &Cpu> {
        self.cpus.iter().filter(|c| c.slot == Slot::Boot)
    }

    /// Hotpluggable slots.
    pub fn hotpluggable_cpus(&self) -> impl Iterator<Item = &Cpu> {
        self.cpus.iter().filter(|c| c.slot == Slot::Hotpluggable)
    }

    /// The plan as pretty JSON (deterministic: same plan, same bytes).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing plain structs, vectors and integers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
