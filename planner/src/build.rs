//! Spec -> Plan. Every rule is a named check ([`Rule`]); all problems are
//! collected and reported together. Only checks that cannot run without an
//! earlier result (CPU IDs need a valid shape) are skipped after a failure.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;

use crate::arch::{kvm_linear_mpidr, Arch, MpidrPolicy, X2ApicLayout};
use crate::diag::{Diagnostic, Rule};
use crate::distance;
use crate::ids::{AcpiUid, ApicId, CpuIndex, GuestAddr, GuestRange, Mpidr, ProximityDomain};
use crate::memory;
use crate::plan::{
    Cache, Cpu, FirmwareMemory, GroupLevel, IdScheme, MemoryMap, Node, Plan, Slot, Topology,
    PLAN_FORMAT_VERSION,
};
use crate::platform::{InterruptController, PlatformKind, GICR_FRAME_SIZE};
use crate::selector::{format_cpulist, Selector, SelectorItem};
use crate::spec::{CacheSpec, CacheType, CpusSpec, SharedBy, Spec, WritePolicy};
use crate::topology::{Hierarchy, Position};

const MEMORY_ALIGN: u64 = 2 << 20;

struct Ctx {
    diags: Vec<Diagnostic>,
}

impl Ctx {
    fn err(&mut self, rule: Rule, span: Range<usize>, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(rule, span, message));
    }
}

/// Builds a plan or returns every problem found.
pub(crate) fn build(spec: &Spec, whole: Range<usize>) -> Result<Plan, Vec<Diagnostic>> {
    let mut cx = Ctx { diags: Vec::new() };
    let arch = *spec.arch.get_ref();
    let platform = *spec.platform.get_ref();
    if platform.arch() != arch {
        cx.err(
            Rule::PlatformArch,
            spec.platform.span(),
            format!(
                "platform {:?} is an {} machine, but arch is {:?}",
                platform.name(),
                platform.arch().name(),
                arch.name()
            ),
        );
        return Err(cx.diags);
    }

    check_arch_keys(&mut cx, arch, spec.cpus.get_ref());
    let shape = shape(&mut cx, arch, platform, &spec.cpus);
    let caches = caches(&mut cx, arch, &spec.caches);
    let Some((sockets, threads)) = shape else {
        return Err(finish(cx.diags));
    };
    let total = sockets
        .iter()
        .flatten()
        .fold(0u64, |a, &c| a.saturating_add(u64::from(c)))
        .saturating_mul(u64::from(threads));
    if !check_cpu_limit(&mut cx, arch, platform, total, spec.cpus.span()) {
        return Err(finish(cx.diags));
    }
    let positions = Hierarchy::new(&sockets, threads).positions();
    let ids = assign_ids(
        &mut cx,
        arch,
        platform,
        spec.cpus.get_ref(),
        &sockets,
        threads,
        &positions,
    );
    let slots = slots(&mut cx, arch, &spec.cpus, &positions);
    let nodes = nodes(&mut cx, arch, spec, &positions, &whole);
    let distances = distances(&mut cx, spec, nodes.as_ref().map_or(0, |n| n.sizes.len()));

    if !cx.diags.is_empty() {
        return Err(finish(cx.diags));
    }
    // Every piece is Some once no diagnostic was raised.
    let (Some((scheme, arch_ids)), Some(slots), Some(nodes), Some(distances), Some(caches)) =
        (ids, slots, nodes, distances, caches)
    else {
        return Err(finish(cx.diags));
    };

    let n_cpus = u32::try_from(positions.len()).unwrap_or(u32::MAX);
    let interrupt_controller = platform.interrupt_controller(n_cpus);
    let cpus = positions
        .iter()
        .zip(0u32..)
        .map(|(p, i)| Cpu {
            index: CpuIndex(i),
            uid: AcpiUid(i),
            mpidr: match arch_ids[i as usize] {
                ArchId::Mpidr(m) => Some(m),
                ArchId::Apic(_) => None,
            },
            x2apic_id: match arch_ids[i as usize] {
                ArchId::Apic(a) => Some(a),
                ArchId::Mpidr(_) => None,
            },
            socket: p.socket,
            group: p.group,
            core: p.core,
            thread: p.thread,
            group_id: p.group_id,
            core_id: p.core_id,
            node: ProximityDomain(nodes.owner[i as usize]),
            slot: if slots.contains(&i) {
                Slot::Boot
            } else {
                Slot::Hotpluggable
            },
            redistributor: redistributor_frame(&interrupt_controller, i),
        })
        .collect();
    let plan_nodes: Vec<Node> = (0..nodes.sizes.len())
        .map(|n| Node {
            id: ProximityDomain(u32::try_from(n).unwrap_or(u32::MAX)),
            cpus: (0..n_cpus)
                .filter(|&c| nodes.owner[c as usize] as usize == n)
                .map(CpuIndex)
                .collect(),
            memory_size: nodes.sizes[n],
            memory: nodes.layout.ram[n].clone(),
            hotplug: nodes.layout.hotplug[n].clone(),
        })
        .collect();
    let mut ram: Vec<GuestRange> = nodes.layout.ram.iter().flatten().copied().collect();
    ram.sort();
    let mut hotplug: Vec<GuestRange> = nodes.layout.hotplug.iter().flatten().copied().collect();
    hotplug.sort();
    let symmetric = sockets.windows(2).all(|w| w[0] == w[1])
        && sockets.iter().flatten().collect::<BTreeSet<_>>().len() <= 1;
    let firmware = firmware_memory(platform, &plan_nodes);
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        name: spec.name.clone(),
        arch,
        platform,
        topology: Topology {
            group_level: match arch {
                Arch::Aarch64 => GroupLevel::Cluster,
                Arch::X86_64 => GroupLevel::Die,
            },
            sockets,
            threads_per_core: threads,
            symmetric,
            ids: scheme,
        },
        cpus,
        nodes: plan_nodes,
        distances,
        interrupt_controller,
        devices: platform.devices(),
        caches,
        memory: MemoryMap {
            firmware,
            ram,
            hotplug,
        },
    })
}

fn firmware_memory(platform: PlatformKind, nodes: &[Node]) -> Option<FirmwareMemory> {
    let (base, size) = platform.firmware_memory()?;
    let node = nodes
        .iter()
        .filter_map(|n| n.memory.first().map(|r| (r.base, n.id)))
        .min()
        .map_or(ProximityDomain(0), |(_, id)| id);
    Some(FirmwareMemory {
        range: GuestRange {
            base: GuestAddr(base),
            size,
        },
        node,
    })
}

fn finish(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| d.span.as_ref().map_or(usize::MAX, |s| s.start));
    diags
}

