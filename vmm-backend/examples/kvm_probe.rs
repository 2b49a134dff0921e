//! KVM capability probe for the nested lab (docs/nested-lab.md).
//!
//! Opens `/dev/kvm`, and prints ONE line `VTOPO-KVM {json}` with the KVM API
//! version, the capabilities vtopo relies on, and the result of each step of
//! a small VM set-up that exercises the rules the backend depends on:
//!
//! - x86_64: in-kernel irqchip, the x2APIC API, vCPUs with sparse ids
//!   (0, 1, 8, 9), each vCPU's local APIC ID = its vcpu id, a duplicate id
//!   refused;
//! - aarch64: the SMCCC filter (PSCI CPU_ON forwarded to user space), 4 vCPUs
//!   initialised with PSCI 0.2 (secondaries powered off), vCPU 1's MPIDR_EL1
//!   set to a topology-style value and read back, a VGICv3 initialised after
//!   every vCPU exists, and then one more vCPU, which KVM must refuse.
//!
//! Every step is recorded as `"ok"` or `"errno=N"` (or a value) instead of
//! aborting at the first failure. The line also has `verdict`: `pass` when
//! every step gave what vtopo expects, else `fail` with the reasons in
//! `problems`; the exit status is 0 for pass, 1 for fail (2: no KVM at all).
//!
//! Uses kvm-ioctls' safe API only. Build it static for the lab:
//! `RUSTFLAGS='-C target-feature=+crt-static' cargo build -p vtopo-vmm-backend
//! --example kvm_probe --target x86_64-unknown-linux-gnu` (aarch64: the same with
//! `RUSTC=/usr/bin/rustc` and `--target aarch64-unknown-linux-gnu`).

#[cfg(target_os = "linux")]
fn main() {
    std::process::exit(linux::run());
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("kvm_probe: KVM exists on Linux only");
    std::process::exit(2);
}

#[cfg(target_os = "linux")]
mod linux {
    use kvm_ioctls::{Cap, Kvm};
    use serde_json::{json, Map, Value};

    /// What a kvm-ioctls call returns.
    pub type KvmResult<T> = Result<T, kvm_ioctls::Error>;

    /// The probe's findings: one JSON object, printed as one line.
    #[derive(Debug, Default)]
    pub struct Report {
        caps: Map<String, Value>,
        steps: Map<String, Value>,
        problems: Vec<String>,
    }

    impl Report {
        pub fn cap(&mut self, name: &str, value: impl Into<Value>) {
            self.caps.insert(name.to_string(), value.into());
        }

        /// Records a step that must succeed; returns its value.
        pub fn step<T>(&mut self, name: &str, result: KvmResult<T>) -> Option<T> {
            match result {
                Ok(v) => {
                    self.steps.insert(name.to_string(), json!("ok"));
                    Some(v)
                }
                Err(e) => {
                    self.steps.insert(name.to_string(), errno_value(e));
                    self.problem(format!("{name} failed: {e}"));
                    None
                }
            }
        }

        /// Records a step that KVM must refuse with `errno`.
        pub fn must_fail<T>(&mut self, name: &str, result: KvmResult<T>, errno: i32) {
            match result {
                Ok(_) => {
                    self.steps.insert(name.to_string(), json!("ok"));
                    self.problem(format!("{name} succeeded; KVM should refuse it"));
                }
                Err(e) => {
                    self.steps.insert(name.to_string(), errno_value(e));
                    if e.errno() != errno {
                        self.problem(format!("{name}: expected errno {errno}, got {e}"));
                    }
                }
            }
        }

        /// Records a value found by a step.
        pub fn value(&mut self, name: &str, value: impl Into<Value>) {
            self.steps.insert(name.to_string(), value.into());
        }

        pub fn problem(&mut self, text: String) {
            self.problems.push(text);
        }

        fn print(self, arch: &str, api_version: Option<i32>) -> i32 {
            let pass = self.problems.is_empty();
            let line = json!({
                "v": 1,
                "arch": arch,
                "api_version": api_version,
                "caps": self.caps,
                "steps": self.steps,
                "verdict": if pass { "pass" } else { "fail" },
                "problems": self.problems,
            });
            println!("VTOPO-KVM {line}");
            i32::from(!pass)
        }
    }

