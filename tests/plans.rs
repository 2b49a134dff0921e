//! Hand-checked plans: MPIDRs under both policies, x2APIC IDs of
//! non-power-of-two shapes, redistributor frames and memory placement.
//! Each expected value is worked out in the comment above it.

use planner::ids::{ApicId, GuestAddr, GuestRange, Mpidr};
use planner::plan::Slot;
use planner::Plan;

fn plan(source: &str) -> Plan {
    planner::plan_source("inline.toml", source).unwrap_or_else(|e| panic!("{e}"))
}

const GIB: u64 = 1 << 30;

#[test]
fn test_topology_policy_mpidr_is_socket_cluster_core_thread() {
    let p = plan(
        "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n\
         [cpus]\nsockets = 2\nclusters = 2\ncores = 2\nthreads = 2\nmpidr-policy = \"topology\"\n",
    );
    // CPU 13: 8 CPUs per socket -> socket 1, remainder 5; 4 per cluster ->
    // cluster 1, remainder 1; 2 per core -> core 0, thread 1.
    // Aff3.Aff2.Aff1.Aff0 = 1.1.0.1 -> 0x1_0001_0001.
    assert_eq!(p.cpus[13].mpidr, Some(Mpidr(0x1_0001_0001)));
    assert_eq!(
        (
            p.cpus[13].socket,
            p.cpus[13].group,
            p.cpus[13].core,
            p.cpus[13].thread
        ),
        (1, 1, 0, 1)
    );
    // CPU 6: socket 0, cluster 1, core 1, thread 0 -> 0.1.1.0.
    assert_eq!(p.cpus[6].mpidr, Some(Mpidr(0x0001_0100)));
}

#[test]
fn test_kvm_linear_policy_mpidr_groups_of_16() {
    let p = plan(
        "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n\
         [cpus]\ncores = 40\n",
    );
    // CPU 37 = 0x25: Aff0 = 0x25 & 0xf = 5, Aff1 = 0x25 >> 4 = 2.
    assert_eq!(p.cpus[37].mpidr, Some(Mpidr(0x205)));
    // CPU 16 starts the second group of 16.
    assert_eq!(p.cpus[16].mpidr, Some(Mpidr(0x100)));
}

#[test]
fn test_x2apic_ids_for_six_cores_two_threads() {
    let p = plan(
        "arch = \"x86_64\"\nplatform = \"qemu-q35\"\nmemory = \"1GiB\"\n\
         [cpus]\nsockets = 2\ncores = 6\nthreads = 2\n",
    );
    // SMT field 1 bit, core field ceil(log2 6) = 3 bits, package shift 4.
    // CPU 23: socket 1 (23 / 12), core 5, thread 1 -> 1<<4 | 5<<1 | 1 = 0x1b.
    assert_eq!(p.cpus[23].x2apic_id, Some(ApicId(0x1b)));
    // CPU 12: socket 1, core 0, thread 0 -> 0x10 (IDs 0x0c..0x0f stay unused).
    assert_eq!(p.cpus[12].x2apic_id, Some(ApicId(0x10)));
    assert_eq!(p.cpus[11].x2apic_id, Some(ApicId(0x0b)));
}

#[test]
fn test_x2apic_ids_for_three_dies_of_five_cores() {
    let p = plan(
        "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n\
         [cpus]\nsockets = 2\ndies = 3\ncores = 5\n",
    );
    // Core field 3 bits, die field 2 bits, package shift 5.
    // CPU 14: socket 0, die 2, core 4 -> 2<<3 | 4 = 0x14.
    assert_eq!(p.cpus[14].x2apic_id, Some(ApicId(0x14)));
    // CPU 15: socket 1, die 0, core 0 -> 1<<5 = 0x20.
    assert_eq!(p.cpus[15].x2apic_id, Some(ApicId(0x20)));
}

#[test]
fn test_asymmetric_x2apic_widths_follow_the_widest_die() {
    let p = plan(
        "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n\
         [cpus]\n[[cpus.socket]]\ncores = [3]\n[[cpus.socket]]\ncores = [1, 1]\n",
    );
    // Widest die has 3 cores -> 2 bits; most dies per socket 2 -> 1 bit; shift 3.
    // CPU 4: socket 1, die 1, core 0 -> 1<<3 | 1<<2 = 0xc.
    assert_eq!(p.cpus[4].x2apic_id, Some(ApicId(0xc)));
    assert!(!p.topology.symmetric);
}

#[test]
fn test_qemu_virt_redistributor_frames_cross_into_high_region() {
    let p = plan(
        "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n\
         [cpus]\ncores = 130\n",
    );
    // 0x080A0000 + 122 * 0x20000 = 0x08FE0000, the last low frame.
    assert_eq!(p.cpus[122].redistributor, Some(GuestAddr(0x08FE_0000)));
    // CPU 123 takes the first frame of the region at 256 GiB.
    assert_eq!(p.cpus[123].redistributor, Some(GuestAddr(0x40_0000_0000)));
}

#[test]
fn test_q35_two_nodes_split_around_the_pci_hole() {
    let p = plan(
        "arch = \"x86_64\"\nplatform = \"qemu-q35\"\n[cpus]\nsockets = 2\ncores = 1\n\
         [[node]]\nmemory = \"2GiB\"\ncpus = { socket = 0 }\n\
         [[node]]\nmemory = \"2GiB\"\ncpus = { socket = 1 }\n",
    );
    // 4 GiB >= 2.75 GiB, so q35's low RAM ends at 2 GiB: node 0 fills it
    // (less the 640 KiB..1 MiB hole) and node 1 starts at 4 GiB.
    let r = |base, size| GuestRange {
        base: GuestAddr(base),
        size,
    };
    assert_eq!(
        p.nodes[0].memory,
        vec![r(0, 0xA_0000), r(0x10_0000, 2 * GIB - 0x10_0000)]
    );
    assert_eq!(p.nodes[1].memory, vec![r(4 * GIB, 2 * GIB)]);
}

#[test]
fn test_hotpluggable_slots_keep_their_node_and_place() {
    let p = plan(
        "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\n\
         [cpus]\nclusters = 2\ncores = 2\nhotpluggable = [{ cluster = 1, core = 1 }]\n\
         [[node]]\nmemory = \"1GiB\"\ncpus = \"0-1\"\n\
         [[node]]\nmemory = \"1GiB\"\ncpus = { cluster = 1 }\n",
    );
    // The slot { cluster 1, core 1 } is CPU 3, in node 1.
    let hot: Vec<u32> = p.hotpluggable_cpus().map(|c| c.index.0).collect();
    assert_eq!(hot, vec![3]);
    assert_eq!(p.cpus[3].node.0, 1);
    assert_eq!(p.cpus[2].slot, Slot::Boot);
    assert_eq!(p.cpus[3].uid.0, 3);
}

#[test]
fn test_override_sets_one_mpidr() {
    let p = plan(
        "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n\
         [cpus]\ncores = 2\n[[cpus.override]]\ncpu = 1\nmpidr = 0x100000000\n",
    );
    assert_eq!(p.cpus[1].mpidr, Some(Mpidr(0x1_0000_0000)));
    assert_eq!(p.cpus[0].mpidr, Some(Mpidr(0)));
}
