//! arm64 KVM: vCPUs with PSCI 0.2 (secondaries powered off), MPIDR_EL1 from
//! the plan, a VGICv3 with one redistributor frame per possible CPU (and the
//! plan's ITS), PSCI CPU_ON / CPU_OFF / AFFINITY_INFO forwarded to the VMM by
//! the SMCCC filter, the firmware-less boot artifacts (`tablegen::boot`)
//! instead of UEFI, and a PL011 console.
//!
//! References: Linux Documentation/virt/kvm/api.rst (KVM_ARM_VCPU_INIT,
//! KVM_ARM_VM_SMCCC_FILTER, KVM_EXIT_HYPERCALL), devices/arm-vgic-v3.rst and
//! arm-vgic-its.rst; Documentation/arch/arm64/booting.rst (x0 = DTB, MMU
//! off, EL1h with DAIF masked); Arm DEN0022 (PSCI 1.1) §5.

use std::fs::File;
use std::io::Write;

use kvm_bindings::{
    kvm_create_device, kvm_device_attr, kvm_device_type_KVM_DEV_TYPE_ARM_VGIC_ITS,
    kvm_device_type_KVM_DEV_TYPE_ARM_VGIC_V3, kvm_regs, kvm_smccc_filter,
    kvm_smccc_filter_action_KVM_SMCCC_FILTER_FWD_TO_USER, kvm_vcpu_init, user_pt_regs,
    KVM_ARM_IRQ_TYPE_SHIFT, KVM_ARM_IRQ_TYPE_SPI, KVM_ARM_VCPU_POWER_OFF, KVM_ARM_VCPU_PSCI_0_2,
    KVM_ARM_VM_SMCCC_CTRL, KVM_ARM_VM_SMCCC_FILTER, KVM_DEV_ARM_VGIC_CTRL_INIT,
    KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
    KVM_REG_ARM64, KVM_REG_ARM64_SYSREG, KVM_REG_ARM64_SYSREG_CRM_SHIFT,
    KVM_REG_ARM64_SYSREG_CRN_SHIFT, KVM_REG_ARM64_SYSREG_OP0_SHIFT, KVM_REG_ARM64_SYSREG_OP1_SHIFT,
    KVM_REG_ARM64_SYSREG_OP2_SHIFT, KVM_REG_ARM_CORE, KVM_REG_SIZE_U64, KVM_VGIC_ITS_ADDR_TYPE,
    KVM_VGIC_V3_ADDR_TYPE_DIST, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
};
use kvm_ioctls::{Cap, Kvm, VcpuFd, VmFd};
use linux_loader::loader::pe::PE;
use linux_loader::loader::KernelLoader;
use planner::ids::{GuestAddr, GuestRange};
use planner::platform::{InterruptController, PlatformKind};
use planner::Plan;
use tablegen::boot::{BootOptions, BLOB_ALIGN};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

use crate::devices::pl011::Pl011;
use crate::lifecycle::Start;
use crate::vm::{
    log, trace, Access, ArchVm, Claim, ConsoleDevice, Images, IrqChange, Loaded, PsciCall, Space,
    VmError,
};

/// PSCI function ids (DEN0022 §5.1, SMC32 / SMC64).
mod psci {
    pub const CPU_OFF: u32 = 0x8400_0002;
    pub const CPU_ON_32: u32 = 0x8400_0003;
    pub const AFFINITY_INFO_32: u32 = 0x8400_0004;
    pub const CPU_ON_64: u32 = 0xC400_0003;
    pub const AFFINITY_INFO_64: u32 = 0xC400_0004;
}

/// PSTATE for a kernel entry: EL1h with D, A, I and F masked
/// (Documentation/arch/arm64/booting.rst).
const PSTATE_EL1H_DAIF: u64 = 0x3C5;

/// Interrupts of the VGIC: 32 private and 224 shared (KVM's default is 64
/// SPIs' worth; the plan's devices use INTIDs below 64).
const VGIC_NR_IRQS: u32 = 256;

/// The initrd goes at RAM base + 128 MiB (as QEMU's direct kernel boot
/// does), or after the kernel when that is higher.
const INITRD_OFFSET: u64 = 128 << 20;

