//! The CPUID a vCPU sees: KVM's supported CPUID (`KVM_GET_SUPPORTED_CPUID`)
//! with the topology leaves rewritten from the plan, so that the guest's
//! view of packages, dies, cores, threads and caches is the planned one and
//! every APIC ID it reads is the vCPU's planned x2APIC ID (acpi-notes 9.3:
//! KVM vcpu id = LAPIC ID = MADT = CPUID).
//!
//! Pure: plan and entries in, entries out (tested below without KVM).
//!
//! References: Intel SDM Vol. 2A, CPUID leaves 01H, 04H, 0BH, 1FH; AMD64 APM
//! Vol. 3 appendix E (CPUID Fn8000_0001, Fn8000_0008, Fn8000_001D,
//! Fn8000_001E); Linux arch/x86/kernel/cpu/topology_common.c,
//! topology_ext.c, topology_amd.c and cacheinfo.c (6.12), which read them:
//!
//! - Intel: leaf 0x1F when the basic maximum leaf reaches it, else 0xB.
//! - AMD (and Hygon): with TOPOEXT, 0x1F / 0x80000026 / 0xB as above, then
//!   0x8000001E; without TOPOEXT only 0x80000008 (no SMT level at all). vtopo
//!   therefore sets TOPOEXT and provides 0x8000001D and 0x8000001E on AMD
//!   hosts (the nested lab's L1 is an AMD family 6 CPU without TOPOEXT).
//!   Caches come from 0x8000001D on AMD and from leaf 4 on Intel.
//!
//! What changes (everything else is KVM's):
//! - leaf 0: maximum basic leaf at least 0xB, and 0x1F when a socket has
//!   more than one die (as QEMU does);
//! - leaf 1: `EBX[31:24]` initial APIC ID (low 8 bits), `EBX[23:16]` addressable
//!   logical processors per package (`1 << package shift`, at most 255) and
//!   EDX HTT when a package has more than one thread; `ECX[31]` hypervisor;
//! - leaf 4 (Intel): one subleaf per planned cache, or KVM's subleaves with
//!   the sharing fields rewritten; `EAX[25:14]` addressable IDs sharing the
//!   cache - 1, `EAX[31:26]` addressable core IDs per package - 1;
//! - leaves 0xB and 0x1F: SMT, core (and die) levels with the plan's shift
//!   widths ([`planner::arch::X2ApicLayout`]), EDX the x2APIC ID;
//! - AMD: 0x80000001 ECX TOPOEXT; 0x80000008 ECX NC and ApicIdCoreIdSize;
//!   0x8000001D caches as leaf 4; 0x8000001E extended APIC ID, core ID,
//!   threads per core, node ID; 0x80000026 removed (Linux would prefer it).

use kvm_bindings::{kvm_cpuid_entry2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX};
use planner::arch::X2ApicLayout;
use planner::plan::{Cache, CacheType, IdScheme, Plan, SharedBy};

/// Leaf 0: maximum basic leaf and vendor.
const LEAF_VENDOR: u32 = 0x0;
/// Leaf 1: version and feature information.
const LEAF_FEATURES: u32 = 0x1;
/// Leaf 4: deterministic cache parameters (Intel).
const LEAF_CACHE: u32 = 0x4;
/// Leaf 0BH: extended topology enumeration.
const LEAF_TOPOLOGY: u32 = 0xB;
/// Leaf 1FH: V2 extended topology enumeration.
const LEAF_TOPOLOGY_V2: u32 = 0x1F;
/// Fn8000_0000: maximum extended leaf.
const LEAF_EXT_MAX: u32 = 0x8000_0000;
/// Fn8000_0001: extended features.
const LEAF_EXT_FEATURES: u32 = 0x8000_0001;
/// Fn8000_0008: address sizes and core count (AMD ECX).
const LEAF_EXT_SIZES: u32 = 0x8000_0008;
/// Fn8000_001D: cache topology (AMD).
const LEAF_AMD_CACHE: u32 = 0x8000_001D;
/// Fn8000_001E: processor topology (AMD).
const LEAF_AMD_TOPOLOGY: u32 = 0x8000_001E;
/// Fn8000_0026: extended CPU topology (AMD Zen 4+); vtopo removes it.
const LEAF_AMD_TOPOLOGY_V2: u32 = 0x8000_0026;

