//! vCPU threads: one per vCPU that ever ran, parked on a condition variable
//! when its CPU is off or ejected, and the [`Hypervisor`] the lifecycle
//! drives.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;

use kvm_ioctls::{VcpuExit, VcpuFd};
use vmm_sys_util::signal::{register_signal_handler, Killable, SIGRTMIN};

use super::{error_chain, log, trace, Access, ArchVm, Shared, Space, VmError, VmExit};
use crate::lifecycle::{Hypervisor, Start};

/// The signal that kicks a vCPU thread out of `KVM_RUN`: the first real-time
/// signal (its handler does nothing; the interrupted ioctl returns EINTR).
#[allow(non_snake_case)]
#[must_use]
pub fn KICK_SIGNAL() -> i32 {
    SIGRTMIN()
}

extern "C" fn on_kick(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

/// Installs the kick handler (process-wide, idempotent).
pub(crate) fn install_kick_handler() -> Result<(), VmError> {
    register_signal_handler(KICK_SIGNAL(), on_kick).map_err(|e| {
        VmError::Unsupported(format!("cannot install the vCPU kick signal handler: {e}"))
    })
}

/// What a vCPU thread is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    /// Wait (parked or never started).
    Wait,
    /// Start (again), at `Start` on arm64.
    Run(Option<Start>),
    /// Running; the thread took its `Run`.
    Running,
    /// Stop running and wait.
    Park,
    /// End the thread.
    Exit,
}

#[derive(Debug)]
struct Control {
    cmd: Mutex<Cmd>,
    cv: Condvar,
}

impl Control {
    fn get(&self) -> std::sync::MutexGuard<'_, Cmd> {
        self.cmd
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, cmd: Cmd) {
        *self.get() = cmd;
        self.cv.notify_all();
    }

    /// Waits for `Run`; None on `Exit`.
    fn wait_run(&self) -> Option<Option<Start>> {
        let mut cmd = self.get();
        loop {
            match *cmd {
                Cmd::Run(start) => {
                    *cmd = Cmd::Running;
                    return Some(start);
                }
                Cmd::Exit => return None,
                Cmd::Wait | Cmd::Running | Cmd::Park => {
                    cmd = self
                        .cv
                        .wait(cmd)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            }
        }
    }
}

/// The `immediate_exit` byte of a vCPU's `kvm_run` page.
#[derive(Debug, Clone, Copy)]
struct ImmediateExit(*mut u8);

// SAFETY: the pointer targets the vCPU's kvm_run mapping, which lives as long
// as the VcpuFd; vCPU threads never drop their VcpuFd (they forget it when
// they end), so the mapping outlives every handle. Writes are single bytes.
unsafe impl Send for ImmediateExit {}

impl ImmediateExit {
    fn set(self) {
        // SAFETY: see the `Send` impl: the mapping is alive and the byte is
        // KVM's `immediate_exit`, which user space may write at any time.
        unsafe { std::ptr::write_volatile(self.0, 1) };
    }
}

#[derive(Debug)]
struct Thread {
    control: Arc<Control>,
    handle: JoinHandle<()>,
    immediate_exit: ImmediateExit,
}

#[derive(Debug)]
enum Slot {
    None,
    Created(VcpuFd),
    Thread(Thread),
}

/// Every vCPU: not created, created (not yet run), or with its thread.
#[derive(Debug)]
pub(crate) struct Vcpus {
    slots: Vec<Slot>,
}

impl Vcpus {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            slots: (0..n).map(|_| Slot::None).collect(),
        }
    }

    fn kick(thread: &Thread) {
        thread.immediate_exit.set();
        if let Err(e) = thread.handle.kill(KICK_SIGNAL()) {
            log(&format!("cannot signal a vCPU thread: {e}"));
        }
    }

    /// The slot of vCPU `index`.
    fn slot_mut(&mut self, index: u32) -> Result<&mut Slot, VmError> {
        self.slots
            .get_mut(index as usize)
            .ok_or_else(|| VmError::Vcpu {
                cpu: index,
                reason: "no such vCPU in the plan".into(),
            })
    }

    /// Tells every thread to end, and kicks it out of the guest.
    pub(crate) fn stop_all(&mut self) {
        for slot in &self.slots {
            if let Slot::Thread(t) = slot {
                t.control.set(Cmd::Exit);
                Self::kick(t);
            }
        }
    }
}

