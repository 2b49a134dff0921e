//! The KVM VMM, architecture-neutral part: guest memory per NUMA node, one
//! thread per vCPU with parking, the device bus (console, CPU hotplug
//! register block, Generic Event Device), the control socket, and the
//! [`crate::lifecycle::Hypervisor`] the [`Lifecycle`] drives.
//!
//! Everything that differs between arm64 and x86_64 sits behind [`ArchVm`],
//! implemented by `crate::arch::Platform` (the only code with
//! architecture conditionals): VM-wide set-up, vCPU creation and start, the
//! interrupt controller, loading the kernel and the tables, interrupt lines
//! and the architecture's own registers (PSCI, FADT sleep/reset).
//!
//! Threads and locks: the VM's state (the lifecycle with its hotplug devices,
//! the console, the vCPU threads) is one [`Mutex`] taken for each device
//! access, PSCI call and control request; vCPUs run without it. A vCPU thread
//! waits on its own condition variable while parked. Parking a vCPU that runs
//! in the guest sets its `immediate_exit` flag and sends it a signal
//! ([`KICK_SIGNAL`]) so that `KVM_RUN` returns; KVM cannot destroy a vCPU, so
//! a parked thread lives until the VM ends.

pub mod memory;
mod vcpu;

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use kvm_ioctls::{Kvm, VcpuFd, VmFd};
use planner::platform::{AddressSpace, HotplugEvent, UartKind};
use planner::Plan;
use vm_memory::GuestMemoryMmap;

use crate::control::{self, Reply, Request, RequestError};
use crate::devices::cpu_hotplug::{self, Event};
use crate::devices::ged;
use crate::lifecycle::{Action, Lifecycle, PsciResult, Start};

pub use vcpu::KICK_SIGNAL;

/// The VMM's errors.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// A KVM ioctl failed.
    #[error("KVM refused to {what}")]
    Kvm {
        /// What was attempted.
        what: String,
        /// The errno.
        #[source]
        source: kvm_ioctls::Error,
    },
    /// The host lacks something vtopo needs.
    #[error("{0}")]
    Unsupported(String),
    /// Guest memory could not be set up.
    #[error("Guest memory: {0}")]
    Memory(String),
    /// A file could not be read.
    #[error("Cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The kernel, initrd or boot data could not be loaded.
    #[error("Cannot load {what}: {reason}")]
    Load {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
    /// The control socket could not be set up.
    #[error("Control socket {path}: {reason}")]
    Control {
        /// The socket path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A thread could not be started.
    #[error("Cannot start {what}")]
    Thread {
        /// Which thread.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A vCPU exit vtopo does not handle, or a vCPU that failed.
    #[error("vCPU {cpu}: {reason}")]
    Vcpu {
        /// The vCPU.
        cpu: u32,
        /// What happened.
        reason: String,
    },
}

impl VmError {
    /// A KVM error for `what`.
    pub fn kvm(what: impl Into<String>) -> impl FnOnce(kvm_ioctls::Error) -> VmError {
        let what = what.into();
        move |source| VmError::Kvm { what, source }
    }
}

/// The kernel, initrd and command line to boot.
#[derive(Debug, Clone)]
pub struct Images {
    /// The kernel file (arm64 `Image`, x86 `bzImage`).
    pub kernel: PathBuf,
    /// The initrd, if any.
    pub initrd: Option<PathBuf>,
    /// The kernel command line as given (the architecture adds what it needs).
    pub cmdline: String,
}

/// Where the loaded kernel starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// The bootstrap processor's entry point.
    pub entry: u64,
    /// The boot data the entry takes (arm64: the DTB in x0; x86: the zero
    /// page in rsi).
    pub boot_data: u64,
    /// The RSDP's guest address.
    pub rsdp: u64,
}

/// An access to guest-physical space.
#[derive(Debug)]
pub enum Access<'a> {
    /// A read; fill the buffer.
    Read(&'a mut [u8]),
    /// A write.
    Write(&'a [u8]),
}

/// Which bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// Memory-mapped I/O.
    Mmio,
    /// x86 port I/O.
    Pio,
}

/// What the architecture did with an access no shared device claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Not the architecture's either (reads return zero, writes are dropped,
    /// both reported once per address).
    Unclaimed,
    /// Handled.
    Done,
    /// The guest asked for power-off.
    PowerOff,
    /// The guest asked for a reset.
    Reset,
}

