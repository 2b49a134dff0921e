//! Architecture as data: `Arch` is read from the TOML, so plans for either
//! architecture are made and tested on any host (style guide 2.3 rule 8).
//!
//! - arm64 MPIDR policies (Arm ARM D19.2 MPIDR_EL1; GICv3 ICC_SGI1R_EL1 target
//!   lists address Aff0 0..15 only);
//! - x86_64 x2APIC ID packing as Intel SDM Vol. 2A CPUID leaves 0BH and 1FH
//!   define it: each level's field is `ceil(log2(count))` bits wide.

use serde::{Deserialize, Serialize};

use crate::ids::Mpidr;

/// Guest architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arch {
    /// 64-bit Arm (GICv3, PSCI, ACPI through UEFI).
    #[serde(rename = "aarch64")]
    Aarch64,
    /// 64-bit x86 (x2APIC, IOAPIC).
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Arch {
    /// The name used in TOML.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64",
            Arch::X86_64 => "x86_64",
        }
    }

    /// Name of the level between socket and core: `cluster` or `die`.
    #[must_use]
    pub fn group_name(self) -> &'static str {
        match self {
            Arch::Aarch64 => "cluster",
            Arch::X86_64 => "die",
        }
    }

    /// Most possible CPUs the architecture supports in a Linux guest
    /// (arm64: `NR_CPUS` range 2..=4096; x86_64: 8192 with `MAXSMP`).
    #[must_use]
    pub fn max_cpus(self) -> u32 {
        match self {
            Arch::Aarch64 => 4096,
            Arch::X86_64 => 8192,
        }
    }
}

/// How arm64 MPIDRs are derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MpidrPolicy {
    /// KVM's default `reset_mpidr` layout: Aff0 = index mod 16, Aff1 = the
    /// next 8 bits of the index, Aff2 = the 8 bits above those.
    KvmLinear,
    /// Aff3 = socket, Aff2 = cluster, Aff1 = core, Aff0 = thread (indices
    /// within their parent), as many Arm server parts (Neoverse, Kunpeng) lay out.
    Topology,
}

/// The `CLIDR_EL1` value that describes `caches` to an arm64 guest (Arm ARM
/// D23.2.26): `Ctype<n>` per level (0b001 instruction only, 0b010 data only,
/// 0b011 separate instruction and data, 0b100 unified), LoC = the last
/// level, LoUU = LoUIS = 1. None without caches.
///
/// Linux sizes its cacheinfo leaves from CLIDR_EL1 and fills them from the
/// PPTT (`init_cache_level`, `cache_setup_acpi`): KVM's own CLIDR (one
/// unified level on most hosts) hides the planned hierarchy, so vtopo's VMM
/// writes this value with `KVM_SET_ONE_REG` (Linux 6.3+).
#[must_use]
pub fn clidr_el1(caches: &[crate::plan::Cache]) -> Option<u64> {
    use crate::spec::CacheType;
    let last = caches.iter().map(|c| c.level).max()?;
    let mut clidr = 0u64;
    for level in 1..=last.min(7) {
        let has = |k: CacheType| caches.iter().any(|c| c.level == level && c.kind == k);
        let ctype: u64 = if has(CacheType::Unified) {
            0b100
        } else {
            match (has(CacheType::Instruction), has(CacheType::Data)) {
                (true, true) => 0b011,
                (false, true) => 0b010,
                (true, false) => 0b001,
                (false, false) => 0,
            }
        };
        clidr |= ctype << (3 * (u32::from(level) - 1));
    }
    let loc = u64::from(last.min(7));
    Some(clidr | (1 << 21) | (loc << 24) | (1 << 27))
}

/// KVM's linear MPIDR for vCPU `index` (Linux `arch/arm64/kvm/sys_regs.c`
/// `reset_mpidr`), without the RES1 bit 31 of the register.
#[must_use]
pub fn kvm_linear_mpidr(index: u32) -> Mpidr {
    let aff0 = (index & 0xf) as u8;
    let aff1 = ((index >> 4) & 0xff) as u8;
    let aff2 = ((index >> 12) & 0xff) as u8;
    Mpidr::from_affinity(0, aff2, aff1, aff0)
}

/// Bits needed to hold `count` distinct values: `ceil(log2(count))`, 0 for 1.
#[must_use]
pub fn field_width(count: u32) -> u32 {
    if count <= 1 {
        0
    } else {
        u32::BITS - (count - 1).leading_zeros()
    }
}

/// The x2APIC ID layout: field widths per level (Intel SDM CPUID 0BH/1FH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct X2ApicLayout {
    /// Width of the thread (SMT) field; CPUID 1FH SMT-level shift.
    pub smt_bits: u32,
    /// Width of the core field.
    pub core_bits: u32,
    /// Width of the die field.
    pub die_bits: u32,
}

