//! x86_64 KVM, the `vtopo-pc` platform: an in-kernel irqchip (8259 PICs,
//! I/O APIC, local APICs in x2APIC-capable mode) and PIT, vCPU ids = the
//! planned x2APIC IDs with CPUID describing the planned topology
//! ([`cpuid`]), the bzImage entered through the 64-bit boot protocol with a
//! zero page, e820 map and the ACPI tables at 0xe0000 ([`boot`]), a 16550
//! console on port 0x3f8 (`vm_superio`), and power-off / reset through the
//! FADT's HW-reduced sleep and reset registers ([`ports`]).
//!
//! Application processors are never started by the VMM: KVM's in-kernel
//! LAPIC holds every vCPU other than the bootstrap processor in the
//! wait-for-SIPI state until the guest sends INIT/SIPI, which happens for a
//! hot-added CPU once the guest onlines it. The VMM only has to keep the
//! vCPU's thread in `KVM_RUN`.
//!
//! When the plan has an x2APIC ID of 255 or more, every vCPU starts with its
//! local APIC in x2APIC mode (IA32_APIC_BASE.EXTD), as firmware does for
//! such machines (SeaBIOS, OVMF; Linux then says "x2apic: enabled by
//! BIOS"): Linux reads the MADT before it would switch to x2APIC itself, and
//! in xAPIC mode it drops every MADT entry with an ID above 254. With
//! smaller IDs the APICs stay in xAPIC mode, as after a reset. A limit
//! remains: without interrupt remapping Linux onlines a CPU whose APIC ID is
//! above 255 only when the hypervisor offers the extended MSI destination ID
//! (`KVM_FEATURE_MSI_EXT_DEST_ID`), which KVM's in-kernel I/O APIC (8-bit
//! destinations) cannot honour, so vtopo does not offer it: such CPUs are
//! possible and can be hot-added (present), but Linux refuses to online them
//! ("CPU 1023 has invalid APIC ID 3ff"). Onlining them needs a split
//! irqchip with a user-space I/O APIC, as QEMU requires above 255 vCPUs.
//!
//! The guest's command line is passed exactly as given (vtopo adds
//! nothing: `console=ttyS0` and the like are the caller's choice).
//!
//! References: Linux Documentation/virt/kvm/api.rst (KVM_CREATE_IRQCHIP,
//! KVM_CREATE_PIT2, KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR,
//! KVM_CAP_X2APIC_API, KVM_SET_BOOT_CPU_ID, KVM_SET_CPUID2, KVM_IRQ_LINE),
//! Documentation/arch/x86/boot.rst; Firecracker and Cloud Hypervisor's
//! x86_64 boot code for the MSR and LAPIC set-up.

pub mod boot;
pub mod cpuid;
pub mod ports;

use std::fs::File;
use std::io::Write;

use kvm_bindings::{
    kvm_cpuid_entry2, kvm_enable_cap, kvm_msr_entry, kvm_pit_config, CpuId, Msrs, KVMIO,
    KVM_CAP_X2APIC_API, KVM_MAX_CPUID_ENTRIES, KVM_PIT_SPEAKER_DUMMY,
    KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK, KVM_X2APIC_API_USE_32BIT_IDS,
};
use kvm_ioctls::{Cap, Kvm, VcpuFd, VmFd};
use linux_loader::cmdline::Cmdline;
use linux_loader::configurator::linux::LinuxBootConfigurator;
use linux_loader::configurator::{BootConfigurator, BootParams};
use linux_loader::loader::bzimage::BzImage;
use linux_loader::loader::KernelLoader;
use planner::platform::PlatformKind;
use planner::Plan;
use tablegen::fadt::PowerRegisters;
use tablegen::link::{link, Placement};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};
use vm_superio::{Serial, Trigger};

use crate::lifecycle::Start;
use crate::vm::{
    log, memory, trace, Access, ArchVm, Claim, ConsoleDevice, Images, IrqChange, Loaded, PsciCall,
    Space, VmError,
};

/// KVM's TSS (three pages) and identity-map page (Intel VMX real mode;
/// harmless elsewhere): just below the BIOS area at the top of 4 GiB, away
/// from RAM (which ends at 3 GiB below 4 GiB) and from the I/O APIC,
/// LAPIC, hotplug registers and GED (0xfeb00000-0xfee00fff).
const TSS_ADDR: usize = 0xFFFB_D000;
const IDENTITY_MAP_ADDR: u64 = 0xFFFB_C000;