/// How a console device's interrupt line must change after an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrqChange {
    /// No change.
    None,
    /// Set the (level-triggered) line to this level.
    Level(bool),
    /// Pulse the (edge-triggered) line.
    Edge,
}

/// The guest's console UART.
pub trait ConsoleDevice: Send {
    /// A guest read at `offset` in the UART's window.
    fn read(&mut self, offset: u64, data: &mut [u8]);
    /// A guest write at `offset` in the UART's window.
    fn write(&mut self, offset: u64, data: &[u8]);
    /// What the interrupt line must do after the last access.
    fn irq(&mut self) -> IrqChange;
}

/// A PSCI call the guest made through the SMCCC filter (arm64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsciCall {
    /// CPU_ON(target MPIDR, entry, context id).
    CpuOn {
        /// Target MPIDR (PSCI encoding: Aff3 at 39:32).
        target: u64,
        /// Where it starts.
        start: Start,
    },
    /// CPU_OFF: the calling vCPU stops.
    CpuOff,
    /// AFFINITY_INFO(target MPIDR, lowest affinity level).
    AffinityInfo {
        /// Target MPIDR.
        target: u64,
        /// Lowest affinity level (0 for a single CPU).
        level: u64,
    },
    /// A function the filter forwarded that vtopo does not serve.
    Other(u32),
}

/// The architecture's part of the VMM (`crate::arch::Platform`).
pub trait ArchVm: Sized + Send + Sync + 'static {
    /// VM-wide set-up, after guest memory is registered and before any vCPU
    /// (x86: TSS and identity map, in-kernel irqchip and PIT, x2APIC API;
    /// arm64: the SMCCC filter forwarding PSCI CPU_ON, CPU_OFF and
    /// AFFINITY_INFO to user space).
    ///
    /// # Errors
    /// KVM refused a step, or the host lacks a needed capability.
    fn new(kvm: &Kvm, vm: &VmFd, plan: &Plan) -> Result<Self, VmError>;

    /// Creates vCPU `index` with KVM id `id` and sets up what does not depend
    /// on how it starts (x86: CPUID from the plan, MSRs, LAPIC; arm64:
    /// `KVM_ARM_VCPU_INIT`, powered off unless it is the bootstrap processor).
    ///
    /// # Errors
    /// KVM refused a step.
    fn create_vcpu(
        &self,
        kvm: &Kvm,
        vm: &VmFd,
        plan: &Plan,
        index: u32,
        id: u64,
        bootstrap: bool,
    ) -> Result<VcpuFd, VmError>;

    /// arm64: sets MPIDR_EL1. x86: an error (there is no MPIDR).
    ///
    /// # Errors
    /// KVM refused, or the architecture has no MPIDR.
    fn set_mpidr(&self, vcpu: &VcpuFd, mpidr: u64) -> Result<(), VmError>;

    /// Finishes the interrupt controller once every vCPU the architecture
    /// needs at boot exists (arm64: VGICv3 with a redistributor per possible
    /// CPU, and the ITS; x86: nothing more).
    ///
    /// # Errors
    /// KVM refused a step.
    fn finalize_irqchip(&self, vm: &VmFd, plan: &Plan) -> Result<(), VmError>;

    /// Writes the kernel, initrd, command line and ACPI tables (and on arm64
    /// the firmware-less boot artifacts) into guest memory.
    ///
    /// # Errors
    /// A file cannot be read or does not fit.
    fn load(&self, mem: &GuestMemoryMmap, plan: &Plan, images: &Images) -> Result<Loaded, VmError>;

    /// On the vCPU's own thread, before it runs: the bootstrap processor's
    /// first start (`start` None, `bootstrap` true: registers for the boot
    /// protocol), an arm64 PSCI CPU_ON (`start` given: reset, then entry and
    /// context), or an x86 application processor (`start` None: nothing, it
    /// waits for INIT/SIPI in KVM). `mpidr` is the planned MPIDR (arm64).
    ///
    /// # Errors
    /// KVM refused a step.
    fn prepare_start(
        &self,
        vcpu: &VcpuFd,
        bootstrap: bool,
        mpidr: Option<u64>,
        loaded: &Loaded,
        start: Option<Start>,
    ) -> Result<(), VmError>;

    /// Sets interrupt line `gsi` (ACPI GSI: arm64 INTID, x86 I/O APIC pin).
    ///
    /// # Errors
    /// KVM refused.
    fn set_irq_line(&self, vm: &VmFd, gsi: u32, level: bool) -> Result<(), VmError>;

    /// The console UART of `plan` writing to `out`.
    fn console(&self, plan: &Plan, out: Box<dyn Write + Send>) -> Box<dyn ConsoleDevice>;

    /// arm64: decodes the forwarded SMCCC call `function` (arguments from
    /// x1..x3). x86: an error.
    ///
    /// # Errors
    /// KVM refused to read a register.
    fn decode_hypercall(&self, vcpu: &VcpuFd, function: u64) -> Result<PsciCall, VmError>;

    /// arm64: writes the forwarded call's result to x0.
    ///
    /// # Errors
    /// KVM refused.
    fn complete_hypercall(&self, vcpu: &VcpuFd, result: i64) -> Result<(), VmError>;

    /// An access no shared device claimed (x86: the FADT's sleep and reset
    /// registers, legacy ports).
    fn unclaimed(&self, space: Space, addr: u64, access: Access<'_>) -> Claim;
}

