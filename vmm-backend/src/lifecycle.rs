//! The vCPU lifecycle: which vCPUs exist, run, or wait parked, and in which
//! order the hypervisor is told, for both architectures. Hypervisor-neutral:
//! KVM sits behind [`Hypervisor`]; the tests drive it with a fake that
//! enforces KVM's rules.
//!
//! arm64 (Linux Documentation/arch/arm64/cpu-hotplug.rst, KVM api.rst):
//! - every possible vCPU is created before the VGIC is initialised (KVM
//!   refuses `KVM_CREATE_VCPU` afterwards, and cannot destroy a vCPU);
//! - each vCPU's MPIDR is set from the plan before any vCPU first runs;
//! - secondaries start powered off; the guest starts them with PSCI CPU_ON,
//!   which the VMM answers (KVM's SMCCC filter forwards it): DENIED for a slot
//!   that is not enabled, so the guest can never run a CPU the VMM did not plug;
//! - a removed CPU stops itself with PSCI CPU_OFF, the guest ejects it, and
//!   its vCPU stays parked until re-plugged.
//!
//! x86_64: boot vCPUs are created at boot with vcpu id = x2APIC ID; a slot's
//! vCPU is created when first plugged and parked, not destroyed, when ejected;
//! a re-plug reuses it. INIT/SIPI start application processors inside KVM.

use std::collections::BTreeMap;

use planner::arch::Arch;
use planner::plan::Slot;
use planner::Plan;

use crate::control::{CpuStatus, Reply, Request};
use crate::devices::cpu_hotplug::{CpuHotplugController, Event, HotplugError};
use crate::devices::ged::{self, Ged};

/// PSCI return values (Arm DEN0022, PSCI 1.1 §5.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsciResult {
    /// SUCCESS (0).
    Success,
    /// INVALID_PARAMETERS (-2): no such CPU.
    InvalidParameters,
    /// DENIED (-3): the CPU is not enabled.
    Denied,
    /// ALREADY_ON (-4).
    AlreadyOn,
}

impl PsciResult {
    /// The value returned to the guest in x0.
    #[must_use]
    pub fn code(self) -> i64 {
        match self {
            PsciResult::Success => 0,
            PsciResult::InvalidParameters => -2,
            PsciResult::Denied => -3,
            PsciResult::AlreadyOn => -4,
        }
    }
}

/// Where a vCPU starts (arm64 PSCI CPU_ON: entry point and context id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// Entry point address.
    pub entry: u64,
    /// Value for x0.
    pub context: u64,
}

/// The operations the lifecycle needs from a hypervisor.
pub trait Hypervisor {
    /// The hypervisor's error.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Creates vCPU `index` with the hypervisor id `id` (x86: the x2APIC ID;
    /// arm64: the index), powered off on arm64.
    fn create_vcpu(&mut self, index: u32, id: u64) -> Result<(), Self::Error>;
    /// arm64: sets MPIDR_EL1 (with RES1 bit 31) of vCPU `index`.
    fn set_mpidr(&mut self, index: u32, mpidr: u64) -> Result<(), Self::Error>;
    /// Finishes interrupt controller set-up (arm64: VGIC init). After this no
    /// vCPU can be created on arm64.
    fn finalize_irqchip(&mut self) -> Result<(), Self::Error>;
    /// Makes vCPU `index` run: the bootstrap processor, an x86 vCPU, or an
    /// arm64 vCPU started by PSCI CPU_ON at `start`.
    fn run_vcpu(&mut self, index: u32, start: Option<Start>) -> Result<(), Self::Error>;
    /// Parks vCPU `index`: it stops running and waits; it is not destroyed.
    fn park_vcpu(&mut self, index: u32) -> Result<(), Self::Error>;
}

/// A vCPU's state as the VMM tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcpuState {
    /// Not created (x86 slot never plugged).
    NotCreated,
    /// Created, not running (arm64 powered off, or parked after an eject).
    Off,
    /// Running.
    Running,
}

/// What the VMM must do after a request or a guest access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Inject the GED interrupt (edge).
    RaiseGed,
    /// Power the VM off.
    Shutdown,
}