/// MSR numbers (Intel SDM Vol. 4).
mod msr {
    pub const IA32_SYSENTER_CS: u32 = 0x174;
    pub const IA32_SYSENTER_ESP: u32 = 0x175;
    pub const IA32_SYSENTER_EIP: u32 = 0x176;
    pub const IA32_MISC_ENABLE: u32 = 0x1A0;
    pub const IA32_MTRR_DEF_TYPE: u32 = 0x2FF;
    pub const STAR: u32 = 0xC000_0081;
    pub const LSTAR: u32 = 0xC000_0082;
    pub const CSTAR: u32 = 0xC000_0083;
    pub const SYSCALL_MASK: u32 = 0xC000_0084;
    pub const KERNEL_GS_BASE: u32 = 0xC000_0102;
    /// IA32_MISC_ENABLE bit 0: fast-string operations enabled.
    pub const MISC_ENABLE_FAST_STRING: u64 = 1;
    /// IA32_MTRR_DEF_TYPE: MTRRs enabled (bit 11), default type write-back (6).
    pub const MTRR_ENABLE_WB: u64 = (1 << 11) | 6;
    /// IA32_APIC_BASE: APIC base address, BSP (bit 8), EXTD, EN.
    pub const IA32_APIC_BASE: u32 = 0x1B;
    /// IA32_APIC_BASE bit 10 EXTD: x2APIC mode (with bit 11, EN).
    pub const APIC_BASE_EXTD: u64 = 1 << 10;
    /// IA32_APIC_BASE bit 11 EN: the APIC is enabled.
    pub const APIC_BASE_EN: u64 = 1 << 11;
}

/// Above this x2APIC ID the guest needs x2APIC mode from the start (xAPIC
/// IDs are 8 bits and 0xff is the broadcast ID).
const XAPIC_MAX_ID: u32 = 0xFE;

/// The boot MSRs (Firecracker's and Cloud Hypervisor's set): the syscall
/// MSRs cleared, fast strings on, MTRRs on with write-back by default.
/// IA32_TSC is not written: KVM synchronises a new vCPU's TSC with the
/// others when it is created, which a hot-added vCPU needs.
const BOOT_MSRS: [(u32, u64); 10] = [
    (msr::IA32_SYSENTER_CS, 0),
    (msr::IA32_SYSENTER_ESP, 0),
    (msr::IA32_SYSENTER_EIP, 0),
    (msr::STAR, 0),
    (msr::CSTAR, 0),
    (msr::KERNEL_GS_BASE, 0),
    (msr::SYSCALL_MASK, 0),
    (msr::LSTAR, 0),
    (msr::IA32_MISC_ENABLE, msr::MISC_ENABLE_FAST_STRING),
    (msr::IA32_MTRR_DEF_TYPE, msr::MTRR_ENABLE_WB),
];

/// LAPIC register offsets (Intel SDM Vol. 3A §11.4.1) and delivery modes.
const APIC_LVT0: usize = 0x350;
const APIC_LVT1: usize = 0x360;
const APIC_MODE_NMI: u32 = 0x4;
const APIC_MODE_EXTINT: u32 = 0x7;

vmm_sys_util::ioctl_io_nr!(KVM_SET_BOOT_CPU_ID, KVMIO, 0x78);

/// The x86_64 platform of a VM.
#[derive(Debug)]
pub struct Platform {
    /// KVM_GET_SUPPORTED_CPUID, read once.
    supported_cpuid: Vec<kvm_cpuid_entry2>,
    /// The legacy area 0xa0000..0x100000 (not RAM in the plan), with the
    /// ACPI tables at 0xe0000. KVM's slot points into it for the VM's life.
    legacy: GuestMemoryMmap,
    /// The FADT's sleep and reset registers.
    power: Option<PowerRegisters>,
    /// Start every local APIC in x2APIC mode (some x2APIC ID is above 254).
    x2apic_mode: bool,
}

fn lapic_reg(regs: &[std::os::raw::c_char], offset: usize) -> u32 {
    let b = |i: usize| regs.get(offset + i).map_or(0, |&c| c.to_ne_bytes()[0]);
    u32::from_le_bytes([b(0), b(1), b(2), b(3)])
}

fn set_lapic_reg(regs: &mut [std::os::raw::c_char], offset: usize, value: u32) {
    for (i, byte) in value.to_le_bytes().into_iter().enumerate() {
        if let Some(r) = regs.get_mut(offset + i) {
            *r = std::os::raw::c_char::from_ne_bytes([byte]);
        }
    }
}