/// How the VM ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmExit {
    /// The guest powered off (PSCI SYSTEM_OFF, ACPI sleep S5).
    PowerOff,
    /// The guest asked for a reset (vtopo does not reboot: the VM ends).
    Reset,
    /// A `shutdown` control request.
    Shutdown,
    /// A vCPU failed (an exit vtopo cannot handle, a KVM error).
    Failed(String),
}

/// What to boot and how to reach the VMM.
#[derive(Debug, Clone)]
pub struct BootConfig {
    /// The plan.
    pub plan: Plan,
    /// Kernel, initrd, command line.
    pub images: Images,
    /// The control socket to listen on.
    pub control: Option<PathBuf>,
}

/// One line on the VMM's log (stderr): `vtopo: ...`.
pub(crate) fn log(text: &str) {
    // One write per line, so that lines of concurrent writers never mix.
    let line = format!("vtopo: {text}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// The guest console's sink: whole lines, each in one `write` (the guest's
/// UART sends byte by byte; the VMM's log shares the terminal or file).
/// A line without a newline is passed on once it reaches [`LineSink::MAX`]
/// bytes, and when the VM ends.
pub struct LineSink<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for LineSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineSink")
            .field("pending", &self.line.len())
            .finish_non_exhaustive()
    }
}

impl<W: Write> LineSink<W> {
    /// Longest line held back.
    pub const MAX: usize = 64 * 1024;

    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            line: Vec::new(),
        }
    }

    fn emit(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            trace(|| {
                let head: String = String::from_utf8_lossy(&self.line)
                    .chars()
                    .take(24)
                    .filter(|c| !c.is_control())
                    .collect();
                format!("console: {} byte(s) {head:?}", self.line.len())
            });
            let r = self
                .out
                .write_all(&self.line)
                .and_then(|()| self.out.flush());
            self.line.clear();
            r?;
        }
        Ok(())
    }
}

impl<W: Write> Write for LineSink<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.line.push(b);
            if b == b'\n' || self.line.len() >= Self::MAX {
                self.emit()?;
            }
        }
        Ok(buf.len())
    }

    /// Complete lines are already out; a partial line waits for its end.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for LineSink<W> {
    fn drop(&mut self) {
        let _ = self.emit();
    }
}

/// Whether `VTOPO_TRACE` is set: then every vCPU start and park, PSCI call
/// and hotplug register event is logged.
fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("VTOPO_TRACE").is_some_and(|v| !v.is_empty() && v != "0"))
}