/// KVM register id of a system register.
const fn sysreg(op0: u64, op1: u64, crn: u64, crm: u64, op2: u64) -> u64 {
    KVM_REG_ARM64
        | KVM_REG_SIZE_U64
        | KVM_REG_ARM64_SYSREG as u64
        | (op0 << KVM_REG_ARM64_SYSREG_OP0_SHIFT)
        | (op1 << KVM_REG_ARM64_SYSREG_OP1_SHIFT)
        | (crn << KVM_REG_ARM64_SYSREG_CRN_SHIFT)
        | (crm << KVM_REG_ARM64_SYSREG_CRM_SHIFT)
        | (op2 << KVM_REG_ARM64_SYSREG_OP2_SHIFT)
}
/// MPIDR_EL1 (op0 3, op1 0, CRn 0, CRm 0, op2 5).
const MPIDR_EL1: u64 = sysreg(3, 0, 0, 0, 5);
/// CLIDR_EL1 (op0 3, op1 1, CRn 0, CRm 0, op2 1).
const CLIDR_EL1: u64 = sysreg(3, 1, 0, 0, 1);
/// MPIDR bit 31 is RES1.
const MPIDR_RES1: u64 = 1 << 31;

/// KVM register id of a core register at byte `offset` of `struct kvm_regs`.
const fn core_reg(offset: usize) -> u64 {
    KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE as u64 | (offset / 4) as u64
}
const fn x_reg(n: usize) -> u64 {
    core_reg(
        std::mem::offset_of!(kvm_regs, regs) + std::mem::offset_of!(user_pt_regs, regs) + n * 8,
    )
}
const PC: u64 =
    core_reg(std::mem::offset_of!(kvm_regs, regs) + std::mem::offset_of!(user_pt_regs, pc));
const PSTATE: u64 =
    core_reg(std::mem::offset_of!(kvm_regs, regs) + std::mem::offset_of!(user_pt_regs, pstate));

const fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

/// The arm64 platform of a VM.
#[derive(Debug)]
pub struct Platform {
    /// KVM_ARM_VCPU_INIT argument without POWER_OFF.
    init: kvm_vcpu_init,
    /// The plan's cache levels as CLIDR_EL1 (None: KVM's default).
    clidr: Option<u64>,
}

fn set_reg(vcpu: &VcpuFd, id: u64, value: u64, what: &str) -> Result<(), VmError> {
    vcpu.set_one_reg(id, &value.to_le_bytes())
        .map(|_| ())
        .map_err(VmError::kvm(format!("set {what}")))
}

fn get_reg(vcpu: &VcpuFd, id: u64, what: &str) -> Result<u64, VmError> {
    let mut bytes = [0u8; 8];
    vcpu.get_one_reg(id, &mut bytes)
        .map_err(VmError::kvm(format!("read {what}")))?;
    Ok(u64::from_le_bytes(bytes))
}

fn device_attr(group: u32, attr: u64, value: &u64) -> kvm_device_attr {
    kvm_device_attr {
        group,
        attr,
        addr: std::ptr::from_ref(value) as u64,
        flags: 0,
    }
}

impl ArchVm for Platform {
    fn new(kvm: &Kvm, vm: &VmFd, plan: &Plan) -> Result<Self, VmError> {
        if plan.platform != PlatformKind::VtopoVirt {
            return Err(VmError::Unsupported(format!(
                "The arm64 VMM boots platform \"vtopo-virt\" only: \"{}\" describes another machine (QEMU virt: its flash, its redistributor layout, no CPU hotplug registers)",
                plan.platform.name()
            )));
        }
        if !kvm.check_extension(Cap::ArmPsci02) {
            return Err(VmError::Unsupported(
                "KVM has no PSCI 0.2 (KVM_CAP_ARM_PSCI_0_2)".into(),
            ));
        }
        // The SMCCC filter: the PSCI calls that start, stop and query CPUs
        // come to vtopo, which knows which slots are enabled (Linux 6.4+).
        let action = u8::try_from(kvm_smccc_filter_action_KVM_SMCCC_FILTER_FWD_TO_USER)
            .map_err(|_| VmError::Unsupported("SMCCC filter action out of range".into()))?;
        for (base, nr) in [
            (psci::CPU_OFF, psci::AFFINITY_INFO_32 - psci::CPU_OFF + 1),
            (
                psci::CPU_ON_64,
                psci::AFFINITY_INFO_64 - psci::CPU_ON_64 + 1,
            ),
        ] {
            let filter = kvm_smccc_filter {
                base,
                nr_functions: nr,
                action,
                pad: [0; 15],
            };
            let attr = kvm_device_attr {
                group: KVM_ARM_VM_SMCCC_CTRL,
                attr: u64::from(KVM_ARM_VM_SMCCC_FILTER),
                addr: std::ptr::from_ref(&filter) as u64,
                flags: 0,
            };
            vm.set_device_attr(&attr).map_err(VmError::kvm(format!(
                "forward PSCI functions {base:#x}..{:#x} to user space (SMCCC filter, Linux 6.4+)",
                base + nr
            )))?;
        }
        let mut init = kvm_vcpu_init::default();
        vm.get_preferred_target(&mut init)
            .map_err(VmError::kvm("report its preferred vCPU target"))?;
        init.features[0] |= 1 << KVM_ARM_VCPU_PSCI_0_2;
        Ok(Self {
            init,
            clidr: planner::arch::clidr_el1(&plan.caches),
        })
    }