    fn errno_value(e: kvm_ioctls::Error) -> Value {
        json!(format!("errno={}", e.errno()))
    }

    /// Probes KVM; returns the exit status.
    pub fn run() -> i32 {
        let mut report = Report::default();
        let kvm = match Kvm::new() {
            Ok(kvm) => kvm,
            Err(e) => {
                report.value("open_dev_kvm", errno_value(e));
                report.problem(format!("cannot open /dev/kvm: {e}"));
                report.print(std::env::consts::ARCH, None);
                return 2;
            }
        };
        report.value("open_dev_kvm", "ok");
        report.cap("nr_vcpus", kvm.check_extension_int(Cap::NrVcpus));
        report.cap("max_vcpus", kvm.check_extension_int(Cap::MaxVcpus));
        arch::capabilities(&kvm, &mut report);
        if let Some(vm) = report.step("create_vm", kvm.create_vm()) {
            arch::exercise(&vm, &mut report);
        }
        report.print(std::env::consts::ARCH, Some(kvm.get_api_version()))
    }

    #[cfg(target_arch = "x86_64")]
    mod arch {
        use super::Report;
        use kvm_bindings::{
            kvm_enable_cap, KVM_CAP_X2APIC_API, KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK,
            KVM_X2APIC_API_USE_32BIT_IDS,
        };
        use kvm_ioctls::{Cap, Kvm, VmFd};
        use serde_json::Value;

        /// Sparse vcpu ids: on x86 the vcpu id is the local APIC ID, and a
        /// topology's APIC IDs have holes (power-of-two fields).
        const VCPU_IDS: [u64; 4] = [0, 1, 8, 9];
        const EEXIST: i32 = 17;

        pub fn capabilities(kvm: &Kvm, report: &mut Report) {
            report.cap("max_vcpu_id", kvm.check_extension_int(Cap::MaxVcpuId));
            report.cap("x2apic_api", kvm.check_extension_int(Cap::X2ApicApi));
        }

        pub fn exercise(vm: &VmFd, report: &mut Report) {
            // The irqchip must exist before any vCPU (KVM refuses it after).
            report.step("create_irqchip", vm.create_irq_chip());
            let x2apic = kvm_enable_cap {
                cap: KVM_CAP_X2APIC_API,
                args: [
                    u64::from(
                        KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK,
                    ),
                    0,
                    0,
                    0,
                ],
                ..Default::default()
            };
            report.step("enable_x2apic_api", vm.enable_cap(&x2apic));
            let mut apic_ids = Vec::new();
            let mut vcpus = Vec::new();
            for id in VCPU_IDS {
                let Some(vcpu) = report.step(&format!("create_vcpu_{id}"), vm.create_vcpu(id))
                else {
                    continue;
                };
                if let Some(lapic) = report.step(&format!("get_lapic_{id}"), vcpu.get_lapic()) {
                    // APIC ID register (offset 0x20): a fresh vCPU's local APIC is
                    // in xAPIC mode, so the ID is in bits 31:24.
                    let reg: [u8; 4] =
                        std::array::from_fn(|i| lapic.regs[0x20 + i].to_ne_bytes()[0]);
                    let raw = u32::from_le_bytes(reg);
                    let apic_id = u64::from(raw >> 24);
                    apic_ids.push(Value::from(apic_id));
                    if apic_id != id {
                        report.problem(format!("vCPU {id}: APIC ID register says {raw:#x}"));
                    }
                }
                vcpus.push(vcpu);
            }
            // A vcpu id is unique per VM: a second vCPU with id 8 is refused.
            report.must_fail("create_vcpu_duplicate_id", vm.create_vcpu(8), EEXIST);
            report.value("vcpu_ids", VCPU_IDS.to_vec());
            report.value("apic_ids", apic_ids);
            report.value("vcpus_created", vcpus.len());
        }
    }

