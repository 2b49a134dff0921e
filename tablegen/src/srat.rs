//! ACPI 6.5 §5.2.16 System Resource Affinity Table (SRAT), revision 3, from
//! a plan.
//!
//! - One processor affinity structure per **possible** CPU, always Enabled:
//!   Linux ignores disabled entries and assigns NUMA nodes to possible CPUs
//!   at boot, so a hotpluggable CPU without an enabled entry would land on
//!   node 0. arm64: GICC Affinity (by ACPI Processor UID); x86: Processor
//!   Local x2APIC Affinity (by x2APIC ID; type 2 for every ID, also below
//!   255, which Linux accepts next to type-0 MADT entries).
//! - Memory Affinity: each RAM range of a node Enabled; each memory hotplug
//!   window Enabled | Hot Pluggable.
//! - GIC ITS Affinity of the ITS to proximity domain 0, when there is an ITS.

use planner::plan::{Cpu, InterruptController};
use planner::Plan;

use crate::madt::ITS_ID;
use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::header::Signature;
use crate::wire::srat::{
    GicItsAffinity, GiccAffinity, MemoryAffinity, MemoryAffinityFlags, ProcessorAffinityFlags,
    SratFields, X2ApicAffinity, SRAT_REVISION,
};

/// Proximity domain of the GIC ITS: node 0 (a plan does not place the ITS).
pub const ITS_PROXIMITY_DOMAIN: u32 = 0;

/// Builds the SRAT.
#[must_use]
pub fn build(plan: &Plan, options: &Options) -> AcpiTable {
    let mut table = Table::new(Signature::SRAT, SRAT_REVISION, options);
    table.push(&SratFields::VALUE);
    match &plan.interrupt_controller {
        InterruptController::GicV3 { .. } => {
            for cpu in &plan.cpus {
                table.push(&GiccAffinity::new(
                    cpu.node.0,
                    cpu.uid.0,
                    ProcessorAffinityFlags::ENABLED,
                ));
            }
        }
        InterruptController::Apic { .. } => {
            for cpu in &plan.cpus {
                table.push(&X2ApicAffinity::new(
                    cpu.node.0,
                    x2apic_id(cpu),
                    ProcessorAffinityFlags::ENABLED,
                ));
            }
        }
    }
    for node in &plan.nodes {
        for range in &node.memory {
            table.push(&MemoryAffinity::new(
                node.id.0,
                range.base.0,
                range.size,
                MemoryAffinityFlags::ENABLED,
            ));
        }
    }
    if let Some(fw) = &plan.memory.firmware {
        // Firmware memory an OS may count as RAM (planner::platform::PlatformKind::firmware_memory).
        table.push(&MemoryAffinity::new(
            fw.node.0,
            fw.range.base.0,
            fw.range.size,
            MemoryAffinityFlags::ENABLED,
        ));
    }
    for node in &plan.nodes {
        for range in &node.hotplug {
            let flags = MemoryAffinityFlags::ENABLED | MemoryAffinityFlags::HOT_PLUGGABLE;
            table.push(&MemoryAffinity::new(
                node.id.0,
                range.base.0,
                range.size,
                flags,
            ));
        }
    }
    if let InterruptController::GicV3 { its: Some(_), .. } = plan.interrupt_controller {
        table.push(&GicItsAffinity::new(ITS_PROXIMITY_DOMAIN, ITS_ID));
    }
    table.finalize()
}

