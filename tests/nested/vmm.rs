//! vtopo's own VMM (`vtopo boot`) in the nested-KVM lab: the static vtopo of
//! the L1's architecture boots Debian's 6.12 kernel as L2 from a topology,
//! and `lab/l1/vmm-scenario.sh` drives it through the control socket with
//! `vtopo hotplug`, printing one line per step. This module builds the L1
//! image, boots it (a lab failure is retried once, a VMM failure never),
//! parses the run, and checks every step against the plan:
//!
//! 1. the boot report: possible, present, online sets, topology ids, caches,
//!    node cpulists, memory and distances equal the plan
//!    ([`crate::guest::expect::check_guest`]);
//! 2. after every hot-add and remove: the guest's latest report equals the
//!    plan with the new online set, and `status` agrees (present / parked);
//! 3. the VMM answered the guest's PSCI CPU_ON for every slot not enabled
//!    with DENIED, and the guest went on;
//! 4. malformed and impossible requests, and nonsense the guest writes into
//!    the hotplug registers, are refused or ignored with a log line, and the
//!    VM keeps working (a later hot-add succeeds).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use planner::arch::Arch;
use planner::plan::Slot;
use planner::Plan;
use serde_json::Value;

use super::lab::{boot_retrying, build_static, kernel, Boot, Image, L1Run, Outcome};
use crate::guest::expect::{check_guest, Report};
use crate::util::root;

/// A scenario for `lab/l1/vmm-scenario.sh`.
pub struct Scenario<'a> {
    pub arch: Arch,
    /// Topology file, relative to the repository.
    pub topology: &'a str,
    /// The L2 kernel command line.
    pub cmdline: String,
    /// Steps (see the script).
    pub steps: Vec<String>,
    /// Raw request lines, by name, for `refuse:raw:NAME`.
    pub requests: Vec<(&'a str, String)>,
    /// Build vtopo with `--release` (benchmarks); tests use the debug build.
    pub release: bool,
}

/// One `VTOPO-STEP` / `VTOPO-STEP-DONE` pair, or a failure.
#[derive(Debug)]
pub struct Step {
    pub n: u32,
    pub op: String,
    pub arg: String,
    pub exit: Option<i32>,
    pub reply: Option<Value>,
    /// The guest's latest report when the step was done.
    pub report: Option<Report>,
    pub status: Option<Value>,
    pub waited: Option<f64>,
    /// Seconds to the guest's short line (boot: `VTOPO-INIT`; add / remove:
    /// its `VTOPO-EVENT` add line, printed once it onlined the CPU, or its
    /// remove line).
    pub event: Option<f64>,
    /// The VMM's thread and open-fd counts when the step was done.
    pub threads: Option<u32>,
    pub fds: Option<u32>,
    pub failed: Option<String>,
}

/// What a scenario run produced.
pub struct Outcomes {
    pub run: L1Run,
    pub steps: Vec<Step>,
    /// `vtopo: ...` log lines of the VMM.
    pub log: Vec<String>,
    /// The VMM's exit status.
    pub vmm_exit: Option<i32>,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(';')
        .find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key))
        .map(|(_, v)| v)
}

/// The JSON after `key=` (always the line's last field).
fn json_after(line: &str, key: &str) -> Option<Value> {
    let i = line.find(&format!(";{key}="))?;
    serde_json::from_str(line[i + key.len() + 2..].trim()).ok()
}

