//! vtopo's thin KVM backend: boots a guest from a plan and hot-plugs vCPUs.
//!
//! This crate is the only one with unsafe code and KVM. What is not tied to
//! a hypervisor lives in plain, unit-tested modules:
//! - [`devices`]: the CPU hotplug register block and the Generic Event
//!   Device, exactly as the generated DSDT drives them (docs/cpu-hotplug.md);
//! - [`control`]: the control socket's JSON-lines protocol;
//! - [`lifecycle`]: which vCPUs exist, run or wait parked, in the order KVM
//!   requires, behind a [`lifecycle::Hypervisor`] trait (tested with a fake
//!   that enforces KVM's arm64 rules).
//!
//! - [`vm`]: the KVM VMM (Linux): guest memory per node, vCPU threads with
//!   parking, the device bus, the control socket; the architecture's part is
//!   in `arch` (the only module with `cfg(target_arch)`), reached through
//!   [`vm::ArchVm`] and [`boot`].
#![deny(missing_docs)]

#[cfg(target_os = "linux")]
mod arch;
pub mod control;
pub mod devices;
pub mod lifecycle;
#[cfg(target_os = "linux")]
pub mod vm;

/// Boots `config` with this host's architecture; see [`vm::run`].
///
/// # Errors
/// See [`vm::run`]; also a plan for another architecture than the host's.
#[cfg(target_os = "linux")]
pub fn boot(
    config: vm::BootConfig,
    console: Box<dyn std::io::Write + Send>,
) -> Result<vm::VmExit, vm::VmError> {
    if let Some(e) = arch_mismatch(config.plan.arch) {
        return Err(vm::VmError::Unsupported(e));
    }
    vm::run::<arch::Platform>(config, console)
}

/// Why this host cannot boot a plan of `arch`, if it cannot: KVM runs guests
/// of the host's own architecture only.
#[cfg(target_os = "linux")]
#[must_use]
pub fn arch_mismatch(arch: planner::arch::Arch) -> Option<String> {
    let host = arch::host_arch();
    (host != Some(arch)).then(|| {
        format!(
            "the plan is for {}; KVM on this host runs {} guests",
            arch.name(),
            host.map_or("no", planner::arch::Arch::name)
        )
    })
}

/// The plan of `topologies/FILE`, for unit tests.
#[cfg(test)]
pub(crate) fn test_plan(file: &str) -> planner::Plan {
    let path = format!("{}/../topologies/{file}", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).expect("topology file");
    planner::plan_source(file, &source).expect("valid topology")
}