    #[cfg(target_arch = "aarch64")]
    mod arch {
        use super::{KvmResult, Report};
        use kvm_bindings::{
            kvm_create_device, kvm_device_attr, kvm_device_type_KVM_DEV_TYPE_ARM_VGIC_V3,
            kvm_smccc_filter, kvm_smccc_filter_action_KVM_SMCCC_FILTER_FWD_TO_USER, kvm_vcpu_init,
            KVM_ARM_VCPU_POWER_OFF, KVM_ARM_VCPU_PSCI_0_2, KVM_ARM_VM_SMCCC_CTRL,
            KVM_ARM_VM_SMCCC_FILTER, KVM_DEV_ARM_VGIC_CTRL_INIT, KVM_DEV_ARM_VGIC_GRP_ADDR,
            KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_REG_ARM64, KVM_REG_ARM64_SYSREG,
            KVM_REG_ARM64_SYSREG_CRM_SHIFT, KVM_REG_ARM64_SYSREG_CRN_SHIFT,
            KVM_REG_ARM64_SYSREG_OP0_SHIFT, KVM_REG_ARM64_SYSREG_OP1_SHIFT,
            KVM_REG_ARM64_SYSREG_OP2_SHIFT, KVM_REG_SIZE_U64, KVM_VGIC_V3_ADDR_TYPE_DIST,
            KVM_VGIC_V3_ADDR_TYPE_REDIST, PSCI_0_2_FN64_BASE,
        };
        use kvm_ioctls::{Cap, Kvm, VcpuFd, VmFd};

        const VCPUS: u64 = 4;
        /// QEMU virt's GICv3 layout: distributor, then 128 KiB per redistributor.
        const GICD_BASE: u64 = 0x0800_0000;
        const GICR_BASE: u64 = 0x080a_0000;
        /// A topology-style MPIDR for vCPU 1: RES1 bit 31, Aff2 (socket) 1,
        /// Aff1 (cluster) 2, Aff0 (core) 3.
        const MPIDR_VCPU1: u64 = 0x8001_0203;
        /// PSCI 0.2 CPU_ON, SMC64 calling convention.
        const PSCI_CPU_ON_64: u32 = PSCI_0_2_FN64_BASE + 3;
        const EBUSY: i32 = 16;

        /// KVM register id of the system register (op0, op1, CRn, CRm, op2).
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
        const MPIDR_EL1: u64 = sysreg(3, 0, 0, 0, 5);

        pub fn capabilities(kvm: &Kvm, report: &mut Report) {
            report.cap("arm_psci_0_2", kvm.check_extension_int(Cap::ArmPsci02));
            report.cap(
                "arm_vm_ipa_size",
                kvm.check_extension_int(Cap::ArmVmIPASize),
            );
        }

        fn read_mpidr(vcpu: &VcpuFd) -> KvmResult<u64> {
            let mut bytes = [0u8; 8];
            vcpu.get_one_reg(MPIDR_EL1, &mut bytes)?;
            Ok(u64::from_le_bytes(bytes))
        }

        pub fn exercise(vm: &VmFd, report: &mut Report) {
            smccc_filter(vm, report);

            let mut init = kvm_vcpu_init::default();
            if report
                .step("preferred_target", vm.get_preferred_target(&mut init))
                .is_some()
            {
                report.value("preferred_target_id", init.target);
            }
            init.features[0] |= 1 << KVM_ARM_VCPU_PSCI_0_2;
            let mut vcpus = Vec::new();
            for id in 0..VCPUS {
                let Some(vcpu) = report.step(&format!("create_vcpu_{id}"), vm.create_vcpu(id))
                else {
                    continue;
                };
                let mut kvi = init;
                if id > 0 {
                    kvi.features[0] |= 1 << KVM_ARM_VCPU_POWER_OFF;
                }
                report.step(&format!("vcpu_init_{id}"), vcpu.vcpu_init(&kvi));
                vcpus.push(vcpu);
            }

            if let Some(vcpu1) = vcpus.get(1) {
                let written = report.step(
                    "set_mpidr_vcpu1",
                    vcpu1.set_one_reg(MPIDR_EL1, &MPIDR_VCPU1.to_le_bytes()),
                );
                report.value("mpidr_written", format!("{MPIDR_VCPU1:#x}"));
                if let Some(read) = report.step("get_mpidr_vcpu1", read_mpidr(vcpu1)) {
                    report.value("mpidr_read", format!("{read:#x}"));
                    if written.is_some() && read != MPIDR_VCPU1 {
                        report.problem(format!(
                            "MPIDR of vCPU 1 reads back {read:#x}, wrote {MPIDR_VCPU1:#x}"
                        ));
                    }
                }
            }
            if let Some(vcpu0) = vcpus.first() {
                if let Some(read) = report.step("get_mpidr_vcpu0", read_mpidr(vcpu0)) {
                    report.value("mpidr_vcpu0", format!("{read:#x}"));
                }
            }

            let vgic_ready = vgic(vm, report, vcpus.len());
            // KVM's rule: every vCPU exists before the VGIC is initialised;
            // afterwards KVM_CREATE_VCPU fails with EBUSY.
            if vgic_ready {
                report.must_fail("create_vcpu_after_vgic_init", vm.create_vcpu(VCPUS), EBUSY);
            }
            report.value("vcpus_created", vcpus.len());
        }

