//! The nested-KVM lab's machinery (docs/nested-lab.md), for every test that
//! needs a working KVM: an L1 Linux with its own KVM under QEMU software
//! emulation (x86_64: q35 with emulated AMD SVM; aarch64: virt with emulated
//! EL2), booted from an initramfs that carries static binaries of ours and
//! runs one command.
//!
//! - [`require`]: the lab's tools, kernels, firmware and cross toolchain, or a
//!   loud skip (a failure under CI=true);
//! - [`build_static`]: a static binary of this workspace for the L1's
//!   architecture (own target directory `target/lab`, so it never waits for
//!   the `cargo test` that runs us);
//! - [`Image`]: `scripts/mk-l1-initramfs.sh` (extra files, baked command);
//! - [`boot`]: `scripts/run-l1.sh` with a hard timeout, the console kept, the
//!   outcome classified ([`Outcome`]) and the timings parsed ([`L1Run`]);
//!   [`boot_retrying`] retries a lab failure (L1 hang, death, no /dev/kvm) once
//!   and never a command's failure;
//! - [`exclusive`]: one QEMU at a time (each wants both of a CI machine's
//!   cores): the guest lab's lock, re-exported.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use planner::arch::Arch;

use crate::util::{require_tool, root};

/// One QEMU at a time: the guest lab's process-wide lock, shared by every
/// test that boots QEMU (tests/guest, tests/firmwareless, these).
pub use crate::guest::lab::exclusive;

/// Hard limit of one L1 run (boot, command, power-off). An idle 2-core host
/// boots either L1 to `/dev/kvm` in 3-5 s.
pub const L1_TIMEOUT: Duration = Duration::from_secs(180);

/// Debian's rustc, whose sysroot has the aarch64 standard library
/// (scripts/setup.sh; guest-lab.md section 7).
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";

/// `x86_64` / `aarch64`: the names the lab scripts take.
pub fn arch_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64",
        Arch::Aarch64 => "aarch64",
    }
}

/// The Rust target triple of an L1 of `arch`.
pub fn triple(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64-unknown-linux-gnu",
        Arch::Aarch64 => "aarch64-unknown-linux-gnu",
    }
}

/// The lab's default L1 kernel of `arch` (scripts/fetch-kernels.sh).
pub fn kernel(arch: Arch) -> PathBuf {
    match arch {
        Arch::X86_64 => root().join(".cache/kernels/amd64/vmlinuz"),
        Arch::Aarch64 => root().join(".cache/kernels/arm64/Image"),
    }
}

/// True when `path` exists; otherwise skips loudly, and fails in CI
/// (CI=true), where scripts/test.sh installs and fetches everything.
fn require_path(path: &Path, how: &str, what: &str) -> bool {
    if path.exists() {
        return true;
    }
    let msg = format!("{} is missing ({how}): {what} cannot run", path.display());
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{msg}; CI must not skip it"
    );
    eprintln!("\n!!! SKIPPED: {msg} !!!\n");
    false
}

/// Everything an L1 of `arch` needs, built or booted: QEMU, cpio/gzip/xz,
/// static busybox, the kernel (and on x86 its KVM modules), and the static
/// Rust toolchain for `arch`. Prints why and returns false when something is
/// missing (fails in CI).
pub fn require(arch: Arch, what: &str) -> bool {
    let qemu = match arch {
        Arch::X86_64 => "qemu-system-x86_64",
        Arch::Aarch64 => "qemu-system-aarch64",
    };
    let mut tools = vec![qemu, "cpio", "gzip", "xz", "file", "timeout"];
    if arch == Arch::Aarch64 {
        tools.extend(["aarch64-linux-gnu-gcc", "aarch64-linux-gnu-strip"]);
    }
    if !tools.iter().all(|t| require_tool(t, what)) {
        return false;
    }
    let kernels = "run scripts/fetch-kernels.sh";
    let setup = "run scripts/setup.sh";
    let mut files = vec![(kernel(arch), kernels)];
    match arch {
        Arch::X86_64 => {
            for m in ["irqbypass", "kvm", "kvm-amd"] {
                let path = root().join(format!(".cache/kernels/amd64/modules/{m}.ko.xz"));
                files.push((path, kernels));
            }
            files.push((PathBuf::from("/bin/busybox"), setup));
        }
        Arch::Aarch64 => {
            files.push((root().join(".cache/busybox/arm64/busybox"), setup));
            files.push((PathBuf::from(DEBIAN_RUSTC), setup));
            // The aarch64 standard library of Debian's rustc.
            files.push((
                PathBuf::from("/usr/lib/rustlib/aarch64-unknown-linux-gnu/lib"),
                setup,
            ));
        }
    }
    files
        .iter()
        .all(|(path, how)| require_path(path, how, what))
}