/// When the VMM started, for the trace's timestamps.
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// A log line only when tracing, stamped with the seconds since the VMM
/// started (when the guest did what: boot-time studies). The text is built
/// only then: the callers sit on exit paths.
pub(crate) fn trace(text: impl FnOnce() -> String) {
    if tracing() {
        let t = EPOCH.get_or_init(Instant::now).elapsed().as_secs_f64();
        log(&format!("+{t:.3}s {}", text()));
    }
}

/// The VM's mutable state, behind one lock.
pub(crate) struct State {
    pub(crate) lifecycle: Lifecycle,
    console: Box<dyn ConsoleDevice>,
    vcpus: vcpu::Vcpus,
    /// Addresses already reported as unclaimed.
    unclaimed: BTreeMap<(bool, u64), ()>,
}

/// What every thread shares.
pub(crate) struct Shared<A: ArchVm> {
    pub(crate) kvm: Kvm,
    pub(crate) vm: VmFd,
    pub(crate) arch: A,
    pub(crate) plan: Plan,
    pub(crate) loaded: Loaded,
    /// Guest RAM; KVM's memory slots point into it for the VM's whole life.
    _mem: memory::GuestRam,
    state: Mutex<State>,
    exit: Mutex<Option<VmExit>>,
    exit_cv: Condvar,
    started: Instant,
    pub(crate) mpidrs: Vec<Option<u64>>,
    pub(crate) bootstrap: u32,
    /// The VM itself, for the vCPU threads it starts.
    pub(crate) me: vcpu::Me<A>,
}

