//! The nested-KVM lab (docs/nested-lab.md): an L1 Linux with its own KVM,
//! under QEMU software emulation, on both architectures. `/dev/kvm` on these
//! machines cannot boot Linux (PVM), so vtopo's end-to-end VMM tests run
//! inside such an L1; these tests prove the lab and the KVM rules vtopo
//! relies on, with the capability probe `vmm-backend/examples/kvm_probe.rs`
//! built static for the L1's architecture:
//!
//! - x86_64 (q35, `-cpu max`: emulated AMD SVM with nested paging, `-smp 1`):
//!   the Debian kernel's own kvm/kvm-amd modules load, and a VM takes an
//!   in-kernel irqchip, the x2APIC API and vCPUs with sparse ids (0, 1, 8, 9)
//!   whose APIC IDs are their ids;
//! - aarch64 (virt, `virtualization=on`): KVM (built in) with PSCI 0.2, the
//!   SMCCC filter, MPIDR_EL1 set from user space and read back, a VGICv3
//!   initialised after all vCPUs, and KVM refusing a vCPU after that.
//!
//! Needs QEMU, busybox, cpio/gzip/xz, the kernels and x86 KVM modules
//! (scripts/setup.sh, scripts/fetch-kernels.sh) and, for aarch64, Debian's
//! rustc with the arm64 standard library and the cross linker. Missing pieces
//! skip loudly; in CI (CI=true) they fail. One L1 at a time; an L1 that hangs,
//! dies or has no /dev/kvm is a lab failure, retried once; a wrong probe
//! result never is. `-- --nocapture` shows the probe lines and the timings.

pub mod bench;
pub mod lab;
pub mod vmm;

use std::path::Path;

use planner::arch::Arch;
use serde_json::Value;

use crate::iasl::tempdir;
use lab::{boot_retrying, build_static, exclusive, require, Boot, Image, L1Run, Outcome};
use planner::plan::Slot;

/// Builds the probe, an L1 image running it, boots it, and returns the
/// probe's JSON with the run.
fn probe_in_l1(arch: Arch, dir: &Path) -> (Value, L1Run) {
    let probe = build_static(
        arch,
        &["-p", "vtopo-vmm-backend", "--example", "kvm_probe"],
        "kvm_probe",
    );
    let initrd = Image::default()
        .add(&probe, "/l1/bin/")
        .run("kvm_probe")
        .build(arch, &dir.join("l1.gz"));
    let run = boot_retrying(arch, &initrd, &Boot::default(), dir, "l1");
    assert!(
        run.outcome == Outcome::Exited(0) || run.outcome == Outcome::Exited(1),
        "{arch:?} L1: {:?} ({}; console {})\n{}",
        run.outcome,
        run.summary,
        run.log.display(),
        run.tail(40)
    );
    let line = run
        .output()
        .find_map(|l| l.strip_prefix("VTOPO-KVM "))
        .unwrap_or_else(|| panic!("no VTOPO-KVM line\n{}", run.tail(40)));
    let json: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("VTOPO-KVM line is not JSON ({e}): {line}"));
    eprintln!(
        "{arch:?} L1: /dev/kvm after {:.2} s (guest uptime {}), probe {:.2} s (guest {} s), total {:.2} s\n{}\nVTOPO-KVM {line}",
        run.to_kvm.unwrap_or(f64::NAN),
        run.field("VTOPO-L1-KVM", "uptime").unwrap_or("?"),
        run.command.unwrap_or(f64::NAN),
        run.field("VTOPO-L1-EXIT", "run").unwrap_or("?"),
        run.total.unwrap_or(f64::NAN),
        run.summary,
    );
    (json, run)
}

/// Every mismatch between the probe's JSON and `expected` (JSON pointer,
/// value), listed at once.
fn mismatches(json: &Value, expected: &[(&str, Value)]) -> Vec<String> {
    expected
        .iter()
        .filter(|(ptr, want)| json.pointer(ptr) != Some(want))
        .map(|(ptr, want)| format!("{ptr}: expected {want}, got {:?}", json.pointer(ptr)))
        .collect()
}

/// A capability at least `min`.
fn at_least(json: &Value, cap: &str, min: i64) -> Option<String> {
    let got = json
        .pointer(&format!("/caps/{cap}"))
        .and_then(Value::as_i64);
    (got.unwrap_or(i64::MIN) < min).then(|| format!("caps.{cap}: expected >= {min}, got {got:?}"))
}

