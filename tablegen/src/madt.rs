//! ACPI 6.5 §5.2.12 Multiple APIC Description Table (MADT) from a plan.
//!
//! - arm64 (GICv3): one GICC per possible CPU (Enabled for boot CPUs, Online
//!   Capable and not Enabled for hotpluggable slots), the GICD, one GICR per
//!   redistributor region (GICC.GICR Base Address stays 0: Linux requires
//!   GICR structures for CPUs that are not enabled at boot), and the ITS.
//! - x86 (APIC): one Processor Local APIC structure per possible CPU when
//!   every x2APIC ID and UID is below 255, else one Processor Local x2APIC
//!   structure per CPU, never a mix (Linux ignores x2APIC entries with IDs
//!   below 255 once it has seen a Local APIC entry); the I/O APIC; the
//!   platform's interrupt source overrides; the LINT1 NMI for all processors.

use planner::plan::{
    Cpu, InterruptController, IoApic as PlannedIoApic, Mmio, RedistributorRegion, Slot,
};
use planner::platform::PlatformKind;
use planner::Plan;
use zerocopy::little_endian::U32;
use zerocopy::IntoBytes;

use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::header::Signature;
use crate::wire::madt::{
    GicIts, Gicc, GiccFlags, Gicd, Gicr, InterruptSourceOverride, IoApic, LocalApic,
    LocalApicFlags, LocalApicNmi, LocalX2Apic, LocalX2ApicNmi, MadtFields, MadtFlags, MpsIntiFlags,
    ALL_PROCESSORS_U32, ALL_PROCESSORS_U8, GIC_VERSION_3, LINT1, MADT_REVISION,
};

/// GICC Performance Interrupt GSIV: the PMU overflow PPI 7 (INTID 23), the
/// value QEMU `virt` (`VIRTUAL_PMU_IRQ`) and KVM VMMs use, level-triggered
/// (GICC flags bit 1 clear). A VMM that gives its vCPUs no PMU leaves the
/// PPI unused; Linux then finds no PMU through the ID registers and goes on.
pub const PMU_INTERRUPT_GSIV: u32 = 23;

/// GIC ID of the single distributor, and GIC ITS ID of the single ITS (the
/// SRAT GIC ITS Affinity structure refers to it).
pub const GIC_ID: u32 = 0;

/// GIC ITS ID of the single ITS.
pub const ITS_ID: u32 = 0;

/// ISA IRQ of the 8254 PIT; PC wiring routes it to I/O APIC input 2.
const PIT_IRQ: u8 = 0;
/// I/O APIC input the PIT drives.
const PIT_GSI: u32 = 2;
/// QEMU q35: ISA IRQs it marks as PCI interrupts (ACPI SCI 9 and the PCI
/// link IRQs 5, 10, 11), level-triggered, active high (QEMU
/// `hw/i386/acpi-common.c` `acpi_build_madt`, `ACPI_BUILD_PCI_IRQS`).
const Q35_LEVEL_IRQS: [u8; 4] = [5, 9, 10, 11];

/// Builds the MADT.
#[must_use]
pub fn build(plan: &Plan, options: &Options) -> AcpiTable {
    let mut table = Table::new(Signature::MADT, MADT_REVISION, options);
    match &plan.interrupt_controller {
        InterruptController::GicV3 {
            distributor,
            redistributors,
            its,
        } => {
            gic(&mut table, &plan.cpus, *distributor, redistributors, *its);
        }
        InterruptController::Apic { local_apic, ioapic } => {
            apic(&mut table, plan, addr32(local_apic.0), ioapic);
        }
    }
    table.finalize()
}

/// A platform address that the MADT stores in 32 bits. Every planner
/// platform puts these below 4 GiB (LAPIC 0xFEE00000, I/O APIC 0xFEC00000);
/// the saturating fallback only guards the type conversion.
fn addr32(address: u64) -> u32 {
    u32::try_from(address).unwrap_or(u32::MAX)
}

fn gic(
    table: &mut Table,
    cpus: &[Cpu],
    distributor: Mmio,
    redistributors: &[RedistributorRegion],
    its: Option<Mmio>,
) {
    table.push(&MadtFields {
        local_interrupt_controller_address: U32::ZERO,
        flags: U32::new(MadtFlags::EMPTY.bits()),
    });
    for cpu in cpus {
        let flags = match cpu.slot {
            Slot::Boot => GiccFlags::ENABLED,
            Slot::Hotpluggable => GiccFlags::ONLINE_CAPABLE,
        };
        // A valid aarch64 plan gives every CPU an MPIDR.
        let mpidr = cpu.mpidr.map_or(0, |m| m.0);
        table.push(&Gicc::new(cpu.uid.0, flags, mpidr, PMU_INTERRUPT_GSIV));
    }
    table.push(&Gicd::new(GIC_ID, distributor.base.0, GIC_VERSION_3));
    for region in redistributors {
        // Regions are at most 512 MiB (planner::platform), so the length fits.
        table.push(&Gicr::new(
            region.base.0,
            u32::try_from(region.size).unwrap_or(u32::MAX),
        ));
    }
    if let Some(its) = its {
        table.push(&GicIts::new(ITS_ID, its.base.0));
    }
}