/// The KVM side of the lifecycle.
pub(crate) struct KvmHv<'a, A: ArchVm> {
    pub(crate) shared: &'a Shared<A>,
    pub(crate) vcpus: &'a mut Vcpus,
    /// The vCPU whose exit is being handled, if any.
    pub(crate) caller: Option<u32>,
}

impl<A: ArchVm> Hypervisor for KvmHv<'_, A> {
    type Error = VmError;

    fn create_vcpu(&mut self, index: u32, id: u64) -> Result<(), VmError> {
        let s = self.shared;
        let fd = s
            .arch
            .create_vcpu(&s.kvm, &s.vm, &s.plan, index, id, index == s.bootstrap)?;
        let slot = self.vcpus.slot_mut(index)?;
        *slot = Slot::Created(fd);
        Ok(())
    }

    fn set_mpidr(&mut self, index: u32, mpidr: u64) -> Result<(), VmError> {
        match self.vcpus.slots.get(index as usize) {
            Some(Slot::Created(fd)) => self.shared.arch.set_mpidr(fd, mpidr),
            _ => Err(VmError::Vcpu {
                cpu: index,
                reason: "MPIDR set on a vCPU that is not freshly created".into(),
            }),
        }
    }

    fn finalize_irqchip(&mut self) -> Result<(), VmError> {
        self.shared
            .arch
            .finalize_irqchip(&self.shared.vm, &self.shared.plan)
    }

    fn run_vcpu(&mut self, index: u32, start: Option<Start>) -> Result<(), VmError> {
        let slot = self.vcpus.slot_mut(index)?;
        match std::mem::replace(slot, Slot::None) {
            Slot::Thread(t) => {
                log(&format!("vCPU {index}: its parked thread runs again"));
                t.control.set(Cmd::Run(start));
                *slot = Slot::Thread(t);
                Ok(())
            }
            Slot::Created(mut fd) => {
                let shared = self.shared.me.upgrade().ok_or_else(|| VmError::Vcpu {
                    cpu: index,
                    reason: "the VM is gone".into(),
                })?;
                let control = Arc::new(Control {
                    cmd: Mutex::new(Cmd::Run(start)),
                    cv: Condvar::new(),
                });
                let immediate_exit = ImmediateExit(&raw mut fd.get_kvm_run().immediate_exit);
                let c = Arc::clone(&control);
                let handle = std::thread::Builder::new()
                    .name(format!("vtopo-vcpu{index}"))
                    .spawn(move || thread_main(&shared, index, fd, &c))
                    .map_err(|source| VmError::Thread {
                        what: format!("the thread of vCPU {index}"),
                        source,
                    })?;
                *slot = Slot::Thread(Thread {
                    control,
                    handle,
                    immediate_exit,
                });
                Ok(())
            }
            Slot::None => Err(VmError::Vcpu {
                cpu: index,
                reason: "run before it was created".into(),
            }),
        }
    }

    fn park_vcpu(&mut self, index: u32) -> Result<(), VmError> {
        match self.vcpus.slots.get(index as usize) {
            Some(Slot::Thread(t)) => {
                t.control.set(Cmd::Park);
                if self.caller != Some(index) {
                    Vcpus::kick(t);
                }
                Ok(())
            }
            // Never ran: nothing to stop.
            Some(Slot::Created(_)) => Ok(()),
            _ => Err(VmError::Vcpu {
                cpu: index,
                reason: "park of a vCPU that does not exist".into(),
            }),
        }
    }
}

/// What the run loop does after an exit.
enum Next {
    Continue,
    Hypercall(u64),
    Stop(VmExit),
}

