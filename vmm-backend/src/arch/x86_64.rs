//! x86_64 KVM: not written yet (issue "Thin KVM backend (x86_64)"). Every
//! entry point says so in an error; nothing pretends to boot.

use std::io::Write;

use kvm_ioctls::{Kvm, VcpuFd, VmFd};
use planner::Plan;
use vm_memory::GuestMemoryMmap;

use crate::lifecycle::Start;
use crate::vm::{Access, ArchVm, Claim, ConsoleDevice, Images, Loaded, PsciCall, Space, VmError};

const NOT_DONE: &str = "the x86_64 KVM backend is not written yet";

fn not_done<T>() -> Result<T, VmError> {
    Err(VmError::Unsupported(NOT_DONE.into()))
}

/// The x86_64 platform of a VM (not written yet).
#[derive(Debug)]
pub struct Platform;

impl ArchVm for Platform {
    fn new(_kvm: &Kvm, _vm: &VmFd, _plan: &Plan) -> Result<Self, VmError> {
        not_done()
    }
    fn create_vcpu(
        &self,
        _: &Kvm,
        _: &VmFd,
        _: &Plan,
        _: u32,
        _: u64,
        _: bool,
    ) -> Result<VcpuFd, VmError> {
        not_done()
    }
    fn set_mpidr(&self, _: &VcpuFd, _: u64) -> Result<(), VmError> {
        not_done()
    }
    fn finalize_irqchip(&self, _: &VmFd, _: &Plan) -> Result<(), VmError> {
        not_done()
    }
    fn load(&self, _: &GuestMemoryMmap, _: &Plan, _: &Images) -> Result<Loaded, VmError> {
        not_done()
    }
    fn prepare_start(
        &self,
        _: &VcpuFd,
        _: bool,
        _: Option<u64>,
        _: &Loaded,
        _: Option<Start>,
    ) -> Result<(), VmError> {
        not_done()
    }
    fn set_irq_line(&self, _: &VmFd, _: u32, _: bool) -> Result<(), VmError> {
        not_done()
    }
    fn console(&self, _: &Plan, out: Box<dyn Write + Send>) -> Box<dyn ConsoleDevice> {
        struct Sink(Box<dyn Write + Send>);
        impl ConsoleDevice for Sink {
            fn read(&mut self, _: u64, data: &mut [u8]) {
                data.fill(0);
            }
            fn write(&mut self, _: u64, _: &[u8]) {
                let _ = self.0.flush();
            }
            fn irq(&mut self) -> crate::vm::IrqChange {
                crate::vm::IrqChange::None
            }
        }
        Box::new(Sink(out))
    }
    fn decode_hypercall(&self, _: &VcpuFd, _: u64) -> Result<PsciCall, VmError> {
        not_done()
    }
    fn complete_hypercall(&self, _: &VcpuFd, _: i64) -> Result<(), VmError> {
        not_done()
    }
    fn unclaimed(&self, _: Space, _: u64, _: Access<'_>) -> Claim {
        Claim::Unclaimed
    }
}