fn redistributor_frame(ic: &InterruptController, cpu: u32) -> Option<GuestAddr> {
    let InterruptController::GicV3 { redistributors, .. } = ic else {
        return None;
    };
    redistributors
        .iter()
        .find(|r| cpu >= r.first_cpu && cpu - r.first_cpu < r.frames)
        .map(|r| GuestAddr(r.base.0 + u64::from(cpu - r.first_cpu) * GICR_FRAME_SIZE))
}

fn check_arch_keys(cx: &mut Ctx, arch: Arch, cpus: &CpusSpec) {
    let (wrong, right) = match arch {
        Arch::Aarch64 => (cpus.dies.as_ref(), "clusters"),
        Arch::X86_64 => (cpus.clusters.as_ref(), "dies"),
    };
    if let Some(v) = wrong {
        let key = if arch == Arch::Aarch64 {
            "dies"
        } else {
            "clusters"
        };
        cx.err(
            Rule::ArchKey,
            v.span(),
            format!(
                "{key} = {} is not a level of {}; use {right}",
                v.get_ref(),
                arch.name()
            ),
        );
    }
    if arch == Arch::X86_64 {
        if let Some(p) = &cpus.mpidr_policy {
            cx.err(
                Rule::ArchKey,
                p.span(),
                "mpidr-policy applies to aarch64 only; x86_64 packs x2APIC IDs",
            );
        }
    }
    for o in &cpus.overrides {
        let o = o.get_ref();
        match arch {
            Arch::Aarch64 => {
                if let Some(a) = &o.apic_id {
                    cx.err(
                        Rule::ArchKey,
                        a.span(),
                        format!(
                            "apic-id = {} applies to x86_64 only; use mpidr",
                            a.get_ref()
                        ),
                    );
                }
            }
            Arch::X86_64 => {
                if let Some(m) = &o.mpidr {
                    cx.err(
                        Rule::ArchKey,
                        m.span(),
                        format!(
                            "mpidr = {:#x} applies to aarch64 only; use apic-id",
                            m.get_ref()
                        ),
                    );
                }
            }
        }
    }
}

fn positive(cx: &mut Ctx, name: &str, value: Option<&Spanned<u32>>, default: u32) -> Option<u32> {
    match value {
        None => Some(default),
        Some(v) if *v.get_ref() == 0 => {
            cx.err(
                Rule::ZeroCount,
                v.span(),
                format!("{name} is 0; it must be at least 1"),
            );
            None
        }
        Some(v) => Some(*v.get_ref()),
    }
}

/// Per-socket group core counts and threads per core.
fn shape(
    cx: &mut Ctx,
    arch: Arch,
    platform: PlatformKind,
    cpus: &Spanned<CpusSpec>,
) -> Option<(Vec<Vec<u32>>, u32)> {
    let c = cpus.get_ref();
    let threads = positive(cx, "threads", c.threads.as_ref(), 1);
    let group = match arch {
        Arch::Aarch64 => c.clusters.as_ref(),
        Arch::X86_64 => c.dies.as_ref(),
    };
    let symmetric_keys: Vec<(&str, Range<usize>)> = [
        ("sockets", c.sockets.as_ref()),
        ("clusters", c.clusters.as_ref()),
        ("dies", c.dies.as_ref()),
        ("cores", c.cores.as_ref()),
    ]
    .into_iter()
    .filter_map(|(n, v)| v.map(|v| (n, v.span())))
    .collect();
    match (&c.socket_list, &c.cores) {
        (Some(list), _) => {
            if let Some((name, span)) = symmetric_keys.first() {
                cx.err(
                    Rule::ShapeConflict,
                    span.clone(),
                    format!("{name} is a symmetric-shape key, but [[cpus.socket]] gives the shape explicitly; use one form"),
                );
                return None;
            }
            if list.get_ref().is_empty() {
                cx.err(
                    Rule::ZeroCount,
                    list.span(),
                    "[[cpus.socket]] lists no socket",
                );
                return None;
            }
            let mut sockets = Vec::new();
            let mut ok = true;
            for (s, socket) in list.get_ref().iter().enumerate() {
                let cores = &socket.get_ref().cores;
                if cores.get_ref().is_empty() {
                    cx.err(
                        Rule::ZeroCount,
                        cores.span(),
                        format!("socket {s} lists no {}", arch.group_name()),
                    );
                    ok = false;
                }
                for (g, n) in cores.get_ref().iter().enumerate() {
                    if *n.get_ref() == 0 {
                        cx.err(
                            Rule::ZeroCount,
                            n.span(),
                            format!("{} {g} of socket {s} has 0 cores", arch.group_name()),
                        );
                        ok = false;
                    }
                }
                sockets.push(cores.get_ref().iter().map(|n| *n.get_ref()).collect());
            }
            (ok && threads.is_some()).then(|| (sockets, threads.unwrap_or(1)))
        }
        (None, Some(_)) => {
            let n_sockets = positive(cx, "sockets", c.sockets.as_ref(), 1);
            let n_groups = positive(cx, &format!("{}s", arch.group_name()), group, 1);
            let n_cores = positive(cx, "cores", c.cores.as_ref(), 1);
            let (s, g, k, t) = (n_sockets?, n_groups?, n_cores?, threads?);
            // Check the limit before allocating the shape.
            let total = u128::from(s) * u128::from(g) * u128::from(k) * u128::from(t);
            let total = u64::try_from(total).unwrap_or(u64::MAX);
            if !check_cpu_limit(cx, arch, platform, total, cpus.span()) {
                return None;
            }
            Some((vec![vec![k; g as usize]; s as usize], t))
        }
        (None, None) => {
            cx.err(
                Rule::ShapeConflict,
                cpus.span(),
                "[cpus] gives no shape: set cores (with sockets, clusters or dies, threads), or list [[cpus.socket]]",
            );
            None
        }
    }
}

fn check_cpu_limit(
    cx: &mut Ctx,
    arch: Arch,
    platform: PlatformKind,
    total: u64,
    span: Range<usize>,
) -> bool {
    if total > u64::from(platform.max_cpus()) {
        cx.err(
            Rule::CpuLimit,
            span,
            format!(
                "{total} possible CPUs exceed platform {}'s limit of {} ({})",
                platform.name(),
                platform.max_cpus(),
                platform.max_cpus_reason()
            ),
        );
        return false;
    }
    // Every platform's limit is within its architecture's (arm64 Linux
    // NR_CPUS <= 4096, x86_64 <= 8192); keep that true when adding platforms.
    debug_assert!(platform.max_cpus() <= arch.max_cpus());
    true
}