        /// The SMCCC filter: vtopo forwards PSCI CPU_ON to user space to deny it
        /// for disabled slots. Needs Linux 6.4+ and no vCPU run yet.
        fn smccc_filter(vm: &VmFd, report: &mut Report) {
            let filter = kvm_smccc_filter {
                base: PSCI_CPU_ON_64,
                nr_functions: 1,
                action: u8::try_from(kvm_smccc_filter_action_KVM_SMCCC_FILTER_FWD_TO_USER)
                    .expect("an SMCCC filter action fits in a byte"),
                pad: [0; 15],
            };
            let attr = kvm_device_attr {
                group: KVM_ARM_VM_SMCCC_CTRL,
                attr: u64::from(KVM_ARM_VM_SMCCC_FILTER),
                addr: std::ptr::from_ref(&filter) as u64,
                flags: 0,
            };
            let has = vm.has_device_attr(&attr);
            report.value("smccc_filter_available", has.is_ok());
            if report.step("has_smccc_filter", has).is_some() {
                report.step("set_smccc_filter_cpu_on", vm.set_device_attr(&attr));
            }
        }

        /// Creates and initialises a VGICv3 for `vcpus` vCPUs; true when done.
        fn vgic(vm: &VmFd, report: &mut Report, vcpus: usize) -> bool {
            let mut dev = kvm_create_device {
                type_: kvm_device_type_KVM_DEV_TYPE_ARM_VGIC_V3,
                fd: 0,
                flags: 0,
            };
            let Some(gic) = report.step("create_vgic_v3", vm.create_device(&mut dev)) else {
                return false;
            };
            report.value("vgic_vcpus", vcpus);
            let dist = GICD_BASE;
            let redist = GICR_BASE;
            let set_addr = |kind: u32, addr: &u64| {
                gic.set_device_attr(&kvm_device_attr {
                    group: KVM_DEV_ARM_VGIC_GRP_ADDR,
                    attr: u64::from(kind),
                    addr: std::ptr::from_ref(addr) as u64,
                    flags: 0,
                })
            };
            report.step(
                "vgic_set_dist_addr",
                set_addr(KVM_VGIC_V3_ADDR_TYPE_DIST, &dist),
            );
            report.step(
                "vgic_set_redist_addr",
                set_addr(KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist),
            );
            let init = kvm_device_attr {
                group: KVM_DEV_ARM_VGIC_GRP_CTRL,
                attr: u64::from(KVM_DEV_ARM_VGIC_CTRL_INIT),
                addr: 0,
                flags: 0,
            };
            report
                .step("vgic_init", gic.set_device_attr(&init))
                .is_some()
        }
    }

    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    mod arch {
        use super::Report;
        use kvm_ioctls::{Kvm, VmFd};

        pub fn capabilities(_kvm: &Kvm, report: &mut Report) {
            report.problem("kvm_probe knows x86_64 and aarch64 only".to_string());
        }

        pub fn exercise(_vm: &VmFd, _report: &mut Report) {}
    }
}
