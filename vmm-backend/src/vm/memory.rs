//! Guest memory: one anonymous mapping per RAM range of the plan (each range
//! belongs to one NUMA node), bound with `mbind(MPOL_BIND)` to the host node
//! of the same number when the host has it, and registered with KVM as one
//! memory slot each.

use std::path::Path;

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::VmFd;
use planner::Plan;
use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

use super::{log, VmError};

/// `MPOL_BIND` (include/uapi/linux/mempolicy.h).
const MPOL_BIND: libc::c_int = 2;

/// The guest node of each RAM range of `plan`.
fn node_of(plan: &Plan, base: u64) -> Option<u32> {
    plan.nodes
        .iter()
        .find(|n| n.memory.iter().any(|r| r.base.0 == base))
        .map(|n| n.id.0)
}

/// Maps the plan's RAM (not yet visible to the guest).
///
/// # Errors
/// The host refused a mapping.
pub fn create(plan: &Plan) -> Result<GuestMemoryMmap, VmError> {
    let ranges: Vec<(GuestAddress, usize)> = plan
        .memory
        .ram
        .iter()
        .map(|r| {
            usize::try_from(r.size)
                .map(|size| (GuestAddress(r.base.0), size))
                .map_err(|_| VmError::Memory(format!("range {r} does not fit this host")))
        })
        .collect::<Result<_, _>>()?;
    let mem = GuestMemoryMmap::<()>::from_ranges(&ranges)
        .map_err(|e| VmError::Memory(format!("cannot map {} range(s): {e}", ranges.len())))?;
    for region in mem.iter() {
        let base = region.start_addr().0;
        let Some(node) = node_of(plan, base) else {
            continue;
        };
        let host = format!("/sys/devices/system/node/node{node}");
        if !Path::new(&host).exists() || node >= 64 {
            log(&format!(
                "guest node {node} ({:#x}, {} MiB): host has no node {node}, not bound",
                base,
                region.len() >> 20
            ));
            continue;
        }
        let mask: u64 = 1 << node;
        let addr = region.as_ptr();
        let len = region.len();
        // SAFETY: `addr..addr+len` is exactly the anonymous mapping this
        // region owns; mbind only sets its NUMA policy (no memory is touched),
        // and `mask` outlives the call (maxnode 64 bits).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_mbind,
                addr,
                len,
                MPOL_BIND,
                std::ptr::from_ref(&mask),
                64u64,
                0u32,
            )
        };
        if rc == 0 {
            log(&format!(
                "guest node {node} ({base:#x}, {} MiB): bound to host node {node}",
                len >> 20
            ));
        } else {
            log(&format!(
                "guest node {node}: mbind to host node {node} failed: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(mem)
}

/// Registers every region with KVM, one slot each.
///
/// # Errors
/// KVM refused a slot.
pub fn register(vm: &VmFd, mem: &GuestMemoryMmap) -> Result<(), VmError> {
    for (slot, region) in (0u32..).zip(mem.iter()) {
        let region_desc = kvm_userspace_memory_region {
            slot,
            flags: 0,
            guest_phys_addr: region.start_addr().0,
            memory_size: region.len(),
            userspace_addr: region.as_ptr() as u64,
        };
        // SAFETY: the region is a live mapping of `memory_size` bytes owned by
        // `mem`, which the VM keeps for its whole life (the caller holds it
        // until the process ends); slots do not overlap (the plan's ranges
        // are disjoint).
        unsafe { vm.set_user_memory_region(region_desc) }.map_err(VmError::kvm(format!(
            "register guest memory slot {slot} at {:#x}",
            region.start_addr().0
        )))?;
    }
    Ok(())
}
