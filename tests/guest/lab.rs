//! The guest lab's machinery for the tests: preconditions, the QEMU command
//! line derived from a plan, the guest image (initramfs + ACPI table-upgrade
//! cpio), a QEMU process with a watchdog and a console, and a QMP client.
//!
//! A VM is a child process with `-serial stdio`: a reader thread timestamps
//! every console line as it arrives (the latencies are measured against
//! those stamps), and the test writes console commands to QEMU's stdin. Every
//! VM has a hard deadline; every wait is bounded by it, and a VM that misses
//! one is killed and reported as a hang ([`LabError::Hang`]), which the tests
//! retry once, apart from a wrong result, which they never retry.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use planner::arch::Arch;
use planner::plan::{GroupLevel, Plan};
use serde_json::{json, Value};

use crate::util::{require_tool, root, vtopo};

/// Budget for a boot to the first report line. A boot takes 3-4 s on an idle
/// 2-core host and up to about 9 s next to a `cargo test`; the margin is for
/// CI machines under load.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// Budget for one hotplug step (QMP command to the guest's report): about
/// 0.1-1.5 s measured.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// Hard limit on a VM's whole life.
pub const VM_LIFETIME: Duration = Duration::from_secs(240);

/// UEFI firmware for arm64 `virt` (Debian `qemu-efi-aarch64`).
pub const QEMU_EFI: &str = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd";

static GUEST_LOCK: Mutex<()> = Mutex::new(());

/// Serialises the guest tests: each one boots QEMU under software emulation,
/// which wants both of a CI machine's 2 cores. A test that failed while
/// holding the lock poisons it; the next one still runs.
pub fn exclusive() -> MutexGuard<'static, ()> {
    GUEST_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The guest-lab inputs of one architecture.
#[derive(Debug, Clone)]
pub struct Lab {
    pub qemu: &'static str,
    pub kernel: PathBuf,
    pub console: &'static str,
}

