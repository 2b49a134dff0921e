//! vtopo's VMM against QEMU 10 with KVM, in the same x86 L1 run
//! (`scripts/bench-vmm.sh`, docs/benchmarks.md): same L2 kernel, initramfs,
//! command line and topology (topologies/bench-x86-kvm.toml; QEMU gets the
//! plan's shape, nodes, memory and distances as -smp/-numa options).
//! `lab/l1/bench-vmm.sh` boots each VMM in turn, hot-adds and removes one
//! CPU a few times, and prints one `VTOPO-BENCH` line per boot.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use planner::arch::Arch;
use planner::Plan;

use super::lab::{boot, build_static, kernel, Boot, Image};
use crate::util::root;

/// QEMU's options for `plan`'s machine: memory, -smp and -numa, the real
/// distances (the guest lab's `machine_args` gives QEMU a wrong distance on
/// purpose, to prove that our SLIT is read; here QEMU must see the plan).
pub fn qemu_machine(plan: &Plan) -> Vec<String> {
    let mut args = crate::guest::lab::machine_args(plan);
    for a in &mut args {
        if let Some(rest) = a.strip_prefix("dist,") {
            let field = |k: &str| -> usize {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(k))
                    .and_then(|v| v.parse().ok())
                    .expect("dist field")
            };
            let (i, j) = (field("src="), field("dst="));
            *a = format!("dist,src={i},dst={j},val={}", plan.distances[i][j]);
        }
    }
    args
}

/// One `VTOPO-BENCH` line.
#[derive(Debug, Default, Clone)]
pub struct Sample {
    pub vmm: String,
    pub boot: Option<f64>,
    pub add: Vec<f64>,
    pub remove: Vec<f64>,
    pub rss_kb: Option<u64>,
    pub status: String,
}

fn parse(line: &str) -> Sample {
    let mut s = Sample::default();
    for kv in line.split(';') {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let list = |v: &str| v.split(',').filter_map(|x| x.parse().ok()).collect();
        match k {
            "vmm" => s.vmm = v.to_string(),
            "boot" => s.boot = v.parse().ok(),
            "add" => s.add = list(v),
            "remove" => s.remove = list(v),
            "rss_kb" => s.rss_kb = v.parse().ok(),
            "status" => s.status = v.to_string(),
            _ => {}
        }
    }
    s
}

/// Values of one measure in a sample.
type Measure<'a> = &'a dyn Fn(&Sample) -> Vec<f64>;

fn median(mut v: Vec<f64>) -> Option<(f64, f64, f64)> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some((v[v.len() / 2], v[0], v[v.len() - 1]))
}