/// An LVT register with its delivery mode (bits 10:8) set to `mode`.
fn lvt_with_mode(reg: u32, mode: u32) -> u32 {
    (reg & !0x700) | (mode << 8)
}

impl Platform {
    fn check_caps(kvm: &Kvm, plan: &Plan) -> Result<(), VmError> {
        let needed = [
            (Cap::Irqchip, "KVM_CAP_IRQCHIP"),
            (Cap::Pit2, "KVM_CAP_PIT2"),
            (Cap::SetTssAddr, "KVM_CAP_SET_TSS_ADDR"),
            (Cap::SetIdentityMapAddr, "KVM_CAP_SET_IDENTITY_MAP_ADDR"),
            (Cap::ExtCpuid, "KVM_CAP_EXT_CPUID"),
            (Cap::ImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"),
        ];
        let missing: Vec<&str> = needed
            .iter()
            .filter(|(cap, _)| !kvm.check_extension(*cap))
            .map(|(_, name)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(VmError::Unsupported(format!(
                "KVM lacks {}",
                missing.join(", ")
            )));
        }
        let want = KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK;
        let x2apic = u32::try_from(kvm.check_extension_int(Cap::X2ApicApi)).unwrap_or(0);
        if x2apic & want != want {
            return Err(VmError::Unsupported(format!(
                "KVM_CAP_X2APIC_API lacks USE_32BIT_IDS | DISABLE_BROADCAST_QUIRK (has {x2apic:#x})"
            )));
        }
        let max_id = plan
            .cpus
            .iter()
            .map(|c| c.x2apic_id.map_or(c.index.0, |a| a.0))
            .max()
            .unwrap_or(0);
        let id_limit = kvm.get_max_vcpu_id();
        if usize::try_from(max_id).unwrap_or(usize::MAX) >= id_limit {
            return Err(VmError::Unsupported(format!(
                "The x2APIC ID {max_id:#x} is not below KVM's vCPU id limit {id_limit} (KVM_CAP_MAX_VCPU_ID)"
            )));
        }
        let max_vcpus = kvm.get_max_vcpus();
        if plan.cpus.len() > max_vcpus {
            return Err(VmError::Unsupported(format!(
                "The plan has {} possible CPUs; KVM allows {max_vcpus} vCPUs per VM (KVM_CAP_MAX_VCPUS)",
                plan.cpus.len()
            )));
        }
        Ok(())
    }

    /// Switches the vCPU's enabled local APIC to x2APIC mode (xAPIC to
    /// x2APIC is the one legal direct transition, Intel SDM Vol. 3A
    /// §11.12.5); KVM then makes the APIC ID the vcpu id (the x2APIC ID).
    fn enable_x2apic(vcpu: &VcpuFd, index: u32) -> Result<(), VmError> {
        let mut msrs = Msrs::from_entries(&[kvm_msr_entry {
            index: msr::IA32_APIC_BASE,
            ..kvm_msr_entry::default()
        }])
        .map_err(|e| {
            VmError::Unsupported(format!("Cannot build the IA32_APIC_BASE MSR list: {e:?}"))
        })?;
        vcpu.get_msrs(&mut msrs)
            .map_err(VmError::kvm(format!("read IA32_APIC_BASE of vCPU {index}")))?;
        let base = msrs.as_slice().first().map_or(0, |e| e.data);
        let x2apic = base | msr::APIC_BASE_EN | msr::APIC_BASE_EXTD;
        let msrs = Msrs::from_entries(&[kvm_msr_entry {
            index: msr::IA32_APIC_BASE,
            data: x2apic,
            ..kvm_msr_entry::default()
        }])
        .map_err(|e| {
            VmError::Unsupported(format!("Cannot build the IA32_APIC_BASE MSR list: {e:?}"))
        })?;
        let set = vcpu.set_msrs(&msrs).map_err(VmError::kvm(format!(
            "switch vCPU {index}'s APIC to x2APIC mode"
        )))?;
        if set != 1 {
            return Err(VmError::Vcpu {
                cpu: index,
                reason: format!("KVM refused IA32_APIC_BASE = {x2apic:#x} (x2APIC mode)"),
            });
        }
        Ok(())
    }

    /// Maps the legacy area and registers it in KVM slot `slot`.
    fn map_legacy(vm: &VmFd, slot: u32) -> Result<GuestMemoryMmap, VmError> {
        let (start, end) = boot::LEGACY_AREA;
        let size = usize::try_from(end - start).unwrap_or(0);
        let legacy = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(start), size)])
            .map_err(|e| VmError::Memory(format!("cannot map the legacy area: {e}")))?;
        for region in legacy.iter() {
            // SAFETY: the region is a live anonymous mapping owned by the
            // Platform, which the VM keeps until the process ends; the range
            // 0xa0000..0x100000 is outside every plan RAM range (the x86 hole
            // 640 KiB..1 MiB), and `slot` (KVM's last) is not one of the
            // plan's RAM slots (numbered from 0).
            unsafe { memory::register_slot(vm, slot, region, "the legacy area") }?;
        }
        Ok(legacy)
    }
}

