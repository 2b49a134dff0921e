//! The readable rendering of a plan (`vtopo plan --format text`): the CPU
//! tree with every CPU's IDs, then nodes, distances, interrupt controller,
//! devices and caches. Addresses are hexadecimal.

use std::fmt::Write;

use crate::arch::MpidrPolicy;
use crate::plan::{
    CacheType, Cpu, GroupLevel, HotplugEvent, IdScheme, InterruptController, Plan, SharedBy, Slot,
    UartKind, WritePolicy,
};
use crate::selector::format_cpulist;
use crate::size::ByteSize;

fn cpu_line(cpu: &Cpu) -> String {
    let id = match (cpu.mpidr, cpu.x2apic_id) {
        (Some(m), _) => format!("mpidr {m}"),
        (None, Some(a)) => format!("x2apic {a}"),
        (None, None) => String::new(),
    };
    let slot = match cpu.slot {
        Slot::Boot => "boot",
        Slot::Hotpluggable => "hotpluggable",
    };
    let mut line = format!(
        "cpu {}  uid {}  {id}  node {}  {slot}",
        cpu.index, cpu.uid, cpu.node
    );
    if let Some(r) = cpu.redistributor {
        let _ = write!(line, "  gicr {r}");
    }
    line
}

/// Renders the plan as an indented tree and tables.
#[must_use]
pub fn render(plan: &Plan) -> String {
    let mut o = String::new();
    let boot = plan.boot_cpus().count();
    let hot = plan.cpus.len() - boot;
    let _ = writeln!(
        o,
        "plan{}: {} on {}",
        plan.name
            .as_ref()
            .map(|n| format!(" {n:?}"))
            .unwrap_or_default(),
        plan.arch.name(),
        plan.platform.name()
    );
    let ids = match plan.topology.ids {
        IdScheme::Mpidr { policy } => format!(
            "mpidr policy {}",
            match policy {
                MpidrPolicy::KvmLinear => "kvm-linear",
                MpidrPolicy::Topology => "topology",
            }
        ),
        IdScheme::X2Apic { layout } => format!(
            "x2apic layout: bits smt {} core {} die {} (package shift {})",
            layout.smt_bits,
            layout.core_bits,
            layout.die_bits,
            layout.package_shift()
        ),
    };
    let _ = writeln!(
        o,
        "cpus: {} possible, {boot} boot, {hot} hotpluggable; {} topology; {ids}",
        plan.cpus.len(),
        if plan.topology.symmetric {
            "symmetric"
        } else {
            "asymmetric"
        }
    );
    let group = match plan.topology.group_level {
        GroupLevel::Cluster => "cluster",
        GroupLevel::Die => "die",
    };
    let smt = plan.topology.threads_per_core > 1;
    let mut last: Option<(u32, u32, u32)> = None;
    for cpu in &plan.cpus {
        let (s, g, c) = (cpu.socket, cpu.group, cpu.core);
        if last.is_none_or(|l| l.0 != s) {
            let _ = writeln!(o, "socket {s}");
        }
        if last.is_none_or(|l| (l.0, l.1) != (s, g)) {
            let _ = writeln!(o, "  {group} {g} (id {})", cpu.group_id);
        }
        if smt {
            if last != Some((s, g, c)) {
                let _ = writeln!(o, "    core {c} (id {})", cpu.core_id);
            }
            let _ = writeln!(o, "      thread {}: {}", cpu.thread, cpu_line(cpu));
        } else {
            let _ = writeln!(o, "    core {c} (id {}): {}", cpu.core_id, cpu_line(cpu));
        }
        last = Some((s, g, c));
    }

    let _ = writeln!(o, "nodes:");
    for node in &plan.nodes {
        let cpus = format_cpulist(node.cpus.iter().map(|c| c.0));
        let _ = writeln!(
            o,
            "  node {}: cpus {}, memory {}",
            node.id,
            if cpus.is_empty() {
                "none".to_string()
            } else {
                cpus
            },
            ByteSize(node.memory_size)
        );
        for r in &node.memory {
            let _ = writeln!(o, "    ram     {r}");
        }
        for r in &node.hotplug {
            let _ = writeln!(o, "    hotplug {r}");
        }
    }
    if let Some(fw) = &plan.memory.firmware {
        let _ = writeln!(
            o,
            "  firmware memory {} in node {} (UEFI variable store)",
            fw.range, fw.node
        );
    }
    let _ = writeln!(o, "distances:");
    let _ = write!(o, "      ");
    for j in 0..plan.distances.len() {
        let _ = write!(o, "{j:>4}");
    }
    let _ = writeln!(o);
    for (i, row) in plan.distances.iter().enumerate() {
        let _ = write!(o, "  {i:>4}");
        for d in row {
            let _ = write!(o, "{d:>4}");
        }
        let _ = writeln!(o);
    }
    match &plan.interrupt_controller {
        InterruptController::GicV3 {
            distributor,
            redistributors,
            its,
        } => {
            let _ = writeln!(
                o,
                "gicv3: gicd {} ({})",
                distributor.base,
                ByteSize(distributor.size)
            );
            for r in redistributors {
                let _ = writeln!(
                    o,
                    "  gicr region {} ({}): cpus {}-{}",
                    r.base,
                    ByteSize(r.size),
                    r.first_cpu,
                    r.first_cpu + r.frames - 1
                );
            }
            if let Some(its) = its {
                let _ = writeln!(o, "  its {} ({})", its.base, ByteSize(its.size));
            }
        }
        InterruptController::Apic { local_apic, ioapic } => {
            let _ = writeln!(
                o,
                "apic: local apic {local_apic}, ioapic id {} at {} gsi {}-{}",
                ioapic.id,
                ioapic.base,
                ioapic.gsi_base,
                ioapic.gsi_base + ioapic.pins - 1
            );
        }
    }
    let d = &plan.devices;
    let uart = match d.uart.kind {
        UartKind::Pl011 => "pl011 at",
        UartKind::Ns16550 => "16550 at port",
    };
    let _ = writeln!(o, "uart: {uart} {} gsi {}", d.uart.base, d.uart.gsi);
    match (&d.cpu_hotplug, &d.hotplug_event) {
        (Some(regs), Some(ev)) => {
            let event = match ev {
                HotplugEvent::Ged { base, gsi } => format!("ged at {base} gsi {gsi}"),
                HotplugEvent::Gpe { bit } => format!("gpe0 bit {bit}"),
            };
            let _ = writeln!(
                o,
                "cpu hotplug: {} registers at {:#x} ({} bytes), event {event}",
                match regs.space {
                    crate::plan::AddressSpace::Mmio => "mmio",
                    crate::plan::AddressSpace::Io => "i/o port",
                },
                regs.base,
                regs.len
            );
        }
        _ => {
            let _ = writeln!(
                o,
                "cpu hotplug: none on this platform (static boot-time state)"
            );
        }
    }
    if plan.caches.is_empty() {
        let _ = writeln!(o, "caches: none declared");
    } else {
        let _ = writeln!(o, "caches:");
        for c in &plan.caches {
            let kind = match c.kind {
                CacheType::Data => "data",
                CacheType::Instruction => "instruction",
                CacheType::Unified => "unified",
            };
            let policy = match c.write_policy {
                WritePolicy::WriteBack => "write-back",
                WritePolicy::WriteThrough => "write-through",
            };
            let shared = match c.shared_by {
                SharedBy::Core => "core",
                SharedBy::Cluster => "cluster",
                SharedBy::Die => "die",
                SharedBy::Socket => "socket",
            };
            let _ = writeln!(
                o,
                "  L{} {kind}: {}, {} ways, {} sets, {}-byte lines, {policy}, per {shared}",
                c.level,
                ByteSize(c.size),
                c.ways,
                c.sets,
                c.line_size
            );
        }
    }
    o
}