/// The lifecycle's errors.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError<E: std::error::Error + 'static> {
    /// The hypervisor refused an operation.
    #[error("Hypervisor refused to {what} vCPU {cpu}")]
    Hypervisor {
        /// What was attempted.
        what: &'static str,
        /// The vCPU.
        cpu: u32,
        /// The hypervisor's error.
        #[source]
        source: E,
    },
    /// A hotplug request the plan or the current state does not allow.
    #[error(transparent)]
    Hotplug(#[from] HotplugError),
    /// `add` of a CPU that is a boot CPU of the plan, not a hotpluggable slot.
    #[error("CPU {0} is a boot CPU, not a hotpluggable slot")]
    NotASlot(u32),
    /// `add` of more slots than are free.
    #[error("{asked} slots asked for, {free} free")]
    NotEnoughSlots {
        /// Asked for.
        asked: u32,
        /// Free.
        free: u32,
    },
}

/// Every vCPU of a VM and the hotplug devices the guest sees.
#[derive(Debug)]
pub struct Lifecycle {
    arch: Arch,
    slots: Vec<Slot>,
    ids: Vec<u64>,
    mpidrs: BTreeMap<u64, u32>,
    nodes: Vec<u32>,
    states: Vec<VcpuState>,
    ejected: Vec<bool>,
    bootstrap: u32,
    controller: CpuHotplugController,
    ged: Ged,
}

impl Lifecycle {
    /// The lifecycle of `plan`; nothing is created yet.
    #[must_use]
    pub fn new(plan: &Plan) -> Self {
        let ids = plan
            .cpus
            .iter()
            .map(|c| match plan.arch {
                Arch::Aarch64 => u64::from(c.index.0),
                Arch::X86_64 => u64::from(c.x2apic_id.map_or(c.index.0, |a| a.0)),
            })
            .collect();
        let mpidrs = plan
            .cpus
            .iter()
            .filter_map(|c| c.mpidr.map(|m| (m.0, c.index.0)))
            .collect();
        Self {
            arch: plan.arch,
            slots: plan.cpus.iter().map(|c| c.slot).collect(),
            ids,
            mpidrs,
            nodes: plan.cpus.iter().map(|c| c.node.0).collect(),
            states: vec![VcpuState::NotCreated; plan.cpus.len()],
            ejected: vec![false; plan.cpus.len()],
            bootstrap: plan.boot_cpus().next().map_or(0, |c| c.index.0),
            controller: CpuHotplugController::new(plan),
            ged: Ged::default(),
        }
    }

    /// The hotplug register block (for MMIO dispatch).
    pub fn controller(&mut self) -> &mut CpuHotplugController {
        &mut self.controller
    }

    /// The GED (for MMIO dispatch).
    pub fn ged(&mut self) -> &mut Ged {
        &mut self.ged
    }

    /// A vCPU's state.
    #[must_use]
    pub fn state(&self, cpu: u32) -> Option<VcpuState> {
        self.states.get(cpu as usize).copied()
    }

    fn hv<H: Hypervisor>(
        what: &'static str,
        cpu: u32,
    ) -> impl FnOnce(H::Error) -> LifecycleError<H::Error> {
        move |source| LifecycleError::Hypervisor { what, cpu, source }
    }