fn assert_probe(arch: Arch, json: &Value, run: &L1Run, mut problems: Vec<String>) {
    if run.outcome != Outcome::Exited(0) {
        problems.push(format!("L1 command status {:?}", run.outcome));
    }
    assert!(
        problems.is_empty(),
        "{arch:?} L1 KVM probe:\n  {}\nVTOPO-KVM {json}\nconsole {}:\n{}",
        problems.join("\n  "),
        run.log.display(),
        run.tail(30)
    );
}

#[test]
fn test_x86_l1_kvm_takes_sparse_vcpu_ids() {
    if !require(Arch::X86_64, "the x86 nested-KVM lab test") {
        return;
    }
    let _one_at_a_time = exclusive();
    let dir = tempdir("nested-x86");
    let (json, run) = probe_in_l1(Arch::X86_64, &dir);

    let ok = || Value::from("ok");
    let mut problems = mismatches(
        &json,
        &[
            ("/arch", "x86_64".into()),
            ("/api_version", 12.into()),
            ("/verdict", "pass".into()),
            ("/steps/create_vm", ok()),
            ("/steps/create_irqchip", ok()),
            ("/steps/enable_x2apic_api", ok()),
            ("/steps/create_vcpu_0", ok()),
            ("/steps/create_vcpu_1", ok()),
            ("/steps/create_vcpu_8", ok()),
            ("/steps/create_vcpu_9", ok()),
            ("/steps/apic_ids", serde_json::json!([0, 1, 8, 9])),
            ("/steps/create_vcpu_duplicate_id", "errno=17".into()),
            ("/steps/vcpus_created", 4.into()),
        ],
    );
    problems.extend(at_least(&json, "max_vcpus", 4));
    problems.extend(at_least(&json, "max_vcpu_id", 10));
    problems.extend(at_least(&json, "x2apic_api", 1));
    // The L1 loaded the Debian kernel's own modules and got nested paging.
    if run.field("VTOPO-L1-KVM", "modules") != Some("irqbypass,kvm,kvm-amd") {
        problems.push(format!("modules: {:?}", run.line("VTOPO-L1-KVM")));
    }
    if !run.console.contains("kvm_amd: Nested Paging enabled") {
        problems.push("no \"kvm_amd: Nested Paging enabled\" in L1's log".to_string());
    }
    assert_probe(Arch::X86_64, &json, &run, problems);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_arm64_l1_kvm_refuses_vcpus_after_vgic_init() {
    if !require(Arch::Aarch64, "the arm64 nested-KVM lab test") {
        return;
    }
    let _one_at_a_time = exclusive();
    let dir = tempdir("nested-arm64");
    let (json, run) = probe_in_l1(Arch::Aarch64, &dir);

    let ok = || Value::from("ok");
    let mut expected: Vec<(String, Value)> = [
        ("/arch", "aarch64".into()),
        ("/api_version", 12.into()),
        ("/verdict", "pass".into()),
        ("/caps/arm_psci_0_2", 1.into()),
        ("/steps/create_vm", ok()),
        ("/steps/smccc_filter_available", true.into()),
        ("/steps/set_smccc_filter_cpu_on", ok()),
        ("/steps/preferred_target", ok()),
        ("/steps/set_mpidr_vcpu1", ok()),
        ("/steps/mpidr_written", "0x80010203".into()),
        ("/steps/mpidr_read", "0x80010203".into()),
        ("/steps/create_vgic_v3", ok()),
        ("/steps/vgic_set_dist_addr", ok()),
        ("/steps/vgic_set_redist_addr", ok()),
        ("/steps/vgic_init", ok()),
        // KVM's rule: no vCPU after the VGIC is initialised (EBUSY).
        ("/steps/create_vcpu_after_vgic_init", "errno=16".into()),
        ("/steps/vcpus_created", 4.into()),
    ]
    .into_iter()
    .map(|(p, v)| (p.to_string(), v))
    .collect();
    for id in 0..4 {
        expected.push((format!("/steps/create_vcpu_{id}"), ok()));
        expected.push((format!("/steps/vcpu_init_{id}"), ok()));
    }
    let expected: Vec<(&str, Value)> = expected
        .iter()
        .map(|(p, v)| (p.as_str(), v.clone()))
        .collect();
    let mut problems = mismatches(&json, &expected);
    problems.extend(at_least(&json, "max_vcpus", 4));
    problems.extend(at_least(&json, "arm_vm_ipa_size", 40));
    // KVM is built into the arm64 kernel and runs at the emulated EL2.
    if !run.console.contains("mode initialized successfully") {
        problems.push("no \"kvm [1]: ... mode initialized successfully\" in L1's log".to_string());
    }
    assert_probe(Arch::Aarch64, &json, &run, problems);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Add/remove cycles of one slot in the arm64 VMM scenario.
const ARM64_CYCLES: usize = 5;

/// The arm64 mission, end to end: vtopo boots Debian's 6.12 arm64 kernel as
/// L2 in the arm64 L1 from topologies/lab-arm64-kvm.toml (clusters, 2 nodes,
/// planned MPIDRs, caches, 3 hotpluggable slots), hot-adds two slots,
/// removes one, refuses bad requests, re-adds it, and shuts down.
#[test]
fn test_arm64_vtopo_boots_l2_and_hotplugs_vcpus() {
    if !require(Arch::Aarch64, "the arm64 vtopo VMM lab test") {
        return;
    }
    let _one_at_a_time = exclusive();
    let dir = vmm::scenario_dir("nested-vmm-arm64");
    let topology = "topologies/lab-arm64-kvm.toml";
    let plan = crate::guest::lab::plan_of(&crate::util::root().join(topology));
    // Nonsense the guest writes before its first report (devmem): reserved
    // control bits, an unknown command, a selector out of range, a 16-bit
    // access, a write to the read-only GED register.
    let devmem = "0x09090004:8:0xf0,0x09090005:8:0x7,0x09090000:32:0xffff,0x09090000:16:0x1,0x09080000:32:0x5";
    let refusals: Vec<(String, &str)> = [
        ("add-cpu:0", "boot CPU"),
        ("add-cpu:6", "already present"),
        ("add-cpu:99", "does not exist"),
        ("remove-cpu:0", "bootstrap processor"),
        ("remove-cpu:7", "not present"),
    ]
    .map(|(a, t)| (a.to_string(), t))
    .to_vec();
    let scenario = vmm::Scenario {
        arch: Arch::Aarch64,
        topology,
        cmdline: format!("console=ttyAMA0 quiet vtopo.devmem={devmem}"),
        steps: ["add:3", "add:6", "remove:3"]
            .into_iter()
            .map(String::from)
            .chain(vmm::refusal_steps(&refusals))
            .chain(["add:3".to_string(), "status".to_string()])
            // Add/remove cycles of slot 7: its vCPU thread parks and runs again.
            .chain((0..ARM64_CYCLES).flat_map(|_| ["add:7".to_string(), "remove:7".to_string()]))
            .chain(["shutdown".to_string()])
            .collect(),
        requests: vmm::request_files(),
        release: false,
    };
    let out = vmm::run(&scenario, &dir);
    out.assert_completed("arm64 vtopo VMM scenario");

    // 1 and 2: every report and status against the plan.
    let latencies = out.check_against(&plan, "arm64 L2");

    // 3: the guest's CPU_ON for each slot not enabled at boot was DENIED.
    let denied = out.log_lines("DENIED");
    for c in plan.cpus.iter().filter(|c| c.slot == Slot::Hotpluggable) {
        let mpidr = c.mpidr.expect("arm64 CPUs have an MPIDR").0;
        assert!(
            denied
                .iter()
                .any(|l| l.contains(&format!("CPU_ON {mpidr:#x} "))),
            "no DENIED CPU_ON for slot {} (MPIDR {mpidr:#x}); denied: {denied:?}",
            c.index.0
        );
    }
    assert!(
        out.log_lines("CPU_ON").iter().all(|l| l.contains("DENIED")),
        "CPU_ON log lines other than denials: {:?}",
        out.log_lines("CPU_ON")
    );

    // 4: refused requests name what is wrong; the guest's register nonsense
    // was logged and ignored; the VM kept working (the re-add after them).
    out.check_refusals(&refusals);
    // Parked vCPUs are reused: CPU 3's thread after its re-add, CPU 7's on
    // every cycle but the first; the VMM's threads and fds stay flat.
    let (cycles, threads, fds) =
        out.check_guest_errors_and_reuse(3, 7, ARM64_CYCLES, "arm64 cycles");

    eprintln!(
        "arm64 vtopo L2: L1 /dev/kvm after {:.2} s; vtopo start to the L2 init {:.2} s; hotplug (request to the guest's event line) {:?}; {cycles} add/remove cycles, VMM flat at {threads} threads and {fds} fds; L1 total {:.2} s\n{}",
        out.run.to_kvm.unwrap_or(f64::NAN),
        out.steps.first().and_then(|s| s.event).unwrap_or(f64::NAN),
        latencies,
        out.run.total.unwrap_or(f64::NAN),
        out.run.summary
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The median, minimum and maximum of `v` (NaN for an empty `v`).
fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Benchmark of vtopo's VMM in the arm64 lab (docs/benchmarks.md):
/// `VTOPO_BENCH_RUNS` (default 5) L1 runs of the release vtopo, each one L2
/// boot and 10 add/remove cycles of slot 7. Prints medians of L1 to
/// /dev/kvm, vtopo start to the guest's first report, and hot-add / remove
/// request to the guest's report. Run with
/// `cargo test --test integration nested::bench_arm64 -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: several minutes of nested emulation"]
fn bench_arm64_vtopo_vmm_latencies() {
    if !require(Arch::Aarch64, "the arm64 vtopo VMM benchmark") {
        return;
    }
    let _one_at_a_time = exclusive();
    let runs: usize = std::env::var("VTOPO_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let topology = "topologies/lab-arm64-kvm.toml";
    let plan = crate::guest::lab::plan_of(&crate::util::root().join(topology));
    let (mut kvm, mut boot, mut add, mut remove) = (vec![], vec![], vec![], vec![]);
    for r in 0..runs {
        let dir = vmm::scenario_dir(&format!("bench-vmm-arm64-{r}"));
        let scenario = vmm::Scenario {
            arch: Arch::Aarch64,
            topology,
            cmdline: "console=ttyAMA0 quiet".into(),
            steps: (0..10)
                .flat_map(|_| ["add:7".to_string(), "remove:7".to_string()])
                .chain(["shutdown".to_string()])
                .collect(),
            requests: Vec::new(),
            release: true,
        };
        let out = vmm::run(&scenario, &dir);
        out.assert_completed("arm64 benchmark run");
        for (op, secs) in out.check_against(&plan, "arm64 benchmark") {
            if op.starts_with("add") {
                add.push(secs);
            } else {
                remove.push(secs);
            }
        }
        kvm.extend(out.run.to_kvm);
        boot.extend(out.steps.first().and_then(|s| s.event));
        let _ = std::fs::remove_dir_all(&dir);
    }
    let show = |v: &Vec<f64>| {
        let (m, lo, hi) = median(v.clone());
        format!("{m:.2} s ({lo:.2}-{hi:.2}, n={})", v.len())
    };
    eprintln!(
        "| arm64 nested lab, release vtopo | median (min-max) |\n|---|---|\n| QEMU start to L1 /dev/kvm | {} |\n| vtopo start to the L2 init's first line | {} |\n| hot-add request to the guest's CPU online event line | {} |\n| remove request to the guest's CPU remove event line | {} |",
        show(&kvm),
        show(&boot),
        show(&add),
        show(&remove)
    );
}

/// vtopo's VMM against QEMU 10 with KVM in one x86 L1 run
/// (`scripts/bench-vmm.sh`; docs/benchmarks.md). `VTOPO_BENCH_RUNS` boots of
/// each VMM (default 5), `VTOPO_BENCH_CYCLES` add/remove cycles per boot
/// (default 5). Prints the table; fails only when no boot of either VMM
/// completed.
#[test]
#[ignore = "benchmark: many minutes of nested emulation"]
fn bench_x86_vtopo_against_qemu() {
    if !require(Arch::X86_64, "the x86 VMM benchmark") {
        return;
    }
    let _one_at_a_time = exclusive();
    let env = |k: &str, d: u32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let runs = env("VTOPO_BENCH_RUNS", 5);
    let cycles = env("VTOPO_BENCH_CYCLES", 5);
    let dir = vmm::scenario_dir("bench-x86-vmm");
    let (samples, run) = bench::run(runs, cycles, &dir, &Boot::default());
    assert!(
        matches!(run.outcome, Outcome::Exited(_)),
        "benchmark L1: {:?} ({})\n{}",
        run.outcome,
        run.summary,
        run.tail(40)
    );
    let table = bench::table(&samples);
    eprintln!(
        "{table}\nruns {runs}, cycles {cycles}; L1: {}\nsamples: {samples:#?}",
        run.summary
    );
    assert!(
        samples.iter().any(|s| s.vmm == "vtopo" && s.status == "OK")
            && samples.iter().any(|s| s.vmm == "qemu" && s.status == "OK"),
        "no complete boot of one of the VMMs; console {}:\n{}",
        run.log.display(),
        run.tail(40)
    );
}

/// The x86 lab's reliability under hotplug load, per L1 setting, with QEMU
/// and with vtopo as the L2 VMM (issue 5; docs/nested-lab.md): for each
/// setting, `VTOPO_STUDY_L1_RUNS` L1 runs (default 2) of
/// `lab/l1/bench-vmm.sh` with `VTOPO_BENCH_RUNS` boots of each VMM (default
/// 3) and `VTOPO_BENCH_CYCLES` add/remove cycles (default 5). Every failed
/// boot is classified: L1 died or hung (lab; attributed to the boot in
/// progress, whose VMM's row counts it), L2 hang with the VMM alive (lab
/// unless only vtopo shows it), VMM exited or refused (VMM); the console of
/// every L1 run with a failure is kept in `.cache/lab/logs/study-*.log`.
/// Each row also has the medians of boot and hot-add latency. Settings
/// default to `max:1,EPYC-v4+svm:1,max:2` (`VTOPO_STUDY_SETTINGS`,
/// `CPU:SMP[:single]` with `+` for `,`; `single` runs the L1 under
/// `-accel tcg,thread=single`).
#[test]
#[ignore = "study: tens of minutes of nested emulation"]
fn study_x86_lab_reliability() {
    if !require(Arch::X86_64, "the x86 lab reliability study") {
        return;
    }
    let _one_at_a_time = exclusive();
    let env = |k: &str, d: u32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let l1_runs = env("VTOPO_STUDY_L1_RUNS", 2);
    let runs = env("VTOPO_BENCH_RUNS", 3);
    let cycles = env("VTOPO_BENCH_CYCLES", 5);
    let settings = std::env::var("VTOPO_STUDY_SETTINGS")
        .unwrap_or_else(|_| "max:1,EPYC-v4+svm:1,max:2".to_string());
    let mut rows = Vec::new();
    for setting in settings.split(',') {
        let mut parts = setting.split(':');
        let cpu = parts.next().expect("CPU").replace('+', ",");
        let smp: u32 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .expect("CPU:SMP[:single]");
        let single = match parts.next() {
            None => false,
            Some("single") => true,
            Some(other) => panic!("{setting}: {other:?} is not `single`"),
        };
        let l1 = Boot {
            cpu: Some(&cpu),
            smp: Some(smp),
            accel: single.then_some("tcg,thread=single"),
            ..Boot::default()
        };
        let name = if single {
            format!("-cpu {cpu} -smp {smp} -accel tcg,thread=single")
        } else {
            format!("-cpu {cpu} -smp {smp}")
        };
        let mut l1_failures = Vec::new();
        let mut per: std::collections::BTreeMap<String, StudyCounts> =
            std::collections::BTreeMap::new();
        for r in 0..l1_runs {
            let tag = format!(
                "{}-{smp}{}-{r}",
                cpu.replace(',', ""),
                if single { "-single" } else { "" }
            );
            let dir = vmm::scenario_dir(&format!("study-{tag}"));
            let (samples, run) = bench::run(runs, cycles, &dir, &l1);
            let l1_failed = !matches!(run.outcome, Outcome::Exited(0));
            for s in &samples {
                let e = per.entry(s.vmm.clone()).or_default();
                e.boots += 1;
                e.cycles += s.remove.len();
                e.boot_s.extend(s.boot);
                e.add_s.extend(&s.add);
                if s.status == "OK" {
                    e.complete += 1;
                } else {
                    e.failures.push(s.status.clone());
                }
            }
            // The boot in progress when the L1 died or hung: a start line
            // without its end line (bench-vmm.sh prints them in pairs).
            let started: Vec<(String, String)> = run
                .output()
                .filter_map(|l| l.strip_prefix("VTOPO-BENCH-START "))
                .map(|l| {
                    let field = |k: &str| {
                        l.split(';')
                            .find_map(|kv| kv.strip_prefix(k))
                            .unwrap_or("?")
                            .to_string()
                    };
                    (field("vmm="), field("run="))
                })
                .collect();
            if l1_failed {
                let what = format!("{:?}", run.outcome);
                match started.get(samples.len()) {
                    Some((vmm, boot)) => {
                        let e = per.entry(vmm.clone()).or_default();
                        e.boots += 1;
                        e.failures
                            .push(format!("L1 {what} during boot {boot} (L1 run {r})"));
                        l1_failures.push(format!("{what} in {vmm}'s boot {boot}"));
                    }
                    None => l1_failures.push(format!("{what} between boots")),
                }
            }
            if l1_failed || samples.iter().any(|s| s.status != "OK") {
                let keep = crate::util::root().join(format!(".cache/lab/logs/study-{tag}.log"));
                let _ = std::fs::create_dir_all(keep.parent().expect("logs dir"));
                if std::fs::copy(&run.log, &keep).is_ok() {
                    eprintln!(
                        "study: {name}, L1 run {r}: console kept in {}",
                        keep.display()
                    );
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        let median = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2)
                .map_or("-".to_string(), |m| format!("{m:.2} s"))
        };
        for (vmm, c) in per {
            rows.push(format!(
                "| `{name}` | {vmm} | {}/{} | {}/{} | {} | {} | {} | {} |",
                c.complete,
                c.boots,
                c.cycles,
                c.boots as usize * cycles as usize,
                median(&c.boot_s),
                median(&c.add_s),
                if c.failures.is_empty() {
                    "none".to_string()
                } else {
                    c.failures.join("; ")
                },
                if l1_failures.is_empty() {
                    format!("none of {l1_runs}")
                } else {
                    format!(
                        "{} of {l1_runs}: {}",
                        l1_failures.len(),
                        l1_failures.join(", ")
                    )
                },
            ));
        }
    }
    eprintln!(
        "| L1 setting | L2 VMM | boots complete | add/remove cycles done | boot (median) | hot-add (median) | failed boots (class: detail) | L1 runs failed |\n|---|---|---|---|---|---|---|---|\n{}",
        rows.join("\n")
    );
}

/// Per L2 VMM, what one setting of the lab study saw.
#[derive(Default)]
struct StudyCounts {
    boots: u32,
    complete: u32,
    cycles: usize,
    boot_s: Vec<f64>,
    add_s: Vec<f64>,
    failures: Vec<String>,
}

/// Add/remove cycles of one slot in the x86 VMM scenario (issue 5: at least 20).
const X86_CYCLES: usize = 20;

/// Issue 5, scenarios 1-4 in the x86 L1 (q35, `-cpu max -smp 1`): vtopo
/// boots Debian's 6.12 kernel as L2 from topologies/lab-x86-kvm.toml (2
/// nodes, SMT, 3 cores per socket, slots in both nodes), hot-adds two slots,
/// removes one and re-adds it, refuses bad requests and the guest's register
/// nonsense, runs 20 add/remove cycles with flat thread and fd counts, and
/// shuts down. x86 Linux numbers hotpluggable CPUs after the boot CPUs: plan
/// CPU P is the guest's CPU G in `add:P@G`.
#[test]
fn test_x86_vtopo_boots_l2_and_hotplugs_vcpus() {
    if !require(Arch::X86_64, "the x86 vtopo VMM lab test") {
        return;
    }
    let _one_at_a_time = exclusive();
    let dir = vmm::scenario_dir("nested-vmm-x86");
    let topology = "topologies/lab-x86-kvm.toml";
    let plan = crate::guest::lab::plan_of(&crate::util::root().join(topology));
    let num = crate::guest::expect::guest_cpu_numbers(&plan);
    let at = |p: u32| format!("{p}@{}", num[p as usize]);
    // The guest's nonsense (see the arm64 test). ACPI claims the register
    // block on x86, so /dev/mem needs iomem=relaxed to write there.
    let devmem = "0xfeb00004:8:0xf0,0xfeb00005:8:0x7,0xfeb00000:32:0xffff,0xfeb00000:16:0x1,0xfeb01000:32:0x5";
    let refusals: Vec<(String, &str)> = [
        ("add-cpu:0", "boot CPU"),
        ("add-cpu:10", "already present"),
        ("add-cpu:99", "does not exist"),
        ("remove-cpu:0", "bootstrap processor"),
        ("remove-cpu:5", "not present"),
    ]
    .map(|(a, t)| (a.to_string(), t))
    .to_vec();
    let scenario = vmm::Scenario {
        arch: Arch::X86_64,
        topology,
        cmdline: format!(
            "console=ttyS0 quiet reboot=t panic=-1 pci=off i8042.noaux i8042.nokbd i8042.nopnp \
             initcall_blacklist=cmos_init iomem=relaxed nopat vtopo.devmem={devmem}"
        ),
        steps: [
            format!("add:{}", at(4)),
            format!("add:{}", at(10)),
            format!("remove:{}", at(4)),
        ]
        .into_iter()
        .chain(vmm::refusal_steps(&refusals))
        .chain([format!("add:{}", at(4)), "status".to_string()])
        .chain(
            (0..X86_CYCLES).flat_map(|_| [format!("add:{}", at(11)), format!("remove:{}", at(11))]),
        )
        .chain(["shutdown".to_string()])
        .collect(),
        requests: vmm::request_files(),
        release: false,
    };
    let out = vmm::run(&scenario, &dir);
    out.assert_completed("x86 vtopo VMM scenario");

    // 1 and 2: every report (x2APIC IDs, package, die, core ids, siblings,
    // node cpulists, memory, distances) and status against the plan.
    let latencies = out.check_against(&plan, "x86 L2");
    // 4: refusals, the guest's register nonsense, the VM working on.
    out.check_refusals(&refusals);
    // 3: the slot's vCPU is created once, parked on every remove and reused;
    // no vCPU lost, the VMM's threads and fds flat over the cycles.
    let (cycles, threads, fds) = out.check_guest_errors_and_reuse(4, 11, X86_CYCLES, "x86 cycles");
    let adds: Vec<f64> = latencies
        .iter()
        .filter(|(op, _)| op.starts_with("add"))
        .map(|l| l.1)
        .collect();
    let removes: Vec<f64> = latencies
        .iter()
        .filter(|(op, _)| op.starts_with("remove"))
        .map(|l| l.1)
        .collect();
    eprintln!(
        "x86 vtopo L2: L1 /dev/kvm after {:.2} s; vtopo start to the L2 init {:.2} s; hot-add to the guest's event line median {:.2} s, remove {:.2} s ({} and {} samples); {cycles} cycles, VMM flat at {threads} threads and {fds} fds; L1 total {:.2} s\n{}",
        out.run.to_kvm.unwrap_or(f64::NAN),
        out.steps.first().and_then(|s| s.event).unwrap_or(f64::NAN),
        median(adds.clone()).0,
        median(removes.clone()).0,
        adds.len(),
        removes.len(),
        out.run.total.unwrap_or(f64::NAN),
        out.run.summary
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 5's second topology in the x86 L1: dies instead of SMT, a NUMA node
/// per die, 3 dies x 3 cores (topologies/lab-x86-kvm-dies.toml): the boot
/// report (die ids from our CPUID leaf 0x1F, node per die) and one slot
/// added and removed in node 1.
#[test]
fn test_x86_vtopo_boots_dies_topology() {
    if !require(Arch::X86_64, "the x86 vtopo VMM lab test") {
        return;
    }
    let _one_at_a_time = exclusive();
    let dir = vmm::scenario_dir("nested-vmm-x86-dies");
    let topology = "topologies/lab-x86-kvm-dies.toml";
    let plan = crate::guest::lab::plan_of(&crate::util::root().join(topology));
    let num = crate::guest::expect::guest_cpu_numbers(&plan);
    let slot = format!("5@{}", num[5]);
    let scenario = vmm::Scenario {
        arch: Arch::X86_64,
        topology,
        cmdline:
            "console=ttyS0 quiet reboot=t panic=-1 pci=off i8042.noaux i8042.nokbd i8042.nopnp \
                  initcall_blacklist=cmos_init"
                .into(),
        steps: vec![
            format!("add:{slot}"),
            format!("remove:{slot}"),
            "shutdown".into(),
        ],
        requests: Vec::new(),
        release: false,
    };
    let out = vmm::run(&scenario, &dir);
    out.assert_completed("x86 dies topology");
    let latencies = out.check_against(&plan, "x86 dies L2");
    eprintln!(
        "x86 dies L2: vtopo start to the L2 init {:.2} s; hotplug {latencies:?}; L1 total {:.2} s",
        out.steps.first().and_then(|s| s.event).unwrap_or(f64::NAN),
        out.run.total.unwrap_or(f64::NAN),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