impl<A: ArchVm> Shared<A> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking vCPU thread must not take the VM down with it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ends the VM with `exit` (the first reason wins).
    pub(crate) fn finish(&self, exit: VmExit) {
        let mut e = self
            .exit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if e.is_none() {
            *e = Some(exit);
        }
        self.exit_cv.notify_all();
    }

    fn pulse(&self, gsi: u32) {
        let r = self
            .arch
            .set_irq_line(&self.vm, gsi, true)
            .and_then(|()| self.arch.set_irq_line(&self.vm, gsi, false));
        if let Err(e) = r {
            self.finish(VmExit::Failed(error_chain(&e)));
        }
    }

    fn apply(&self, actions: &[Action]) {
        for action in actions {
            match action {
                Action::RaiseGed => match self.plan.devices.hotplug_event {
                    Some(HotplugEvent::Ged { gsi, .. }) => {
                        trace(|| format!("GED interrupt (GSI {gsi})"));
                        self.pulse(gsi);
                    }
                    Some(HotplugEvent::Gpe { .. }) | None => {
                        log("no GED on this platform: hotplug event not signalled");
                    }
                },
                Action::Shutdown => self.finish(VmExit::Shutdown),
            }
        }
    }

    /// A guest access at `addr` on `space`. Returns the VM's end when the
    /// access asked for one.
    pub(crate) fn access(&self, cpu: u32, space: Space, addr: u64, access: Access<'_>) {
        let devices = &self.plan.devices;
        let mut state = self.lock();
        let uart = devices.uart;
        let (uart_space, uart_len) = match uart.kind {
            UartKind::Pl011 => (Space::Mmio, 0x1000),
            UartKind::Ns16550 => (Space::Pio, 8),
        };
        if space == uart_space && (uart.base.0..uart.base.0 + uart_len).contains(&addr) {
            let offset = addr - uart.base.0;
            match access {
                Access::Read(data) => state.console.read(offset, data),
                Access::Write(data) => state.console.write(offset, data),
            }
            let change = state.console.irq();
            drop(state);
            let r = match change {
                IrqChange::None => Ok(()),
                IrqChange::Level(level) => self.arch.set_irq_line(&self.vm, uart.gsi, level),
                IrqChange::Edge => {
                    self.pulse(uart.gsi);
                    Ok(())
                }
            };
            if let Err(e) = r {
                self.finish(VmExit::Failed(error_chain(&e)));
            }
            return;
        }
        if let Some(regs) = devices.cpu_hotplug {
            let regs_space = match regs.space {
                AddressSpace::Mmio => Space::Mmio,
                AddressSpace::Io => Space::Pio,
            };
            if space == regs_space
                && (regs.base..regs.base + cpu_hotplug::REGISTER_BLOCK_LEN).contains(&addr)
            {
                let offset = addr - regs.base;
                let State {
                    lifecycle, vcpus, ..
                } = &mut *state;
                let event = match access {
                    Access::Read(data) => {
                        let event = lifecycle.controller().read(offset, data);
                        trace(|| {
                            format!("vCPU {cpu}: hotplug register {offset:#x} read {data:x?}")
                        });
                        event
                    }
                    Access::Write(data) => {
                        trace(|| {
                            format!("vCPU {cpu}: hotplug register {offset:#x} write {data:x?}")
                        });
                        lifecycle.controller().write(offset, data)
                    }
                };
                if let Some(event) = event {
                    match &event {
                        Event::GuestError(text) => {
                            log(&format!("guest error (vCPU {cpu}): {text}; ignored"));
                        }
                        Event::Ost { cpu, event, status } => log(&format!(
                            "_OST CPU {cpu}: event {event:#x} status {status:#x}"
                        )),
                        Event::Ejected(c) => log(&format!(
                            "CPU {c} ejected at {:.3} s",
                            self.started.elapsed().as_secs_f64()
                        )),
                    }
                    let mut hv = vcpu::KvmHv {
                        shared: self,
                        vcpus,
                        caller: Some(cpu),
                    };
                    if let Err(e) = lifecycle.on_controller_event(&mut hv, &event) {
                        drop(state);
                        self.finish(VmExit::Failed(error_chain(&e)));
                    }
                }
                return;
            }
        }
        if let Some(HotplugEvent::Ged { base, .. }) = devices.hotplug_event {
            if space == Space::Mmio && (base.0..base.0 + ged::REGISTER_LEN).contains(&addr) {
                let offset = addr - base.0;
                match access {
                    Access::Read(data) => {
                        if state.lifecycle.ged().read(offset, data) {
                            trace(|| format!("vCPU {cpu}: GED register {offset:#x} read {data:x?}"));
                        } else {
                            log(&format!(
                                "guest error (vCPU {cpu}): GED read of {} bytes at offset {offset:#x}; reads as 0",
                                data.len()
                            ));
                        }
                    }
                    Access::Write(data) => log(&format!(
                        "guest error (vCPU {cpu}): GED write of {} bytes at offset {offset:#x}; ignored",
                        data.len()
                    )),
                }
                return;
            }
        }
        let is_read = matches!(access, Access::Read(_));
        match self.arch.unclaimed(space, addr, access) {
            Claim::Done => {}
            Claim::PowerOff => {
                drop(state);
                self.finish(VmExit::PowerOff);
            }
            Claim::Reset => {
                drop(state);
                self.finish(VmExit::Reset);
            }
            Claim::Unclaimed => {
                if state
                    .unclaimed
                    .insert((space == Space::Mmio, addr), ())
                    .is_none()
                {
                    log(&format!(
                        "vCPU {cpu}: {} of unclaimed {} address {addr:#x} ({})",
                        if is_read { "read" } else { "write" },
                        if space == Space::Mmio { "MMIO" } else { "port" },
                        if is_read { "reads as 0" } else { "dropped" }
                    ));
                }
            }
        }
    }

    /// A PSCI call from vCPU `cpu`; returns the value for x0, or None when
    /// the vCPU stopped itself (CPU_OFF).
    pub(crate) fn psci(&self, cpu: u32, call: PsciCall) -> Option<i64> {
        trace(|| format!("vCPU {cpu}: PSCI {call:x?}"));
        let mut state = self.lock();
        let State {
            lifecycle, vcpus, ..
        } = &mut *state;
        let mut hv = vcpu::KvmHv {
            shared: self,
            vcpus,
            caller: Some(cpu),
        };
        match call {
            PsciCall::CpuOn { target, start } => {
                match lifecycle.psci_cpu_on(&mut hv, target, start) {
                    Ok(result) => {
                        if result == PsciResult::Denied {
                            log(&format!(
                                "PSCI CPU_ON {target:#x} from vCPU {cpu}: DENIED (not enabled)"
                            ));
                        }
                        Some(result.code())
                    }
                    Err(e) => {
                        drop(state);
                        self.finish(VmExit::Failed(error_chain(&e)));
                        Some(PsciResult::Denied.code())
                    }
                }
            }
            PsciCall::CpuOff => {
                if let Err(e) = lifecycle.psci_cpu_off(&mut hv, cpu) {
                    drop(state);
                    self.finish(VmExit::Failed(error_chain(&e)));
                }
                None
            }
            PsciCall::AffinityInfo { target, level } => {
                // PSCI 1.1 §5.1.9: 0 ON, 1 OFF, 2 ON_PENDING; only level 0
                // is valid from PSCI 1.0 on.
                if level != 0 {
                    return Some(PsciResult::InvalidParameters.code());
                }
                Some(match lifecycle.cpu_of_mpidr(target) {
                    None => PsciResult::InvalidParameters.code(),
                    Some(c) if lifecycle.state(c) == Some(crate::lifecycle::VcpuState::Running) => {
                        0
                    }
                    Some(_) => 1,
                })
            }
            PsciCall::Other(function) => {
                log(&format!(
                    "vCPU {cpu}: forwarded SMCCC function {function:#x} not served: NOT_SUPPORTED"
                ));
                Some(-1)
            }
        }
    }

    /// A control request: the reply, and whether the VM must end once the
    /// reply is out (`shutdown`: ending first would lose the reply).
    fn control(&self, request: Result<Request, RequestError>) -> (Reply, bool) {
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                log(&format!("control: rejected: {e}"));
                return (Reply::error(e.to_string()), false);
            }
        };
        let t0 = Instant::now();
        let mut state = self.lock();
        let State {
            lifecycle, vcpus, ..
        } = &mut *state;
        let mut hv = vcpu::KvmHv {
            shared: self,
            vcpus,
            caller: None,
        };
        let (reply, mut actions) = lifecycle.handle(&mut hv, &request);
        drop(state);
        let shutdown = actions.contains(&Action::Shutdown);
        actions.retain(|a| *a != Action::Shutdown);
        self.apply(&actions);
        if request != Request::Status {
            log(&format!(
                "control: {request:?} -> {} in {:.1} ms",
                if reply.ok {
                    "ok".to_string()
                } else {
                    format!("error: {}", reply.error.as_deref().unwrap_or(""))
                },
                t0.elapsed().as_secs_f64() * 1e3
            ));
        }
        (reply, shutdown)
    }
}