/// Leaf 1 ECX bit 31: a hypervisor is present.
const ECX_HYPERVISOR: u32 = 1 << 31;
/// Leaf 1 EDX bit 28: HTT (`EBX[23:16]` is valid).
const EDX_HTT: u32 = 1 << 28;
/// Fn8000_0001 ECX bit 22: TOPOEXT (Fn8000_001D and Fn8000_001E exist).
const ECX_TOPOEXT: u32 = 1 << 22;

/// Level types of leaves 0BH / 1FH, `ECX[15:8]`.
const LEVEL_SMT: u32 = 1;
const LEVEL_CORE: u32 = 2;
const LEVEL_DIE: u32 = 5;

/// The CPU vendor, from leaf 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// "GenuineIntel" (and anything not AMD-like: Intel's leaves).
    Intel,
    /// "AuthenticAMD" or "HygonGenuine" (AMD's topology leaves).
    Amd,
}

impl Vendor {
    /// The vendor of a CPUID table (Intel when leaf 0 is missing).
    #[must_use]
    pub fn of(entries: &[kvm_cpuid_entry2]) -> Self {
        let Some(e) = find(entries, LEAF_VENDOR, 0) else {
            return Vendor::Intel;
        };
        let mut name = [0u8; 12];
        name[0..4].copy_from_slice(&e.ebx.to_le_bytes());
        name[4..8].copy_from_slice(&e.edx.to_le_bytes());
        name[8..12].copy_from_slice(&e.ecx.to_le_bytes());
        match &name {
            b"AuthenticAMD" | b"HygonGenuine" => Vendor::Amd,
            _ => Vendor::Intel,
        }
    }
}

/// Where one CPU sits, as CPUID describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuPlace {
    /// The planned x2APIC ID (= KVM vcpu id = LAPIC ID).
    pub x2apic_id: u32,
    /// Field widths of the x2APIC ID.
    pub layout: X2ApicLayout,
    /// Threads per core.
    pub threads_per_core: u32,
    /// Cores in this CPU's die.
    pub cores_in_die: u32,
    /// Logical processors in this CPU's socket.
    pub threads_in_socket: u32,
    /// Dies in this CPU's socket.
    pub dies_in_socket: u32,
    /// True when some socket has more than one die (leaf 1FH gets a die level).
    pub multi_die: bool,
    /// Core index within the socket (over all its dies).
    pub core_in_socket: u32,
    /// Socket index.
    pub socket: u32,
    /// System-wide die index.
    pub die_id: u32,
}

impl CpuPlace {
    /// CPU `index` of `plan`; None when the plan has no such CPU.
    #[must_use]
    pub fn of(plan: &Plan, index: u32) -> Option<Self> {
        let cpu = plan.cpus.get(index as usize)?;
        let layout = match plan.topology.ids {
            IdScheme::X2Apic { layout } => layout,
            // Not an x86 plan: a flat layout (never used to boot).
            IdScheme::Mpidr { .. } => X2ApicLayout::for_counts(1, 1, 1),
        };
        let dies = plan.topology.sockets.get(cpu.socket as usize)?;
        let threads = plan.topology.threads_per_core.max(1);
        let cores_in_die = dies.get(cpu.group as usize).copied().unwrap_or(1);
        let cores_before: u32 = dies.iter().take(cpu.group as usize).sum();
        Some(Self {
            x2apic_id: cpu.x2apic_id.map_or(cpu.index.0, |a| a.0),
            layout,
            threads_per_core: threads,
            cores_in_die,
            threads_in_socket: dies.iter().sum::<u32>() * threads,
            dies_in_socket: u32::try_from(dies.len()).unwrap_or(u32::MAX),
            multi_die: plan.topology.sockets.iter().any(|s| s.len() > 1),
            core_in_socket: cores_before + cpu.core,
            socket: cpu.socket,
            die_id: cpu.group_id,
        })
    }

    /// Addressable IDs sharing a cache shared by `level` (a power of two).
    fn sharing(&self, level: SharedBy) -> u32 {
        let bits = match level {
            SharedBy::Core => self.layout.smt_bits,
            SharedBy::Cluster | SharedBy::Die => self.layout.core_shift(),
            SharedBy::Socket => self.layout.package_shift(),
        };
        1u32.checked_shl(bits).unwrap_or(u32::MAX)
    }