/// Builds `target` (cargo arguments such as `["-p", "vtopo-vmm-backend",
/// "--example", "kvm_probe"]`) statically linked for `arch` into
/// `target/lab`, and returns the binary's path (`name` under the profile's
/// directory; examples under `examples/`). aarch64 uses Debian's rustc.
pub fn build_static(arch: Arch, cargo_args: &[&str], name: &str) -> PathBuf {
    let target_dir = root().join("target/lab");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root())
        .args(["build", "--target", triple(arch)])
        .args(cargo_args)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // Dynamically linked aarch64 binaries hang in pthread_create under
        // qemu-user; the L1s have no libc at all: always static.
        .env("RUSTFLAGS", "-C target-feature=+crt-static");
    if arch == Arch::Aarch64 {
        cmd.env("RUSTC", DEBIAN_RUSTC);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "static {} build of {cargo_args:?} failed:\n{}",
        triple(arch),
        String::from_utf8_lossy(&out.stderr)
    );
    let profile = if cargo_args.contains(&"--release") {
        "release"
    } else {
        "debug"
    };
    let dir = target_dir.join(triple(arch)).join(profile);
    let path = if cargo_args.contains(&"--example") {
        dir.join("examples").join(name)
    } else {
        dir.join(name)
    };
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// An L1 initramfs: busybox, lab/l1/init.sh, (x86) the KVM modules, plus
/// `files` and an optional baked command.
#[derive(Debug, Default)]
pub struct Image {
    files: Vec<(PathBuf, String)>,
    run: Option<String>,
}

impl Image {
    /// Adds `src` as `dest` (absolute; a trailing `/` keeps the name).
    /// Executables meant to be run by name go to `/l1/bin/`.
    pub fn add(mut self, src: &Path, dest: &str) -> Self {
        self.files.push((src.to_path_buf(), dest.to_string()));
        self
    }

    /// The command the L1 init runs (unless the boot overrides it).
    pub fn run(mut self, command: &str) -> Self {
        self.run = Some(command.to_string());
        self
    }

    /// Writes the image for `arch` to `out` (added ELF files stripped of
    /// their debug info).
    pub fn build(&self, arch: Arch, out: &Path) -> PathBuf {
        let mut args = vec![
            arch_name(arch).to_string(),
            out.display().to_string(),
            "--strip".to_string(),
        ];
        for (src, dest) in &self.files {
            args.push("--add".to_string());
            args.push(format!("{}:{dest}", src.display()));
        }
        if let Some(run) = &self.run {
            args.push("--run".to_string());
            args.push(run.clone());
        }
        let out_run = Command::new(root().join("scripts/mk-l1-initramfs.sh"))
            .args(&args)
            .current_dir(root())
            .output()
            .expect("scripts/mk-l1-initramfs.sh runs");
        assert!(
            out_run.status.success(),
            "scripts/mk-l1-initramfs.sh {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out_run.stdout),
            String::from_utf8_lossy(&out_run.stderr)
        );
        out.to_path_buf()
    }
}

/// How an L1 run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The L1 init ran the command and reported its exit status (the init's
    /// `vtopo.cmdtimeout` kill reads as 124).
    Exited(i32),
    /// `/dev/kvm` never appeared or a KVM module did not load (lab failure).
    NoKvm,
    /// QEMU ended without the init's exit line: L1 panic or reset (lab failure).
    L1Died,
    /// The hard timeout killed QEMU: L1 or the command hung.
    Timeout,
}

impl Outcome {
    /// A failure of the lab rather than of the command under test.
    pub fn is_lab_failure(self) -> bool {
        matches!(self, Outcome::NoKvm | Outcome::L1Died | Outcome::Timeout)
    }
}

/// One L1 run: its outcome, console and timings.
#[derive(Debug)]
pub struct L1Run {
    pub outcome: Outcome,
    /// The serial console (CR stripped).
    pub console: String,
    /// run-l1.sh's summary line (host timings).
    pub summary: String,
    /// Host: QEMU start to the init's `VTOPO-L1-KVM` line.
    pub to_kvm: Option<f64>,
    /// Host: `VTOPO-L1-KVM` to `VTOPO-L1-EXIT` (the command, as seen from outside).
    pub command: Option<f64>,
    /// Host: QEMU start to QEMU's exit.
    pub total: Option<f64>,
    pub log: PathBuf,
}

impl L1Run {
    /// The rest of the first console line containing `marker ` (found
    /// anywhere in the line, so also inside the command's `L1| ` lines).
    pub fn line(&self, marker: &str) -> Option<&str> {
        let key = format!("{marker} ");
        self.console
            .lines()
            .find_map(|l| l.find(&key).map(|i| &l[i + key.len()..]))
    }

    /// The command's output lines (the init prefixes them with `L1| `).
    pub fn output(&self) -> impl Iterator<Item = &str> {
        self.console
            .lines()
            .filter_map(|l| l.find("L1| ").map(|i| &l[i + 4..]))
    }

