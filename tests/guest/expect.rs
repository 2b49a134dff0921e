//! The guest's report lines (docs/lab.md, "Output lines") and what a plan
//! says they must contain.
//!
//! Every expected value is computed from the plan, through the kernel rules
//! that turn our tables (and, on x86, QEMU's CPUID) into sysfs values; each
//! rule names the Linux 6.12 code it follows.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use planner::arch::Arch;
use planner::plan::{CacheType, Cpu, IdScheme, Plan, SharedBy, Slot};
use planner::selector::format_cpulist;

/// One `VTOPO-*` line: `key=value;...` after the marker.
#[derive(Debug, Clone)]
pub struct Report {
    pub raw: String,
    pub fields: BTreeMap<String, String>,
}

impl Report {
    /// Parses the text after the marker.
    pub fn parse(rest: &str) -> Report {
        let raw = rest.trim_end_matches('\r').to_string();
        let fields = raw
            .split(';')
            .filter_map(|item| item.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Report { raw, fields }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// A key that must be there.
    pub fn must(&self, key: &str) -> &str {
        self.get(key)
            .unwrap_or_else(|| panic!("no `{key}` in the guest line:\n{}", self.raw))
    }

    /// A CPU list value (`0-3,6`), or a comma-separated list.
    pub fn set(&self, key: &str) -> BTreeSet<u32> {
        cpulist(self.must(key))
    }

    /// Values of the keys `PREFIX.N`, percent-decoded, in N order.
    pub fn numbered(&self, prefix: &str) -> Vec<String> {
        let mut items: Vec<(u32, String)> = self
            .fields
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(prefix)?.strip_prefix('.')?.parse().ok()?;
                Some((n, percent_decode(v)))
            })
            .collect();
        items.sort();
        items.into_iter().map(|(_, v)| v).collect()
    }
}

/// Parses the kernel's list format (`0-3,6`, also plain `0,1,2`; "" is empty).
pub fn cpulist(text: &str) -> BTreeSet<u32> {
    let mut set = BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parse = |s: &str| {
            s.trim()
                .parse::<u32>()
                .unwrap_or_else(|_| panic!("not a CPU list: {text:?}"))
        };
        match part.split_once('-') {
            Some((a, b)) => set.extend(parse(a)..=parse(b)),
            None => {
                set.insert(parse(part));
            }
        }
    }
    set
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Accumulates mismatches so that one failure shows all of them.
#[derive(Debug, Default)]
pub struct Mismatches(Vec<String>);

impl Mismatches {
    pub fn check<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, guest: T, plan: T) {
        if guest != plan {
            self.0
                .push(format!("{what}: guest {guest:?}, plan {plan:?}"));
        }
    }

    pub fn note(&mut self, text: String) {
        self.0.push(text);
    }

    /// Panics listing every mismatch and the guest line.
    pub fn assert_none(self, context: &str, line: &str) {
        if !self.0.is_empty() {
            let mut msg = format!("{context}: the guest does not see the plan:\n");
            for m in &self.0 {
                let _ = writeln!(msg, "  - {m}");
            }
            let _ = write!(msg, "guest line:\n{line}");
            panic!("{msg}");
        }
    }
}

fn indices<'a>(cpus: impl Iterator<Item = &'a Cpu>) -> BTreeSet<u32> {
    cpus.map(|c| c.index.0).collect()
}

/// The guest's CPU number of each plan CPU (indexed by plan index).
///
/// arm64 Linux numbers CPUs in MADT (GICC) order, which is plan order. x86
/// Linux 6.12 (arch/x86/kernel/cpu/topology.c) numbers the CPUs enabled at
/// boot first, in MADT order, and then the possible but disabled ones in
/// APIC ID order (`topology_init_possible_cpus`): with hotpluggable slots
/// between boot CPUs, guest CPU N is not plan CPU N.
pub fn guest_cpu_numbers(plan: &Plan) -> Vec<u32> {
    let mut num = vec![0u32; plan.cpus.len()];
    match plan.arch {
        Arch::Aarch64 => {
            for c in &plan.cpus {
                num[c.index.0 as usize] = c.index.0;
            }
        }
        Arch::X86_64 => {
            let boot = plan.cpus.iter().filter(|c| c.slot == Slot::Boot);
            let mut slots: Vec<&Cpu> = plan.cpus.iter().filter(|c| c.slot != Slot::Boot).collect();
            slots.sort_by_key(|c| c.x2apic_id.map_or(0, |a| a.0));
            for (n, c) in (0u32..).zip(boot.chain(slots)) {
                num[c.index.0 as usize] = n;
            }
        }
    }
    num
}