impl ArchVm for Platform {
    fn new(kvm: &Kvm, vm: &VmFd, plan: &Plan) -> Result<Self, VmError> {
        if plan.platform != PlatformKind::VtopoPc {
            return Err(VmError::Unsupported(format!(
                "The x86 VMM boots platform \"vtopo-pc\" only: \"{}\" describes another machine's devices (QEMU q35: ACPI PM and GPE blocks, firmware), which vtopo does not emulate",
                plan.platform.name()
            )));
        }
        Self::check_caps(kvm, plan)?;
        // The bootstrap processor is KVM's BSP (it starts running; every
        // other vCPU waits for INIT/SIPI): KVM's default BSP is vcpu id 0.
        let bsp = plan
            .boot_cpus()
            .next()
            .map_or(0, |c| c.x2apic_id.map_or(c.index.0, |a| a.0));
        if bsp != 0 {
            if !kvm.check_extension(Cap::SetBootCpuId) {
                return Err(VmError::Unsupported(format!(
                    "The bootstrap processor's x2APIC ID is {bsp:#x}, and KVM lacks KVM_CAP_SET_BOOT_CPU_ID"
                )));
            }
            // SAFETY: KVM_SET_BOOT_CPU_ID takes its argument by value and
            // touches no user memory; `vm` is a live VM fd with no vCPU yet.
            let rc = unsafe {
                vmm_sys_util::ioctl::ioctl_with_val(vm, KVM_SET_BOOT_CPU_ID(), u64::from(bsp))
            };
            if rc < 0 {
                return Err(VmError::Kvm {
                    what: format!("make x2APIC ID {bsp:#x} the boot CPU (KVM_SET_BOOT_CPU_ID)"),
                    source: kvm_ioctls::Error::last(),
                });
            }
        }
        vm.set_tss_address(TSS_ADDR)
            .map_err(VmError::kvm(format!("place its TSS at {TSS_ADDR:#x}")))?;
        vm.set_identity_map_address(IDENTITY_MAP_ADDR)
            .map_err(VmError::kvm(format!(
                "place its identity map page at {IDENTITY_MAP_ADDR:#x}"
            )))?;
        // Before any vCPU (KVM refuses the irqchip afterwards).
        vm.create_irq_chip().map_err(VmError::kvm(
            "create the in-kernel irqchip (PIC, I/O APIC, LAPICs)",
        ))?;
        let cap = kvm_enable_cap {
            cap: KVM_CAP_X2APIC_API,
            args: [
                u64::from(KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK),
                0,
                0,
                0,
            ],
            ..kvm_enable_cap::default()
        };
        vm.enable_cap(&cap).map_err(VmError::kvm(
            "enable the x2APIC API (32-bit APIC IDs, no broadcast quirk)",
        ))?;
        vm.create_pit2(kvm_pit_config {
            flags: KVM_PIT_SPEAKER_DUMMY,
            ..kvm_pit_config::default()
        })
        .map_err(VmError::kvm("create the in-kernel PIT"))?;
        let supported_cpuid = kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(VmError::kvm("report its supported CPUID"))?
            .as_slice()
            .to_vec();
        // The highest slot KVM offers: the generic code numbers the plan's
        // RAM slots from 0.
        let slot = u32::try_from(kvm.get_nr_memslots().saturating_sub(1)).unwrap_or(u32::MAX);
        let legacy = Self::map_legacy(vm, slot)?;
        trace(|| {
            format!(
                "x86: CPUID vendor {:?}, {} supported entries; BSP x2APIC ID {bsp:#x}",
                cpuid::Vendor::of(&supported_cpuid),
                supported_cpuid.len()
            )
        });
        let x2apic_mode = plan
            .cpus
            .iter()
            .any(|c| c.x2apic_id.is_some_and(|a| a.0 > XAPIC_MAX_ID));
        if x2apic_mode {
            log("x2APIC IDs above 254: local APICs start in x2APIC mode");
        }
        let unusable: Vec<u32> = plan
            .cpus
            .iter()
            .filter(|c| c.x2apic_id.is_some_and(|a| a.0 > 0xFF))
            .map(|c| c.index.0)
            .collect();
        if let (Some(first), Some(last)) = (unusable.first(), unusable.last()) {
            // See the module documentation: no split irqchip yet.
            log(&format!(
                "warning: {} CPU(s) (plan indices {first}..={last}) have x2APIC IDs above 255: \
                 a Linux guest will not online them \
                 (it needs interrupt remapping or the extended MSI destination ID, which KVM's \
                 in-kernel I/O APIC cannot offer; vtopo has no user-space I/O APIC yet)",
                unusable.len()
            ));
        }
        Ok(Self {
            supported_cpuid,
            legacy,
            power: tablegen::fadt::power_registers(plan.platform),
            x2apic_mode,
        })
    }