    /// Addressable core IDs per package (a power of two).
    fn cores_addressable(&self) -> u32 {
        1u32.checked_shl(self.layout.core_bits + self.layout.die_bits)
            .unwrap_or(u32::MAX)
    }
}

fn find(entries: &[kvm_cpuid_entry2], function: u32, index: u32) -> Option<&kvm_cpuid_entry2> {
    entries
        .iter()
        .find(|e| e.function == function && e.index == index)
}

fn entry(function: u32, index: u32, regs: [u32; 4]) -> kvm_cpuid_entry2 {
    kvm_cpuid_entry2 {
        function,
        index,
        flags: KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
        eax: regs[0],
        ebx: regs[1],
        ecx: regs[2],
        edx: regs[3],
        padding: [0; 3],
    }
}

/// `value - 1` in a field of `bits` bits (saturated).
fn minus_one(value: u32, bits: u32) -> u32 {
    value.saturating_sub(1).min((1 << bits) - 1)
}

/// Leaf 4 / Fn8000_001D cache type, `EAX[4:0]`.
fn cache_type(kind: CacheType) -> u32 {
    match kind {
        CacheType::Data => 1,
        CacheType::Instruction => 2,
        CacheType::Unified => 3,
    }
}

/// One planned cache as a leaf 4 (Intel) / Fn8000_001D (AMD) subleaf:
/// EAX type, level, self-initialising (bit 8), sharing; EBX ways - 1 at
/// 31:22, partitions - 1 (0) at 21:12, line size - 1 at 11:0; ECX sets - 1.
/// Size = ways x partitions x line size x sets, as Linux computes it.
fn cache_regs(cache: &Cache, place: &CpuPlace, vendor: Vendor) -> [u32; 4] {
    let mut eax = cache_type(cache.kind)
        | (u32::from(cache.level) << 5)
        | (1 << 8)
        | (minus_one(place.sharing(cache.shared_by), 12) << 14);
    if vendor == Vendor::Intel {
        eax |= minus_one(place.cores_addressable(), 6) << 26;
    }
    let ebx = (minus_one(cache.ways, 10) << 22) | minus_one(cache.line_size, 12);
    let ecx = cache.sets.saturating_sub(1);
    [eax, ebx, ecx, 0]
}

/// KVM's cache subleaf with the sharing fields set for `place`: levels 1 and
/// 2 private to a core, higher levels shared by the package (QEMU's choice
/// when no caches are declared).
fn patch_host_cache(e: &mut kvm_cpuid_entry2, place: &CpuPlace, vendor: Vendor) {
    if e.eax & 0x1F == 0 {
        return;
    }
    let level = (e.eax >> 5) & 0x7;
    let shared = if level <= 2 {
        SharedBy::Core
    } else {
        SharedBy::Socket
    };
    e.eax &= !(0xFFF << 14);
    e.eax |= minus_one(place.sharing(shared), 12) << 14;
    if vendor == Vendor::Intel {
        e.eax &= !(0x3F << 26);
        e.eax |= minus_one(place.cores_addressable(), 6) << 26;
    }
}

/// The cache subleaves of `function` (4 or 0x8000001D): the planned caches
/// and a terminating null subleaf, or KVM's own, patched.
fn cache_leaves(
    function: u32,
    plan: &Plan,
    place: &CpuPlace,
    vendor: Vendor,
    host: &[kvm_cpuid_entry2],
) -> Vec<kvm_cpuid_entry2> {
    if plan.caches.is_empty() {
        return host
            .iter()
            .filter(|e| e.function == function)
            .map(|e| {
                let mut e = *e;
                patch_host_cache(&mut e, place, vendor);
                e
            })
            .collect();
    }
    let mut out: Vec<kvm_cpuid_entry2> = (0u32..)
        .zip(&plan.caches)
        .map(|(i, c)| entry(function, i, cache_regs(c, place, vendor)))
        .collect();
    let end = u32::try_from(out.len()).unwrap_or(u32::MAX);
    out.push(entry(function, end, [0; 4]));
    out
}