    /// `key=value` of a `k=v;k=v` line of the init (e.g. `VTOPO-L1-KVM`).
    pub fn field(&self, marker: &str, key: &str) -> Option<&str> {
        self.line(marker)?
            .split(';')
            .find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key))
            .map(|(_, v)| v)
    }

    /// The last `lines` console lines, for failure messages.
    pub fn tail(&self, lines: usize) -> String {
        let all: Vec<&str> = self.console.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Options of one boot.
#[derive(Debug, Clone)]
pub struct Boot<'a> {
    /// Command overriding the image's baked one (`vtopo.run=`).
    pub run: Option<&'a str>,
    /// Extra kernel command line.
    pub append: Option<&'a str>,
    pub timeout: Duration,
    /// The L1's QEMU CPU model (run-l1.sh `--cpu`; default `max`).
    pub cpu: Option<&'a str>,
    /// The L1's vCPU count (run-l1.sh `--smp`; default 1 on x86, 2 on arm64).
    pub smp: Option<u32>,
    /// The L1's QEMU accelerator options (run-l1.sh `--accel`; default
    /// `tcg,thread=multi`).
    pub accel: Option<&'a str>,
}

impl Default for Boot<'_> {
    fn default() -> Self {
        Boot {
            run: None,
            append: None,
            timeout: L1_TIMEOUT,
            cpu: None,
            smp: None,
            accel: None,
        }
    }
}

/// Boots an L1 of `arch` from `initrd` (scripts/run-l1.sh, console logged to
/// `log`) and classifies how it ended.
pub fn boot(arch: Arch, initrd: &Path, opts: &Boot<'_>, log: &Path) -> L1Run {
    let mut args = vec![
        arch_name(arch).to_string(),
        initrd.display().to_string(),
        "--quiet-console".to_string(),
        "--timeout".to_string(),
        opts.timeout.as_secs().to_string(),
        "--log".to_string(),
        log.display().to_string(),
    ];
    if let Some(run) = opts.run {
        args.extend(["--run".to_string(), run.to_string()]);
    }
    if let Some(append) = opts.append {
        args.extend(["--append".to_string(), append.to_string()]);
    }
    if let Some(cpu) = opts.cpu {
        args.extend(["--cpu".to_string(), cpu.to_string()]);
    }
    if let Some(accel) = opts.accel {
        args.extend(["--accel".to_string(), accel.to_string()]);
    }
    if let Some(smp) = opts.smp {
        args.extend(["--smp".to_string(), smp.to_string()]);
    }
    let out = Command::new(root().join("scripts/run-l1.sh"))
        .args(&args)
        .current_dir(root())
        .output()
        .expect("scripts/run-l1.sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() != Some(2),
        "scripts/run-l1.sh {args:?}: bad arguments or missing files:\n{stderr}"
    );
    let console = std::fs::read_to_string(log).unwrap_or_default();
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("run-l1: kvm after"))
        .unwrap_or_default()
        .to_string();
    // "run-l1: kvm after 4.61 s; command 0.20 s; total 4.89 s; QEMU status 0; ..."
    let body = summary.strip_prefix("run-l1: ").unwrap_or_default();
    let secs = |label: &str| {
        body.split("; ")
            .find_map(|part| part.strip_prefix(label))
            .and_then(|v| v.strip_suffix(" s"))
            .and_then(|v| v.parse::<f64>().ok())
    };
    let mut run = L1Run {
        outcome: Outcome::L1Died,
        to_kvm: secs("kvm after "),
        command: secs("command "),
        total: secs("total "),
        console,
        summary,
        log: log.to_path_buf(),
    };
    run.outcome = if run.line("VTOPO-L1-KVM").is_none() && run.line("VTOPO-L1-EXIT").is_some() {
        Outcome::NoKvm
    } else if let Some(status) = run.field("VTOPO-L1-EXIT", "status") {
        Outcome::Exited(status.parse().unwrap_or(-1))
    } else if out.status.code() == Some(124) {
        Outcome::Timeout
    } else {
        Outcome::L1Died
    };
    run
}

/// [`boot`], and once more when the first run was a lab failure (loudly:
/// `!!! LAB NOISE ... !!!`). A command's own failure is never retried.
pub fn boot_retrying(arch: Arch, initrd: &Path, opts: &Boot<'_>, dir: &Path, name: &str) -> L1Run {
    let first = boot(arch, initrd, opts, &dir.join(format!("{name}-1.log")));
    if !first.outcome.is_lab_failure() {
        return first;
    }
    eprintln!(
        "\n!!! LAB NOISE: {name}: L1 run 1 ended with {:?}; retrying once !!!\n{}\n{}",
        first.outcome,
        first.summary,
        first.tail(20)
    );
    boot(arch, initrd, opts, &dir.join(format!("{name}-2.log")))
}
