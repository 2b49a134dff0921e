//! Guest memory: one anonymous mapping per RAM range of the plan (each range
//! belongs to one NUMA node), bound with `mbind(MPOL_BIND)` to the host node
//! of the same number when the host has it, and registered with KVM as one
//! memory slot each.
//!
//! Each mapping is placed so that its host address is congruent to the
//! guest address modulo 2 MiB, and marked `MADV_HUGEPAGE`: only then can the
//! host back it with transparent huge pages *and* KVM map those as 2 MiB
//! pages in the stage-2 / nested page tables (KVM maps a huge page only where
//! guest and host addresses agree in their low 21 bits). x86 RAM above the
//! legacy hole starts at 1 MiB, so a plain `mmap` (2 MiB-aligned for large
//! sizes) would give node 0 no huge page at all. Measured in the nested x86
//! lab: 27,000 nested page faults per L2 boot with 4 KiB pages, ~600 with
//! huge pages (docs/benchmarks.md).

use std::path::Path;

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::VmFd;
use planner::Plan;
use vm_memory::mmap::MmapRegionBuilder;
use vm_memory::{
    GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion, GuestRegionMmap,
};

use super::{log, VmError};

/// The huge-page size the mappings are aligned for (x86 and arm64 with 4 KiB
/// pages: a PMD maps 2 MiB).
const HUGE: usize = 2 << 20;

/// Guest RAM: the regions vm-memory accesses and KVM's slots point into, and
/// the host mappings that own them (dropped after the regions, which do not
/// own their memory).
#[derive(Debug)]
pub struct GuestRam {
    mem: GuestMemoryMmap,
    _maps: Vec<HostMapping>,
}

impl GuestRam {
    /// The guest's RAM, for loading and for KVM's slots.
    pub fn mem(&self) -> &GuestMemoryMmap {
        &self.mem
    }
}

/// One anonymous private mapping of `len` bytes at `addr`, unmapped on drop.
#[derive(Debug)]
struct HostMapping {
    addr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; it is only
// unmapped in `drop`, and every access goes through vm-memory's region.
unsafe impl Send for HostMapping {}
// SAFETY: as above; `HostMapping` itself offers no access to the memory.
unsafe impl Sync for HostMapping {}

impl Drop for HostMapping {
    fn drop(&mut self) {
        // SAFETY: `addr..addr+len` is a mapping this value made and owns;
        // the regions that pointed into it were dropped before (GuestRam's
        // field order).
        unsafe { libc::munmap(self.addr.cast(), self.len) };
    }
}

impl HostMapping {
    /// Maps `len` bytes whose address is congruent to `gpa` modulo [`HUGE`],
    /// and asks for transparent huge pages on them.
    fn new(gpa: u64, len: usize) -> Result<Self, VmError> {
        let reserve = len
            .checked_add(HUGE)
            .ok_or_else(|| VmError::Memory(format!("range at {gpa:#x} is too large")))?;
        // SAFETY: a new anonymous private mapping (no MAP_FIXED): it cannot
        // alias any memory of this process.
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                reserve,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            return Err(VmError::Memory(format!(
                "mmap for {} MiB at {gpa:#x}: {}",
                len >> 20,
                std::io::Error::last_os_error()
            )));
        }
        // The bytes to skip so that the mapping's address is `gpa` modulo
        // HUGE (less than HUGE, so the conversion cannot fail).
        let huge = HUGE as u64;
        let head = usize::try_from((gpa % huge + huge - raw as u64 % huge) % huge).unwrap_or(0);
        let tail = reserve - head - len;
        // SAFETY: `raw..raw+head` and `raw+head+len..raw+reserve` are the
        // two ends of the mapping made above, not yet used by anything.
        unsafe {
            if head > 0 {
                libc::munmap(raw, head);
            }
            if tail > 0 {
                libc::munmap(raw.cast::<u8>().add(head + len).cast(), tail);
            }
        }
        // SAFETY: still inside the mapping made above (head < HUGE).
        let addr = unsafe { raw.cast::<u8>().add(head) };
        let map = HostMapping { addr, len };
        // SAFETY: `addr..addr+len` is exactly the mapping this value owns;
        // the advice changes how the kernel backs it, not its contents.
        if unsafe { libc::madvise(addr.cast(), len, libc::MADV_HUGEPAGE) } != 0 {
            // No THP in this kernel (EINVAL): 4 KiB pages, correct but slower.
            log(&format!(
                "{gpa:#x}: no transparent huge pages ({})",
                std::io::Error::last_os_error()
            ));
        }
        Ok(map)
    }
}

/// `MPOL_BIND` (include/uapi/linux/mempolicy.h).
const MPOL_BIND: libc::c_int = 2;

/// The guest node of each RAM range of `plan`.
fn node_of(plan: &Plan, base: u64) -> Option<u32> {
    plan.nodes
        .iter()
        .find(|n| n.memory.iter().any(|r| r.base.0 == base))
        .map(|n| n.id.0)
}