impl X2ApicLayout {
    /// The layout for the widest socket, die and core of a topology.
    #[must_use]
    pub fn for_counts(max_dies_per_socket: u32, max_cores_per_die: u32, threads: u32) -> Self {
        Self {
            smt_bits: field_width(threads),
            core_bits: field_width(max_cores_per_die),
            die_bits: field_width(max_dies_per_socket),
        }
    }

    /// CPUID 1FH shift of the core level (right shift to the die ID).
    #[must_use]
    pub fn core_shift(&self) -> u32 {
        self.smt_bits + self.core_bits
    }

    /// CPUID 1FH shift of the die level, = CPUID 0BH core-level shift (right
    /// shift to the package ID).
    #[must_use]
    pub fn package_shift(&self) -> u32 {
        self.smt_bits + self.core_bits + self.die_bits
    }

    /// Packs one CPU's place; `None` when the ID would not fit 32 bits.
    #[must_use]
    pub fn pack(&self, socket: u32, die: u32, core: u32, thread: u32) -> Option<u32> {
        let socket_part = u64::from(socket) << self.package_shift();
        let value = socket_part
            | (u64::from(die) << self.core_shift())
            | (u64::from(core) << self.smt_bits)
            | u64::from(thread);
        u32::try_from(value).ok()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_clidr_el1_split_l1_unified_l2_l3() {
        let plan = crate::plan_source(
            "t.toml",
            "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\n\
             [[cache]]\nlevel = 1\ntype = \"instruction\"\nsize = \"64KiB\"\nways = 4\nline-size = 64\nshared-by = \"core\"\n\
             [[cache]]\nlevel = 1\ntype = \"data\"\nsize = \"64KiB\"\nways = 4\nline-size = 64\nshared-by = \"core\"\n\
             [[cache]]\nlevel = 2\ntype = \"unified\"\nsize = \"1MiB\"\nways = 8\nline-size = 64\nshared-by = \"core\"\n\
             [[cache]]\nlevel = 3\ntype = \"unified\"\nsize = \"8MiB\"\nways = 16\nline-size = 64\nshared-by = \"socket\"\n",
        )
        .expect("valid");
        // Ctype1 = 0b011, Ctype2 = Ctype3 = 0b100; LoUIS 1, LoC 3, LoUU 1.
        let want = 0b011 | (0b100 << 3) | (0b100 << 6) | (1 << 21) | (3 << 24) | (1 << 27);
        assert_eq!(super::clidr_el1(&plan.caches), Some(want));
        assert_eq!(super::clidr_el1(&[]), None);
    }

    use super::*;

    #[test]
    fn test_kvm_linear_matches_reset_mpidr() {
        // vCPU 0x1234: Aff0 = 0x4, Aff1 = 0x23, Aff2 = 0x1.
        assert_eq!(kvm_linear_mpidr(0x1234).0, 0x01_2304);
        // vCPU 17: the second group of 16 starts at Aff1 = 1.
        assert_eq!(kvm_linear_mpidr(17).0, 0x0101);
        assert_eq!(kvm_linear_mpidr(15).0, 0x000f);
    }

    #[test]
    fn test_field_width_rounds_up_non_powers_of_two() {
        assert_eq!(field_width(1), 0);
        assert_eq!(field_width(2), 1);
        assert_eq!(field_width(3), 2);
        assert_eq!(field_width(6), 3);
        assert_eq!(field_width(8), 3);
        assert_eq!(field_width(9), 4);
    }

    #[test]
    fn test_x2apic_non_power_of_two_cores_leave_gaps() {
        // 2 sockets x 1 die x 6 cores x 2 threads: SMT 1 bit, core 3 bits, die 0.
        let layout = X2ApicLayout::for_counts(1, 6, 2);
        assert_eq!(
            (layout.smt_bits, layout.core_bits, layout.die_bits),
            (1, 3, 0)
        );
        assert_eq!(layout.package_shift(), 4);
        // Socket 1, core 5, thread 1 = 1 << 4 | 5 << 1 | 1 = 0x1b.
        assert_eq!(layout.pack(1, 0, 5, 1), Some(0x1b));
    }

    #[test]
    fn test_x2apic_dies_sit_between_core_and_package() {
        // 3 dies x 5 cores x 1 thread: core 3 bits, die 2 bits, package shift 5.
        let layout = X2ApicLayout::for_counts(3, 5, 1);
        assert_eq!(layout.core_shift(), 3);
        assert_eq!(layout.package_shift(), 5);
        // Socket 2, die 2, core 4 = 2 << 5 | 2 << 3 | 4 = 0x54.
        assert_eq!(layout.pack(2, 2, 4, 0), Some(0x54));
    }

    #[test]
    fn test_x2apic_pack_overflow_is_none() {
        let layout = X2ApicLayout {
            smt_bits: 16,
            core_bits: 16,
            die_bits: 0,
        };
        assert_eq!(layout.pack(1, 0, 0, 0), None);
    }
}