    fn create_vcpu(
        &self,
        _kvm: &Kvm,
        vm: &VmFd,
        _plan: &Plan,
        index: u32,
        id: u64,
        bootstrap: bool,
    ) -> Result<VcpuFd, VmError> {
        let vcpu = vm
            .create_vcpu(id)
            .map_err(VmError::kvm(format!("create vCPU {index}")))?;
        let mut kvi = self.init;
        if !bootstrap {
            kvi.features[0] |= 1 << KVM_ARM_VCPU_POWER_OFF;
        }
        vcpu.vcpu_init(&kvi)
            .map_err(VmError::kvm(format!("initialise vCPU {index}")))?;
        if let Some(clidr) = self.clidr {
            // The planned cache levels; Linux fills them from the PPTT.
            set_reg(
                &vcpu,
                CLIDR_EL1,
                clidr,
                &format!("CLIDR_EL1 = {clidr:#x} (Linux 6.3+)"),
            )?;
        }
        Ok(vcpu)
    }

    fn set_mpidr(&self, vcpu: &VcpuFd, mpidr: u64) -> Result<(), VmError> {
        set_reg(vcpu, MPIDR_EL1, mpidr | MPIDR_RES1, "MPIDR_EL1")
    }

    fn finalize_irqchip(&self, vm: &VmFd, plan: &Plan) -> Result<(), VmError> {
        let InterruptController::GicV3 {
            distributor,
            redistributors,
            its,
        } = &plan.interrupt_controller
        else {
            return Err(VmError::Unsupported(
                "an aarch64 plan without a GICv3".into(),
            ));
        };
        let mut dev = kvm_create_device {
            type_: kvm_device_type_KVM_DEV_TYPE_ARM_VGIC_V3,
            fd: 0,
            flags: 0,
        };
        let gic = vm
            .create_device(&mut dev)
            .map_err(VmError::kvm("create a VGICv3"))?;
        let nr_irqs = u64::from(VGIC_NR_IRQS);
        gic.set_device_attr(&kvm_device_attr {
            group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
            attr: 0,
            addr: std::ptr::from_ref(&nr_irqs) as u64,
            flags: 0,
        })
        .map_err(VmError::kvm("set the VGIC's number of interrupts"))?;
        let dist = distributor.base.0;
        gic.set_device_attr(&device_attr(
            KVM_DEV_ARM_VGIC_GRP_ADDR,
            u64::from(KVM_VGIC_V3_ADDR_TYPE_DIST),
            &dist,
        ))
        .map_err(VmError::kvm(format!(
            "place the GIC distributor at {dist:#x}"
        )))?;
        // One redistributor region per plan region: count 63:52, base 51:16,
        // index 11:0 (arm-vgic-v3.rst, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION).
        for (i, region) in (0u64..).zip(redistributors) {
            let value = (u64::from(region.frames) << 52) | region.base.0 | i;
            gic.set_device_attr(&device_attr(
                KVM_DEV_ARM_VGIC_GRP_ADDR,
                u64::from(KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION),
                &value,
            ))
            .map_err(VmError::kvm(format!(
                "place redistributor region {i} ({} frames) at {:#x}",
                region.frames, region.base.0
            )))?;
        }
        gic.set_device_attr(&kvm_device_attr {
            group: KVM_DEV_ARM_VGIC_GRP_CTRL,
            attr: u64::from(KVM_DEV_ARM_VGIC_CTRL_INIT),
            addr: 0,
            flags: 0,
        })
        .map_err(VmError::kvm("initialise the VGIC"))?;
        if let Some(its) = its {
            let mut dev = kvm_create_device {
                type_: kvm_device_type_KVM_DEV_TYPE_ARM_VGIC_ITS,
                fd: 0,
                flags: 0,
            };
            let its_fd = vm
                .create_device(&mut dev)
                .map_err(VmError::kvm("create the GIC ITS"))?;
            let base = its.base.0;
            its_fd
                .set_device_attr(&device_attr(
                    KVM_DEV_ARM_VGIC_GRP_ADDR,
                    u64::from(KVM_VGIC_ITS_ADDR_TYPE),
                    &base,
                ))
                .map_err(VmError::kvm(format!("place the ITS at {base:#x}")))?;
            its_fd
                .set_device_attr(&kvm_device_attr {
                    group: KVM_DEV_ARM_VGIC_GRP_CTRL,
                    attr: u64::from(KVM_DEV_ARM_VGIC_CTRL_INIT),
                    addr: 0,
                    flags: 0,
                })
                .map_err(VmError::kvm("initialise the ITS"))?;
            // The device fds must stay open for the VM's life.
            std::mem::forget(its_fd);
        }
        std::mem::forget(gic);
        Ok(())
    }