/// Leaf 0BH or 1FH for `place`: one subleaf per level, then the invalid one
/// (ECX = its index, level type 0). `EAX[4:0]` is the right shift to the next
/// level's ID, `EBX[15:0]` the logical processors at this level, `ECX[15:8]` the
/// level type, EDX the x2APIC ID.
fn topology_leaf(function: u32, place: &CpuPlace) -> Vec<kvm_cpuid_entry2> {
    let l = place.layout;
    let threads = place.threads_per_core;
    let mut levels = vec![(LEVEL_SMT, l.smt_bits, threads)];
    if function == LEAF_TOPOLOGY_V2 && place.multi_die {
        levels.push((LEVEL_CORE, l.core_shift(), threads * place.cores_in_die));
        levels.push((LEVEL_DIE, l.package_shift(), place.threads_in_socket));
    } else {
        levels.push((LEVEL_CORE, l.package_shift(), place.threads_in_socket));
    }
    let id = place.x2apic_id;
    let mut out: Vec<kvm_cpuid_entry2> = (0u32..)
        .zip(&levels)
        .map(|(i, &(kind, shift, count))| {
            entry(
                function,
                i,
                [shift & 0x1F, count & 0xFFFF, (kind << 8) | i, id],
            )
        })
        .collect();
    let end = u32::try_from(levels.len()).unwrap_or(u32::MAX);
    out.push(entry(function, end, [0, 0, end, id]));
    out
}

/// The node ID of Fn8000_001E `ECX[7:0]`. Linux uses it as the last-level
/// cache ID on AMD families before 17h (the lab's L1 is family 6), so it is
/// the ID of the planned last-level cache's domain: the die when the
/// highest declared cache is shared by a die, else the socket.
fn amd_node_id(plan: &Plan, place: &CpuPlace) -> u32 {
    let llc_per_die = plan
        .caches
        .iter()
        .max_by_key(|c| c.level)
        .is_some_and(|c| matches!(c.shared_by, SharedBy::Die | SharedBy::Cluster));
    (if llc_per_die {
        place.die_id
    } else {
        place.socket
    }) & 0xFF
}