/// A control connection's writer: after the reply to `shutdown` is flushed,
/// the VM ends.
struct ReplyWriter<'a, A: ArchVm> {
    stream: &'a std::os::unix::net::UnixStream,
    shared: &'a Shared<A>,
    shutdown: &'a std::cell::Cell<bool>,
}

impl<A: ArchVm> Write for ReplyWriter<'_, A> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.stream.flush();
        if self.shutdown.get() {
            self.shared.finish(VmExit::Shutdown);
        }
        r
    }
}

pub(crate) use crate::lifecycle::error_chain;

/// Binds the control socket: a stale socket file is replaced, any other
/// existing file is an error.
fn bind_control(path: &Path) -> Result<UnixListener, VmError> {
    use std::os::unix::fs::FileTypeExt;
    let err = |reason: String| VmError::Control {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(err("another VMM is listening on it".into()));
            }
            std::fs::remove_file(path)
                .map_err(|e| err(format!("cannot remove the stale socket: {e}")))?;
        }
        Ok(_) => return Err(err("exists and is not a socket".into())),
        Err(_) => {}
    }
    UnixListener::bind(path).map_err(|e| err(e.to_string()))
}

fn serve_control<A: ArchVm>(shared: &Arc<Shared<A>>, listener: UnixListener) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("vtopo-control".into())
            .spawn(move || {
                let Ok(reader) = stream.try_clone() else {
                    return;
                };
                let shutdown = std::cell::Cell::new(false);
                let mut handle = |request| {
                    let (reply, stop) = shared.control(request);
                    shutdown.set(shutdown.get() || stop);
                    reply
                };
                let writer = ReplyWriter {
                    stream: &stream,
                    shared: &shared,
                    shutdown: &shutdown,
                };
                let served = control::serve_connection(BufReader::new(reader), writer, &mut handle);
                // A shutdown whose reply could not be written still ends the VM.
                if shutdown.get() {
                    shared.finish(VmExit::Shutdown);
                }
                if let Err(e) = served {
                    log(&format!("control connection: {e}"));
                }
            });
        if let Err(e) = spawned {
            log(&format!("control: cannot serve a connection: {e}"));
        }
    }
}

