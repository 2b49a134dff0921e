//! The architecture layer of the KVM VMM: the only place with
//! `cfg(target_arch)`. Each architecture provides `Platform`, implementing
//! [`crate::vm::ArchVm`].

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::Platform;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::Platform;

/// The architecture vtopo's VMM runs guests of on this host.
#[must_use]
pub const fn host_arch() -> Option<planner::arch::Arch> {
    #[cfg(target_arch = "aarch64")]
    {
        Some(planner::arch::Arch::Aarch64)
    }
    #[cfg(target_arch = "x86_64")]
    {
        Some(planner::arch::Arch::X86_64)
    }
    #[cfg(not(any(target_arch = "aarch64", target_arch = "x86_64")))]
    {
        None
    }
}