/// The CPUID of vCPU `index` of `plan`, from KVM's supported entries `host`.
/// Entries of leaves vtopo does not touch are copied as they are.
#[must_use]
pub fn guest_cpuid(plan: &Plan, index: u32, host: &[kvm_cpuid_entry2]) -> Vec<kvm_cpuid_entry2> {
    let Some(place) = CpuPlace::of(plan, index) else {
        return host.to_vec();
    };
    let vendor = Vendor::of(host);
    let replaced = |f: u32| match f {
        LEAF_TOPOLOGY | LEAF_TOPOLOGY_V2 | LEAF_AMD_TOPOLOGY_V2 => true,
        LEAF_CACHE => vendor == Vendor::Intel,
        LEAF_AMD_CACHE | LEAF_AMD_TOPOLOGY => vendor == Vendor::Amd,
        _ => false,
    };
    let mut out: Vec<kvm_cpuid_entry2> = host
        .iter()
        .filter(|e| !replaced(e.function))
        .copied()
        .collect();

    let mut max_basic = 0;
    let mut max_ext = 0;
    for e in &mut out {
        match e.function {
            LEAF_VENDOR => {
                e.eax = e.eax.max(LEAF_TOPOLOGY);
                if place.multi_die {
                    e.eax = e.eax.max(LEAF_TOPOLOGY_V2);
                }
                max_basic = e.eax;
            }
            LEAF_FEATURES => {
                let per_package = 1u32
                    .checked_shl(place.layout.package_shift())
                    .unwrap_or(u32::MAX)
                    .min(0xFF);
                e.ebx = (e.ebx & 0x0000_FFFF) | ((place.x2apic_id & 0xFF) << 24);
                if place.threads_in_socket > 1 {
                    e.ebx |= per_package << 16;
                    e.edx |= EDX_HTT;
                } else {
                    e.edx &= !EDX_HTT;
                }
                e.ecx |= ECX_HYPERVISOR;
            }
            LEAF_EXT_MAX if vendor == Vendor::Amd => {
                // Fn8000_0008 must exist for the leaves below to be read in
                // a sane table (it holds the address sizes).
                if e.eax >= LEAF_EXT_SIZES {
                    e.eax = e.eax.max(LEAF_AMD_TOPOLOGY);
                }
                max_ext = e.eax;
            }
            LEAF_EXT_FEATURES if vendor == Vendor::Amd => e.ecx |= ECX_TOPOEXT,
            LEAF_EXT_SIZES if vendor == Vendor::Amd => {
                // ECX[7:0] NC: threads per package - 1; ECX[15:12]
                // ApicIdCoreIdSize: APIC ID bits below the package.
                e.ecx &= !0xF0FF;
                e.ecx |= minus_one(place.threads_in_socket, 8)
                    | (place.layout.package_shift().min(0xF) << 12);
            }
            _ => {}
        }
    }

    if vendor == Vendor::Intel {
        out.extend(cache_leaves(LEAF_CACHE, plan, &place, vendor, host));
    }
    out.extend(topology_leaf(LEAF_TOPOLOGY, &place));
    if max_basic >= LEAF_TOPOLOGY_V2 {
        out.extend(topology_leaf(LEAF_TOPOLOGY_V2, &place));
    }
    if vendor == Vendor::Amd && max_ext >= LEAF_AMD_TOPOLOGY {
        out.extend(cache_leaves(LEAF_AMD_CACHE, plan, &place, vendor, host));
        let ebx = (minus_one(place.threads_per_core, 8) << 8) | (place.core_in_socket & 0xFF);
        // ECX[10:8] NodesPerProcessor - 1 = 0: one node per package (more
        // would make Linux renumber cores per node on families < 17h).
        let ecx = amd_node_id(plan, &place);
        out.push(entry(LEAF_AMD_TOPOLOGY, 0, [place.x2apic_id, ebx, ecx, 0]));
    }
    out.sort_by_key(|e| (e.function, e.index));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_plan as plan;

    fn vendor_regs(name: &[u8; 12], max: u32) -> [u32; 4] {
        let word = |i: usize| u32::from_le_bytes([name[i], name[i + 1], name[i + 2], name[i + 3]]);
        [max, word(0), word(8), word(4)]
    }

    /// A host table like KVM's on an Intel part: basic leaves up to 0x16,
    /// two cache subleaves, leaf 0BH with the host's own values, extended
    /// leaves up to 0x80000008, the KVM signature.
    fn intel_host() -> Vec<kvm_cpuid_entry2> {
        vec![
            entry(0, 0, vendor_regs(b"GenuineIntel", 0x16)),
            entry(1, 0, [0x000906EA, 0x0010_0800, 0x7FFA_FBFF, 0xBFEB_FBFF]),
            entry(4, 0, [0x1C00_4121, 0x01C0_003F, 0x3F, 0]),
            entry(4, 1, [0x1C00_4163, 0x03C0_003F, 0x3FFF, 6]),
            entry(4, 2, [0, 0, 0, 0]),
            entry(0xB, 0, [1, 2, 0x100, 0]),
            entry(0xB, 1, [4, 8, 0x201, 0]),
            entry(
                0x4000_0000,
                0,
                [0x4000_0001, 0x4B4D_564B, 0x564B_4D56, 0x4D],
            ),
            entry(0x8000_0000, 0, [0x8000_0008, 0, 0, 0]),
            entry(0x8000_0001, 0, [0, 0, 0x121, 0x2C10_0800]),
            entry(0x8000_0008, 0, [0x3027, 0, 0, 0]),
        ]
    }

    /// A host table like the nested lab's L1 (QEMU TCG `-cpu max`):
    /// AuthenticAMD family 6, basic leaves up to 0xD, no TOPOEXT, extended
    /// leaves up to 0x8000000A.
    fn amd_host() -> Vec<kvm_cpuid_entry2> {
        vec![
            entry(0, 0, vendor_regs(b"AuthenticAMD", 0xD)),
            entry(1, 0, [0x663, 0x0000_0800, 0x80A0_2203, 0x178B_FBFF]),
            entry(0xD, 0, [7, 0x340, 0x340, 0]),
            entry(
                0x8000_0000,
                0,
                [0x8000_000A, 0x6874_7541, 0x444D_4163, 0x6974_6E65],
            ),
            entry(0x8000_0001, 0, [0x663, 0, 0x0000_0003, 0x2FD3_FBFF]),
            entry(0x8000_0008, 0, [0x3028, 0, 0, 0]),
            entry(0x8000_000A, 0, [1, 0x10, 0, 0]),
        ]
    }

    fn leaf(entries: &[kvm_cpuid_entry2], function: u32, index: u32) -> [u32; 4] {
        let e = find(entries, function, index)
            .unwrap_or_else(|| panic!("no leaf {function:#x}.{index}"));
        [e.eax, e.ebx, e.ecx, e.edx]
    }

    fn count(entries: &[kvm_cpuid_entry2], function: u32) -> usize {
        entries.iter().filter(|e| e.function == function).count()
    }

    #[test]
    fn test_2s_smt_last_cpu_topology_leaves_intel() {
        // x86-2s-smt-hotplug: 2 sockets x 6 cores x 2 threads; SMT 1 bit,
        // core 3 bits, package shift 4. CPU 23 = socket 1 core 5 thread 1 = 0x1b.
        let p = plan("x86-2s-smt-hotplug.toml");
        let c = guest_cpuid(&p, 23, &intel_host());
        let l1 = leaf(&c, 1, 0);
        assert_eq!(l1[1] >> 24, 0x1b); // initial APIC ID
        assert_eq!((l1[1] >> 16) & 0xFF, 16); // 1 << package shift 4
        assert_eq!(l1[1] & 0xFFFF, 0x0800); // CLFLUSH size kept
        assert_ne!(l1[3] & EDX_HTT, 0);
        assert_ne!(l1[2] & ECX_HYPERVISOR, 0);
        // 0BH: SMT shift 1 (2 threads), core level shift 4 (12 threads in the package).
        assert_eq!(leaf(&c, 0xB, 0), [1, 2, 0x100, 0x1b]);
        assert_eq!(leaf(&c, 0xB, 1), [4, 12, 0x201, 0x1b]);
        assert_eq!(leaf(&c, 0xB, 2), [0, 0, 2, 0x1b]);
        assert_eq!(count(&c, 0xB), 3);
        // One die per socket: the maximum leaf stays 0x16, no 1FH.
        assert_eq!(leaf(&c, 0, 0)[0], 0x16);
        assert_eq!(count(&c, 0x1F), 0);
    }

    #[test]
    fn test_2s_smt_caches_become_leaf_4_with_planned_sharing() {
        // Caches: L1d 48K 12-way, L1i 32K 8-way, L2 1280K 20-way per core,
        // L3 9M 12-way per socket; 64-byte lines.
        let p = plan("x86-2s-smt-hotplug.toml");
        let c = guest_cpuid(&p, 0, &intel_host());
        let cores = 7 << 26; // 8 addressable cores (3-bit field) - 1
                             // Sharing: per core = 2 IDs (field 1), per socket = 16 IDs (field 15).
        assert_eq!(
            leaf(&c, 4, 0),
            [
                1 | (1 << 5) | (1 << 8) | (1 << 14) | cores,
                (11 << 22) | 63,
                63,
                0
            ]
        );
        assert_eq!(
            leaf(&c, 4, 1),
            [
                2 | (1 << 5) | (1 << 8) | (1 << 14) | cores,
                (7 << 22) | 63,
                63,
                0
            ]
        );
        assert_eq!(
            leaf(&c, 4, 2),
            [
                3 | (2 << 5) | (1 << 8) | (1 << 14) | cores,
                (19 << 22) | 63,
                1023,
                0
            ]
        );
        assert_eq!(
            leaf(&c, 4, 3),
            [
                3 | (3 << 5) | (1 << 8) | (15 << 14) | cores,
                (11 << 22) | 63,
                12287,
                0
            ]
        );
        assert_eq!(leaf(&c, 4, 4), [0, 0, 0, 0]);
        assert_eq!(count(&c, 4), 5);
        // Size as Linux computes it: ways x partitions x line x sets.
        let l3 = leaf(&c, 4, 3);
        let size = ((l3[1] >> 22) + 1)
            * (((l3[1] >> 12) & 0x3FF) + 1)
            * ((l3[1] & 0xFFF) + 1)
            * (l3[2] + 1);
        assert_eq!(size, 9 << 20);
    }

    #[test]
    fn test_asymmetric_dies_get_leaf_1f_with_a_die_level() {
        // x86-asymmetric-dies: socket 0 dies of 4 and 3 cores, socket 1 one
        // die of 4; 2 threads. SMT 1 bit, core 2 bits, die 1 bit. CPU 13 =
        // socket 0 die 1 core 2 thread 1 = 1 << 3 | 2 << 1 | 1 = 0xd.
        let p = plan("x86-asymmetric-dies.toml");
        let c = guest_cpuid(&p, 13, &intel_host());
        assert_eq!(leaf(&c, 0, 0)[0], 0x1F); // raised to reach 1FH
        assert_eq!(leaf(&c, 0x1F, 0), [1, 2, 0x100, 0xd]);
        assert_eq!(leaf(&c, 0x1F, 1), [3, 6, 0x201, 0xd]); // 3 cores x 2 in die 1
        assert_eq!(leaf(&c, 0x1F, 2), [4, 14, 0x502, 0xd]); // (4 + 3) x 2 in socket 0
        assert_eq!(leaf(&c, 0x1F, 3), [0, 0, 3, 0xd]);
        // 0BH has no die level: the core level shifts to the package.
        assert_eq!(leaf(&c, 0xB, 1), [4, 14, 0x201, 0xd]);
        assert_eq!(leaf(&c, 1, 0)[1] >> 24, 0xd);
        // Socket 1 (CPU 14 = socket 1 die 0 core 0 = 0x10): its own counts.
        let s1 = guest_cpuid(&p, 14, &intel_host());
        assert_eq!(leaf(&s1, 0x1F, 1), [3, 8, 0x201, 0x10]);
        assert_eq!(leaf(&s1, 0x1F, 2), [4, 8, 0x502, 0x10]);
    }

    #[test]
    fn test_override_apic_ids_are_what_cpuid_reports() {
        // x86-override-apic-ids: 6 cores x 2 threads, SMT 1 bit, core 3 bits;
        // CPUs 6-11 take the host's IDs 0x8-0xd.
        let p = plan("x86-override-apic-ids.toml");
        let c6 = guest_cpuid(&p, 6, &intel_host());
        assert_eq!(leaf(&c6, 1, 0)[1] >> 24, 0x8);
        assert_eq!(leaf(&c6, 0xB, 0), [1, 2, 0x100, 0x8]);
        assert_eq!(leaf(&c6, 0xB, 1), [4, 12, 0x201, 0x8]);
        let c5 = guest_cpuid(&p, 5, &intel_host());
        assert_eq!(leaf(&c5, 0xB, 0)[3], 0x5);
        // L3 per socket: 16 addressable IDs.
        assert_eq!((leaf(&c6, 4, 3)[0] >> 14) & 0xFFF, 15);
    }

    #[test]
    fn test_amd_host_gets_topoext_and_leaves_8000001d_8000001e() {
        // The lab's L1: AMD without TOPOEXT. CPU 23 of the 2-socket plan = 0x1b.
        let p = plan("x86-2s-smt-hotplug.toml");
        let c = guest_cpuid(&p, 23, &amd_host());
        assert_ne!(leaf(&c, 0x8000_0001, 0)[2] & ECX_TOPOEXT, 0);
        assert_eq!(leaf(&c, 0x8000_0000, 0)[0], 0x8000_001E);
        assert_eq!(leaf(&c, 0, 0)[0], 0xD); // >= 0xB already
        assert_eq!(leaf(&c, 0xB, 0), [1, 2, 0x100, 0x1b]);
        assert_eq!(leaf(&c, 0xB, 1), [4, 12, 0x201, 0x1b]);
        // 8000001E: extended APIC ID; threads per core - 1 = 1, core 5 of
        // its socket; node = socket 1 (the L3 is per socket), one node per package.
        assert_eq!(leaf(&c, 0x8000_001E, 0), [0x1b, (1 << 8) | 5, 1, 0]);
        // 80000008 ECX: NC = 12 - 1, ApicIdCoreIdSize = 4; EAX kept.
        assert_eq!(leaf(&c, 0x8000_0008, 0), [0x3028, 0, (4 << 12) | 11, 0]);
        // Caches in 8000001D (no core count in EAX[31:26] on AMD), none in leaf 4.
        assert_eq!(
            leaf(&c, 0x8000_001D, 3),
            [
                3 | (3 << 5) | (1 << 8) | (15 << 14),
                (11 << 22) | 63,
                12287,
                0
            ]
        );
        assert_eq!(leaf(&c, 0x8000_001D, 4), [0, 0, 0, 0]);
        assert_eq!(count(&c, 4), 0);
        // Untouched leaves are copied.
        assert_eq!(leaf(&c, 0x8000_000A, 0), [1, 0x10, 0, 0]);
    }

    #[test]
    fn test_lab_topology_slot_cpu_on_the_lab_l1() {
        // lab-x86-kvm: 2 sockets x 3 cores x 2 threads; SMT 1 bit, core 2
        // bits, package shift 3. CPU 10 = socket 1 core 2 thread 0 = 0xc.
        let p = plan("lab-x86-kvm.toml");
        let c = guest_cpuid(&p, 10, &amd_host());
        assert_eq!(leaf(&c, 1, 0)[1] >> 16, (0xc << 8) | 8);
        assert_eq!(leaf(&c, 0xB, 0), [1, 2, 0x100, 0xc]);
        assert_eq!(leaf(&c, 0xB, 1), [3, 6, 0x201, 0xc]);
        assert_eq!(leaf(&c, 0x8000_001E, 0), [0xc, (1 << 8) | 2, 1, 0]);
        assert_eq!(leaf(&c, 0x8000_0008, 0)[2], (3 << 12) | 5);
        // L3 per socket: 8 addressable IDs share it.
        assert_eq!((leaf(&c, 0x8000_001D, 3)[0] >> 14) & 0xFFF, 7);
    }

    #[test]
    fn test_ids_above_255_keep_their_low_byte_in_leaf_1() {
        // 4 sockets x 256 cores: CPU 1023 = 3 << 8 | 255 = 0x3ff.
        let p = planner::plan_source(
            "t.toml",
            "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\nsockets = 4\ncores = 256\nboot = \"0-1\"\n",
        )
        .expect("valid");
        let c = guest_cpuid(&p, 1023, &intel_host());
        assert_eq!(leaf(&c, 1, 0)[1] >> 24, 0xFF);
        // 256 addressable IDs per package do not fit EBX[23:16]: 255.
        assert_eq!((leaf(&c, 1, 0)[1] >> 16) & 0xFF, 0xFF);
        assert_eq!(leaf(&c, 0xB, 1), [8, 256, 0x201, 0x3FF]);
    }

    #[test]
    fn test_amd_node_id_follows_a_per_die_last_level_cache() {
        // lab-x86-kvm-like shapes are covered above; here an L3 per die.
        let p = planner::plan_source(
            "t.toml",
            "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\nsockets = 1\ndies = 2\ncores = 3\nthreads = 1\n\
             [[cache]]\nlevel = 3\ntype = \"unified\"\nsize = \"4MiB\"\nways = 16\nline-size = 64\nshared-by = \"die\"\n",
        )
        .expect("valid");
        let c = guest_cpuid(&p, 4, &amd_host()); // die 1, core 1
        assert_eq!(leaf(&c, 0x8000_001E, 0)[2], 1);
        assert_eq!(leaf(&c, 0x8000_001E, 0)[1], 4); // 1 thread per core; core 4 of the socket
                                                    // Die field 1 bit, core field 2 bits: 4 IDs share the die's L3.
        assert_eq!((leaf(&c, 0x8000_001D, 0)[0] >> 14) & 0xFFF, 3);
    }

    #[test]
    fn test_without_planned_caches_host_sharing_is_rewritten() {
        // 1 socket x 6 cores x 1 thread: core 3 bits, SMT 0 bits.
        let p = planner::plan_source(
            "t.toml",
            "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 6\n",
        )
        .expect("valid");
        let c = guest_cpuid(&p, 2, &intel_host());
        // Host L1d (level 1): private (field 0); its host count field replaced by 8 - 1.
        assert_eq!(leaf(&c, 4, 0)[0], 0x121 | (7 << 26));
        // Level 3 host entry would be per package; this host's subleaf 1 is level 3:
        assert_eq!(leaf(&c, 4, 1)[0], 0x163 | (7 << 14) | (7 << 26));
        assert_eq!(leaf(&c, 4, 2), [0, 0, 0, 0]);
        // Six logical processors in the package: HTT, 8 addressable IDs.
        assert_eq!(leaf(&c, 1, 0)[3] & EDX_HTT, EDX_HTT);
        assert_eq!((leaf(&c, 1, 0)[1] >> 16) & 0xFF, 8);
    }
}