/// A valid x86_64 plan gives every CPU an x2APIC ID.
fn x2apic_id(cpu: &Cpu) -> u32 {
    cpu.x2apic_id.map_or(u32::MAX, |a| a.0)
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;
    use crate::test_util::{arm_plan, header_ok, read_u32, structures, x86_plan};

    const ARM: &str = "arch = \"aarch64\"\nplatform = \"qemu-virt\"\n[cpus]\nclusters = 2\ncores = 2\nhotpluggable = \"3\"\n[[node]]\nmemory = \"1GiB\"\ncpus = { cluster = 0 }\n[[node]]\nmemory = \"1GiB\"\ncpus = { cluster = 1 }\nhotplug-memory = \"2GiB\"\n";

    #[test]
    fn test_arm_srat_header_and_reserved_one() {
        let srat = build(&arm_plan(ARM), &Options::default());
        header_ok(srat.bytes(), b"SRAT", 3);
        assert_eq!(read_u32(srat.bytes(), 36), 1);
        // 48 + 4 GICC affinity x 18 + 4 memory affinity x 40 (2 nodes, the
        // UEFI variable store, the hotplug window) + ITS affinity 12.
        assert_eq!(srat.len(), 48 + 4 * 18 + 4 * 40 + 12);
    }

    #[test]
    fn test_arm_every_possible_cpu_has_an_enabled_gicc_affinity() {
        let srat = build(&arm_plan(ARM), &Options::default());
        let s = structures(srat.bytes(), 48);
        assert_eq!(
            s[0],
            GiccAffinity::new(0, 0, ProcessorAffinityFlags::ENABLED).as_bytes()
        );
        assert_eq!(
            s[2],
            GiccAffinity::new(1, 2, ProcessorAffinityFlags::ENABLED).as_bytes()
        );
        // CPU 3 is hotpluggable and still Enabled here.
        assert_eq!(
            s[3],
            GiccAffinity::new(1, 3, ProcessorAffinityFlags::ENABLED).as_bytes()
        );
    }

    #[test]
    fn test_arm_memory_and_hotplug_window_and_its() {
        let plan = arm_plan(ARM);
        let srat = build(&plan, &Options::default());
        let s = structures(srat.bytes(), 48);
        // qemu-virt RAM starts at 1 GiB; node 1 follows node 0.
        assert_eq!(
            s[4],
            MemoryAffinity::new(0, 0x4000_0000, 0x4000_0000, MemoryAffinityFlags::ENABLED)
                .as_bytes()
        );
        assert_eq!(
            s[5],
            MemoryAffinity::new(1, 0x8000_0000, 0x4000_0000, MemoryAffinityFlags::ENABLED)
                .as_bytes()
        );
        // QEMU virt's UEFI variable store (flash bank 1) in node 0, so that
        // Linux, which counts it as memory under UEFI, keeps the NUMA map.
        assert_eq!(
            s[6],
            MemoryAffinity::new(0, 0x0400_0000, 0x0400_0000, MemoryAffinityFlags::ENABLED)
                .as_bytes()
        );
        let window = plan.nodes[1].hotplug[0];
        let hot = MemoryAffinityFlags::ENABLED | MemoryAffinityFlags::HOT_PLUGGABLE;
        assert_eq!(
            s[7],
            MemoryAffinity::new(1, window.base.0, 2 << 30, hot).as_bytes()
        );
        assert_eq!(read_u32(s[7], 28), 3);
        assert_eq!(s[8], GicItsAffinity::new(0, 0).as_bytes());
    }

    #[test]
    fn test_x86_every_possible_cpu_has_an_enabled_x2apic_affinity() {
        let src = "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\n[cpus]\nsockets = 2\ncores = 1\nthreads = 2\nhotpluggable = \"3\"\n[[node]]\nmemory = \"1GiB\"\ncpus = { socket = 0 }\n[[node]]\nmemory = \"1GiB\"\ncpus = { socket = 1 }\n";
        let srat = build(&x86_plan(src), &Options::default());
        let s = structures(srat.bytes(), 48);
        // x2APIC IDs: socket << 1 | thread. CPU 3 = socket 1 thread 1 = 3.
        assert_eq!(
            s[3],
            X2ApicAffinity::new(1, 3, ProcessorAffinityFlags::ENABLED).as_bytes()
        );
        assert_eq!(
            s[2],
            X2ApicAffinity::new(1, 2, ProcessorAffinityFlags::ENABLED).as_bytes()
        );
        // Node 0 loses 640 KiB..1 MiB: two ranges; then node 1; no ITS on x86.
        assert_eq!(
            s[4],
            MemoryAffinity::new(0, 0, 0xA_0000, MemoryAffinityFlags::ENABLED).as_bytes()
        );
        assert_eq!(read_u32(s[5], 8), 0x10_0000);
        assert_eq!(read_u32(s[6], 2), 1);
        assert_eq!(s.len(), 7);
    }
}