    /// Creates the vCPUs the architecture needs at boot and starts the
    /// bootstrap processor (x86: every boot vCPU; APs then wait for SIPI).
    ///
    /// # Errors
    /// The hypervisor refused a step.
    pub fn boot<H: Hypervisor>(&mut self, hv: &mut H) -> Result<(), LifecycleError<H::Error>> {
        let n = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        match self.arch {
            Arch::Aarch64 => {
                // Every possible vCPU, then every MPIDR, then the VGIC.
                for cpu in 0..n {
                    hv.create_vcpu(cpu, self.ids[cpu as usize])
                        .map_err(Self::hv::<H>("create", cpu))?;
                    self.states[cpu as usize] = VcpuState::Off;
                }
                for (&mpidr, &cpu) in &self.mpidrs {
                    hv.set_mpidr(cpu, mpidr)
                        .map_err(Self::hv::<H>("set the MPIDR of", cpu))?;
                }
                hv.finalize_irqchip()
                    .map_err(Self::hv::<H>("initialise the VGIC before running", 0))?;
                hv.run_vcpu(self.bootstrap, None)
                    .map_err(Self::hv::<H>("start", self.bootstrap))?;
                self.states[self.bootstrap as usize] = VcpuState::Running;
            }
            Arch::X86_64 => {
                for cpu in (0..n).filter(|&c| self.slots[c as usize] == Slot::Boot) {
                    hv.create_vcpu(cpu, self.ids[cpu as usize])
                        .map_err(Self::hv::<H>("create", cpu))?;
                    self.states[cpu as usize] = VcpuState::Off;
                }
                hv.finalize_irqchip()
                    .map_err(Self::hv::<H>("set up the irqchip for", 0))?;
                for cpu in (0..n).filter(|&c| self.slots[c as usize] == Slot::Boot) {
                    hv.run_vcpu(cpu, None)
                        .map_err(Self::hv::<H>("start", cpu))?;
                    self.states[cpu as usize] = VcpuState::Running;
                }
            }
        }
        Ok(())
    }

    /// The CPU whose MPIDR is `target` (PSCI encoding: Aff3 at 39:32).
    #[must_use]
    pub fn cpu_of_mpidr(&self, target: u64) -> Option<u32> {
        self.mpidrs.get(&(target & 0xFF_00FF_FFFF)).copied()
    }

    /// arm64: PSCI CPU_ON from the guest for `target` (an MPIDR).
    ///
    /// # Errors
    /// The hypervisor could not start an allowed vCPU.
    pub fn psci_cpu_on<H: Hypervisor>(
        &mut self,
        hv: &mut H,
        target: u64,
        start: Start,
    ) -> Result<PsciResult, LifecycleError<H::Error>> {
        // The MPIDR argument carries Aff3 at 39:32 and Aff2..Aff0 at 23:0.
        let Some(&cpu) = self.mpidrs.get(&(target & 0xFF_00FF_FFFF)) else {
            return Ok(PsciResult::InvalidParameters);
        };
        if !self.controller.is_enabled(cpu) {
            return Ok(PsciResult::Denied);
        }
        if self.states[cpu as usize] == VcpuState::Running {
            return Ok(PsciResult::AlreadyOn);
        }
        hv.run_vcpu(cpu, Some(start))
            .map_err(Self::hv::<H>("start", cpu))?;
        self.states[cpu as usize] = VcpuState::Running;
        Ok(PsciResult::Success)
    }

    /// arm64: PSCI CPU_OFF from vCPU `cpu` (it stops itself).
    ///
    /// # Errors
    /// The hypervisor could not park the vCPU.
    pub fn psci_cpu_off<H: Hypervisor>(
        &mut self,
        hv: &mut H,
        cpu: u32,
    ) -> Result<(), LifecycleError<H::Error>> {
        hv.park_vcpu(cpu).map_err(Self::hv::<H>("park", cpu))?;
        if let Some(s) = self.states.get_mut(cpu as usize) {
            *s = VcpuState::Off;
        }
        Ok(())
    }

    /// Plugs `cpu`: its vCPU becomes runnable (x86: created or unparked and
    /// started, waiting for SIPI; arm64: it exists, the guest will CPU_ON it),
    /// the controller shows an insert event, and the GED is raised.
    ///
    /// # Errors
    /// Not a slot, already present, or the hypervisor refused.
    pub fn plug<H: Hypervisor>(
        &mut self,
        hv: &mut H,
        cpu: u32,
    ) -> Result<Vec<Action>, LifecycleError<H::Error>> {
        // A boot CPU that was removed may come back like any slot.
        if self.controller.is_enabled(cpu) {
            return Err(HotplugError::AlreadyPresent(cpu).into());
        }
        if (cpu as usize) >= self.slots.len() {
            return Err(HotplugError::NoSuchCpu {
                cpu,
                count: self.controller.possible(),
            }
            .into());
        }
        if self.arch == Arch::X86_64 {
            if self.states[cpu as usize] == VcpuState::NotCreated {
                hv.create_vcpu(cpu, self.ids[cpu as usize])
                    .map_err(Self::hv::<H>("create", cpu))?;
                // Recorded at once: a failed start must not lead to a second create.
                self.states[cpu as usize] = VcpuState::Off;
            }
            hv.run_vcpu(cpu, None)
                .map_err(Self::hv::<H>("start", cpu))?;
            self.states[cpu as usize] = VcpuState::Running;
        }
        self.controller.plug(cpu)?;
        self.ejected[cpu as usize] = false;
        self.ged.raise(ged::CPU_HOTPLUG);
        Ok(vec![Action::RaiseGed])
    }