/// Every CPU's MADT processor structure with Enabled set, in CPU order, for
/// the `_MAT` objects (ACPI 6.5 §6.2.10): the structure type the MADT uses
/// for it (GICC, Local APIC or Local x2APIC), so `_MAT` and MADT agree on
/// UID, MPIDR or APIC ID. Linux maps a hot-added CPU through `_MAT` and
/// accepts only entries with Enabled set (`drivers/acpi/processor_core.c`).
#[must_use]
pub fn processor_entries(plan: &Plan) -> Vec<Vec<u8>> {
    match plan.interrupt_controller {
        InterruptController::GicV3 { .. } => plan
            .cpus
            .iter()
            .map(|cpu| {
                let mpidr = cpu.mpidr.map_or(0, |m| m.0);
                Gicc::new(cpu.uid.0, GiccFlags::ENABLED, mpidr, PMU_INTERRUPT_GSIV)
                    .as_bytes()
                    .to_vec()
            })
            .collect(),
        InterruptController::Apic { .. } => match xapic_ids(&plan.cpus) {
            Some(entries) => entries
                .into_iter()
                .map(|(uid, id, _)| {
                    LocalApic::new(uid, id, LocalApicFlags::ENABLED)
                        .as_bytes()
                        .to_vec()
                })
                .collect(),
            None => plan
                .cpus
                .iter()
                .map(|cpu| {
                    let id = cpu.x2apic_id.map_or(u32::MAX, |a| a.0);
                    LocalX2Apic::new(cpu.uid.0, id, LocalApicFlags::ENABLED)
                        .as_bytes()
                        .to_vec()
                })
                .collect(),
        },
    }
}

fn apic_flags(slot: Slot) -> LocalApicFlags {
    match slot {
        Slot::Boot => LocalApicFlags::ENABLED,
        Slot::Hotpluggable => LocalApicFlags::ONLINE_CAPABLE,
    }
}

/// The CPUs as type-0 (UID, APIC ID) pairs when every one fits: both below
/// 0xFF (0xFF is the broadcast APIC ID and the "all processors" NMI UID).
fn xapic_ids(cpus: &[Cpu]) -> Option<Vec<(u8, u8, Slot)>> {
    cpus.iter()
        .map(|cpu| {
            let uid = u8::try_from(cpu.uid.0).ok().filter(|&u| u < 0xFF)?;
            let id = u8::try_from(cpu.x2apic_id?.0).ok().filter(|&i| i < 0xFF)?;
            Some((uid, id, cpu.slot))
        })
        .collect()
}

fn apic(table: &mut Table, plan: &Plan, local_apic: u32, ioapic: &PlannedIoApic) {
    // QEMU q35 has the PC-AT dual 8259; vtopo-pc is HW-reduced and describes none.
    let flags = match plan.platform {
        PlatformKind::QemuQ35 => MadtFlags::PCAT_COMPAT,
        _ => MadtFlags::EMPTY,
    };
    table.push(&MadtFields {
        local_interrupt_controller_address: U32::new(local_apic),
        flags: U32::new(flags.bits()),
    });
    let xapic = xapic_ids(&plan.cpus);
    match &xapic {
        Some(entries) => {
            for &(uid, id, slot) in entries {
                table.push(&LocalApic::new(uid, id, apic_flags(slot)));
            }
        }
        None => {
            for cpu in &plan.cpus {
                // A valid x86_64 plan gives every CPU an x2APIC ID.
                let id = cpu.x2apic_id.map_or(u32::MAX, |a| a.0);
                table.push(&LocalX2Apic::new(cpu.uid.0, id, apic_flags(cpu.slot)));
            }
        }
    }
    table.push(&IoApic::new(
        ioapic.id,
        addr32(ioapic.base.0),
        ioapic.gsi_base,
    ));
    for iso in interrupt_source_overrides(plan.platform) {
        table.push(&iso);
    }
    if xapic.is_some() {
        table.push(&LocalApicNmi::new(
            ALL_PROCESSORS_U8,
            MpsIntiFlags::CONFORMS,
            LINT1,
        ));
    } else {
        table.push(&LocalX2ApicNmi::new(
            ALL_PROCESSORS_U32,
            MpsIntiFlags::CONFORMS,
            LINT1,
        ));
    }
}