    fn create_vcpu(
        &self,
        _kvm: &Kvm,
        vm: &VmFd,
        plan: &Plan,
        index: u32,
        id: u64,
        _bootstrap: bool,
    ) -> Result<VcpuFd, VmError> {
        let vcpu = vm.create_vcpu(id).map_err(VmError::kvm(format!(
            "create vCPU {index} (x2APIC ID {id:#x})"
        )))?;
        let entries = cpuid::guest_cpuid(plan, index, &self.supported_cpuid);
        let table = CpuId::from_entries(&entries).map_err(|e| {
            VmError::Unsupported(format!(
                "Cannot pass {} CPUID entries to KVM: {e:?}",
                entries.len()
            ))
        })?;
        vcpu.set_cpuid2(&table)
            .map_err(VmError::kvm(format!("set the CPUID of vCPU {index}")))?;
        let msrs: Vec<kvm_msr_entry> = BOOT_MSRS
            .iter()
            .map(|&(index, data)| kvm_msr_entry {
                index,
                data,
                ..kvm_msr_entry::default()
            })
            .collect();
        let msrs = Msrs::from_entries(&msrs)
            .map_err(|e| VmError::Unsupported(format!("Cannot build the boot MSR list: {e:?}")))?;
        let set = vcpu
            .set_msrs(&msrs)
            .map_err(VmError::kvm(format!("set the boot MSRs of vCPU {index}")))?;
        if set != BOOT_MSRS.len() {
            let failed = BOOT_MSRS.get(set).map_or(0, |m| m.0);
            return Err(VmError::Vcpu {
                cpu: index,
                reason: format!(
                    "KVM took {set} of {} boot MSRs (refused MSR {failed:#x})",
                    BOOT_MSRS.len()
                ),
            });
        }
        // LINT0 delivers the 8259's ExtINT, LINT1 NMIs (the MP spec's
        // virtual wire mode, as a PC firmware leaves them).
        let mut lapic = vcpu
            .get_lapic()
            .map_err(VmError::kvm(format!("read the LAPIC of vCPU {index}")))?;
        let lint0 = lvt_with_mode(lapic_reg(&lapic.regs, APIC_LVT0), APIC_MODE_EXTINT);
        let lint1 = lvt_with_mode(lapic_reg(&lapic.regs, APIC_LVT1), APIC_MODE_NMI);
        set_lapic_reg(&mut lapic.regs, APIC_LVT0, lint0);
        set_lapic_reg(&mut lapic.regs, APIC_LVT1, lint1);
        vcpu.set_lapic(&lapic)
            .map_err(VmError::kvm(format!("set the LAPIC LVTs of vCPU {index}")))?;
        vcpu.set_fpu(&boot::boot_fpu())
            .map_err(VmError::kvm(format!("set the FPU of vCPU {index}")))?;
        if self.x2apic_mode {
            Self::enable_x2apic(&vcpu, index)?;
        }
        Ok(vcpu)
    }

    fn set_mpidr(&self, _vcpu: &VcpuFd, _mpidr: u64) -> Result<(), VmError> {
        Err(VmError::Unsupported("An x86 vCPU has no MPIDR".into()))
    }

    fn finalize_irqchip(&self, _vm: &VmFd, _plan: &Plan) -> Result<(), VmError> {
        Ok(())
    }