/// An x2APIC override must keep the CPU in its package and die: the guest
/// derives both from the ID with the CPUID 0xB/0x1F shifts.
fn check_apic_place(
    cx: &mut Ctx,
    layout: X2ApicLayout,
    p: Position,
    cpu: u32,
    id: u32,
    span: Range<usize>,
) {
    let package = u64::from(id) >> layout.package_shift();
    let die = (u64::from(id) >> layout.core_shift()) & ((1u64 << layout.die_bits) - 1);
    if package != u64::from(p.socket) || die != u64::from(p.group) {
        cx.err(
            Rule::ApicIdPlace,
            span,
            format!(
                "apic-id {id:#x} decodes to socket {package} die {die} (package shift {}, core shift {}), but CPU {cpu} is in socket {} die {}",
                layout.package_shift(),
                layout.core_shift(),
                p.socket,
                p.group
            ),
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ArchId {
    Mpidr(Mpidr),
    Apic(ApicId),
}

fn assign_ids(
    cx: &mut Ctx,
    arch: Arch,
    platform: PlatformKind,
    cpus: &CpusSpec,
    sockets: &[Vec<u32>],
    threads: u32,
    positions: &[Position],
) -> Option<(IdScheme, Vec<ArchId>)> {
    let before = cx.diags.len();
    let n = positions.len();
    let policy_span = cpus.mpidr_policy.as_ref().map(Spanned::span);
    let mut spans: Vec<Option<Range<usize>>> = vec![None; n];

    let (scheme, mut ids): (IdScheme, Vec<ArchId>) = match arch {
        Arch::Aarch64 => {
            let policy = cpus
                .mpidr_policy
                .as_ref()
                .map_or(MpidrPolicy::KvmLinear, |p| *p.get_ref());
            let ids = match policy {
                MpidrPolicy::KvmLinear => (0u32..)
                    .take(n)
                    .map(|i| ArchId::Mpidr(kvm_linear_mpidr(i)))
                    .collect(),
                MpidrPolicy::Topology => {
                    let span = policy_span.clone().unwrap_or(0..0);
                    let max_socket = sockets.len() as u64 - 1;
                    let max_group = sockets.iter().map(Vec::len).max().unwrap_or(1) as u64 - 1;
                    let max_core = sockets.iter().flatten().copied().max().unwrap_or(1) - 1;
                    // KVM's VGICv3 has no affinity level 3: on vtopo's own
                    // (KVM) platform socket and cluster share Aff2.
                    let kvm = platform == PlatformKind::VtopoVirt;
                    let levels = if kvm {
                        vec![
                            (
                                "global cluster number",
                                max_socket * (max_group + 1) + max_group,
                                "Aff2",
                            ),
                            ("core", u64::from(max_core), "Aff1"),
                        ]
                    } else {
                        vec![
                            ("socket", max_socket, "Aff3"),
                            ("cluster", max_group, "Aff2"),
                            ("core", u64::from(max_core), "Aff1"),
                        ]
                    };
                    for (what, value, field) in levels {
                        if value > 255 {
                            cx.err(
                                Rule::MpidrAffinityOverflow,
                                span.clone(),
                                format!("mpidr-policy \"topology\" puts the {what} in {field}, but {what} {value} does not fit 8 bits (max 255)"),
                            );
                        }
                    }
                    if threads > 16 {
                        cx.err(
                            Rule::MpidrAff0,
                            cpus.threads.as_ref().map_or(span.clone(), Spanned::span),
                            format!("mpidr-policy \"topology\" puts the thread in Aff0, but threads = {threads} gives Aff0 up to {}; GICv3 SGIs reach Aff0 0..15 only", threads - 1),
                        );
                    }
                    positions
                        .iter()
                        .map(|p| {
                            let f = |v: u64| u8::try_from(v).unwrap_or(u8::MAX);
                            let (aff3, aff2) = if kvm {
                                (
                                    0,
                                    u64::from(p.socket) * (max_group + 1) + u64::from(p.group),
                                )
                            } else {
                                (u64::from(p.socket), u64::from(p.group))
                            };
                            ArchId::Mpidr(Mpidr::from_affinity(
                                f(aff3),
                                f(aff2),
                                f(u64::from(p.core)),
                                f(u64::from(p.thread)),
                            ))
                        })
                        .collect()
                }
            };
            (IdScheme::Mpidr { policy }, ids)
        }
        Arch::X86_64 => {
            let max_groups = sockets.iter().map(Vec::len).max().unwrap_or(1);
            let max_cores = sockets.iter().flatten().copied().max().unwrap_or(1);
            let layout = X2ApicLayout::for_counts(
                u32::try_from(max_groups).unwrap_or(u32::MAX),
                max_cores,
                threads,
            );
            let mut ids = Vec::with_capacity(n);
            let mut reported = false;
            for p in positions {
                match layout.pack(p.socket, p.group, p.core, p.thread) {
                    Some(id) if id != u32::MAX => ids.push(ArchId::Apic(ApicId(id))),
                    _ => {
                        if !reported {
                            cx.err(
                                Rule::ApicIdRange,
                                cpus_span_hint(cpus),
                                format!(
                                    "socket {} needs x2APIC IDs beyond 32 bits (package shift {})",
                                    p.socket,
                                    layout.package_shift()
                                ),
                            );
                            reported = true;
                        }
                        ids.push(ArchId::Apic(ApicId(u32::MAX)));
                    }
                }
            }
            (IdScheme::X2Apic { layout }, ids)
        }
    };

    let mut seen = HashSet::new();
    for o in &cpus.overrides {
        let o = o.get_ref();
        let cpu = *o.cpu.get_ref();
        let Some(slot) = ids.get_mut(cpu as usize) else {
            cx.err(
                Rule::OverrideTarget,
                o.cpu.span(),
                format!(
                    "override for CPU {cpu}, but the topology has {n} CPUs (0-{})",
                    n.saturating_sub(1)
                ),
            );
            continue;
        };
        if !seen.insert(cpu) {
            cx.err(
                Rule::OverrideTarget,
                o.cpu.span(),
                format!("CPU {cpu} is overridden twice"),
            );
            continue;
        }
        match (arch, &o.mpidr, &o.apic_id) {
            (Arch::Aarch64, Some(m), _) => {
                let mpidr = Mpidr(*m.get_ref());
                if !mpidr.is_affinity_only() {
                    cx.err(
                        Rule::MpidrReservedBits,
                        m.span(),
                        format!(
                            "mpidr {:#x} sets bits outside Aff3 (39:32) and Aff2..Aff0 (23:0)",
                            mpidr.0
                        ),
                    );
                } else if platform == PlatformKind::VtopoVirt && mpidr.aff(3) != 0 {
                    cx.err(
                        Rule::MpidrAff3,
                        m.span(),
                        format!(
                            "mpidr {:#x} has Aff3 = {}; vtopo-virt runs on KVM, whose VGICv3 has no affinity level 3 (GICR_TYPER and GICD_IROUTER carry Aff2..Aff0 only)",
                            mpidr.0,
                            mpidr.aff(3)
                        ),
                    );
                } else if mpidr.aff(0) > 15 {
                    cx.err(
                        Rule::MpidrAff0,
                        m.span(),
                        format!(
                            "mpidr {:#x} has Aff0 = {}; GICv3 SGIs reach Aff0 0..15 only",
                            mpidr.0,
                            mpidr.aff(0)
                        ),
                    );
                }
                *slot = ArchId::Mpidr(mpidr);
                spans[cpu as usize] = Some(m.span());
            }
            (Arch::X86_64, _, Some(a)) => {
                let value = *a.get_ref();
                match u32::try_from(value) {
                    Ok(id) if id != u32::MAX => {
                        if let IdScheme::X2Apic { layout } = scheme {
                            check_apic_place(
                                cx,
                                layout,
                                positions[cpu as usize],
                                cpu,
                                id,
                                a.span(),
                            );
                        }
                        *slot = ArchId::Apic(ApicId(id));
                        spans[cpu as usize] = Some(a.span());
                    }
                    _ => cx.err(
                        Rule::ApicIdRange,
                        a.span(),
                        format!("apic-id {value:#x} is not a usable x2APIC ID (0..0xfffffffe)"),
                    ),
                }
            }
            (_, None, None) => cx.err(
                Rule::MissingKey,
                o.cpu.span(),
                format!("override for CPU {cpu} sets no ID (mpidr or apic-id)"),
            ),
            _ => {} // The wrong-arch key was reported by check_arch_keys.
        }
    }

    if cx.diags.len() != before {
        // Clamped affinity values would collide: those collisions are consequences.
        return None;
    }
    let mut owner: HashMap<ArchId, usize> = HashMap::with_capacity(n);
    for (i, id) in ids.iter_mut().enumerate() {
        if let Some(&first) = owner.get(id) {
            let (rule, shown) = match id {
                ArchId::Mpidr(m) => (Rule::MpidrCollision, format!("MPIDR {m}")),
                ArchId::Apic(a) => (Rule::ApicIdCollision, format!("x2APIC ID {a}")),
            };
            let span = spans[i]
                .clone()
                .or_else(|| spans[first].clone())
                .unwrap_or_else(|| cpus_span_hint(cpus));
            cx.err(
                rule,
                span,
                format!("CPUs {first} and {i} both have {shown}"),
            );
        } else {
            owner.insert(*id, i);
        }
    }
    (cx.diags.len() == before).then_some((scheme, ids))
}

fn cpus_span_hint(cpus: &CpusSpec) -> Range<usize> {
    cpus.cores
        .as_ref()
        .map(Spanned::span)
        .or_else(|| cpus.socket_list.as_ref().map(Spanned::span))
        .unwrap_or(0..0)
}

/// Resolves a selector to CPU indices; reports parts that name nothing. The
/// valid CPUs are returned even when a part failed (`ok` is false then), so
/// one bad part does not cascade into "CPU in no node" reports.
fn resolve(
    cx: &mut Ctx,
    arch: Arch,
    sel: &Spanned<Selector>,
    positions: &[Position],
    what: &str,
) -> (BTreeSet<u32>, bool) {
    let n = u32::try_from(positions.len()).unwrap_or(u32::MAX);
    let mut out = BTreeSet::new();
    let mut ok = true;
    for item in &sel.get_ref().0 {
        match item {
            SelectorItem::List(ranges) => {
                for &(a, b) in ranges {
                    if b >= n {
                        let shown = if a == b {
                            format!("CPU {a}")
                        } else {
                            format!("CPUs {a}-{b}")
                        };
                        cx.err(
                            Rule::SelectorRange,
                            sel.span(),
                            format!(
                                "{what} names {shown}, but the topology has {n} CPUs (0-{})",
                                n - 1
                            ),
                        );
                        ok = false;
                        out.extend(a..n);
                    } else {
                        out.extend(a..=b);
                    }
                }
            }
            SelectorItem::Place(place) => {
                let wrong = match arch {
                    Arch::Aarch64 => place.die.map(|_| "die"),
                    Arch::X86_64 => place.cluster.map(|_| "cluster"),
                };
                if let Some(level) = wrong {
                    cx.err(
                        Rule::ArchKey,
                        sel.span(),
                        format!(
                            "{what} selects by {level}, which {} does not have",
                            arch.name()
                        ),
                    );
                    ok = false;
                    continue;
                }
                let group = place.cluster.or(place.die);
                let matches = |p: &Position| {
                    place.socket.is_none_or(|s| s == p.socket)
                        && group.is_none_or(|g| g == p.group)
                        && place.core.is_none_or(|c| c == p.core)
                        && place.thread.is_none_or(|t| t == p.thread)
                };
                let mut any = false;
                for (i, p) in (0u32..).zip(positions) {
                    if matches(p) {
                        out.insert(i);
                        any = true;
                    }
                }
                if !any {
                    cx.err(
                        Rule::SelectorRange,
                        sel.span(),
                        format!("{what} selects {place}, which matches no CPU of the topology"),
                    );
                    ok = false;
                }
            }
        }
    }
    (out, ok)
}

/// [`resolve`] for the boot and hotpluggable sets: any failed part fails the set.
fn resolve_ok(
    cx: &mut Ctx,
    arch: Arch,
    sel: &Spanned<Selector>,
    positions: &[Position],
    what: &str,
) -> Option<BTreeSet<u32>> {
    let (set, ok) = resolve(cx, arch, sel, positions, what);
    ok.then_some(set)
}

/// "CPU 3 is" / "CPUs 3-5 are".
fn cpus_are(cpus: &[u32]) -> String {
    match cpus {
        [one] => format!("CPU {one} is"),
        many => format!("CPUs {} are", format_cpulist(many.iter().copied())),
    }
}

/// The boot set.
fn slots(
    cx: &mut Ctx,
    arch: Arch,
    cpus: &Spanned<CpusSpec>,
    positions: &[Position],
) -> Option<BTreeSet<u32>> {
    let c = cpus.get_ref();
    let n = u32::try_from(positions.len()).unwrap_or(u32::MAX);
    let all: BTreeSet<u32> = (0..n).collect();
    let boot = c
        .boot
        .as_ref()
        .map(|s| (resolve_ok(cx, arch, s, positions, "boot"), s.span()));
    let hot = c
        .hotpluggable
        .as_ref()
        .map(|s| (resolve_ok(cx, arch, s, positions, "hotpluggable"), s.span()));
    let boot_set = match (boot, hot) {
        (None, None) => all,
        (Some((b, _)), None) => b?,
        (None, Some((h, _))) => all.difference(&h?).copied().collect(),
        (Some((b, bspan)), Some((h, hspan))) => {
            let (b, h) = (b?, h?);
            let both: Vec<u32> = b.intersection(&h).copied().collect();
            if !both.is_empty() {
                cx.err(
                    Rule::SlotConflict,
                    hspan,
                    format!("{} both boot and hotpluggable", cpus_are(&both)),
                );
                return None;
            }
            let neither: Vec<u32> = all
                .iter()
                .filter(|i| !b.contains(i) && !h.contains(i))
                .copied()
                .collect();
            if !neither.is_empty() {
                cx.err(
                    Rule::SlotConflict,
                    bspan,
                    format!("{} neither boot nor hotpluggable", cpus_are(&neither)),
                );
                return None;
            }
            b
        }
    };
    if boot_set.is_empty() {
        let span = c
            .boot
            .as_ref()
            .or(c.hotpluggable.as_ref())
            .map_or_else(|| cpus.span(), Spanned::span);
        cx.err(Rule::NoBootCpu, span, "no CPU is present at boot");
        return None;
    }
    Some(boot_set)
}

struct Nodes {
    owner: Vec<u32>,
    sizes: Vec<u64>,
    layout: memory::Layout,
}

fn check_alignment(cx: &mut Ctx, what: &str, size: &Spanned<crate::size::ByteSize>) {
    let v = size.get_ref().0;
    if v % MEMORY_ALIGN != 0 {
        let shown = size.get_ref().to_string();
        let shown = if shown == format!("{v}B") {
            format!("{v} bytes")
        } else {
            format!("{shown} ({v} bytes)")
        };
        cx.err(
            Rule::MemoryAlignment,
            size.span(),
            format!("{what} {shown} is not a multiple of 2MiB"),
        );
    }
}

fn nodes(
    cx: &mut Ctx,
    arch: Arch,
    spec: &Spec,
    positions: &[Position],
    whole: &Range<usize>,
) -> Option<Nodes> {
    let n = positions.len();
    let before = cx.diags.len();
    let platform = *spec.platform.get_ref();
    let (sizes, hotplug, owner): (Vec<u64>, Vec<u64>, Vec<Option<u32>>) = if spec.nodes.is_empty() {
        let memory = spec.memory.as_ref();
        if let Some(m) = memory {
            check_alignment(cx, "memory", m);
        }
        if let Some(h) = &spec.hotplug_memory {
            check_alignment(cx, "hotplug-memory", h);
        }
        (
            vec![memory.map_or(0, |m| m.get_ref().0)],
            vec![spec.hotplug_memory.as_ref().map_or(0, |m| m.get_ref().0)],
            vec![Some(0); n],
        )
    } else {
        for key in [&spec.memory, &spec.hotplug_memory].into_iter().flatten() {
            cx.err(
                Rule::MemoryConflict,
                key.span(),
                "top-level memory applies only without [[node]] tables; give memory per node",
            );
        }
        let mut owner: Vec<Option<u32>> = vec![None; n];
        let (mut sizes, mut hotplug) = (Vec::new(), Vec::new());
        for (id, node) in (0u32..).zip(&spec.nodes) {
            let nd = node.get_ref();
            if let Some(m) = &nd.memory {
                check_alignment(cx, &format!("node {id} memory"), m);
            }
            if let Some(h) = &nd.hotplug_memory {
                check_alignment(cx, &format!("node {id} hotplug-memory"), h);
            }
            let mem = nd.memory.as_ref().map_or(0, |m| m.get_ref().0);
            let hot = nd.hotplug_memory.as_ref().map_or(0, |m| m.get_ref().0);
            let mut has_cpus = false;
            if let Some(sel) = &nd.cpus {
                {
                    let (set, _) = resolve(cx, arch, sel, positions, &format!("node {id} cpus"));
                    has_cpus = !set.is_empty();
                    let mut clash: HashMap<u32, Vec<u32>> = HashMap::new();
                    for cpu in set {
                        match owner[cpu as usize] {
                            Some(first) => clash.entry(first).or_default().push(cpu),
                            None => owner[cpu as usize] = Some(id),
                        }
                    }
                    let mut clash: Vec<_> = clash.into_iter().collect();
                    clash.sort_unstable();
                    for (first, list) in clash {
                        cx.err(
                            Rule::CpuInTwoNodes,
                            sel.span(),
                            format!("{} in node {first} and in node {id}", cpus_are(&list)),
                        );
                    }
                }
            }
            if !has_cpus && mem == 0 && hot == 0 {
                cx.err(
                    Rule::EmptyNode,
                    node.span(),
                    format!("node {id} has no CPUs and no memory"),
                );
            }
            sizes.push(mem);
            hotplug.push(hot);
        }
        (sizes, hotplug, owner)
    };

    let total: u64 = sizes.iter().sum();
    // Memory given at the top level next to [[node]]s is memory-conflict, not no-memory.
    let misplaced = !spec.nodes.is_empty() && spec.memory.is_some();
    if total == 0 && !misplaced {
        let span = spec
            .nodes
            .first()
            .map_or_else(|| whole.clone(), Spanned::span);
        let hint = if spec.nodes.is_empty() {
            "set memory"
        } else {
            "set memory in at least one [[node]]"
        };
        cx.err(
            Rule::NoMemory,
            span,
            format!("the VM has no boot memory: {hint}"),
        );
    }
    let orphans: Vec<u32> = (0u32..)
        .zip(&owner)
        .filter(|(_, o)| o.is_none())
        .map(|(i, _)| i)
        .collect();
    if !orphans.is_empty() {
        cx.err(
            Rule::CpuInNoNode,
            spec.nodes
                .last()
                .map_or_else(|| whole.clone(), Spanned::span),
            format!(
                "{} in no node; every CPU, boot or hotpluggable slot, needs one",
                cpus_are(&orphans)
            ),
        );
    }

    let layout = match memory::layout(platform, &sizes, &hotplug) {
        Ok(l) => Some(l),
        Err(e) => {
            let span = spec
                .nodes
                .last()
                .map(Spanned::span)
                .or_else(|| spec.memory.as_ref().map(Spanned::span))
                .unwrap_or_else(|| whole.clone());
            if total > 0 {
                cx.err(
                    Rule::MemoryFit,
                    span,
                    format!(
                        "{} does not fit platform {}: it would end at {:#x}, past the end of guest RAM at {:#x}",
                        e.what,
                        platform.name(),
                        e.needed_end,
                        e.limit
                    ),
                );
            }
            None
        }
    };
    if cx.diags.len() != before {
        return None;
    }
    Some(Nodes {
        owner: owner.into_iter().map(|o| o.unwrap_or(0)).collect(),
        sizes,
        layout: layout?,
    })
}

fn distances(cx: &mut Ctx, spec: &Spec, nodes: usize) -> Option<Vec<Vec<u8>>> {
    let nodes = if nodes == 0 {
        spec.nodes.len().max(1)
    } else {
        nodes
    };
    let Some(d) = &spec.distances else {
        return Some(distance::default_matrix(nodes));
    };
    let before = cx.diags.len();
    let ds = d.get_ref();
    let matrix = match (&ds.matrix, ds.pair.is_empty()) {
        (Some(m), false) => {
            cx.err(
                Rule::DistanceConflict,
                m.span(),
                "distances given both as a matrix and as pairs; use one form",
            );
            return None;
        }
        (None, true) => {
            cx.err(
                Rule::MissingKey,
                d.span(),
                "[distances] needs matrix or [[distances.pair]]",
            );
            return None;
        }
        (Some(m), true) => {
            let rows = m.get_ref();
            if rows.len() != nodes {
                cx.err(
                    Rule::DistanceShape,
                    m.span(),
                    format!("distance matrix has {} rows for {nodes} nodes", rows.len()),
                );
                return None;
            }
            for (i, row) in rows.iter().enumerate() {
                if row.get_ref().len() != nodes {
                    cx.err(
                        Rule::DistanceShape,
                        row.span(),
                        format!(
                            "row {i} of the distance matrix has {} entries for {nodes} nodes",
                            row.get_ref().len()
                        ),
                    );
                }
            }
            if cx.diags.len() != before {
                return None;
            }
            rows.iter()
                .map(|r| {
                    r.get_ref()
                        .iter()
                        .map(|v| *v.get_ref())
                        .collect::<Vec<u8>>()
                })
                .collect::<Vec<_>>()
        }
        (None, false) => {
            let mut pairs = Vec::new();
            let mut seen = HashSet::new();
            for p in &ds.pair {
                let pr = p.get_ref();
                let (from, to) = (*pr.from.get_ref() as usize, *pr.to.get_ref() as usize);
                let mut ok = true;
                for v in [&pr.from, &pr.to] {
                    if *v.get_ref() as usize >= nodes {
                        cx.err(
                            Rule::DistanceShape,
                            v.span(),
                            format!(
                                "node {} does not exist (nodes 0-{})",
                                v.get_ref(),
                                nodes - 1
                            ),
                        );
                        ok = false;
                    }
                }
                if !ok {
                    continue;
                }
                if !seen.insert((from, to)) {
                    cx.err(
                        Rule::DistanceDuplicate,
                        p.span(),
                        format!("distance from node {from} to node {to} is given twice"),
                    );
                    continue;
                }
                pairs.push((from, to, *pr.distance.get_ref()));
                if from == to && *pr.distance.get_ref() != distance::LOCAL {
                    cx.err(
                        Rule::DistanceDiagonal,
                        pr.distance.span(),
                        format!(
                            "distance from node {from} to itself is {}; it must be 10",
                            pr.distance.get_ref()
                        ),
                    );
                } else if from != to && *pr.distance.get_ref() <= distance::LOCAL {
                    cx.err(Rule::DistanceRemote, pr.distance.span(), format!("distance from node {from} to node {to} is {}; remote distances must exceed 10", pr.distance.get_ref()));
                }
            }
            let (m, missing) = distance::from_pairs(nodes, &pairs);
            for (i, j) in missing {
                cx.err(Rule::DistanceMissing, d.span(), format!("no distance between node {i} and node {j} (give it in at least one direction)"));
            }
            if cx.diags.len() != before {
                return None;
            }
            return Some(m);
        }
    };
    if let Some(m) = &ds.matrix {
        for (i, row) in m.get_ref().iter().enumerate() {
            for (j, v) in row.get_ref().iter().enumerate() {
                let value = *v.get_ref();
                if i == j && value != distance::LOCAL {
                    cx.err(
                        Rule::DistanceDiagonal,
                        v.span(),
                        format!("distance from node {i} to itself is {value}; it must be 10"),
                    );
                } else if i != j && value <= distance::LOCAL {
                    cx.err(Rule::DistanceRemote, v.span(), format!("distance from node {i} to node {j} is {value}; remote distances must exceed 10"));
                }
            }
        }
    }
    (cx.diags.len() == before).then_some(matrix)
}

fn sharing_rank(s: SharedBy) -> u8 {
    match s {
        SharedBy::Core => 0,
        SharedBy::Cluster | SharedBy::Die => 1,
        SharedBy::Socket => 2,
    }
}

fn caches(cx: &mut Ctx, arch: Arch, specs: &[Spanned<CacheSpec>]) -> Option<Vec<Cache>> {
    let before = cx.diags.len();
    let mut out: Vec<(Cache, Range<usize>)> = Vec::new();
    for s in specs {
        let c = s.get_ref();
        let level = *c.level.get_ref();
        let kind = *c.kind.get_ref();
        let shared_by = *c.shared_by.get_ref();
        if !(1..=4).contains(&level) {
            cx.err(
                Rule::CacheLevel,
                c.level.span(),
                format!("cache level {level} is outside 1..=4"),
            );
            continue;
        }
        let wrong = match (arch, shared_by) {
            (Arch::X86_64, SharedBy::Cluster) => Some("cluster"),
            (Arch::Aarch64, SharedBy::Die) => Some("die"),
            _ => None,
        };
        if let Some(level_name) = wrong {
            cx.err(
                Rule::CacheSharing,
                c.shared_by.span(),
                format!(
                    "shared-by = \"{level_name}\", but {} has no {level_name} level",
                    arch.name()
                ),
            );
            continue;
        }
        let size = c.size.get_ref().0;
        let ways = *c.ways.get_ref();
        let line = *c.line_size.get_ref();
        if line == 0 || !line.is_power_of_two() {
            cx.err(
                Rule::CacheGeometry,
                c.line_size.span(),
                format!("line-size {line} is not a power of two"),
            );
            continue;
        }
        if ways == 0 || ways > 255 {
            cx.err(
                Rule::CacheGeometry,
                c.ways.span(),
                format!("ways = {ways} is outside 1..=255 (PPTT associativity is one byte)"),
            );
            continue;
        }
        let way_bytes = u64::from(ways) * u64::from(line);
        let sets = size / way_bytes;
        if size == 0
            || size % way_bytes != 0
            || u32::try_from(sets).is_err()
            || u32::try_from(size).is_err()
        {
            cx.err(
                Rule::CacheGeometry,
                c.size.span(),
                format!("L{level} {} size {} is not a whole number of sets of {ways} ways x {line} bytes (or exceeds 4 GiB)", kind_name(kind), c.size.get_ref()),
            );
            continue;
        }
        if let Some((dup, _)) = out.iter().find(|(o, _)| {
            o.level == level
                && (o.kind == kind || o.kind == CacheType::Unified || kind == CacheType::Unified)
        }) {
            cx.err(
                Rule::CacheDuplicate,
                s.span(),
                format!(
                    "L{level} {} clashes with the L{level} {} declared before it",
                    kind_name(kind),
                    kind_name(dup.kind)
                ),
            );
            continue;
        }
        out.push((
            Cache {
                level,
                kind,
                size,
                ways,
                line_size: line,
                sets: u32::try_from(sets).unwrap_or(u32::MAX),
                shared_by,
                write_policy: c.write_policy.unwrap_or(WritePolicy::WriteBack),
            },
            c.shared_by.span(),
        ));
    }
    for (c, span) in &out {
        if let Some((lower, _)) = out.iter().find(|(o, _)| {
            o.level < c.level && sharing_rank(o.shared_by) > sharing_rank(c.shared_by)
        }) {
            cx.err(
                Rule::CacheOrder,
                span.clone(),
                format!(
                    "L{} is shared by {:?} but the L{} below it by {:?}; an outer cache cannot be shared more narrowly",
                    c.level, c.shared_by, lower.level, lower.shared_by
                ),
            );
        }
    }
    if cx.diags.len() != before {
        return None;
    }
    let mut caches: Vec<Cache> = out.into_iter().map(|(c, _)| c).collect();
    caches.sort_by_key(|c| (c.level, c.kind));
    Some(caches)
}

fn kind_name(kind: CacheType) -> &'static str {
    match kind {
        CacheType::Data => "data",
        CacheType::Instruction => "instruction",
        CacheType::Unified => "unified",
    }
}

#[cfg(test)]
mod tests {
    //! One test per rule: a minimal input that breaks exactly that rule.

    use crate::{plan_source, Rule};

    const ARM: &str = "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\n";
    const X86: &str = "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\n";
    const MEM: &str = "memory = \"1GiB\"\n";

    fn rules(source: &str) -> Vec<Rule> {
        match plan_source("t.toml", source) {
            Ok(_) => Vec::new(),
            Err(d) => d.items.iter().map(|i| i.rule).collect(),
        }
    }

    macro_rules! rule_test {
        ($name:ident, $rule:expr, $($part:expr),+) => {
            #[test]
            fn $name() {
                let source = [$($part),+].concat();
                let found = rules(&source);
                assert_eq!(found, vec![$rule], "input:\n{source}");
            }
        };
    }

    rule_test!(
        test_rule_syntax,
        Rule::Syntax,
        ARM,
        MEM,
        "[cpus\ncores = 1\n"
    );
    rule_test!(
        test_rule_unknown_key,
        Rule::UnknownKey,
        ARM,
        MEM,
        "[cpus]\ncores = 1\ncpu = 2\n"
    );
    rule_test!(
        test_rule_missing_key,
        Rule::MissingKey,
        "arch = \"aarch64\"\n",
        MEM,
        "[cpus]\ncores = 1\n"
    );
    rule_test!(
        test_rule_platform_arch,
        Rule::PlatformArch,
        "arch = \"x86_64\"\nplatform = \"qemu-virt\"\n",
        MEM,
        "[cpus]\ncores = 1\n"
    );
    rule_test!(
        test_rule_arch_key_dies_on_arm,
        Rule::ArchKey,
        ARM,
        MEM,
        "[cpus]\ndies = 2\ncores = 1\n"
    );
    rule_test!(
        test_rule_arch_key_policy_on_x86,
        Rule::ArchKey,
        X86,
        MEM,
        "[cpus]\ncores = 1\nmpidr-policy = \"topology\"\n"
    );
    rule_test!(
        test_rule_shape_conflict_both_forms,
        Rule::ShapeConflict,
        ARM,
        MEM,
        "[cpus]\ncores = 2\n[[cpus.socket]]\ncores = [2]\n"
    );
    rule_test!(
        test_rule_shape_conflict_no_shape,
        Rule::ShapeConflict,
        ARM,
        MEM,
        "[cpus]\nthreads = 2\n"
    );
    rule_test!(
        test_rule_zero_count,
        Rule::ZeroCount,
        ARM,
        MEM,
        "[cpus]\nclusters = 0\ncores = 1\n"
    );
    rule_test!(
        test_rule_zero_count_in_socket_list,
        Rule::ZeroCount,
        ARM,
        MEM,
        "[cpus]\n[[cpus.socket]]\ncores = [2, 0]\n"
    );
    rule_test!(
        test_rule_cpu_limit_platform,
        Rule::CpuLimit,
        "arch = \"aarch64\"\nplatform = \"qemu-virt\"\n",
        MEM,
        "[cpus]\ncores = 513\n"
    );
    rule_test!(
        test_rule_cpu_limit_arch,
        Rule::CpuLimit,
        ARM,
        MEM,
        "[cpus]\nsockets = 2\ncores = 2049\n"
    );
    rule_test!(
        test_rule_mpidr_affinity_overflow,
        Rule::MpidrAffinityOverflow,
        ARM,
        MEM,
        "[cpus]\ncores = 257\nmpidr-policy = \"topology\"\n"
    );
    rule_test!(
        test_rule_mpidr_aff0_threads,
        Rule::MpidrAff0,
        ARM,
        MEM,
        "[cpus]\ncores = 1\nthreads = 17\nmpidr-policy = \"topology\"\n"
    );
    rule_test!(
        test_rule_mpidr_aff3_override_on_kvm,
        Rule::MpidrAff3,
        ARM,
        MEM,
        "[cpus]\ncores = 2\n[[cpus.override]]\ncpu = 1\nmpidr = 0x100000000\n"
    );
    rule_test!(
        test_rule_mpidr_aff0_override,
        Rule::MpidrAff0,
        ARM,
        MEM,
        "[cpus]\ncores = 2\n[[cpus.override]]\ncpu = 1\nmpidr = 0x10\n"
    );
    rule_test!(
        test_rule_mpidr_collision,
        Rule::MpidrCollision,
        ARM,
        MEM,
        "[cpus]\ncores = 2\n[[cpus.override]]\ncpu = 1\nmpidr = 0\n"
    );
    rule_test!(
        test_rule_mpidr_reserved_bits,
        Rule::MpidrReservedBits,
        ARM,
        MEM,
        "[cpus]\ncores = 2\n[[cpus.override]]\ncpu = 1\nmpidr = 0x80000001\n"
    );
    rule_test!(
        test_rule_apic_id_collision,
        Rule::ApicIdCollision,
        X86,
        MEM,
        "[cpus]\ncores = 2\n[[cpus.override]]\ncpu = 0\napic-id = 1\n"
    );
    rule_test!(
        test_rule_apic_id_range,
        Rule::ApicIdRange,
        X86,
        MEM,
        "[cpus]\ncores = 2\n[[cpus.override]]\ncpu = 0\napic-id = 0xffffffff\n"
    );
    rule_test!(
        test_rule_apic_id_place,
        Rule::ApicIdPlace,
        X86,
        MEM,
        "[cpus]\ncores = 4\n[[cpus.override]]\ncpu = 3\napic-id = 0x100\n"
    );
    rule_test!(
        test_rule_override_target_missing_cpu,
        Rule::OverrideTarget,
        ARM,
        MEM,
        "[cpus]\ncores = 2\n[[cpus.override]]\ncpu = 2\nmpidr = 0x100\n"
    );
    rule_test!(test_rule_override_target_twice, Rule::OverrideTarget, ARM, MEM, "[cpus]\ncores = 2\n[[cpus.override]]\ncpu = 1\nmpidr = 0x100\n[[cpus.override]]\ncpu = 1\nmpidr = 0x200\n");
    rule_test!(
        test_rule_selector_range_list,
        Rule::SelectorRange,
        ARM,
        MEM,
        "[cpus]\ncores = 4\nboot = \"0-4\"\n"
    );
    rule_test!(
        test_rule_selector_range_place,
        Rule::SelectorRange,
        ARM,
        MEM,
        "[cpus]\ncores = 4\nhotpluggable = { socket = 1 }\n"
    );
    rule_test!(
        test_rule_selector_syntax,
        Rule::SelectorSyntax,
        ARM,
        MEM,
        "[cpus]\ncores = 4\nboot = \"0-x\"\n"
    );
    rule_test!(
        test_rule_slot_conflict_overlap,
        Rule::SlotConflict,
        ARM,
        MEM,
        "[cpus]\ncores = 4\nboot = \"0-2\"\nhotpluggable = \"2-3\"\n"
    );
    rule_test!(
        test_rule_slot_conflict_gap,
        Rule::SlotConflict,
        ARM,
        MEM,
        "[cpus]\ncores = 4\nboot = \"0-1\"\nhotpluggable = \"3\"\n"
    );
    rule_test!(
        test_rule_no_boot_cpu,
        Rule::NoBootCpu,
        ARM,
        MEM,
        "[cpus]\ncores = 4\nhotpluggable = \"0-3\"\n"
    );
    rule_test!(test_rule_cpu_in_two_nodes, Rule::CpuInTwoNodes, ARM, "[cpus]\ncores = 4\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0-2\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"2-3\"\n");
    rule_test!(
        test_rule_cpu_in_no_node,
        Rule::CpuInNoNode,
        ARM,
        "[cpus]\ncores = 4\nhotpluggable = \"3\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0-2\"\n"
    );
    rule_test!(
        test_rule_empty_node,
        Rule::EmptyNode,
        ARM,
        "[cpus]\ncores = 4\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0-3\"\n[[node]]\n"
    );
    rule_test!(
        test_rule_no_memory,
        Rule::NoMemory,
        ARM,
        "[cpus]\ncores = 4\n"
    );
    rule_test!(
        test_rule_memory_conflict,
        Rule::MemoryConflict,
        ARM,
        MEM,
        "[cpus]\ncores = 4\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0-3\"\n"
    );
    rule_test!(
        test_rule_memory_alignment,
        Rule::MemoryAlignment,
        ARM,
        "memory = \"1023MiB\"\n",
        "[cpus]\ncores = 4\n"
    );
    rule_test!(
        test_rule_memory_fit,
        Rule::MemoryFit,
        "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"256GiB\"\n",
        "[cpus]\ncores = 4\n"
    );
    rule_test!(test_rule_memory_fit_hotplug, Rule::MemoryFit, "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\nhotplug-memory = \"255GiB\"\n", "[cpus]\ncores = 4\n");
    rule_test!(test_rule_distance_diagonal, Rule::DistanceDiagonal, ARM, "[cpus]\ncores = 2\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"1\"\n[distances]\nmatrix = [[11, 20], [20, 10]]\n");
    rule_test!(test_rule_distance_remote, Rule::DistanceRemote, ARM, "[cpus]\ncores = 2\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"1\"\n[[distances.pair]]\nfrom = 0\nto = 1\ndistance = 10\n");
    rule_test!(test_rule_distance_missing, Rule::DistanceMissing, ARM, "[cpus]\ncores = 3\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"1\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"2\"\n[[distances.pair]]\nfrom = 0\nto = 1\ndistance = 20\n[[distances.pair]]\nfrom = 1\nto = 2\ndistance = 20\n");
    rule_test!(test_rule_distance_shape, Rule::DistanceShape, ARM, "[cpus]\ncores = 2\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"1\"\n[distances]\nmatrix = [[10, 20]]\n");
    rule_test!(test_rule_distance_duplicate, Rule::DistanceDuplicate, ARM, "[cpus]\ncores = 2\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"1\"\n[[distances.pair]]\nfrom = 0\nto = 1\ndistance = 20\n[[distances.pair]]\nfrom = 0\nto = 1\ndistance = 21\n");
    rule_test!(test_rule_distance_conflict, Rule::DistanceConflict, ARM, "[cpus]\ncores = 2\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"1\"\n[distances]\nmatrix = [[10, 20], [20, 10]]\n[[distances.pair]]\nfrom = 0\nto = 1\ndistance = 20\n");
    rule_test!(test_rule_cache_geometry, Rule::CacheGeometry, ARM, MEM, "[cpus]\ncores = 2\n[[cache]]\nlevel = 1\ntype = \"data\"\nsize = \"48KiB\"\nways = 5\nline-size = 64\nshared-by = \"core\"\n");
    rule_test!(test_rule_cache_level, Rule::CacheLevel, ARM, MEM, "[cpus]\ncores = 2\n[[cache]]\nlevel = 0\ntype = \"data\"\nsize = \"64KiB\"\nways = 4\nline-size = 64\nshared-by = \"core\"\n");
    rule_test!(test_rule_cache_sharing, Rule::CacheSharing, X86, MEM, "[cpus]\ncores = 2\n[[cache]]\nlevel = 3\ntype = \"unified\"\nsize = \"8MiB\"\nways = 16\nline-size = 64\nshared-by = \"cluster\"\n");
    rule_test!(test_rule_cache_order, Rule::CacheOrder, ARM, MEM, "[cpus]\ncores = 2\n[[cache]]\nlevel = 1\ntype = \"data\"\nsize = \"64KiB\"\nways = 4\nline-size = 64\nshared-by = \"cluster\"\n[[cache]]\nlevel = 2\ntype = \"unified\"\nsize = \"1MiB\"\nways = 8\nline-size = 64\nshared-by = \"core\"\n");
    rule_test!(test_rule_cache_duplicate, Rule::CacheDuplicate, ARM, MEM, "[cpus]\ncores = 2\n[[cache]]\nlevel = 2\ntype = \"unified\"\nsize = \"1MiB\"\nways = 8\nline-size = 64\nshared-by = \"core\"\n[[cache]]\nlevel = 2\ntype = \"data\"\nsize = \"1MiB\"\nways = 8\nline-size = 64\nshared-by = \"core\"\n");

    #[test]
    fn test_bad_selector_part_does_not_orphan_the_valid_cpus() {
        // "4-7" is out of range; "2-3" is fine and must still count for node 1.
        let src = format!("{ARM}[cpus]\ncores = 4\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0-1\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"2-3,4-7\"\n");
        assert_eq!(rules(&src), vec![Rule::SelectorRange]);
    }

    #[test]
    fn test_memory_beside_nodes_is_only_a_conflict() {
        let src = format!("{ARM}{MEM}[cpus]\ncores = 4\n[[node]]\ncpus = \"0-3\"\n");
        assert_eq!(rules(&src), vec![Rule::MemoryConflict]);
    }
}