    /// Asks the guest to give `cpu` back (removal request + GED).
    ///
    /// # Errors
    /// Not present, the bootstrap or last CPU, or a removal already pending.
    pub fn request_unplug(&mut self, cpu: u32) -> Result<Vec<Action>, HotplugError> {
        self.controller.request_unplug(cpu)?;
        self.ged.raise(ged::CPU_HOTPLUG);
        Ok(vec![Action::RaiseGed])
    }

    /// Handles what a guest access to the register block reported.
    ///
    /// # Errors
    /// The hypervisor could not park an ejected vCPU.
    pub fn on_controller_event<H: Hypervisor>(
        &mut self,
        hv: &mut H,
        event: &Event,
    ) -> Result<(), LifecycleError<H::Error>> {
        if let Event::Ejected(cpu) = *event {
            if let Some(e) = self.ejected.get_mut(cpu as usize) {
                *e = true;
            }
            if self.states.get(cpu as usize) == Some(&VcpuState::Running) {
                hv.park_vcpu(cpu).map_err(Self::hv::<H>("park", cpu))?;
            }
            if let Some(s) = self.states.get_mut(cpu as usize) {
                if *s != VcpuState::NotCreated {
                    *s = VcpuState::Off;
                }
            }
        }
        Ok(())
    }

    /// Every CPU's state for `status`.
    #[must_use]
    pub fn status(&self) -> Vec<CpuStatus> {
        (0u32..)
            .zip(&self.slots)
            .map(|(cpu, slot)| {
                let state = if self.controller.is_removing(cpu) {
                    "removing"
                } else if self.controller.is_enabled(cpu) {
                    "present"
                } else if self.ejected[cpu as usize] {
                    "parked"
                } else {
                    "absent"
                };
                CpuStatus {
                    cpu,
                    slot: match slot {
                        Slot::Boot => "boot".into(),
                        Slot::Hotpluggable => "hotpluggable".into(),
                    },
                    state: state.into(),
                    node: self.nodes[cpu as usize],
                }
            })
            .collect()
    }

    /// Applies a control request; the reply says what happened, and the
    /// actions what the VMM must do next. Errors become failure replies.
    pub fn handle<H: Hypervisor>(&mut self, hv: &mut H, request: &Request) -> (Reply, Vec<Action>) {
        match *request {
            Request::Status => {
                let mut reply = Reply::ok(Vec::new());
                reply.status = self.status();
                (reply, Vec::new())
            }
            Request::Shutdown => (Reply::ok(Vec::new()), vec![Action::Shutdown]),
            Request::Remove { cpu } => match self.request_unplug(cpu) {
                Ok(actions) => (Reply::ok(vec![cpu]), actions),
                Err(e) => (Reply::error(e.to_string()), Vec::new()),
            },
            Request::Add { cpu: Some(cpu), .. } => {
                if self.slots.get(cpu as usize) == Some(&Slot::Boot)
                    && self.controller.is_enabled(cpu)
                {
                    return (
                        Reply::error(LifecycleError::<H::Error>::NotASlot(cpu).to_string()),
                        Vec::new(),
                    );
                }
                match self.plug(hv, cpu) {
                    Ok(actions) => (Reply::ok(vec![cpu]), actions),
                    Err(e) => (Reply::error(error_chain(&e)), Vec::new()),
                }
            }
            Request::Add {
                count: Some(count), ..
            } => {
                let free: Vec<u32> = (0u32..)
                    .zip(&self.slots)
                    .filter(|&(c, _)| !self.controller.is_enabled(c))
                    .map(|(c, _)| c)
                    .collect();
                let asked = count;
                if count == 0 || free.len() < count as usize {
                    let free = u32::try_from(free.len()).unwrap_or(u32::MAX);
                    return (
                        Reply::error(
                            LifecycleError::<H::Error>::NotEnoughSlots { asked, free }.to_string(),
                        ),
                        Vec::new(),
                    );
                }
                let mut added = Vec::new();
                for cpu in free.into_iter().take(count as usize) {
                    if let Err(e) = self.plug(hv, cpu) {
                        let mut reply = Reply::error(error_chain(&e));
                        reply.cpus = added;
                        return (reply, vec![Action::RaiseGed]);
                    }
                    added.push(cpu);
                }
                (Reply::ok(added), vec![Action::RaiseGed])
            }
            Request::Add {
                cpu: None,
                count: None,
            } => (Reply::error("add needs \"cpu\" or \"count\""), Vec::new()),
        }
    }
}