/// Runs the benchmark: `runs` boots of each VMM with `cycles` add/remove
/// cycles, and returns the samples (every boot, failed ones included).
pub fn run(runs: u32, cycles: u32, dir: &Path, l1: &Boot<'_>) -> (Vec<Sample>, super::lab::L1Run) {
    let arch = Arch::X86_64;
    let topology = root().join("topologies/bench-x86-kvm.toml");
    let plan = crate::guest::lab::plan_of(&topology);
    let vtopo = build_static(
        arch,
        &["-p", "vtopo", "--bin", "vtopo", "--release"],
        "vtopo",
    );
    let l2 = crate::guest::lab::initramfs(arch, dir);
    let qemu = dir.join("qemu");
    let out = Command::new(root().join("scripts/mk-qemu-bundle.sh"))
        .arg(&qemu)
        .arg("/l1/qemu")
        .output()
        .expect("scripts/mk-qemu-bundle.sh runs");
    assert!(
        out.status.success(),
        "mk-qemu-bundle.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cmdline = "console=ttyS0 quiet reboot=t panic=-1 i8042.noaux i8042.nokbd i8042.nopnp \
                   initcall_blacklist=cmos_init";
    let bench = dir.join("bench");
    std::fs::create_dir_all(&bench).expect("bench dir");
    let vtopo_args = [
        "--kernel",
        "/l1/bench/vmlinuz",
        "--initrd",
        "/l1/bench/l2.gz",
        "--cmdline",
        cmdline,
    ];
    std::fs::write(bench.join("vtopo.args"), vtopo_args.join("\n")).expect("vtopo.args");
    let mut qemu_args: Vec<String> = [
        "-enable-kvm",
        "-machine",
        "q35",
        "-cpu",
        "host",
        "-nodefaults",
        "-display",
        "none",
        "-serial",
        "stdio",
        "-no-reboot",
        "-kernel",
        "/l1/bench/vmlinuz",
        "-initrd",
        "/l1/bench/l2.gz",
        "-append",
        cmdline,
    ]
    .map(String::from)
    .to_vec();
    qemu_args.extend(qemu_machine(&plan));
    std::fs::write(bench.join("qemu.args"), qemu_args.join("\n")).expect("qemu.args");
    std::fs::copy(&topology, bench.join("lab.toml")).expect("topology");
    std::fs::copy(kernel(arch), bench.join("vmlinuz")).expect("kernel");
    std::fs::copy(&l2, bench.join("l2.gz")).expect("l2 initramfs");

    let cpu = 6;
    let c = &plan.cpus[cpu];
    let qemu_id = format!(
        "socket-id={},core-id={},thread-id={}",
        c.socket, c.core, c.thread
    );
    let image = Image::default()
        .add(&vtopo, "/l1/bin/")
        .add(&root().join("lab/l1/bench-vmm.sh"), "/l1/bin/bench-vmm")
        .add(&qemu, "/l1/qemu")
        .add(&bench, "/l1/bench")
        .run(&format!("bench-vmm {runs} {cycles} {cpu} {qemu_id}"))
        .build(arch, &dir.join("l1.gz"));
    let opts = Boot {
        timeout: std::time::Duration::from_secs(
            u64::from(runs) * 2 * (60 + 10 * u64::from(cycles)) + 120,
        ),
        ..l1.clone()
    };
    let run = boot(arch, &image, &opts, &dir.join("bench.log"));
    let samples = run
        .output()
        .filter_map(|l| l.strip_prefix("VTOPO-BENCH "))
        .map(parse)
        .collect();
    (samples, run)
}

/// The markdown table of `samples`: medians per VMM, the ratio vtopo/QEMU,
/// and the targets (boot and hot-add at most 0.5x QEMU's, RSS at most 0.1x).
pub fn table(samples: &[Sample]) -> String {
    let mut by: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.status == "OK") {
        by.entry(s.vmm.as_str()).or_default().push(s);
    }
    let stat = |vmm: &str, f: &dyn Fn(&Sample) -> Vec<f64>| {
        median(
            by.get(vmm)
                .map_or_else(Vec::new, |v| v.iter().flat_map(|s| f(s)).collect()),
        )
    };
    let show = |m: Option<(f64, f64, f64)>, unit: &str, n: usize| {
        m.map_or("-".to_string(), |(m, lo, hi)| {
            format!("{m:.2}{unit} ({lo:.2}-{hi:.2}, n={n})")
        })
    };
    let count = |vmm: &str, f: &dyn Fn(&Sample) -> usize| {
        by.get(vmm).map_or(0, |v| v.iter().map(|s| f(s)).sum())
    };
    let mut text = String::from(
        "| x86 nested lab (L1 -smp 1) | vtopo | QEMU 10 -enable-kvm | vtopo / QEMU | target |\n|---|---|---|---|---|\n",
    );
    let rows: [(&str, Measure<'_>, &str, f64); 4] = [
        (
            "process start to the L2 init (s)",
            &|s| s.boot.into_iter().collect(),
            " s",
            0.5,
        ),
        (
            "hot-add request to the CPU online in the guest (s)",
            &|s| s.add.clone(),
            " s",
            0.5,
        ),
        (
            "remove request to the CPU gone in the guest (s)",
            &|s| s.remove.clone(),
            " s",
            f64::NAN,
        ),
        (
            "VMM RSS outside guest RAM (MiB)",
            &|s| s.rss_kb.map(|k| k as f64 / 1024.0).into_iter().collect(),
            " MiB",
            0.1,
        ),
    ];
    for (name, f, unit, target) in rows {
        let nv = count("vtopo", &|s| f(s).len());
        let nq = count("qemu", &|s| f(s).len());
        let v = stat("vtopo", f);
        let q = stat("qemu", f);
        let ratio = match (v, q) {
            (Some((a, _, _)), Some((b, _, _))) if b > 0.0 => Some(a / b),
            _ => None,
        };
        let verdict = match (ratio, target.is_nan()) {
            (_, true) => "-".to_string(),
            (Some(r), false) => format!(
                "<= {target}x: {}",
                if r <= target { "met" } else { "NOT met" }
            ),
            (None, false) => format!("<= {target}x: no data"),
        };
        text.push_str(&format!(
            "| {name} | {} | {} | {} | {verdict} |\n",
            show(v, unit, nv),
            show(q, unit, nq),
            ratio.map_or("-".to_string(), |r| format!("{r:.2}x"))
        ));
    }
    let failed: Vec<String> = samples
        .iter()
        .filter(|s| s.status != "OK")
        .map(|s| format!("{}: {}", s.vmm, s.status))
        .collect();
    text.push_str(&format!(
        "\nFailed boots: {}\n",
        if failed.is_empty() {
            "none".to_string()
        } else {
            failed.join("; ")
        }
    ));
    text
}