/// True when `path` exists; otherwise skips loudly (like `require_tool`),
/// and fails in CI (CI=true), where scripts/test.sh fetches everything.
fn require_file(path: &Path, how: &str, what: &str) -> bool {
    if path.is_file() {
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

/// The lab for `arch`, or `None` (after a loud skip message) when a tool, the
/// kernel or the firmware is missing.
pub fn lab(arch: Arch) -> Option<Lab> {
    let what = "the real-Linux guest test";
    let (qemu, kernel, console) = match arch {
        Arch::Aarch64 => (
            "qemu-system-aarch64",
            root().join(".cache/kernels/arm64/Image"),
            "ttyAMA0",
        ),
        Arch::X86_64 => (
            "qemu-system-x86_64",
            root().join(".cache/kernels/amd64/vmlinuz"),
            "ttyS0",
        ),
    };
    let tools = [qemu, "iasl", "busybox", "cpio", "gzip"];
    if !tools.iter().all(|t| require_tool(t, what)) {
        return None;
    }
    if !require_file(&kernel, "run scripts/fetch-kernels.sh", what) {
        return None;
    }
    if arch == Arch::Aarch64
        && (!require_file(
            Path::new(QEMU_EFI),
            "scripts/setup.sh installs qemu-efi-aarch64",
            what,
        ) || !require_file(
            &root().join(".cache/busybox/arm64/busybox"),
            "scripts/setup.sh extracts busybox-static:arm64",
            what,
        ))
    {
        return None;
    }
    Some(Lab {
        qemu,
        kernel,
        console,
    })
}

/// Runs a repository script; panics with its output when it fails.
fn script(name: &str, args: &[&str]) {
    let out = Command::new(root().join("scripts").join(name))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the script runs");
    assert!(
        out.status.success(),
        "scripts/{name} {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The plan of a topology file (relative to the repository root).
pub fn plan_of(path: &Path) -> Plan {
    let source = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    planner::plan_source(&path.display().to_string(), &source).unwrap_or_else(|e| panic!("{e}"))
}

/// `vtopo compile` with QEMU's OEM IDs and a greater OEM revision (so that
/// Linux's table upgrade replaces QEMU's tables) into `out`.
pub fn compile(topology: &Path, out: &Path, firmware: Option<FirmwarePointers>) {
    let topology = topology.to_str().expect("utf-8 path").to_string();
    let out = out.to_str().expect("utf-8 path").to_string();
    let mut args: Vec<String> = [
        "compile",
        &topology,
        "-o",
        &out,
        "--oem-id",
        "BOCHS",
        "--oem-table-id",
        "BXPC",
        "--oem-revision",
        "2",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    if let Some(fw) = firmware {
        args.extend([
            "--dsdt-address".to_string(),
            format!("{:#x}", fw.dsdt),
            "--facs-address".to_string(),
            format!("{:#x}", fw.facs),
        ]);
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = vtopo(&argv);
    assert!(
        run.status.success(),
        "vtopo {argv:?} failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// The test initramfs (busybox + lab/guest-init.sh) for `arch`, built into `dir`.
pub fn initramfs(arch: Arch, dir: &Path) -> PathBuf {
    let out = dir.join(format!("initrd-{}.gz", arch_name(arch)));
    script(
        "mkinitramfs.sh",
        &[arch_name(arch), out.to_str().expect("utf-8 path")],
    );
    out
}

/// `cat override.cpio initrd.gz > initrd.img` where the cpio holds the
/// `tables` (signatures) of the compiled directory `compiled`.
pub fn upgraded_initrd(compiled: &Path, tables: &[&str], initrd: &Path, out: &Path) {
    let stage = out.with_extension("tables");
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).expect("stage dir");
    for sig in tables {
        std::fs::copy(
            compiled.join(format!("{sig}.aml")),
            stage.join(format!("{sig}.aml")),
        )
        .unwrap_or_else(|e| panic!("{sig}.aml: {e}"));
    }
    let cpio = out.with_extension("cpio");
    script(
        "mk-acpi-override.sh",
        &[
            stage.to_str().expect("utf-8 path"),
            cpio.to_str().expect("utf-8 path"),
        ],
    );
    let mut image = std::fs::read(&cpio).expect("override cpio");
    image.extend(std::fs::read(initrd).expect("initramfs"));
    std::fs::write(out, image).expect("write the upgraded initrd");
}

fn arch_name(arch: Arch) -> &'static str {
    match arch {
        Arch::Aarch64 => "aarch64",
        Arch::X86_64 => "x86_64",
    }
}

/// The QEMU options that make QEMU's machine match the plan: `-m`, `-smp`,
/// one memory backend and `-numa node` per node, a `-numa cpu` per CPU, and
/// `-numa dist` with QEMU-side distances of 20 (which the plan must not use,
/// so that the guest's distances prove that our SLIT was read).
///
/// The plan must be symmetric, and its boot CPUs must be 0..k: QEMU creates
/// vCPUs 0..cpus-1 at boot.
pub fn machine_args(plan: &Plan) -> Vec<String> {
    let topo = &plan.topology;
    assert!(topo.symmetric, "the lab needs a symmetric topology");
    let boot = plan.boot_cpus().count();
    assert!(
        plan.boot_cpus()
            .all(|c| usize::try_from(c.index.0).is_ok_and(|i| i < boot)),
        "QEMU boots vCPUs 0..cpus-1: the plan's boot CPUs must be 0-{}",
        boot.saturating_sub(1)
    );
    let groups = topo.sockets[0].len();
    let cores = topo.sockets[0][0];
    let group = match topo.group_level {
        GroupLevel::Cluster => "cluster",
        GroupLevel::Die => "die",
    };
    let mut args = Vec::new();
    let total: u64 = plan.nodes.iter().map(|n| n.memory_size).sum();
    args.extend(["-m".to_string(), format!("{}M", total >> 20)]);
    args.extend([
        "-smp".to_string(),
        format!(
            "{boot},maxcpus={},sockets={},{group}s={groups},cores={cores},threads={}",
            plan.cpus.len(),
            topo.sockets.len(),
            topo.threads_per_core
        ),
    ]);
    for n in &plan.nodes {
        args.extend([
            "-object".to_string(),
            format!(
                "memory-backend-ram,id=m{},size={}M",
                n.id.0,
                n.memory_size >> 20
            ),
            "-numa".to_string(),
            format!("node,nodeid={},memdev=m{}", n.id.0, n.id.0),
        ]);
    }
    for c in &plan.cpus {
        let mut numa = format!("cpu,node-id={},socket-id={}", c.node.0, c.socket);
        // QEMU x86 knows die-id only with more than one die per socket; virt
        // always knows cluster-id.
        if topo.group_level == GroupLevel::Cluster || groups > 1 {
            let _ = write!(numa, ",{group}-id={}", c.group);
        }
        let _ = write!(numa, ",core-id={}", c.core);
        if topo.threads_per_core > 1 {
            let _ = write!(numa, ",thread-id={}", c.thread);
        }
        args.extend(["-numa".to_string(), numa]);
    }
    for (i, row) in plan.distances.iter().enumerate() {
        for (j, d) in row.iter().enumerate() {
            if i < j {
                assert_ne!(
                    *d, 20,
                    "the plan's distance {i}->{j} must differ from QEMU's 20"
                );
                args.extend(["-numa".to_string(), format!("dist,src={i},dst={j},val=20")]);
            }
        }
    }
    args
}

/// The firmware's DSDT and FACS addresses, which our FADT must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwarePointers {
    pub dsdt: u64,
    pub facs: u64,
}

/// Decodes a FADT: FIRMWARE_CTRL (offset 36) / X_FIRMWARE_CTRL (132) and
/// DSDT (40) / X_DSDT (140); the 64-bit fields win when set, as in ACPICA.
pub fn fadt_pointers(fadt: &[u8]) -> FirmwarePointers {
    let u32_at = |o: usize| {
        fadt.get(o..o + 4).map_or(0, |b| {
            u64::from(u32::from_le_bytes(b.try_into().expect("4 bytes")))
        })
    };
    let u64_at = |o: usize| {
        fadt.get(o..o + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    assert_eq!(fadt.get(0..4), Some(&b"FACP"[..]), "not a FADT");
    let pick = |x: u64, legacy: u64| if x != 0 { x } else { legacy };
    FirmwarePointers {
        dsdt: pick(u64_at(140), u32_at(40)),
        facs: pick(u64_at(132), u32_at(36)),
    }
}

/// Why a VM did not produce what a test waited for.
#[derive(Debug)]
pub enum LabError {
    /// Nothing came within the time limit: the VM was killed. Lab noise
    /// (retried once) unless it repeats.
    Hang { waited_for: String, after: Duration },
    /// QEMU exited first (a guest panic with `panic=-1 -no-reboot`, or a
    /// QEMU error): a real failure.
    Exited { waited_for: String, status: String },
}

impl std::fmt::Display for LabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hang { waited_for, after } => write!(
                f,
                "HANG: no {waited_for} after {:.1} s; QEMU was killed",
                after.as_secs_f64()
            ),
            Self::Exited { waited_for, status } => {
                write!(f, "QEMU exited ({status}) before {waited_for}")
            }
        }
    }
}

/// One QEMU process.
#[derive(Debug)]
pub struct Vm {
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<(Instant, String)>,
    /// Console lines received but not consumed by a wait yet.
    pending: VecDeque<(Instant, String)>,
    /// Every console line so far (for failure messages).
    pub console: Vec<String>,
    pub started: Instant,
    deadline: Instant,
    pub stderr: PathBuf,
}

impl Vm {
    /// Starts `lab.qemu` with `args` after the lab's fixed options
    /// (`-nodefaults -display none -no-reboot -serial stdio`, no NIC, TCG).
    /// The console is also copied to `dir/NAME.console.log`.
    pub fn start(lab: &Lab, name: &str, args: &[String], dir: &Path) -> Vm {
        let console_log = dir.join(format!("{name}.console.log"));
        let stderr = dir.join(format!("{name}.qemu-stderr.log"));
        let mut cmd = Command::new(lab.qemu);
        cmd.args(["-accel", "tcg,thread=multi", "-cpu", "max"])
            .args(args)
            .args([
                "-nodefaults",
                "-display",
                "none",
                "-serial",
                "stdio",
                "-no-reboot",
                "-nic",
                "none",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr).expect("stderr log"));
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", lab.qemu));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let mut log = File::create(&console_log).expect("console log");
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let now = Instant::now();
                        let _ = log.write_all(&buf);
                        let line = String::from_utf8_lossy(&buf)
                            .trim_end_matches(['\n', '\r'])
                            .to_string();
                        if tx.send((now, line)).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Vm {
            name: name.to_string(),
            stdin: child.stdin.take(),
            child,
            lines: rx,
            pending: VecDeque::new(),
            console: Vec::new(),
            started,
            deadline: started + VM_LIFETIME,
            stderr,
        }
    }

    /// Waits up to `timeout` (and never past the VM's deadline) for a console
    /// line containing `marker` for which `pred` (given the text after the
    /// marker) holds; earlier lines are consumed. On a hang QEMU is killed.
    pub fn wait_line(
        &mut self,
        marker: &str,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
        waited_for: &str,
    ) -> Result<(Instant, String), LabError> {
        let start = Instant::now();
        let end = (start + timeout).min(self.deadline);
        loop {
            while let Some((at, line)) = self.pending.pop_front() {
                if let Some(pos) = line.find(marker) {
                    let rest = line[pos + marker.len()..].trim_start().to_string();
                    if pred(&rest) {
                        return Ok((at, rest));
                    }
                }
            }
            let now = Instant::now();
            if now >= end {
                self.kill();
                return Err(LabError::Hang {
                    waited_for: waited_for.to_string(),
                    after: now - start,
                });
            }
            match self.lines.recv_timeout(end - now) {
                Ok((at, line)) => {
                    self.console.push(line.clone());
                    self.pending.push_back((at, line));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self
                        .child
                        .wait()
                        .map_or_else(|e| e.to_string(), |s| s.to_string());
                    return Err(LabError::Exited {
                        waited_for: waited_for.to_string(),
                        status,
                    });
                }
            }
        }
    }

    /// Types a command on the guest console.
    pub fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("console input");
        stdin
            .write_all(format!("{command}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .expect("write to the guest console");
    }

    /// Waits for QEMU to exit (after the guest powered off).
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, LabError> {
        let end = (Instant::now() + timeout).min(self.deadline);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for QEMU") {
                // Collect the console's tail for failure messages.
                while let Ok((_, line)) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.console.push(line);
                }
                return Ok(status);
            }
            if Instant::now() >= end {
                self.kill();
                return Err(LabError::Hang {
                    waited_for: "QEMU to exit after the guest's power-off".to_string(),
                    after: timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last console lines and QEMU's stderr, for failure messages.
    pub fn tail(&self) -> String {
        let mut stderr = String::new();
        let _ = File::open(&self.stderr).and_then(|mut f| f.read_to_string(&mut stderr));
        let from = self.console.len().saturating_sub(25);
        format!(
            "--- {}: last console lines ---\n{}\n--- QEMU stderr ---\n{stderr}",
            self.name,
            self.console[from..].join("\n")
        )
    }

    /// Panics with the error and the console's tail.
    pub fn fail(&self, e: &LabError) -> ! {
        panic!("{}: {e}\n{}", self.name, self.tail())
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A QMP client on QEMU's unix socket.
#[derive(Debug)]
pub struct Qmp {
    stream: UnixStream,
    partial: Vec<u8>,
    /// Asynchronous events received so far, with their arrival time.
    pub events: Vec<(Instant, Value)>,
}

impl Qmp {
    /// Connects (QEMU creates the socket as it starts) and negotiates capabilities.
    pub fn connect(path: &Path, timeout: Duration) -> Qmp {
        let end = Instant::now() + timeout;
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(
                        Instant::now() < end,
                        "no QMP socket at {}: {e}",
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("socket timeout");
        let mut qmp = Qmp {
            stream,
            partial: Vec::new(),
            events: Vec::new(),
        };
        let greeting = qmp.read(timeout).expect("QMP greeting");
        assert!(
            greeting.get("QMP").is_some(),
            "not a QMP greeting: {greeting}"
        );
        qmp.execute("qmp_capabilities", &json!({}))
            .expect("qmp_capabilities");
        qmp
    }

    /// Reads one JSON message, or `None` after `timeout`.
    fn read(&mut self, timeout: Duration) -> Option<Value> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(pos) = self.partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.partial.drain(..=pos).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(serde_json::from_slice(&line).expect("QMP sends JSON"));
            }
            if Instant::now() >= end {
                return None;
            }
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.partial.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("QMP read: {e}"),
            }
        }
    }

    /// Runs a command; `Err` holds QMP's error description. Events that
    /// arrive meanwhile are kept in [`Qmp::events`].
    pub fn execute(&mut self, command: &str, arguments: &Value) -> Result<Value, String> {
        let msg = json!({ "execute": command, "arguments": arguments });
        self.stream
            .write_all(format!("{msg}\n").as_bytes())
            .expect("QMP write");
        loop {
            let reply = self
                .read(STEP_TIMEOUT)
                .unwrap_or_else(|| panic!("no QMP reply to {command}"));
            if reply.get("event").is_some() {
                self.events.push((Instant::now(), reply));
            } else if let Some(ret) = reply.get("return") {
                return Ok(ret.clone());
            } else if let Some(err) = reply.get("error") {
                return Err(err.to_string());
            }
        }
    }

    /// The first event (received so far or within `timeout`) for which
    /// `pred` holds; it is removed from [`Qmp::events`].
    pub fn wait_event(
        &mut self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<(Instant, Value)> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(i) = self.events.iter().position(|(_, e)| pred(e)) {
                return Some(self.events.remove(i));
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            if let Some(msg) = self.read(left.min(Duration::from_millis(500))) {
                if msg.get("event").is_some() {
                    self.events.push((Instant::now(), msg));
                }
            }
        }
    }
}

impl Qmp {
    /// `len` bytes of guest physical memory at `addr` (QMP `pmemsave` into
    /// `scratch`), or `None` when QEMU refuses (an address outside RAM).
    pub fn read_memory(&mut self, addr: u64, len: u64, scratch: &Path) -> Option<Vec<u8>> {
        let file = scratch.to_str().expect("utf-8 path");
        self.execute(
            "pmemsave",
            &json!({ "val": addr, "size": len, "filename": file }),
        )
        .ok()?;
        std::fs::read(scratch).ok()
    }

    /// The firmware's ACPI table `sig`, found from the RSDP in the BIOS area
    /// (0xE0000-0xFFFFF) through the RSDT or XSDT; `None` until the firmware
    /// has installed its tables (every length read is sanity-checked: the
    /// tables may be half-written).
    pub fn firmware_table(&mut self, sig: &[u8; 4], scratch: &Path) -> Option<Vec<u8>> {
        let le = |b: &[u8]| b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x));
        let sane = |len: u64| (36..=0x10_0000).contains(&len);
        let bios = self.read_memory(0xE_0000, 0x2_0000, scratch)?;
        let rsdp = (0..bios.len().saturating_sub(36))
            .step_by(16)
            .map(|o| &bios[o..])
            .find(|r| {
                r.starts_with(b"RSD PTR ")
                    && r[..20].iter().fold(0u8, |s, b| s.wrapping_add(*b)) == 0
            })?;
        let (root, entry) = if rsdp[15] >= 2 && le(&rsdp[24..32]) != 0 {
            (le(&rsdp[24..32]), 8)
        } else {
            (le(&rsdp[16..20]), 4)
        };
        let header = self.read_memory(root, 36, scratch)?;
        let len = le(&header[4..8]);
        if !sane(len) {
            return None;
        }
        let body = self.read_memory(root, len, scratch)?;
        for p in body.get(36..)?.chunks_exact(entry) {
            let addr = le(p);
            let head = self.read_memory(addr, 36, scratch)?;
            let len = le(&head[4..8]);
            if &head[..4] == sig && sane(len) {
                return self.read_memory(addr, len, scratch);
            }
        }
        None
    }
}

/// Where QEMU's firmware put the DSDT and FACS for the machine that `args`
/// describe: QEMU is started with exactly those options (plus QMP), its FADT
/// is read from guest memory as soon as the firmware has installed the
/// tables (about 0.2 s after QEMU starts, well before the kernel runs), and
/// QEMU is killed. These are the bytes a calibration boot with
/// `vtopo.dumpacpi=1` prints (checked: the same pointers), 3-4 s sooner.
pub fn firmware_pointers(lab: &Lab, args: &[String], dir: &Path) -> FirmwarePointers {
    let sock = dir.join("calibration-qmp.sock");
    let scratch = dir.join("calibration-memory.bin");
    let _ = std::fs::remove_file(&sock);
    let mut args = args.to_vec();
    args.extend([
        "-qmp".to_string(),
        format!("unix:{},server=on,wait=off", sock.to_str().expect("utf-8")),
    ]);
    let vm = Vm::start(lab, "calibration", &args, dir);
    let mut qmp = Qmp::connect(&sock, STEP_TIMEOUT);
    let end = Instant::now() + BOOT_TIMEOUT;
    // The firmware's table loader patches pointers and then checksums while
    // the vCPU runs, concurrently with these reads: take the FADT only once
    // its checksum holds and its pointers lead to a DSDT and a FACS.
    let pointers = loop {
        if let Some(fadt) = qmp.firmware_table(b"FACP", &scratch) {
            if fadt.iter().fold(0u8, |s, b| s.wrapping_add(*b)) == 0 {
                let pointers = fadt_pointers(&fadt);
                let dsdt = qmp.read_memory(pointers.dsdt, 4, &scratch);
                let facs = qmp.read_memory(pointers.facs, 4, &scratch);
                if dsdt.as_deref() == Some(b"DSDT") && facs.as_deref() == Some(b"FACS") {
                    break pointers;
                }
            }
        }
        assert!(
            Instant::now() < end,
            "HANG: QEMU's firmware installed no consistent FADT within {} s\n{}",
            BOOT_TIMEOUT.as_secs(),
            vm.tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(vm);
    pointers
}