/// MemTotal of a node must lie in [85 %, 100 %] of the planned size: the
/// kernel's `MemTotal` counts the pages it manages, which is the node's RAM
/// minus what is reserved at boot (kernel image and initrd, about 40 MiB on
/// arm64 node 0; `struct page` arrays, about 1.6 %; firmware reservations).
/// Measured: 91-98 %. A node given the wrong range or size (or none) falls
/// far outside. Firmware memory (the arm64 UEFI variable store) is MMIO for
/// the kernel and does not count.
pub const MEM_LOW_PERCENT: u64 = 85;

/// Checks a `VTOPO-GUEST` report against the plan, for the CPUs in `online`
/// (a subset of the plan's CPUs, by plan index).
///
/// The kernel rules (Linux 6.12.95) behind the expected values:
/// - `possible`: every CPU of the MADT that is Enabled or Online Capable
///   (arm64 `acpi_parse_gic_cpu_interface` via `acpi_cpu_is_usable`; x86
///   `acpi_is_processor_usable` with a FADT >= 6.3): all plan CPUs.
/// - `present`: arm64 marks every possible CPU present in
///   `smp_prepare_cpus` (hence the boot-time "psci: failed to boot CPU4"
///   lines: QEMU has no such vCPU); x86 marks only plugged CPUs present.
/// - `enabled` and the `cpuN` sysfs directories: CPUs whose processor device
///   is enabled (`_STA` 0xF; a hotpluggable CPU has 0xD on arm64, 0x0 on x86).
/// - package, cluster and core IDs on arm64 come from our PPTT
///   (`parse_acpi_topology`): with "ACPI Processor ID valid" on every node,
///   package = the package node's ID (socket), cluster = the cluster node's
///   ID (the plan's `group_id`), core = the leaf's ID, the UID, without SMT,
///   or the core node's ID (`core_id`) with SMT.
/// - on x86 they come from QEMU's CPUID (leaves 0xB/0x1F) and the APIC ID,
///   so they check that our x2APIC layout is QEMU's: package =
///   APIC ID >> package shift, die = APIC ID >> core shift (the die domain
///   ID, `topo_shift_apicid`), core = (APIC ID & package mask) >> SMT bits.
/// - node of a CPU: the SRAT; node IDs equal proximity domains because the
///   kernel numbers PXMs as it first meets them, CPU 0's first.
/// - node cpulists hold online CPUs only.
pub fn check_guest(plan: &Plan, guest: &Report, online: &BTreeSet<u32>, context: &str) {
    let mut m = Mismatches::default();
    let all = indices(plan.cpus.iter());
    assert!(
        online.is_subset(&all),
        "{context}: online set outside the plan"
    );
    // From here on, CPU numbers are the guest's (`guest_cpu_numbers`).
    let num = guest_cpu_numbers(plan);
    let g = |i: u32| num[i as usize];
    let plan_online = online;
    let online: &BTreeSet<u32> = &online.iter().map(|&i| g(i)).collect();

    m.check("possible CPUs", guest.set("possible"), all.clone());
    m.check("online CPUs", guest.set("online"), online.clone());
    let present = match plan.arch {
        Arch::Aarch64 => all.clone(),
        Arch::X86_64 => online.clone(),
    };
    m.check("present CPUs", guest.set("present"), present);
    if guest.get("enabled").is_some() {
        m.check("enabled CPUs", guest.set("enabled"), online.clone());
    }
    m.check(
        "offline CPUs",
        guest.set("offline"),
        all.difference(online).copied().collect(),
    );
    m.check(
        "CPUs with a sysfs directory",
        guest.set("cpus"),
        online.clone(),
    );

    let online_cpus: Vec<&Cpu> = plan
        .cpus
        .iter()
        .filter(|c| plan_online.contains(&c.index.0))
        .collect();
    let peers = |same: &dyn Fn(&Cpu) -> bool| -> String {
        let set: BTreeSet<u32> = online_cpus
            .iter()
            .filter(|c| same(c))
            .map(|c| g(c.index.0))
            .collect();
        set.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    for c in &online_cpus {
        let i = g(c.index.0);
        let key = |k: &str| format!("cpu{i}.{k}");
        let num = |k: &str| -> Option<u64> { guest.get(&key(k)).and_then(|v| v.parse().ok()) };
        let list = |k: &str| -> Option<BTreeSet<u32>> { guest.get(&key(k)).map(cpulist) };
        m.check(&key("online"), guest.get(&key("online")), Some("1"));
        m.check(&key("node"), num("node"), Some(u64::from(c.node.0)));
        m.check(&key("package"), num("package"), Some(u64::from(c.socket)));
        let threads = cpulist(&peers(&|o| {
            (o.socket, o.group, o.core) == (c.socket, c.group, c.core)
        }));
        m.check(&key("threads"), list("threads"), Some(threads));
        let package = cpulist(&peers(&|o| o.socket == c.socket));
        m.check(&key("package_cpus"), list("package_cpus"), Some(package));
        match plan.topology.ids {
            IdScheme::Mpidr { .. } => {
                let core = if plan.topology.threads_per_core == 1 {
                    c.uid.0
                } else {
                    c.core_id
                };
                m.check(&key("core"), num("core"), Some(u64::from(core)));
                m.check(&key("cluster"), num("cluster"), Some(u64::from(c.group_id)));
                let cluster = cpulist(&peers(&|o| o.group_id == c.group_id));
                m.check(&key("cluster_cpus"), list("cluster_cpus"), Some(cluster));
                // arm64 Linux reads cache sizes and sharing from our PPTT:
                // level:type:size:shared CPUs (online ones), as sysfs shows them.
                if !plan.caches.is_empty() {
                    let caches: Vec<String> = plan
                        .caches
                        .iter()
                        .map(|cache| {
                            let shared: Vec<u32> = peers(&|o| match cache.shared_by {
                                SharedBy::Core => {
                                    (o.socket, o.group, o.core) == (c.socket, c.group, c.core)
                                }
                                SharedBy::Cluster | SharedBy::Die => o.group_id == c.group_id,
                                SharedBy::Socket => o.socket == c.socket,
                            })
                            .split(',')
                            .filter_map(|x| x.parse().ok())
                            .collect();
                            let kind = match cache.kind {
                                CacheType::Data => "Data",
                                CacheType::Instruction => "Instruction",
                                CacheType::Unified => "Unified",
                            };
                            format!(
                                "{}:{kind}:{}K:{}",
                                cache.level,
                                cache.size / 1024,
                                format_cpulist(shared)
                            )
                        })
                        .collect();
                    m.check(
                        &key("caches"),
                        guest.get(&key("caches")),
                        Some(caches.join("|").as_str()),
                    );
                }
            }
            IdScheme::X2Apic { layout } => {
                let apic = c.x2apic_id.expect("x86 CPUs have an x2APIC ID").0;
                m.check(&key("apicid"), num("apicid"), Some(u64::from(apic)));
                m.check(
                    &key("package"),
                    num("package"),
                    Some(u64::from(apic >> layout.package_shift())),
                );
                m.check(
                    &key("die"),
                    num("die"),
                    Some(u64::from(apic >> layout.core_shift())),
                );
                let core = (apic & ((1 << layout.package_shift()) - 1)) >> layout.smt_bits;
                m.check(&key("core"), num("core"), Some(u64::from(core)));
            }
        }
    }

    let node_ids: BTreeSet<u32> = plan.nodes.iter().map(|n| n.id.0).collect();
    m.check(
        "possible nodes",
        guest.set("nodes_possible"),
        node_ids.clone(),
    );
    m.check("online nodes", guest.set("nodes_online"), node_ids.clone());
    m.check("node directories", guest.set("nodes"), node_ids);
    for n in &plan.nodes {
        let key = |k: &str| format!("node{}.{k}", n.id.0);
        let cpus: BTreeSet<u32> = n
            .cpus
            .iter()
            .map(|c| c.0)
            .filter(|c| plan_online.contains(c))
            .map(g)
            .collect();
        m.check(&key("cpus"), guest.set(&key("cpus")), cpus);
        let distance: Vec<u64> = guest
            .must(&key("distance"))
            .split(',')
            .filter_map(|d| d.parse().ok())
            .collect();
        let planned: Vec<u64> = plan.distances[usize::try_from(n.id.0).expect("small")]
            .iter()
            .map(|&d| u64::from(d))
            .collect();
        m.check(&key("distance"), distance, planned);
        let kb: u64 = guest.must(&key("mem_kb")).parse().unwrap_or(0);
        let planned_kb = n.memory_size / 1024;
        if kb > planned_kb || kb * 100 < planned_kb * MEM_LOW_PERCENT {
            m.note(format!(
                "{}: guest {kb} kB, plan {planned_kb} kB (allowed {MEM_LOW_PERCENT}-100 %)",
                key("mem_kb")
            ));
        }
    }
    m.check(
        "ACPI problems in the kernel log",
        guest.must("acpi_problems"),
        "0",
    );
    m.assert_none(context, &guest.raw);
}

/// Checks the `VTOPO-DMESG` line: no ACPI problem, and exactly the `tables`
/// overridden by the table upgrade.
pub fn check_dmesg(dmesg: &Report, tables: &[&str], context: &str) {
    let problems = dmesg.numbered("problem");
    assert!(
        problems.is_empty() && dmesg.must("problems") == "0",
        "{context}: ACPI problems in the kernel log:\n{}",
        problems.join("\n")
    );
    let upgrades = dmesg.numbered("upgrade");
    let mut overridden: Vec<String> = upgrades
        .iter()
        .filter_map(|l| {
            let sig = l.split("override [").nth(1)?.get(..4)?;
            Some(sig.to_string())
        })
        .collect();
    overridden.sort();
    let mut expected: Vec<String> = tables.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(
        overridden, expected,
        "{context}: tables overridden by the upgrade (kernel lines: {upgrades:?})"
    );
    assert_eq!(
        upgrades.len(),
        tables.len(),
        "{context}: unexpected table upgrade lines: {upgrades:?}"
    );
}

/// Checks the `VTOPO-ACPI` line: each of our `tables` is the one the kernel
/// uses (OEM revision 2, our length), and the other tables are QEMU's.
pub fn check_acpi(acpi: &Report, compiled: &std::path::Path, tables: &[&str], context: &str) {
    let mut m = Mismatches::default();
    for sig in tables {
        let len = std::fs::metadata(compiled.join(format!("{sig}.aml")))
            .expect("compiled table")
            .len();
        m.check(
            &format!("{sig}.len"),
            acpi.get(&format!("{sig}.len")),
            Some(len.to_string().as_str()),
        );
        m.check(
            &format!("{sig}.oem_rev"),
            acpi.get(&format!("{sig}.oem_rev")),
            Some("2"),
        );
    }
    m.assert_none(context, &acpi.raw);
}

#[test]
fn test_guest_cpu_numbers_follow_linux_x86_rule() {
    let plan = |t: &str| crate::guest::lab::plan_of(&crate::util::root().join(t));
    // Boot CPUs 0-3 then slots 4-7: the guest numbers are the plan's.
    let q35 = plan("topologies/lab-x86-q35.toml");
    assert_eq!(guest_cpu_numbers(&q35), (0..8).collect::<Vec<u32>>());
    // Slots between boot CPUs: boot CPUs first (MADT order), then slots by APIC ID.
    let kvm = plan("topologies/lab-x86-kvm.toml");
    assert_eq!(
        guest_cpu_numbers(&kvm),
        vec![0, 1, 2, 3, 8, 9, 4, 5, 6, 7, 10, 11]
    );
    // arm64: MADT order, always the plan's.
    let arm = plan("topologies/lab-arm64-kvm.toml");
    assert_eq!(guest_cpu_numbers(&arm), (0..8).collect::<Vec<u32>>());
}