/// Binds `map` (guest RAM at `base`) with `mbind(MPOL_BIND)` to the host
/// node of its guest node's number, when the host has that node; says what
/// it did.
fn bind(plan: &Plan, base: u64, map: &HostMapping) {
    let Some(node) = node_of(plan, base) else {
        return;
    };
    let host = format!("/sys/devices/system/node/node{node}");
    if !Path::new(&host).exists() || node >= 64 {
        log(&format!(
            "guest node {node} ({base:#x}, {} MiB): host has no node {node}, not bound",
            map.len >> 20
        ));
        return;
    }
    let mask: u64 = 1 << node;
    // SAFETY: `map.addr..map.addr+map.len` is exactly the anonymous mapping
    // `map` owns; mbind only sets its NUMA policy (no memory is touched), and
    // `mask` outlives the call (maxnode 64 bits).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mbind,
            map.addr,
            map.len,
            MPOL_BIND,
            std::ptr::from_ref(&mask),
            64u64,
            0u32,
        )
    };
    if rc == 0 {
        log(&format!(
            "guest node {node} ({base:#x}, {} MiB): bound to host node {node}",
            map.len >> 20
        ));
    } else {
        log(&format!(
            "guest node {node}: mbind to host node {node} failed: {}",
            std::io::Error::last_os_error()
        ));
    }
}

/// Maps the plan's RAM (not yet visible to the guest).
///
/// # Errors
/// The host refused a mapping.
pub fn create(plan: &Plan) -> Result<GuestRam, VmError> {
    let mut maps = Vec::with_capacity(plan.memory.ram.len());
    let mut regions = Vec::with_capacity(plan.memory.ram.len());
    for r in &plan.memory.ram {
        let size = usize::try_from(r.size)
            .map_err(|_| VmError::Memory(format!("range {r} does not fit this host")))?;
        let map = HostMapping::new(r.base.0, size)?;
        bind(plan, r.base.0, &map);
        // SAFETY: `map.addr..map.addr+size` is a live mapping owned by `map`,
        // which GuestRam keeps until after the region is dropped.
        let region = unsafe { MmapRegionBuilder::new(size).with_raw_mmap_pointer(map.addr) }
            .with_mmap_prot(libc::PROT_READ | libc::PROT_WRITE)
            .with_mmap_flags(libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE)
            .build()
            .map_err(|e| VmError::Memory(format!("range {r}: {e}")))?;
        let region = GuestRegionMmap::new(region, GuestAddress(r.base.0))
            .ok_or_else(|| VmError::Memory(format!("range {r} overflows the address space")))?;
        maps.push(map);
        regions.push(region);
    }
    let mem = GuestMemoryMmap::<()>::from_regions(regions)
        .map_err(|e| VmError::Memory(format!("cannot map {} range(s): {e}", maps.len())))?;
    Ok(GuestRam { mem, _maps: maps })
}

/// Registers every region with KVM, one slot each.
///
/// # Errors
/// KVM refused a slot.
pub fn register(vm: &VmFd, mem: &GuestMemoryMmap) -> Result<(), VmError> {
    for (slot, region) in (0u32..).zip(mem.iter()) {
        // SAFETY: the region is a live mapping owned by `mem`, which the VM
        // keeps for its whole life (the caller holds it until the process
        // ends); slots do not overlap (the plan's ranges are disjoint).
        unsafe { register_slot(vm, slot, region, "guest memory") }?;
    }
    Ok(())
}

/// Registers `region` with KVM as memory slot `slot` (`what` names it in
/// errors).
///
/// # Safety
/// The region's mapping must stay alive as long as the VM can use the slot,
/// and must not overlap another slot's guest range.
///
/// # Errors
/// KVM refused the slot.
pub unsafe fn register_slot(
    vm: &VmFd,
    slot: u32,
    region: &GuestRegionMmap,
    what: &str,
) -> Result<(), VmError> {
    let desc = kvm_userspace_memory_region {
        slot,
        flags: 0,
        guest_phys_addr: region.start_addr().0,
        memory_size: region.len(),
        userspace_addr: region.as_ptr() as u64,
    };
    // SAFETY: the caller guarantees the mapping's life and that the guest
    // range is free; `desc` describes exactly the region's mapping.
    unsafe { vm.set_user_memory_region(desc) }.map_err(VmError::kvm(format!(
        "register {what} ({:#x}, {} bytes) as memory slot {slot}",
        region.start_addr().0,
        region.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_memory::Bytes;

    use crate::test_plan as plan;

    /// Every region's host address agrees with its guest address in the low
    /// 21 bits (x86's RAM above the legacy hole starts at 1 MiB), the memory
    /// is usable, and each region is exactly the plan's range.
    #[test]
    fn test_regions_are_congruent_with_guest_addresses_modulo_2m() {
        for file in ["lab-x86-kvm.toml", "lab-arm64-kvm.toml"] {
            let plan = plan(file);
            let ram = create(&plan).expect("guest RAM");
            let regions: Vec<_> = ram.mem().iter().collect();
            assert_eq!(regions.len(), plan.memory.ram.len(), "{file}");
            for (region, range) in regions.iter().zip(&plan.memory.ram) {
                assert_eq!(region.start_addr().0, range.base.0, "{file}");
                assert_eq!(region.len(), range.size, "{file}");
                let host = region.as_ptr() as usize;
                assert_eq!(
                    host as u64 % HUGE as u64,
                    range.base.0 % HUGE as u64,
                    "{file}: {range}"
                );
                let last = GuestAddress(range.base.0 + range.size - 1);
                ram.mem()
                    .write_obj(0xA5u8, GuestAddress(range.base.0))
                    .expect("first byte");
                ram.mem().write_obj(0x5Au8, last).expect("last byte");
                let first: u8 = ram
                    .mem()
                    .read_obj(GuestAddress(range.base.0))
                    .expect("read");
                assert_eq!(first, 0xA5);
            }
        }
    }
}