/// Boots `config` on KVM with `console` receiving the guest's UART output,
/// serves the control socket, and returns when the VM ends.
///
/// # Errors
/// Set-up failed (KVM, memory, loading, the control socket). Failures after
/// the guest started are reported as [`VmExit::Failed`].
pub fn run<A: ArchVm>(
    config: BootConfig,
    console: Box<dyn Write + Send>,
) -> Result<VmExit, VmError> {
    let started = *EPOCH.get_or_init(Instant::now);
    let plan = config.plan;
    let kvm = Kvm::new().map_err(VmError::kvm("open /dev/kvm"))?;
    let vm = kvm.create_vm().map_err(VmError::kvm("create a VM"))?;
    let mem = memory::create(&plan)?;
    memory::register(&vm, mem.mem())?;
    let arch = A::new(&kvm, &vm, &plan)?;
    let loaded = arch.load(mem.mem(), &plan, &config.images)?;
    let listener = config.control.as_deref().map(bind_control).transpose()?;
    vcpu::install_kick_handler()?;

    let lifecycle = Lifecycle::new(&plan);
    let console = arch.console(&plan, Box::new(LineSink::new(console)));
    let mpidrs = plan.cpus.iter().map(|c| c.mpidr.map(|m| m.0)).collect();
    let bootstrap = plan.boot_cpus().next().map_or(0, |c| c.index.0);
    let n = plan.cpus.len();
    let shared = Arc::new_cyclic(|me| Shared {
        me: me.clone(),
        kvm,
        vm,
        arch,
        plan,
        loaded,
        _mem: mem,
        state: Mutex::new(State {
            lifecycle,
            console,
            vcpus: vcpu::Vcpus::new(n),
            unclaimed: BTreeMap::new(),
        }),
        exit: Mutex::new(None),
        exit_cv: Condvar::new(),
        started,
        mpidrs,
        bootstrap,
    });
    {
        let mut state = shared.lock();
        let State {
            lifecycle, vcpus, ..
        } = &mut *state;
        let mut hv = vcpu::KvmHv {
            shared: &shared,
            vcpus,
            caller: None,
        };
        lifecycle
            .boot(&mut hv)
            .map_err(|e| VmError::Unsupported(error_chain(&e)))?;
    }
    log(&format!(
        "booting {} possible vCPUs ({} at boot), {} MiB in {} node(s), set-up {:.1} ms",
        n,
        shared.plan.boot_cpus().count(),
        shared.plan.memory.ram.iter().map(|r| r.size).sum::<u64>() >> 20,
        shared.plan.nodes.len(),
        started.elapsed().as_secs_f64() * 1e3
    ));
    if let Some(listener) = listener {
        let s = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("vtopo-control".into())
            .spawn(move || serve_control(&s, listener))
            .map_err(|source| VmError::Thread {
                what: "the control socket thread".into(),
                source,
            })?;
    }
    let mut exit = shared
        .exit
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    while exit.is_none() {
        exit = shared
            .exit_cv
            .wait(exit)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
    let result = exit.clone().unwrap_or(VmExit::Shutdown);
    drop(exit);
    shared.lock().vcpus.stop_all();
    if let Some(path) = &config.control {
        let _ = std::fs::remove_file(path);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::LineSink;
    use std::io::Write;

    /// Records each `write` call of the sink's output.
    #[derive(Default)]
    struct Calls(Vec<Vec<u8>>);

    impl Write for &mut Calls {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn test_line_sink_writes_whole_lines_once() {
        let mut calls = Calls::default();
        {
            let mut sink = LineSink::new(&mut calls);
            for b in b"abc\nde" {
                sink.write_all(&[*b]).unwrap();
                sink.flush().unwrap();
            }
            sink.write_all(b"f\ng").unwrap();
        }
        assert_eq!(
            calls.0,
            vec![b"abc\n".to_vec(), b"def\n".to_vec(), b"g".to_vec()]
        );
    }
}