/// The platform's ISA interrupt source overrides.
///
/// - IRQ0 -> GSI2 on both x86 platforms: the PC wiring of the 8254 PIT
///   (QEMU, and KVM's in-kernel PIT as QEMU routes it). A HW-reduced Linux
///   never uses the PIT (`acpi_generic_reduced_hw_init` drops the legacy
///   timer), so on vtopo-pc the entry is inert, but it keeps the table a
///   faithful description for any OS that does.
/// - No SCI override on vtopo-pc: a HW-reduced FADT has no SCI, and Linux
///   skips SCI setup when `acpi_gbl_reduced_hardware` is set. The GED and the
///   UART describe their own interrupts in the DSDT (`_CRS`), so the ISA
///   identity mapping needs no override either.
/// - qemu-q35 additionally gets QEMU's level/active-high overrides for IRQ
///   5, 9 (SCI), 10 and 11, because tables for a QEMU profile replace QEMU's
///   own (Linux ACPI table upgrade) and must describe QEMU's wiring.
#[must_use]
pub fn interrupt_source_overrides(platform: PlatformKind) -> Vec<InterruptSourceOverride> {
    let mut out = vec![InterruptSourceOverride::isa(
        PIT_IRQ,
        PIT_GSI,
        MpsIntiFlags::CONFORMS,
    )];
    if platform == PlatformKind::QemuQ35 {
        out.extend(Q35_LEVEL_IRQS.iter().map(|&irq| {
            InterruptSourceOverride::isa(
                irq,
                u32::from(irq),
                MpsIntiFlags::ACTIVE_HIGH | MpsIntiFlags::LEVEL,
            )
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;
    use crate::test_util::{arm_plan, header_ok, read_u32, read_u64, structures, x86_plan};

    const ARM: &str = "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 3\nhotpluggable = \"2\"\nmpidr-policy = \"topology\"\n";

    #[test]
    fn test_arm_madt_layout_and_header() {
        let madt = build(&arm_plan(ARM), &Options::default());
        let bytes = madt.bytes();
        header_ok(bytes, b"APIC", 5);
        // 44 + 3 GICC x 80 + GICD 24 + GICR 16 + ITS 20.
        assert_eq!(bytes.len(), 44 + 3 * 80 + 24 + 16 + 20);
        assert_eq!(read_u32(bytes, 36), 0); // Local Interrupt Controller Address
        assert_eq!(read_u32(bytes, 40), 0); // Flags
        let types: Vec<(u8, u8)> = structures(bytes, 44).iter().map(|s| (s[0], s[1])).collect();
        assert_eq!(
            types,
            vec![
                (0x0B, 80),
                (0x0B, 80),
                (0x0B, 80),
                (0x0C, 24),
                (0x0E, 16),
                (0x0F, 20)
            ]
        );
    }

    #[test]
    fn test_arm_gicc_flags_follow_slots() {
        let madt = build(&arm_plan(ARM), &Options::default());
        let gicc = structures(madt.bytes(), 44);
        // CPUs 0 and 1 boot: Enabled only. CPU 2 is a slot: Online Capable, not Enabled.
        assert_eq!(read_u32(gicc[0], 12), 0b0001);
        assert_eq!(read_u32(gicc[1], 12), 0b0001);
        assert_eq!(read_u32(gicc[2], 12), 0b1000);
    }

    #[test]
    fn test_arm_gicc_carries_uid_and_mpidr_and_no_gicr_base() {
        let plan = arm_plan(ARM);
        let madt = build(&plan, &Options::default());
        let gicc = structures(madt.bytes(), 44)[2];
        assert_eq!(read_u32(gicc, 8), 2); // ACPI Processor UID
                                          // mpidr-policy "topology": core 2 of cluster 0 is Aff1 = 2.
        assert_eq!(read_u64(gicc, 68), 0x0200);
        assert_eq!(read_u64(gicc, 68), plan.cpus[2].mpidr.unwrap().0);
        assert_eq!(read_u64(gicc, 60), 0); // GICR Base Address
        assert_eq!(read_u32(gicc, 20), PMU_INTERRUPT_GSIV);
    }

    #[test]
    fn test_arm_distributor_redistributor_and_its_come_from_the_plan() {
        let madt = build(&arm_plan(ARM), &Options::default());
        let s = structures(madt.bytes(), 44);
        assert_eq!(s[3], Gicd::new(0, 0x0800_0000, 3).as_bytes());
        // qemu-virt's low redistributor region, whole size.
        assert_eq!(s[4], Gicr::new(0x080A_0000, 0x00F6_0000).as_bytes());
        assert_eq!(s[5], GicIts::new(0, 0x0808_0000).as_bytes());
    }

    #[test]
    fn test_arm_qemu_virt_beyond_123_cpus_gets_two_gicr() {
        let src = "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 130\n";
        let madt = build(&arm_plan(src), &Options::default());
        let gicr: Vec<&[u8]> = structures(madt.bytes(), 44)
            .into_iter()
            .filter(|s| s[0] == 0x0E)
            .collect();
        assert_eq!(gicr.len(), 2);
        assert_eq!(gicr[1], Gicr::new(0x40_0000_0000, 64 << 20).as_bytes());
    }

    const X86: &str = "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\nthreads = 2\nhotpluggable = \"3\"\n";

    #[test]
    fn test_x86_small_ids_use_local_apic_entries() {
        let madt = build(&x86_plan(X86), &Options::default());
        let bytes = madt.bytes();
        header_ok(bytes, b"APIC", 5);
        assert_eq!(read_u32(bytes, 36), 0xFEE0_0000);
        assert_eq!(read_u32(bytes, 40), 0); // vtopo-pc: no PCAT_COMPAT
        let s = structures(bytes, 44);
        // 4 LAPIC, IOAPIC, ISO IRQ0->GSI2, LAPIC NMI.
        let types: Vec<u8> = s.iter().map(|e| e[0]).collect();
        assert_eq!(types, vec![0, 0, 0, 0, 1, 2, 4]);
        // x2APIC IDs: core << 1 | thread; CPU 3 = core 1 thread 1 = 3, hotpluggable.
        assert_eq!(
            s[3],
            LocalApic::new(3, 3, LocalApicFlags::ONLINE_CAPABLE).as_bytes()
        );
        assert_eq!(
            s[0],
            LocalApic::new(0, 0, LocalApicFlags::ENABLED).as_bytes()
        );
        assert_eq!(s[4], IoApic::new(0, 0xFEC0_0000, 0).as_bytes());
        assert_eq!(
            s[5],
            InterruptSourceOverride::isa(0, 2, MpsIntiFlags::CONFORMS).as_bytes()
        );
        assert_eq!(
            s[6],
            LocalApicNmi::new(0xFF, MpsIntiFlags::CONFORMS, 1).as_bytes()
        );
    }

    #[test]
    fn test_x86_an_id_of_255_switches_every_entry_to_x2apic() {
        // 256 cores: x2APIC IDs 0..=255; CPU 255 has the broadcast ID 0xFF.
        let src =
            "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 256\n";
        let madt = build(&x86_plan(src), &Options::default());
        let s = structures(madt.bytes(), 44);
        assert_eq!(s.len(), 256 + 3);
        assert!(s[..256].iter().all(|e| e[0] == 9));
        assert_eq!(
            s[255],
            LocalX2Apic::new(255, 255, LocalApicFlags::ENABLED).as_bytes()
        );
        assert_eq!(s[256][0], 1); // I/O APIC
        assert_eq!(
            s[258],
            LocalX2ApicNmi::new(0xFFFF_FFFF, MpsIntiFlags::CONFORMS, 1).as_bytes()
        );
    }

    #[test]
    fn test_x86_hotpluggable_x2apic_is_online_capable_not_enabled() {
        let src = "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 300\nhotpluggable = \"299\"\n";
        let madt = build(&x86_plan(src), &Options::default());
        let s = structures(madt.bytes(), 44);
        assert_eq!(
            s[299],
            LocalX2Apic::new(299, 299, LocalApicFlags::ONLINE_CAPABLE).as_bytes()
        );
        assert_eq!(read_u32(s[299], 8), 0b10); // Online Capable only
        assert_eq!(read_u32(s[298], 8), 0b01); // Enabled only
    }

    #[test]
    fn test_q35_gets_pcat_compat_and_qemu_overrides() {
        let src =
            "arch = \"x86_64\"\nplatform = \"qemu-q35\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n";
        let madt = build(&x86_plan(src), &Options::default());
        assert_eq!(read_u32(madt.bytes(), 40), 1);
        let isos: Vec<Vec<u8>> = structures(madt.bytes(), 44)
            .into_iter()
            .filter(|s| s[0] == 2)
            .map(<[u8]>::to_vec)
            .collect();
        let level = MpsIntiFlags::ACTIVE_HIGH | MpsIntiFlags::LEVEL;
        let expected: Vec<Vec<u8>> = [
            InterruptSourceOverride::isa(0, 2, MpsIntiFlags::CONFORMS),
            InterruptSourceOverride::isa(5, 5, level),
            InterruptSourceOverride::isa(9, 9, level),
            InterruptSourceOverride::isa(10, 10, level),
            InterruptSourceOverride::isa(11, 11, level),
        ]
        .iter()
        .map(|i| i.as_bytes().to_vec())
        .collect();
        assert_eq!(isos, expected);
    }
}