    fn load(&self, mem: &GuestMemoryMmap, plan: &Plan, images: &Images) -> Result<Loaded, VmError> {
        let ram0 = *plan
            .memory
            .ram
            .first()
            .ok_or_else(|| VmError::Memory("the plan has no RAM".into()))?;
        let mut kernel = File::open(&images.kernel).map_err(|source| VmError::Read {
            path: images.kernel.clone(),
            source,
        })?;
        let k = PE::load(mem, Some(GuestAddress(ram0.base.0)), &mut kernel, None).map_err(|e| {
            VmError::Load {
                what: format!("kernel {}", images.kernel.display()),
                reason: format!("{e} (an arm64 Image is expected)"),
            }
        })?;
        let kernel_end = k.kernel_end;
        let mut cursor = align_up(kernel_end.max(ram0.base.0 + INITRD_OFFSET), BLOB_ALIGN);
        let initrd = match &images.initrd {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| VmError::Read {
                    path: path.clone(),
                    source,
                })?;
                let range = GuestRange {
                    base: GuestAddr(cursor),
                    size: bytes.len() as u64,
                };
                mem.write_slice(&bytes, GuestAddress(cursor))
                    .map_err(|e| VmError::Load {
                        what: format!("initrd {}", path.display()),
                        reason: format!("{} bytes at {cursor:#x}: {e}", bytes.len()),
                    })?;
                cursor = align_up(cursor + bytes.len() as u64, BLOB_ALIGN);
                Some(range)
            }
            None => None,
        };
        let options = BootOptions {
            cmdline: images.cmdline.clone(),
            initrd,
            blob_address: None,
            tables: tablegen::Options::default(),
        };
        let artifacts = tablegen::boot::build(plan, &options).map_err(|e| VmError::Load {
            what: "the boot artifacts".into(),
            reason: e.to_string(),
        })?;
        let dtb = cursor;
        let dtb_end = dtb + artifacts.dtb.len() as u64;
        let blob = artifacts.reserved;
        if dtb < blob.end() && blob.base.0 < dtb_end {
            return Err(VmError::Load {
                what: "the device tree".into(),
                reason: format!(
                    "{dtb:#x}..{dtb_end:#x} overlaps the boot blob at {}: the first RAM range is too small for kernel, initrd and blob",
                    blob
                ),
            });
        }
        mem.write_slice(&artifacts.dtb, GuestAddress(dtb))
            .map_err(|e| VmError::Load {
                what: "the device tree".into(),
                reason: format!("at {dtb:#x}: {e}"),
            })?;
        mem.write_slice(&artifacts.blob, GuestAddress(artifacts.blob_address.0))
            .map_err(|e| VmError::Load {
                what: "the boot blob".into(),
                reason: format!("at {}: {e}", artifacts.blob_address),
            })?;
        log(&format!(
            "kernel {:#x}..{kernel_end:#x}, initrd {}, dtb {dtb:#x}, EFI+ACPI blob {}, RSDP {}",
            k.kernel_load.0,
            initrd.map_or_else(|| "none".to_string(), |r| r.to_string()),
            blob,
            artifacts.rsdp
        ));
        Ok(Loaded {
            entry: k.kernel_load.0,
            boot_data: dtb,
            rsdp: artifacts.rsdp.0,
        })
    }

    fn prepare_start(
        &self,
        vcpu: &VcpuFd,
        bootstrap: bool,
        mpidr: Option<u64>,
        loaded: &Loaded,
        start: Option<Start>,
    ) -> Result<(), VmError> {
        let (entry, x0) = match start {
            Some(s) => {
                // A (re)start by CPU_ON begins from reset: whatever the CPU
                // did before it was turned off or ejected is gone.
                trace(|| "CPU_ON: KVM_ARM_VCPU_INIT".into());
                vcpu.vcpu_init(&self.init)
                    .map_err(VmError::kvm("reset the vCPU for CPU_ON"))?;
                if let Some(m) = mpidr {
                    let now = get_reg(vcpu, MPIDR_EL1, "MPIDR_EL1")?;
                    trace(|| format!("CPU_ON: MPIDR after reset {now:#x}, planned {m:#x}"));
                    if now != m | MPIDR_RES1 {
                        self.set_mpidr(vcpu, m)?;
                    }
                }
                (s.entry, s.context)
            }
            None if bootstrap => (loaded.entry, loaded.boot_data),
            None => {
                return Err(VmError::Unsupported(
                    "an arm64 secondary vCPU starts only through PSCI CPU_ON".into(),
                ))
            }
        };
        set_reg(vcpu, PSTATE, PSTATE_EL1H_DAIF, "PSTATE")?;
        set_reg(vcpu, PC, entry, "PC")?;
        set_reg(vcpu, x_reg(0), x0, "x0")?;
        for n in 1..4 {
            set_reg(vcpu, x_reg(n), 0, "x1..x3")?;
        }
        Ok(())
    }

    fn set_irq_line(&self, vm: &VmFd, gsi: u32, level: bool) -> Result<(), VmError> {
        // KVM_IRQ_LINE on arm64: type 1 (SPI) at 27:24, INTID in 15:0.
        let irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | gsi;
        vm.set_irq_line(irq, level).map_err(VmError::kvm(format!(
            "set SPI {gsi} to {}",
            u8::from(level)
        )))
    }

    fn console(&self, _plan: &Plan, out: Box<dyn Write + Send>) -> Box<dyn ConsoleDevice> {
        Box::new(Pl011Console {
            uart: Pl011::new(out),
            level: false,
        })
    }

    fn decode_hypercall(&self, vcpu: &VcpuFd, function: u64) -> Result<PsciCall, VmError> {
        let function = u32::try_from(function).unwrap_or(u32::MAX);
        let arg = |n: usize| get_reg(vcpu, x_reg(n), "a PSCI argument");
        let smc32 = |v: u64| v & 0xFFFF_FFFF;
        Ok(match function {
            psci::CPU_OFF => PsciCall::CpuOff,
            psci::CPU_ON_64 => PsciCall::CpuOn {
                target: arg(1)?,
                start: Start {
                    entry: arg(2)?,
                    context: arg(3)?,
                },
            },
            psci::CPU_ON_32 => PsciCall::CpuOn {
                target: smc32(arg(1)?),
                start: Start {
                    entry: smc32(arg(2)?),
                    context: smc32(arg(3)?),
                },
            },
            psci::AFFINITY_INFO_64 => PsciCall::AffinityInfo {
                target: arg(1)?,
                level: arg(2)?,
            },
            psci::AFFINITY_INFO_32 => PsciCall::AffinityInfo {
                target: smc32(arg(1)?),
                level: smc32(arg(2)?),
            },
            other => PsciCall::Other(other),
        })
    }

    fn complete_hypercall(&self, vcpu: &VcpuFd, result: i64) -> Result<(), VmError> {
        set_reg(vcpu, x_reg(0), result as u64, "the PSCI result in x0")
    }

    fn unclaimed(&self, _space: Space, _addr: u64, _access: Access<'_>) -> Claim {
        Claim::Unclaimed
    }
}

/// The PL011 behind the [`ConsoleDevice`] interface: 32-bit registers, a
/// level-triggered interrupt.
struct Pl011Console {
    uart: Pl011,
    level: bool,
}

impl ConsoleDevice for Pl011Console {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let value = self.uart.read(offset).to_le_bytes();
        let n = data.len().min(4);
        data[..n].copy_from_slice(&value[..n]);
        data[n..].fill(0);
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        let mut value = [0u8; 4];
        let n = data.len().min(4);
        value[..n].copy_from_slice(&data[..n]);
        self.uart.write(offset, u32::from_le_bytes(value));
    }

    fn irq(&mut self) -> IrqChange {
        let level = self.uart.irq_level();
        if level == self.level {
            IrqChange::None
        } else {
            self.level = level;
            IrqChange::Level(level)
        }
    }
}