/// An error and its sources, as one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    //! The lifecycle against a fake hypervisor that enforces KVM's rules:
    //! arm64 refuses a vCPU created after VGIC init and an MPIDR written
    //! after the vCPU first ran; no vCPU can be created twice or run before
    //! it exists.

    use super::*;
    use crate::control::parse;
    use crate::devices::cpu_hotplug::{EJECT, FLAGS, SELECTOR};

    #[derive(Debug, thiserror::Error, PartialEq, Eq)]
    enum FakeError {
        #[error("EBUSY: vCPU created after the VGIC was initialised")]
        CreateAfterVgicInit,
        #[error("EEXIST: vCPU {0} exists")]
        Exists(u32),
        #[error("MPIDR of vCPU {0} written after it ran")]
        MpidrAfterRun(u32),
        #[error("vCPU {0} does not exist")]
        NoVcpu(u32),
    }

    #[derive(Debug, Default)]
    struct FakeKvm {
        arm64: bool,
        vgic_ready: bool,
        created: BTreeMap<u32, u64>,
        ever_ran: Vec<u32>,
        running: Vec<u32>,
        mpidr: BTreeMap<u32, u64>,
        log: Vec<String>,
    }

    impl Hypervisor for FakeKvm {
        type Error = FakeError;
        fn create_vcpu(&mut self, index: u32, id: u64) -> Result<(), FakeError> {
            if self.arm64 && self.vgic_ready {
                return Err(FakeError::CreateAfterVgicInit);
            }
            if self.created.insert(index, id).is_some() {
                return Err(FakeError::Exists(index));
            }
            self.log.push(format!("create {index} id {id:#x}"));
            Ok(())
        }
        fn set_mpidr(&mut self, index: u32, mpidr: u64) -> Result<(), FakeError> {
            if !self.created.contains_key(&index) {
                return Err(FakeError::NoVcpu(index));
            }
            if !self.ever_ran.is_empty() {
                // KVM builds its MPIDR lookup at the first KVM_RUN of any vCPU.
                return Err(FakeError::MpidrAfterRun(index));
            }
            self.mpidr.insert(index, mpidr);
            Ok(())
        }
        fn finalize_irqchip(&mut self) -> Result<(), FakeError> {
            self.vgic_ready = true;
            self.log.push("irqchip".into());
            Ok(())
        }
        fn run_vcpu(&mut self, index: u32, start: Option<Start>) -> Result<(), FakeError> {
            if !self.created.contains_key(&index) {
                return Err(FakeError::NoVcpu(index));
            }
            self.ever_ran.push(index);
            self.running.push(index);
            self.log.push(format!("run {index} {start:?}"));
            Ok(())
        }
        fn park_vcpu(&mut self, index: u32) -> Result<(), FakeError> {
            self.running.retain(|&c| c != index);
            self.log.push(format!("park {index}"));
            Ok(())
        }
    }

    fn plan(arch: &str) -> Plan {
        let (platform, extra) = match arch {
            "aarch64" => ("vtopo-virt", "mpidr-policy = \"topology\"\n"),
            _ => ("vtopo-pc", ""),
        };
        let toml = format!(
            "arch = \"{arch}\"\nplatform = \"{platform}\"\nmemory = \"1GiB\"\n[cpus]\nsockets = 2\ncores = 2\nhotpluggable = {{ socket = 1 }}\n{extra}"
        );
        planner::plan_source("t.toml", &toml).expect("valid plan")
    }

    const START: Start = Start {
        entry: 0x4008_0000,
        context: 7,
    };

    #[test]
    fn test_arm64_boot_creates_every_vcpu_then_mpidrs_then_vgic() {
        let p = plan("aarch64");
        let mut kvm = FakeKvm {
            arm64: true,
            ..FakeKvm::default()
        };
        let mut life = Lifecycle::new(&p);
        life.boot(&mut kvm).expect("boot");
        assert_eq!(
            kvm.created.len(),
            4,
            "hotpluggable slots exist from the start"
        );
        // vtopo-virt packs the socket into Aff2 (KVM has no Aff3): socket 1, core 1.
        assert_eq!(kvm.mpidr.get(&3), Some(&0x1_0100));
        assert_eq!(kvm.log.iter().position(|l| l == "irqchip"), Some(4));
        assert_eq!(kvm.running, vec![0], "only the bootstrap processor runs");
    }

    #[test]
    fn test_fake_kvm_enforces_the_arm64_rules() {
        let mut kvm = FakeKvm {
            arm64: true,
            ..FakeKvm::default()
        };
        kvm.create_vcpu(0, 0).expect("create");
        kvm.finalize_irqchip().expect("vgic");
        assert_eq!(kvm.create_vcpu(1, 1), Err(FakeError::CreateAfterVgicInit));
        kvm.run_vcpu(0, None).expect("run");
        assert_eq!(kvm.set_mpidr(0, 0x100), Err(FakeError::MpidrAfterRun(0)));
    }

    #[test]
    fn test_arm64_cpu_on_of_a_disabled_slot_is_denied_until_plugged() {
        let p = plan("aarch64");
        let mut kvm = FakeKvm {
            arm64: true,
            ..FakeKvm::default()
        };
        let mut life = Lifecycle::new(&p);
        life.boot(&mut kvm).expect("boot");
        let cpu2 = p.cpus[2].mpidr.expect("mpidr").0;
        // The guest's boot path tries every possible CPU: slot 2 is not enabled.
        assert_eq!(
            life.psci_cpu_on(&mut kvm, cpu2, START).expect("psci"),
            PsciResult::Denied
        );
        assert!(!kvm.running.contains(&2));
        // Boot secondary 1 may start.
        let cpu1 = p.cpus[1].mpidr.expect("mpidr").0;
        assert_eq!(
            life.psci_cpu_on(&mut kvm, cpu1, START).expect("psci"),
            PsciResult::Success
        );
        assert_eq!(
            life.psci_cpu_on(&mut kvm, cpu1, START).expect("psci"),
            PsciResult::AlreadyOn
        );
        assert_eq!(
            life.psci_cpu_on(&mut kvm, 0xdead, START).expect("psci"),
            PsciResult::InvalidParameters
        );
        // Plug slot 2: GED raised, no vCPU created (it exists), then CPU_ON succeeds.
        assert_eq!(
            life.plug(&mut kvm, 2).expect("plug"),
            vec![Action::RaiseGed]
        );
        assert_eq!(life.ged().pending(), ged::CPU_HOTPLUG);
        assert_eq!(
            life.psci_cpu_on(&mut kvm, cpu2, START).expect("psci"),
            PsciResult::Success
        );
        assert!(kvm.log.contains(&format!("run 2 {:?}", Some(START))));
    }

    #[test]
    fn test_arm64_remove_cpu_off_eject_then_replug_reuses_the_vcpu() {
        let p = plan("aarch64");
        let mut kvm = FakeKvm {
            arm64: true,
            ..FakeKvm::default()
        };
        let mut life = Lifecycle::new(&p);
        life.boot(&mut kvm).expect("boot");
        let cpu3 = p.cpus[3].mpidr.expect("mpidr").0;
        life.plug(&mut kvm, 3).expect("plug");
        assert_eq!(
            life.psci_cpu_on(&mut kvm, cpu3, START).expect("psci"),
            PsciResult::Success
        );
        life.request_unplug(3).expect("unplug");
        // The guest offlines the CPU (CPU_OFF from itself), then ejects it.
        life.psci_cpu_off(&mut kvm, 3).expect("cpu off");
        let c = life.controller();
        assert_eq!(c.write(SELECTOR, &3u32.to_le_bytes()), None);
        let event = c.write(FLAGS, &[EJECT]).expect("an event");
        assert_eq!(event, Event::Ejected(3));
        life.on_controller_event(&mut kvm, &event).expect("eject");
        assert_eq!(life.state(3), Some(VcpuState::Off));
        assert_eq!(
            life.psci_cpu_on(&mut kvm, cpu3, START).expect("psci"),
            PsciResult::Denied
        );
        // Re-plug: the same vCPU, no second KVM_CREATE_VCPU.
        life.plug(&mut kvm, 3).expect("re-plug");
        assert_eq!(
            life.psci_cpu_on(&mut kvm, cpu3, START).expect("psci"),
            PsciResult::Success
        );
        assert_eq!(kvm.created.len(), 4);
    }

    #[test]
    fn test_x86_slot_vcpu_created_on_first_plug_with_its_apic_id_and_parked_on_eject() {
        let p = plan("x86_64");
        let mut kvm = FakeKvm::default();
        let mut life = Lifecycle::new(&p);
        life.boot(&mut kvm).expect("boot");
        assert_eq!(kvm.created.keys().copied().collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(kvm.running, vec![0, 1]);
        life.plug(&mut kvm, 3).expect("plug");
        // 2 sockets x 2 cores: core field 1 bit, so CPU 3 has x2APIC ID 3.
        assert_eq!(kvm.created.get(&3), Some(&3));
        life.request_unplug(3).expect("unplug");
        let c = life.controller();
        assert_eq!(c.write(SELECTOR, &3u32.to_le_bytes()), None);
        let event = c.write(FLAGS, &[EJECT]).expect("an event");
        life.on_controller_event(&mut kvm, &event).expect("eject");
        assert!(!kvm.running.contains(&3));
        life.plug(&mut kvm, 3).expect("re-plug");
        assert_eq!(kvm.created.len(), 3, "the parked vCPU is reused");
        assert!(kvm.running.contains(&3));
    }

    #[test]
    fn test_control_requests_and_their_errors() {
        let p = plan("x86_64");
        let mut kvm = FakeKvm::default();
        let mut life = Lifecycle::new(&p);
        life.boot(&mut kvm).expect("boot");
        let mut ask = |line: &str| {
            let request = parse(line.as_bytes()).expect("well-formed");
            life.handle(&mut kvm, &request).0
        };
        assert_eq!(ask(r#"{"cmd":"add","count":2}"#).cpus, vec![2, 3]);
        let reply = ask(r#"{"cmd":"add","cpu":2}"#);
        assert_eq!(reply.error.as_deref(), Some("CPU 2 is already present"));
        assert_eq!(
            ask(r#"{"cmd":"add","cpu":0}"#).error.as_deref(),
            Some("CPU 0 is a boot CPU, not a hotpluggable slot")
        );
        assert_eq!(
            ask(r#"{"cmd":"add","cpu":9}"#).error.as_deref(),
            Some("CPU 9 does not exist (the plan has 4 possible CPUs)")
        );
        assert_eq!(
            ask(r#"{"cmd":"add","count":1}"#).error.as_deref(),
            Some("1 slots asked for, 0 free")
        );
        assert_eq!(
            ask(r#"{"cmd":"remove","cpu":0}"#).error.as_deref(),
            Some("CPU 0 is the bootstrap processor and cannot be removed")
        );
        assert!(ask(r#"{"cmd":"remove","cpu":3}"#).ok);
        let status = ask(r#"{"cmd":"status"}"#).status;
        let states: Vec<&str> = status.iter().map(|s| s.state.as_str()).collect();
        assert_eq!(states, ["present", "present", "present", "removing"]);
        assert_eq!(status[3].node, 0);
    }
}