/// Parses the command's output lines.
fn parse(run: L1Run) -> Outcomes {
    let mut steps: Vec<Step> = Vec::new();
    let mut log = Vec::new();
    let mut vmm_exit = None;
    let mut latest: Option<Report> = None;
    for line in run.output() {
        if let Some(rest) = line.strip_prefix("VTOPO-GUEST ") {
            latest = Some(Report::parse(rest));
        } else if let Some(rest) = line.strip_prefix("vtopo: ") {
            log.push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix("VTOPO-VMM-EXIT ") {
            vmm_exit = field(rest, "status").and_then(|s| s.parse().ok());
        } else if let Some(rest) = line.strip_prefix("VTOPO-STEP ") {
            steps.push(Step {
                n: field(rest, "n").and_then(|v| v.parse().ok()).unwrap_or(0),
                op: field(rest, "op").unwrap_or_default().to_string(),
                arg: field(rest, "arg").unwrap_or_default().to_string(),
                exit: field(rest, "exit").and_then(|v| v.parse().ok()),
                reply: json_after(rest, "reply"),
                report: None,
                status: None,
                waited: None,
                event: None,
                threads: None,
                fds: None,
                failed: None,
            });
        } else if let Some(rest) = line
            .strip_prefix("VTOPO-STEP-DONE ")
            .or_else(|| line.strip_prefix("VTOPO-STEP-FAIL "))
        {
            let n: u32 = field(rest, "n").and_then(|v| v.parse().ok()).unwrap_or(0);
            if n == 0 && !steps.iter().any(|s| s.n == 0) {
                steps.push(Step {
                    n: 0,
                    op: "boot".into(),
                    arg: String::new(),
                    exit: None,
                    reply: None,
                    report: None,
                    status: None,
                    waited: None,
                    event: None,
                    threads: None,
                    fds: None,
                    failed: None,
                });
            }
            if let Some(step) = steps.iter_mut().rev().find(|s| s.n == n) {
                if line.starts_with("VTOPO-STEP-FAIL") {
                    step.failed = Some(field(rest, "why").unwrap_or("?").to_string());
                } else {
                    step.report.clone_from(&latest);
                    step.status = json_after(rest, "status");
                    step.waited = field(rest, "waited").and_then(|v| v.parse().ok());
                    step.event = field(rest, "event").and_then(|v| v.parse().ok());
                    step.threads = field(rest, "threads").and_then(|v| v.parse().ok());
                    step.fds = field(rest, "fds").and_then(|v| v.parse().ok());
                }
            }
        }
    }
    Outcomes {
        run,
        steps,
        log,
        vmm_exit,
    }
}

/// Builds vtopo static for `arch` and the L1 image of `scenario`, boots it,
/// and parses the run. `dir` holds the images and logs.
pub fn run(scenario: &Scenario<'_>, dir: &Path) -> Outcomes {
    let arch = scenario.arch;
    let mut args = vec!["-p", "vtopo", "--bin", "vtopo"];
    if scenario.release {
        args.push("--release");
    }
    let vtopo = build_static(arch, &args, "vtopo");
    let l2_initrd = crate::guest::lab::initramfs(arch, dir);
    let requests = dir.join("requests");
    std::fs::create_dir_all(&requests).expect("requests dir");
    for (name, line) in &scenario.requests {
        std::fs::write(requests.join(name), line).expect("request file");
    }
    let kernel_name = match arch {
        Arch::Aarch64 => "Image",
        Arch::X86_64 => "vmlinuz",
    };
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let command = format!(
        "vmm-scenario lab.toml {kernel_name} l2.gz {} {}",
        quote(&scenario.cmdline),
        scenario.steps.join(" ")
    );
    let image = Image::default()
        .add(&vtopo, "/l1/bin/")
        .add(
            &root().join("lab/l1/vmm-scenario.sh"),
            "/l1/bin/vmm-scenario",
        )
        .add(&kernel(arch), &format!("/l1/{kernel_name}"))
        .add(&l2_initrd, "/l1/l2.gz")
        .add(&root().join(scenario.topology), "/l1/lab.toml")
        .add(&requests, "/l1/requests")
        .run(&command)
        .build(arch, &dir.join("l1.gz"));
    let opts = Boot {
        append: Some("vtopo.cmdtimeout=240"),
        timeout: std::time::Duration::from_secs(300),
        ..Boot::default()
    };
    let first = parse(boot_retrying(arch, &image, &opts, dir, "vmm"));
    // An L2 hang (a watchdog fired while the VMM had done its part) is lab
    // noise (guest-lab section 6): retried once, loudly. A VMM failure never is.
    match first.hang() {
        Some(why) => {
            eprintln!(
                "\n!!! LAB NOISE: the L2 guest hung ({why}); retrying the scenario once !!!\n{}",
                first.run.tail(20)
            );
            parse(boot_retrying(arch, &image, &opts, dir, "vmm-retry"))
        }
        None => first,
    }
}

impl Outcomes {
    /// The first failed step that the scenario classed as a guest hang.
    pub fn hang(&self) -> Option<String> {
        self.steps
            .iter()
            .filter_map(|s| s.failed.as_deref())
            .find(|why| why.contains("(hang)"))
            .map(str::to_string)
    }

    /// Fails with the console's tail unless the L1 command and the VMM both
    /// ended with 0 and no step failed.
    pub fn assert_completed(&self, context: &str) {
        let failed: Vec<String> = self
            .steps
            .iter()
            .filter_map(|s| {
                s.failed
                    .as_ref()
                    .map(|f| format!("step {} {}:{}: {f}", s.n, s.op, s.arg))
            })
            .collect();
        assert!(
            self.run.outcome == Outcome::Exited(0) && failed.is_empty() && self.vmm_exit == Some(0),
            "{context}: L1 {:?}, VMM exit {:?}, failed steps {failed:?}\nconsole {}:\n{}",
            self.run.outcome,
            self.vmm_exit,
            self.run.log.display(),
            self.run.tail(60)
        );
    }

    /// Checks the guest reports and the VMM's status after the boot and
    /// after every add and remove against `plan`. Returns the latencies
    /// (op, seconds to the guest's event line) of the hotplug steps.
    pub fn check_against(&self, plan: &Plan, context: &str) -> Vec<(String, f64)> {
        let mut online: BTreeSet<u32> = plan
            .cpus
            .iter()
            .filter(|c| c.slot == Slot::Boot)
            .map(|c| c.index.0)
            .collect();
        let mut parked = BTreeSet::new();
        let mut latencies = Vec::new();
        for step in &self.steps {
            match step.op.as_str() {
                "add" | "remove" => {
                    // `P` or `P@G` (plan index, guest number).
                    let cpu: u32 = step
                        .arg
                        .split('@')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .expect("a CPU index");
                    if step.op == "add" {
                        online.insert(cpu);
                        parked.remove(&cpu);
                    } else {
                        online.remove(&cpu);
                        parked.insert(cpu);
                    }
                    latencies.push((format!("{} {cpu}", step.op), step.event.unwrap_or(f64::NAN)));
                }
                "boot" => {}
                _ => continue,
            }
            let what = format!("{context}: after step {} {} {}", step.n, step.op, step.arg);
            let report = step
                .report
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: no guest report"));
            check_guest(plan, report, &online, &what);
            let status = step
                .status
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: no status reply"));
            check_status(plan, status, &online, &parked, &what);
        }
        latencies
    }

    /// After the first `op` step on `cpu`, every later `op` step on it leaves
    /// the VMM with the same thread and fd counts (no vCPU thread or fd is
    /// lost or leaked across add/remove cycles). Returns (cycles, threads, fds).
    pub fn assert_flat_counts(&self, op: &str, cpu: &str, context: &str) -> (usize, u32, u32) {
        let counts: Vec<(u32, Option<u32>, Option<u32>)> = self
            .steps
            .iter()
            .filter(|s| s.op == op && s.arg == cpu && s.failed.is_none())
            .map(|s| (s.n, s.threads, s.fds))
            .collect();
        let first = counts
            .first()
            .unwrap_or_else(|| panic!("{context}: no {op}:{cpu} step"));
        let (Some(threads), Some(fds)) = (first.1, first.2) else {
            panic!("{context}: no thread/fd counts: {counts:?}");
        };
        assert!(
            counts.iter().all(|c| c.1 == Some(threads) && c.2 == Some(fds)),
            "{context}: thread/fd counts after each {op} {cpu} (step, threads, fds) are not flat: {counts:?}"
        );
        (counts.len(), threads, fds)
    }

    /// The checks both VMM scenarios share: the guest's 5 nonsense register
    /// writes were logged as guest errors; the guest ejected `readded`, whose
    /// parked vCPU thread ran again once (its re-add); `cycled`'s thread ran
    /// again on every cycle but the first, and the VMM's thread and fd counts
    /// stayed flat over the `cycles` removes. Returns (cycles, threads, fds).
    pub fn check_guest_errors_and_reuse(
        &self,
        readded: u32,
        cycled: u32,
        cycles: usize,
        context: &str,
    ) -> (usize, u32, u32) {
        let guest_errors = self.log_lines("guest error");
        assert!(
            guest_errors.len() >= 5,
            "expected the 5 nonsense register writes to be logged as guest errors, got {guest_errors:?}"
        );
        assert!(
            self.log_lines("ejected")
                .iter()
                .any(|l| l.contains(&format!("CPU {readded} ejected"))),
            "the guest never ejected CPU {readded}: {:?}",
            self.log
        );
        let reused = self.log_lines("its parked thread runs again");
        let runs = |cpu: u32| {
            reused
                .iter()
                .filter(|l| l.starts_with(&format!("vCPU {cpu}:")))
                .count()
        };
        assert!(
            runs(readded) == 1 && runs(cycled) == cycles - 1,
            "parked vCPU threads not reused as expected: {reused:?}"
        );
        let counts = self.assert_flat_counts("remove", &cycled.to_string(), context);
        assert_eq!(counts.0, cycles);
        counts
    }

    /// The VMM's log lines containing `text`.
    pub fn log_lines(&self, text: &str) -> Vec<&str> {
        self.log
            .iter()
            .filter(|l| l.contains(text))
            .map(String::as_str)
            .collect()
    }
}

/// The VMM's `status` against the expected sets: online CPUs `present`,
/// ejected ones `parked`, other slots `absent`; every CPU's node and slot
/// kind from the plan.
pub fn check_status(
    plan: &Plan,
    status: &Value,
    online: &BTreeSet<u32>,
    parked: &BTreeSet<u32>,
    what: &str,
) {
    let cpus = status["status"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: status without CPUs: {status}"));
    assert_eq!(cpus.len(), plan.cpus.len(), "{what}: {status}");
    let mut problems = Vec::new();
    for (c, s) in plan.cpus.iter().zip(cpus) {
        let i = c.index.0;
        let state = if online.contains(&i) {
            "present"
        } else if parked.contains(&i) {
            "parked"
        } else {
            "absent"
        };
        let slot = match c.slot {
            Slot::Boot => "boot",
            Slot::Hotpluggable => "hotpluggable",
        };
        let want = serde_json::json!({ "cpu": i, "slot": slot, "state": state, "node": c.node.0 });
        if *s != want {
            problems.push(format!("CPU {i}: VMM says {s}, expected {want}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{what}: status disagrees:\n  {}",
        problems.join("\n  ")
    );
}

/// Where a scenario's files go (kept after a failure for inspection).
pub fn scenario_dir(name: &str) -> PathBuf {
    crate::iasl::tempdir(name)
}

/// Raw request lines every scenario sends and expects refused
/// (`refuse:raw:NAME`), with the text the error must contain.
pub fn bad_requests() -> Vec<(&'static str, String, &'static str)> {
    vec![
        ("not-json", "not json".into(), "malformed request"),
        (
            "wrong-type",
            r#"{"cmd":"add","cpu":"three"}"#.into(),
            "expected u32",
        ),
        (
            "unknown-command",
            r#"{"cmd":"frobnicate"}"#.into(),
            "unknown variant `frobnicate`",
        ),
        (
            "both-targets",
            r#"{"cmd":"add","cpu":3,"count":1}"#.into(),
            "exactly one of",
        ),
        (
            "too-long",
            format!(r#"{{"cmd":"status","pad":"{}"}}"#, "x".repeat(5000)),
            "longer than",
        ),
    ]
}

/// The refusal steps of a scenario: `refusals` (step argument, expected
/// error text) plus every bad request line.
pub fn refusal_steps(refusals: &[(String, &str)]) -> Vec<String> {
    refusals
        .iter()
        .map(|(arg, _)| format!("refuse:{arg}"))
        .chain(
            bad_requests()
                .into_iter()
                .map(|(name, _, _)| format!("refuse:raw:{name}")),
        )
        .collect()
}

/// `requests` of a scenario: the bad request lines by name.
pub fn request_files() -> Vec<(&'static str, String)> {
    bad_requests()
        .into_iter()
        .map(|(name, line, _)| (name, line))
        .collect()
}

impl Outcomes {
    /// Every refusal step ended with exit 1 and an error naming the problem.
    pub fn check_refusals(&self, refusals: &[(String, &str)]) {
        let expected: Vec<(String, &str)> = refusals
            .iter()
            .cloned()
            .chain(
                bad_requests()
                    .into_iter()
                    .map(|(name, _, text)| (format!("raw:{name}"), text)),
            )
            .collect();
        for (arg, text) in expected {
            let step = self
                .steps
                .iter()
                .find(|s| s.op == "refuse" && s.arg == arg)
                .unwrap_or_else(|| panic!("no refuse step {arg}"));
            let error = step
                .reply
                .as_ref()
                .and_then(|r| r["error"].as_str())
                .unwrap_or_default();
            assert!(
                step.exit == Some(1) && error.contains(text),
                "refuse {arg}: exit {:?}, reply {:?}; expected an error containing {text:?}",
                step.exit,
                step.reply
            );
        }
    }
}