    fn load(&self, mem: &GuestMemoryMmap, plan: &Plan, images: &Images) -> Result<Loaded, VmError> {
        let load_err = |what: &str| {
            let what = what.to_string();
            move |reason: String| VmError::Load { what, reason }
        };
        let mut kernel = File::open(&images.kernel).map_err(|source| VmError::Read {
            path: images.kernel.clone(),
            source,
        })?;
        let kernel_what = format!("kernel {}", images.kernel.display());
        let k = BzImage::load(
            mem,
            Some(GuestAddress(boot::KERNEL_ADDR)),
            &mut kernel,
            Some(GuestAddress(boot::KERNEL_ADDR)),
        )
        .map_err(|e| VmError::Load {
            what: kernel_what.clone(),
            reason: format!("{e} (a bzImage is expected)"),
        })?;
        let hdr = k.setup_header.ok_or_else(|| VmError::Load {
            what: kernel_what.clone(),
            reason: "no setup header".into(),
        })?;
        let (version, xloadflags) = (hdr.version, hdr.xloadflags);
        if version < boot::MIN_BOOT_PROTOCOL || xloadflags & boot::XLF_KERNEL_64 == 0 {
            return Err(VmError::Load {
                what: kernel_what,
                reason: format!(
                    "boot protocol {version:#x}, xloadflags {xloadflags:#x}: no 64-bit entry point (protocol 2.12+ with XLF_KERNEL_64 needed)"
                ),
            });
        }
        let kernel_size = u64::from(hdr.init_size).max(k.kernel_end - boot::KERNEL_ADDR);

        let initrd = match &images.initrd {
            Some(path) => Some(std::fs::read(path).map_err(|source| VmError::Read {
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        let set = tablegen::build(plan, &tablegen::Options::default());
        // Link once to learn the size, then at the address the layout picks.
        let probe = link(
            &set,
            Placement::Linked {
                base: planner::ids::GuestAddr(boot::RSDP_ADDR),
                facs: None,
            },
        );
        let tables_len = probe.image.as_ref().map_or(0, Vec::len) as u64;
        let layout = boot::layout(
            &plan.memory.ram,
            kernel_size,
            initrd.as_ref().map(|b| b.len() as u64),
            u64::from(hdr.initrd_addr_max),
            tables_len,
        )
        .map_err(load_err("the boot layout"))?;
        let linked = if layout.tables == boot::RSDP_ADDR {
            probe
        } else {
            link(
                &set,
                Placement::Linked {
                    base: planner::ids::GuestAddr(layout.tables),
                    facs: None,
                },
            )
        };
        let image = linked.image.unwrap_or_default();
        if layout.tables == boot::RSDP_ADDR {
            self.legacy
                .write_slice(&image, GuestAddress(boot::RSDP_ADDR))
                .map_err(|e| VmError::Load {
                    what: "the ACPI tables".into(),
                    reason: format!("{} bytes at {:#x}: {e}", image.len(), boot::RSDP_ADDR),
                })?;
        } else {
            mem.write_slice(&image, GuestAddress(layout.tables))
                .map_err(|e| VmError::Load {
                    what: "the ACPI tables".into(),
                    reason: format!("{} bytes at {:#x}: {e}", image.len(), layout.tables),
                })?;
            // The RSDP is self-contained (it points at the XSDT): a copy
            // at 0xe0000 works as well as the original.
            let rsdp = image
                .get(..tablegen::wire::rsdp::Rsdp::LENGTH)
                .unwrap_or(&[]);
            self.legacy
                .write_slice(rsdp, GuestAddress(boot::RSDP_ADDR))
                .map_err(|e| VmError::Load {
                    what: "the RSDP".into(),
                    reason: e.to_string(),
                })?;
        }
        let initrd_range = match (&initrd, layout.initrd) {
            (Some(bytes), Some(at)) => {
                mem.write_slice(bytes, GuestAddress(at))
                    .map_err(|e| VmError::Load {
                        what: "the initrd".into(),
                        reason: format!("{} bytes at {at:#x}: {e}", bytes.len()),
                    })?;
                Some((at, bytes.len() as u64))
            }
            _ => None,
        };

        let cmdline_max =
            usize::try_from(u64::from(hdr.cmdline_size).min(boot::CMDLINE_MAX - 1)).unwrap_or(0);
        if images.cmdline.len() > cmdline_max {
            return Err(VmError::Load {
                what: "the command line".into(),
                reason: format!(
                    "{} bytes; the kernel takes at most {cmdline_max}",
                    images.cmdline.len()
                ),
            });
        }
        let mut cmdline = Cmdline::new(cmdline_max + 1)
            .map_err(|e| load_err("the command line")(e.to_string()))?;
        if !images.cmdline.is_empty() {
            cmdline
                .insert_str(&images.cmdline)
                .map_err(|e| load_err("the command line")(e.to_string()))?;
        }
        linux_loader::loader::load_cmdline(mem, GuestAddress(boot::CMDLINE_ADDR), &cmdline)
            .map_err(|e| load_err("the command line")(e.to_string()))?;

        let write = |addr: u64, bytes: &[u8], what: &str| {
            mem.write_slice(bytes, GuestAddress(addr))
                .map_err(|e| VmError::Load {
                    what: what.into(),
                    reason: format!("at {addr:#x}: {e}"),
                })
        };
        write(boot::GDT_ADDR, &boot::gdt_bytes(), "the boot GDT")?;
        write(boot::IDT_ADDR, &[0; 8], "the boot IDT")?;
        write(
            boot::PML4_ADDR,
            &boot::page_tables(),
            "the boot page tables",
        )?;
        let params = boot::zero_page(
            hdr,
            (boot::CMDLINE_ADDR, images.cmdline.len()),
            initrd_range,
            &layout.e820,
            boot::RSDP_ADDR,
        );
        LinuxBootConfigurator::write_bootparams::<GuestMemoryMmap>(
            &BootParams::new(&params, GuestAddress(boot::ZERO_PAGE_ADDR)),
            mem,
        )
        .map_err(|e| load_err("the zero page")(e.to_string()))?;

        log(&format!(
            "kernel {:#x}..{:#x} (boot protocol {version:#x}, init_size {:#x}), initrd {}, ACPI tables {:#x} ({} bytes), RSDP {:#x}, e820 {}",
            k.kernel_load.0,
            k.kernel_end,
            { hdr.init_size },
            initrd_range.map_or_else(|| "none".to_string(), |(a, l)| format!("{a:#x}+{l:#x}")),
            layout.tables,
            image.len(),
            boot::RSDP_ADDR,
            layout
                .e820
                .iter()
                .map(|e| format!("{:#x}+{:#x}:{}", e.addr, e.size, e.kind))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        Ok(Loaded {
            entry: k.kernel_load.0 + boot::ENTRY_64_OFFSET,
            boot_data: boot::ZERO_PAGE_ADDR,
            rsdp: boot::RSDP_ADDR,
        })
    }

    fn prepare_start(
        &self,
        vcpu: &VcpuFd,
        bootstrap: bool,
        _mpidr: Option<u64>,
        loaded: &Loaded,
        start: Option<Start>,
    ) -> Result<(), VmError> {
        if start.is_some() {
            return Err(VmError::Unsupported(
                "An x86 vCPU starts by INIT/SIPI, not at an entry point".into(),
            ));
        }
        if !bootstrap {
            // An application processor: KVM holds it for INIT/SIPI.
            return Ok(());
        }
        let sregs = vcpu
            .get_sregs()
            .map_err(VmError::kvm("read the BSP's special registers"))?;
        vcpu.set_sregs(&boot::boot_sregs(sregs))
            .map_err(VmError::kvm("enter long mode on the BSP"))?;
        vcpu.set_regs(&boot::boot_regs(loaded.entry, loaded.boot_data))
            .map_err(VmError::kvm("set the BSP's entry registers"))?;
        Ok(())
    }

    fn set_irq_line(&self, vm: &VmFd, gsi: u32, level: bool) -> Result<(), VmError> {
        vm.set_irq_line(gsi, level).map_err(VmError::kvm(format!(
            "set GSI {gsi} to {}",
            u8::from(level)
        )))
    }

    fn console(&self, _plan: &Plan, out: Box<dyn Write + Send>) -> Box<dyn ConsoleDevice> {
        Box::new(SerialConsole {
            uart: Serial::new(Pending::default(), out),
        })
    }

    fn decode_hypercall(&self, _vcpu: &VcpuFd, function: u64) -> Result<PsciCall, VmError> {
        Err(VmError::Unsupported(format!(
            "Hypercall {function:#x}: an x86 guest has no PSCI"
        )))
    }

    fn complete_hypercall(&self, _vcpu: &VcpuFd, _result: i64) -> Result<(), VmError> {
        Err(VmError::Unsupported("An x86 guest has no PSCI".into()))
    }

    fn unclaimed(&self, space: Space, addr: u64, access: Access<'_>) -> Claim {
        let port = match (space, u16::try_from(addr)) {
            (Space::Pio, Ok(port)) => port,
            _ => {
                if let Access::Read(data) = access {
                    data.fill(0);
                }
                return Claim::Unclaimed;
            }
        };
        let power = self.power.as_ref();
        if let Some(name) = ports::legacy_name(port) {
            trace(|| {
                let what = match &access {
                    Access::Read(d) => format!("read of {} byte(s)", d.len()),
                    Access::Write(d) => format!("write of {d:x?}"),
                };
                format!("port {port:#x} ({name}, absent): {what}")
            });
        }
        match access {
            Access::Read(data) => {
                let outcome = ports::read(power, port);
                data.fill(match outcome {
                    ports::Port::Read(v) => v,
                    _ => 0,
                });
                outcome.claim()
            }
            Access::Write(data) => {
                let outcome = ports::write(power, port, data);
                if matches!(outcome, ports::Port::PowerOff | ports::Port::Reset) {
                    log(&format!(
                        "guest wrote {:#x} to port {port:#x}: {}",
                        data.first().copied().unwrap_or(0),
                        if outcome == ports::Port::PowerOff {
                            "power off (ACPI S5)"
                        } else {
                            "reset"
                        }
                    ));
                }
                outcome.claim()
            }
        }
    }
}

/// A `vm_superio` trigger that remembers a pending interrupt.
#[derive(Debug, Default)]
struct Pending(std::cell::Cell<bool>);

impl Trigger for Pending {
    type E = std::convert::Infallible;
    fn trigger(&self) -> Result<(), Self::E> {
        self.0.set(true);
        Ok(())
    }
}

/// The 16550 behind the [`ConsoleDevice`] interface: byte registers, an
/// edge-triggered ISA interrupt (IRQ 4) pulsed whenever the UART raises one.
struct SerialConsole {
    uart: Serial<Pending, vm_superio::serial::NoEvents, Box<dyn Write + Send>>,
}

impl ConsoleDevice for SerialConsole {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let value = u8::try_from(offset).map_or(0xFF, |o| self.uart.read(o));
        data.fill(0);
        if let Some(first) = data.first_mut() {
            *first = value;
        }
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        if let (Ok(o), Some(&v)) = (u8::try_from(offset), data.first()) {
            // A console that cannot be written loses the byte; the guest
            // still sees the transmitter empty.
            let _ = self.uart.write(o, v);
        }
    }

    fn irq(&mut self) -> IrqChange {
        if self.uart.interrupt_evt().0.replace(false) {
            IrqChange::Edge
        } else {
            IrqChange::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_lvt_delivery_modes() {
        // Reset LVT value: masked (bit 16), mode fixed.
        assert_eq!(lvt_with_mode(0x1_0000, APIC_MODE_EXTINT), 0x1_0700);
        assert_eq!(lvt_with_mode(0x1_0700, APIC_MODE_NMI), 0x1_0400);
        let mut regs = [0 as std::os::raw::c_char; 1024];
        set_lapic_reg(&mut regs, APIC_LVT1, 0x0001_0400);
        assert_eq!(lapic_reg(&regs, APIC_LVT1), 0x0001_0400);
        assert_eq!(lapic_reg(&regs, APIC_LVT0), 0);
    }

    #[test]
    fn test_serial_console_raises_an_edge_for_thr_empty() {
        let mut console = SerialConsole {
            uart: Serial::new(
                Pending::default(),
                Box::new(Vec::<u8>::new()) as Box<dyn Write + Send>,
            ),
        };
        // IER = THR empty interrupt enabled: the UART interrupts at once.
        console.write(1, &[0x02]);
        assert_eq!(console.irq(), IrqChange::Edge);
        assert_eq!(console.irq(), IrqChange::None);
        // The guest's handler reads IIR (THR empty identified, which
        // acknowledges it), then sends a byte: the next THR-empty edge.
        let mut iir = [0u8; 1];
        console.read(2, &mut iir);
        assert_eq!(iir[0] & 0x0F, 0x02);
        console.write(0, b"x");
        assert_eq!(console.irq(), IrqChange::Edge);
    }

    #[test]
    fn test_tss_and_identity_map_avoid_the_platform_devices() {
        // 3 TSS pages and the identity map page: 0xfffbc000..0xfffc0000.
        let (lo, hi) = (IDENTITY_MAP_ADDR, TSS_ADDR as u64 + 3 * 0x1000);
        assert_eq!(hi, 0xFFFC_0000);
        for device in [0xFEB0_0000u64, 0xFEB0_1000, 0xFEC0_0000, 0xFEE0_0000] {
            assert!(!(lo..hi).contains(&device));
        }
        assert!(lo > 3 << 30); // above vtopo-pc's low RAM
    }
}