fn thread_main<A: ArchVm>(shared: &Arc<Shared<A>>, index: u32, mut fd: VcpuFd, control: &Control) {
    let mut first = true;
    let bootstrap = index == shared.bootstrap;
    let mpidr = shared.mpidrs.get(index as usize).copied().flatten();
    'outer: while let Some(start) = control.wait_run() {
        if let Err(e) =
            shared
                .arch
                .prepare_start(&fd, bootstrap && first, mpidr, &shared.loaded, start)
        {
            shared.finish(VmExit::Failed(format!(
                "vCPU {index} cannot start: {}",
                error_chain(&e)
            )));
            break;
        }
        first = false;
        trace(|| format!("vCPU {index} runs (start {start:x?})"));
        loop {
            let cmd = *control.get();
            match cmd {
                Cmd::Park => {
                    let mut c = control.get();
                    // A Run that came in meanwhile wins.
                    if *c == Cmd::Park {
                        *c = Cmd::Wait;
                    }
                    drop(c);
                    trace(|| format!("vCPU {index} parked"));
                    continue 'outer;
                }
                Cmd::Exit => break 'outer,
                Cmd::Wait | Cmd::Run(_) | Cmd::Running => {}
            }
            let next = match fd.run() {
                Ok(VcpuExit::MmioRead(addr, data)) => {
                    shared.access(index, Space::Mmio, addr, Access::Read(data));
                    Next::Continue
                }
                Ok(VcpuExit::MmioWrite(addr, data)) => {
                    shared.access(index, Space::Mmio, addr, Access::Write(data));
                    Next::Continue
                }
                Ok(VcpuExit::IoIn(port, data)) => {
                    shared.access(index, Space::Pio, u64::from(port), Access::Read(data));
                    Next::Continue
                }
                Ok(VcpuExit::IoOut(port, data)) => {
                    shared.access(index, Space::Pio, u64::from(port), Access::Write(data));
                    Next::Continue
                }
                Ok(VcpuExit::Hypercall(h)) => Next::Hypercall(h.nr),
                Ok(VcpuExit::SystemEvent(kind, _)) => Next::Stop(match kind {
                    kvm_bindings::KVM_SYSTEM_EVENT_SHUTDOWN => VmExit::PowerOff,
                    kvm_bindings::KVM_SYSTEM_EVENT_RESET => VmExit::Reset,
                    other => VmExit::Failed(format!("vCPU {index}: system event {other}")),
                }),
                Ok(VcpuExit::Shutdown) => Next::Stop(VmExit::Reset),
                Ok(VcpuExit::Hlt) => Next::Continue,
                Ok(other) => Next::Stop(VmExit::Failed(format!(
                    "vCPU {index}: unhandled exit {other:?}"
                ))),
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {
                    fd.set_kvm_immediate_exit(0);
                    Next::Continue
                }
                Err(e) => Next::Stop(VmExit::Failed(format!("vCPU {index}: KVM_RUN: {e}"))),
            };
            match next {
                Next::Continue => {}
                Next::Hypercall(function) => {
                    let result = shared
                        .arch
                        .decode_hypercall(&fd, function)
                        .map(|call| shared.psci(index, call))
                        .and_then(|ret| match ret {
                            Some(value) => shared.arch.complete_hypercall(&fd, value),
                            None => Ok(()),
                        });
                    if let Err(e) = result {
                        shared.finish(VmExit::Failed(format!(
                            "vCPU {index}: PSCI: {}",
                            error_chain(&e)
                        )));
                        break 'outer;
                    }
                }
                Next::Stop(exit) => {
                    shared.finish(exit);
                    break 'outer;
                }
            }
        }
    }
    // The kvm_run mapping must outlive the kick handle (see ImmediateExit).
    std::mem::forget(fd);
}

/// A weak handle, so that the vCPU threads it spawns can own the VM.
pub(crate) type Me<A> = Weak<Shared<A>>;
