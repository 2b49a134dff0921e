//! arm64 without firmware: Debian's stock 6.12 arm64 kernel boots on QEMU
//! `virt` (GICv3, software emulation, no UEFI) from `vtopo boot-artifacts`
//! output alone: our stub device tree (`-dtb`) and our blob with the EFI
//! system table, EFI memory map and linked ACPI tables (`-device loader`).
//! No firmware runs and QEMU's own ACPI tables are never loaded, so
//! everything the guest knows about CPUs, topology, NUMA and devices comes
//! from our tables; its view (lab/guest-init.sh's `VTOPO-GUEST` line) must be
//! the plan, and its kernel log must show our RSDP, our tables at their
//! planned addresses, and no ACPI problem (docs/firmwareless-boot.md).
//!
//! The QEMU options are the ones `boot.json` gives (`-smp` = the boot CPUs,
//! `-m` = the plan's RAM, `-dtb`, `-device loader`, `-append`), plus the
//! kernel and the lab initramfs. The lab topologies keep QEMU's vCPUs equal
//! to the plan's boot CPUs (0..N-1, kvm-linear MPIDRs).
//!
//! Needs qemu-system-aarch64, cpio, gzip, the arm64 busybox
//! (scripts/setup.sh) and the arm64 kernel (scripts/fetch-kernels.sh);
//! without them the guest tests skip loudly, and fail in CI (CI=true). The
//! boot-time comparison with UEFI is `#[ignore]`d:
//! `cargo test --test integration firmwareless::bench -- --ignored --nocapture`.

// The guest lab's VM runner (with its one QEMU lock) and report checks.
use crate::guest::{expect, lab};

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use planner::arch::Arch;
use planner::plan::Plan;
use serde_json::Value;

use crate::iasl::tempdir;
use crate::util::{require_tool, root, vtopo};
use expect::{check_dmesg, check_guest, Report};
use lab::{exclusive, initramfs, plan_of, Lab, LabError, Vm, BOOT_TIMEOUT, QEMU_EFI, STEP_TIMEOUT};

/// The guest's console options: verbose, so that the kernel log (RSDP, the
/// tables, the memory ranges) is on the console for the checks. The init
/// lowers the console log level before it prints its report lines.
const APPEND: &str = "console=ttyAMA0 panic=-1 vtopo.poweroff=1";

// ---------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------

fn boot_artifacts(topology: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "boot-artifacts",
        topology.to_str().expect("utf-8 path"),
        "-o",
        out.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    vtopo(&args)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("boot.json is JSON")
}

fn hex(v: &Value) -> u64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a hex string: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex")
}

#[test]
fn test_boot_artifacts_writes_dtb_blob_and_json() {
    let dir = tempdir("fwl-cli");
    let out = dir.join("boot");
    let topology = root().join("topologies/lab-arm64-virt.toml");
    let run = boot_artifacts(&topology, &out, &["--cmdline", "console=ttyAMA0"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json = read_json(&out.join("boot.json"));
    let dtb = std::fs::read(out.join("boot.dtb")).expect("boot.dtb");
    let blob = std::fs::read(out.join("boot-blob.bin")).expect("boot-blob.bin");
    assert_eq!(&dtb[..4], &[0xd0, 0x0d, 0xfe, 0xed], "FDT magic");
    assert_eq!(json["dtb"]["length"].as_u64(), Some(dtb.len() as u64));
    assert_eq!(json["blob"]["length"].as_u64(), Some(blob.len() as u64));
    // The blob: the system table at its base, the RSDP where boot.json says.
    let base = hex(&json["blob"]["address"]);
    assert_eq!(hex(&json["system_table"]), base);
    assert_eq!(&blob[..8], b"IBI SYST");
    let rsdp = usize::try_from(hex(&json["rsdp"]) - base).expect("small");
    assert_eq!(&blob[rsdp..rsdp + 8], b"RSD PTR ");
    // 2 x 512 MiB from 1 GiB: the blob at the top 2 MiB of node 1's RAM.
    assert_eq!(base, 0x8000_0000 - 0x20_0000);
    assert_eq!(json["bootargs"], "acpi=force console=ttyAMA0");
    assert_eq!(
        json["qemu_device_loader"].as_str(),
        Some(
            format!(
                "loader,file={},addr=0x7fe00000,force-raw=on",
                out.join("boot-blob.bin").display()
            )
            .as_str()
        )
    );
    let args: Vec<&str> = json["qemu"]["args"]
        .as_array()
        .expect("qemu args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        args.windows(2).any(|w| w == ["-smp", "4"])
            && args.windows(2).any(|w| w == ["-m", "1024M"]),
        "{args:?}"
    );
    assert!(json["qemu"].get("warnings").is_none(), "{json}");
    let types: Vec<&str> = json["memory_map"]["descriptors"]
        .as_array()
        .expect("descriptors")
        .iter()
        .filter_map(|d| d["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "EfiConventionalMemory",
            "EfiConventionalMemory",
            "EfiACPIReclaimMemory",
            "EfiConventionalMemory"
        ]
    );
    // Writing again replaces the previous output.
    let again = boot_artifacts(&topology, &out, &["--blob-address", "0x40000000"]);
    assert!(again.status.success());
    assert_eq!(
        read_json(&out.join("boot.json"))["blob"]["address"],
        "0x40000000"
    );
}

#[test]
fn test_boot_artifacts_rejects_x86_plans_as_invalid_input() {
    let dir = tempdir("fwl-cli-x86");
    let run = boot_artifacts(
        &root().join("topologies/lab-x86-q35.toml"),
        &dir.join("o"),
        &[],
    );
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("aarch64") && stderr.contains("x86_64"),
        "{stderr}"
    );
    assert!(!dir.join("o").exists(), "no partial output");
}

#[test]
fn test_boot_artifacts_bad_blob_address_is_a_usage_error_naming_it() {
    let dir = tempdir("fwl-cli-addr");
    let topology = root().join("topologies/lab-arm64-virt.toml");
    let misaligned = boot_artifacts(&topology, &dir.join("o"), &["--blob-address", "0x40000010"]);
    assert_eq!(misaligned.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&misaligned.stderr).contains("0x40000010 is not 4 KiB aligned"));
    let outside = boot_artifacts(&topology, &dir.join("o"), &["--blob-address", "0x4000000"]);
    assert_eq!(outside.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&outside.stderr);
    assert!(
        stderr.contains("0x4000000..") && stderr.contains("boot RAM"),
        "{stderr}"
    );
    let initrd = boot_artifacts(&topology, &dir.join("o"), &["--initrd-start", "0x48000000"]);
    assert_eq!(
        initrd.status.code(),
        Some(2),
        "--initrd-start needs --initrd-size"
    );
    assert!(!dir.join("o").exists(), "no output after an error");
}

#[test]
fn test_boot_artifacts_refuses_to_replace_a_foreign_directory() {
    let dir = tempdir("fwl-cli-foreign");
    std::fs::write(dir.join("precious.txt"), "keep").expect("write");
    let run = boot_artifacts(&root().join("topologies/lab-arm64-virt.toml"), &dir, &[]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("refusing to replace"));
    assert!(dir.join("precious.txt").exists());
}

// ---------------------------------------------------------------------------
// The guest
// ---------------------------------------------------------------------------

/// True when `path` exists; otherwise skips loudly, and fails in CI.
fn require_file(path: &Path, how: &str) -> bool {
    if path.is_file() {
        return true;
    }
    let msg = format!(
        "{} is missing ({how}): the firmware-less guest test cannot run",
        path.display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{msg}; CI must not skip it"
    );
    eprintln!("\n!!! SKIPPED: {msg} !!!\n");
    false
}

/// The arm64 lab without firmware: QEMU, the kernel and the initramfs tools.
fn firmwareless_lab() -> Option<Lab> {
    let what = "the firmware-less guest test";
    if !["qemu-system-aarch64", "cpio", "gzip"]
        .iter()
        .all(|t| require_tool(t, what))
    {
        return None;
    }
    let kernel = root().join(".cache/kernels/arm64/Image");
    if !require_file(&kernel, "run scripts/fetch-kernels.sh")
        || !require_file(
            &root().join(".cache/busybox/arm64/busybox"),
            "scripts/setup.sh extracts busybox-static:arm64",
        )
    {
        return None;
    }
    Some(Lab {
        qemu: "qemu-system-aarch64",
        kernel,
        console: "ttyAMA0",
    })
}

/// What one firmware-less boot printed.
struct Boot {
    guest: Report,
    dmesg: Report,
    acpi: Report,
    /// Every console line (kernel log and report lines).
    console: Vec<String>,
    /// QEMU start to the first `VTOPO-GUEST` line.
    to_report: Duration,
}

/// `boot.json`'s QEMU options without `-cpu` (the lab runner sets it), then
/// the kernel and the initrd.
fn qemu_args(json: &Value, lab: &Lab, initrd: &Path) -> Vec<String> {
    let given: Vec<String> = json["qemu"]["args"]
        .as_array()
        .expect("qemu args in boot.json")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect();
    let mut args = Vec::new();
    let mut it = given.into_iter();
    while let Some(a) = it.next() {
        if a == "-cpu" {
            it.next();
        } else {
            args.push(a);
        }
    }
    args.extend([
        "-kernel".to_string(),
        lab.kernel.to_str().expect("utf-8").to_string(),
        "-initrd".to_string(),
        initrd.to_str().expect("utf-8").to_string(),
    ]);
    args
}

/// One boot: the three report lines, then the power-off. `Err` on a hang.
fn boot_once(lab: &Lab, name: &str, args: &[String], dir: &Path) -> Result<Boot, Box<Vm>> {
    let mut vm = Vm::start(lab, name, args, dir);
    let wait = |vm: &mut Vm, marker: &str, pred: &dyn Fn(&str) -> bool, timeout: Duration| match vm
        .wait_line(marker, pred, timeout, marker)
    {
        Ok((at, rest)) => Ok((at, Report::parse(&rest))),
        Err(e @ LabError::Hang { .. }) => {
            eprintln!("{name}: {e}");
            Err(())
        }
        Err(e) => vm.fail(&e),
    };
    let Ok((at, guest)) = wait(
        &mut vm,
        "VTOPO-GUEST",
        &|r| r.contains(";seq=1;event=boot;"),
        BOOT_TIMEOUT,
    ) else {
        return Err(Box::new(vm));
    };
    let Ok((_, dmesg)) = wait(
        &mut vm,
        "VTOPO-DMESG",
        &|r| r.contains(";seq=1;"),
        STEP_TIMEOUT,
    ) else {
        return Err(Box::new(vm));
    };
    let Ok((_, acpi)) = wait(&mut vm, "VTOPO-ACPI", &|_| true, STEP_TIMEOUT) else {
        return Err(Box::new(vm));
    };
    match vm.wait_exit(STEP_TIMEOUT) {
        Ok(status) => assert!(
            status.success(),
            "{name}: QEMU exited with {status}\n{}",
            vm.tail()
        ),
        Err(e) => vm.fail(&e),
    }
    Ok(Boot {
        guest,
        dmesg,
        acpi,
        console: vm.console.clone(),
        to_report: at - vm.started,
    })
}

/// Boots, retrying once after a hang (lab noise); a wrong result is never retried.
fn boot(lab: &Lab, name: &str, args: &[String], dir: &Path) -> Boot {
    match boot_once(lab, &format!("{name}-1"), args, dir) {
        Ok(b) => b,
        Err(vm) => {
            eprintln!(
                "\n!!! LAB NOISE: {name}: the first boot hung; retrying once !!!\n{}",
                vm.tail()
            );
            drop(vm);
            boot_once(lab, &format!("{name}-2"), args, dir)
                .unwrap_or_else(|vm| panic!("{name}: hung twice\n{}", vm.tail()))
        }
    }
}

/// Kernel log lines that report a problem: the guest init's rule
/// (`ACPI.*(error|warn|bug)` or `firmware bug`, case-insensitive), plus
/// kernel warnings and oopses.
fn problems(console: &[String]) -> Vec<&String> {
    console
        .iter()
        .filter(|l| !l.contains("VTOPO-"))
        .filter(|l| {
            let lower = l.to_lowercase();
            let acpi = lower.find("acpi").is_some_and(|at| {
                let rest = &lower[at..];
                rest.contains("error") || rest.contains("warn") || rest.contains("bug")
            });
            acpi || lower.contains("firmware bug")
                || l.contains("WARNING:")
                || l.contains("Call trace")
                || l.contains("BUG:")
                || l.contains("Oops")
        })
        .collect()
}

/// `[mem 0x..-0x..]` ranges the kernel printed after `prefix` (inclusive ends).
fn mem_ranges(console: &[String], prefix: &str) -> Vec<(u64, u64)> {
    console
        .iter()
        .filter_map(|l| {
            let rest = &l[l.find(prefix)? + prefix.len()..];
            let inner = &rest[rest.find("[mem ")? + 5..];
            let (a, b) = inner[..inner.find(']')?].split_once('-')?;
            let parse = |s: &str| u64::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok();
            Some((parse(a)?, parse(b)?))
        })
        .collect()
}

fn has_line(console: &[String], text: &str) -> bool {
    console.iter().any(|l| l.contains(text))
}

/// Checks the kernel log of a firmware-less boot against `boot.json` and the plan.
fn check_kernel_log(plan: &Plan, json: &Value, console: &[String], name: &str) {
    let mut missing = Vec::new();
    let mut expect = |text: String| {
        if !has_line(console, &text) {
            missing.push(text);
        }
    };
    // efi_init(): our system table, its vendor, the three configuration tables.
    expect("efi: EFI v2.7 by vtopo".to_string());
    let addr = |i: usize| hex(&json["config_tables"][i]["address"]);
    expect(format!(
        "efi: ACPI 2.0={:#x} MEMRESERVE={:#x} RTPROP={:#x}",
        addr(0),
        addr(1),
        addr(2)
    ));
    // acpi_boot_table_init(): our RSDP, then every table at its planned address.
    for t in json["tables"].as_array().expect("tables") {
        let sig = t["name"].as_str().expect("name");
        let at = hex(&t["address"]);
        let len = t["length"].as_u64().expect("length");
        let text = if sig == "RSDP" {
            format!("ACPI: RSDP 0x{at:016X} {len:06X} (v02 VTOPO )")
        } else {
            format!("ACPI: {sig} 0x{at:016X} {len:06X}")
        };
        expect(text);
    }
    assert!(
        missing.is_empty(),
        "{name}: kernel log lines missing:\n  {}\n--- console ---\n{}",
        missing.join("\n  "),
        console.join("\n")
    );

    // The kernel's memory is the EFI memory map: per node exactly the plan's
    // RAM (no hotplug window, no flash); the blob is RAM too (reserved).
    let early: Vec<(u64, u64)> = console
        .iter()
        .skip_while(|l| !l.contains("Early memory node ranges"))
        .skip(1)
        .take_while(|l| l.contains("  node "))
        .flat_map(|l| mem_ranges(std::slice::from_ref(l), "node "))
        .collect();
    let planned: Vec<(u64, u64)> = plan
        .nodes
        .iter()
        .flat_map(|n| n.memory.iter().map(|r| (r.base.0, r.end() - 1)))
        .collect();
    assert_eq!(early, planned, "{name}: the kernel's memory ranges");
    // Memory hotplug windows: in the SRAT as hot-pluggable, not RAM.
    let hotplug: Vec<(u64, u64)> = console
        .iter()
        .filter(|l| l.contains("ACPI: SRAT: Node") && l.ends_with(" hotplug"))
        .flat_map(|l| mem_ranges(std::slice::from_ref(l), "PXM"))
        .collect();
    let windows: Vec<(u64, u64)> = plan
        .memory
        .hotplug
        .iter()
        .map(|r| (r.base.0, r.end() - 1))
        .collect();
    assert_eq!(hotplug, windows, "{name}: SRAT hotplug windows");

    // 6.12 tries PSCI CPU_ON on every possible CPU it marks present; QEMU
    // has vCPUs only for the boot CPUs, so exactly the slots fail (-22).
    let failed: BTreeSet<u32> = console
        .iter()
        .filter_map(|l| {
            let rest = &l[l.find("psci: failed to boot CPU")? + 24..];
            rest.split_whitespace().next()?.parse().ok()
        })
        .collect();
    let slots: BTreeSet<u32> = plan.hotpluggable_cpus().map(|c| c.index.0).collect();
    assert_eq!(failed, slots, "{name}: CPUs whose PSCI CPU_ON failed");

    let bad = problems(console);
    assert!(
        bad.is_empty(),
        "{name}: problems in the kernel log:\n{}",
        bad.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Checks the `VTOPO-ACPI` line: the guest has exactly our tables, each
/// with our length and OEM ID (no firmware added or replaced any).
fn check_acpi_tables(acpi: &Report, json: &Value, name: &str) {
    let mut ours: Vec<(String, u64)> = json["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().expect("name").to_string(),
                t["length"].as_u64().expect("length"),
            )
        })
        .filter(|(n, _)| n != "RSDP" && n != "XSDT")
        .collect();
    ours.sort();
    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        acpi.must("tables"),
        names.join(","),
        "{name}: the guest's tables"
    );
    for (sig, len) in &ours {
        assert_eq!(
            acpi.must(&format!("{sig}.len")),
            len.to_string(),
            "{name}: {sig} length"
        );
        assert_eq!(
            acpi.must(&format!("{sig}.oem_id")),
            "VTOPO ",
            "{name}: {sig} OEM ID"
        );
    }
}

/// Writes the boot artifacts of `topology`, boots them and checks the guest.
fn firmwareless_guest_sees_plan(lab: &Lab, topology: &Path, name: &str) {
    let dir = tempdir(&format!("fwl-{name}"));
    let plan = plan_of(topology);
    let out = dir.join("boot");
    let run = boot_artifacts(topology, &out, &["--cmdline", APPEND]);
    assert!(
        run.status.success(),
        "vtopo boot-artifacts {}: {}",
        topology.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    let json = read_json(&out.join("boot.json"));
    assert!(
        json["qemu"].get("warnings").is_none(),
        "{name}: QEMU's vCPUs would not match the plan: {}",
        json["qemu"]["warnings"]
    );
    let initrd = initramfs(Arch::Aarch64, &dir);
    let args = qemu_args(&json, lab, &initrd);

    let b = boot(lab, name, &args, &dir);
    eprintln!(
        "{name}: VTOPO-GUEST after {:.2} s (firmware-less):\nVTOPO-GUEST {}\nVTOPO-DMESG {}",
        b.to_report.as_secs_f64(),
        b.guest.raw,
        b.dmesg.raw
    );
    let boot_set: BTreeSet<u32> = plan.boot_cpus().map(|c| c.index.0).collect();
    check_guest(&plan, &b.guest, &boot_set, name);
    check_dmesg(&b.dmesg, &[], name);
    check_acpi_tables(&b.acpi, &json, name);
    check_kernel_log(&plan, &json, &b.console, name);
    eprintln!("{name}: the firmware-less guest saw the plan");
}

fn guest_test(topology: &str, name: &str) {
    let Some(lab) = firmwareless_lab() else {
        return;
    };
    let _one_at_a_time = exclusive();
    firmwareless_guest_sees_plan(&lab, &root().join("topologies").join(topology), name);
}

/// 1 socket x 4 clusters x 2 cores, 2 nodes, 4 online-capable slots.
#[test]
fn test_firmwareless_guest_clusters_two_nodes_and_slots() {
    guest_test("lab-arm64-virt.toml", "fwl-lab-arm64-virt");
}

/// 2 sockets x 2 cores x 2 threads, a node per socket, 2 slots.
#[test]
fn test_firmwareless_guest_two_sockets_with_smt() {
    guest_test("firmwareless-2s-smt.toml", "fwl-2s-smt");
}

/// 3 clusters in 3 nodes, a node with only slots, a memory hotplug window.
#[test]
fn test_firmwareless_guest_three_nodes_and_a_hotplug_window() {
    guest_test("firmwareless-3node.toml", "fwl-3node");
}

// ---------------------------------------------------------------------------
// Boot time: firmware-less against UEFI (docs/firmwareless-boot.md)
// ---------------------------------------------------------------------------

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// QEMU start to the first `VTOPO-GUEST` line, lab-arm64-virt's machine
/// (`-smp 4 -m 1024M`): firmware-less from our artifacts and UEFI
/// (QEMU_EFI.fd with QEMU's own tables), both `quiet`, and firmware-less
/// with the verbose console the guest tests use; interleaved,
/// `VTOPO_BENCH_RUNS` runs each (default 5).
#[test]
#[ignore = "a benchmark: about a minute of QEMU; run with --ignored"]
fn bench_firmwareless_against_uefi_boot_time() {
    let Some(lab) = firmwareless_lab() else {
        return;
    };
    if !require_file(
        Path::new(QEMU_EFI),
        "scripts/setup.sh installs qemu-efi-aarch64",
    ) {
        return;
    }
    let _one_at_a_time = exclusive();
    let runs: usize = std::env::var("VTOPO_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempdir("fwl-bench");
    let topology = root().join("topologies/lab-arm64-virt.toml");
    let out = dir.join("boot");
    let quiet = format!("{APPEND} quiet");
    assert!(boot_artifacts(&topology, &out, &["--cmdline", &quiet])
        .status
        .success());
    let json = read_json(&out.join("boot.json"));
    let initrd = initramfs(Arch::Aarch64, &dir);
    let firmwareless = qemu_args(&json, &lab, &initrd);
    let out_verbose = dir.join("boot-verbose");
    assert!(
        boot_artifacts(&topology, &out_verbose, &["--cmdline", APPEND])
            .status
            .success()
    );
    let verbose = qemu_args(&read_json(&out_verbose.join("boot.json")), &lab, &initrd);
    let kernel = lab.kernel.to_str().expect("utf-8").to_string();
    let uefi: Vec<String> = [
        "-machine",
        "virt,gic-version=3",
        "-smp",
        "4",
        "-m",
        "1024M",
        "-bios",
        QEMU_EFI,
        "-kernel",
        &kernel,
        "-initrd",
        initrd.to_str().expect("utf-8"),
        "-append",
        "console=ttyAMA0 panic=-1 quiet vtopo.poweroff=1",
    ]
    .map(String::from)
    .to_vec();
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load_before = load();
    let (mut fw, mut ue, mut fv) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        let b = boot(&lab, &format!("bench-fwl-{i}"), &firmwareless, &dir);
        fw.push(b.to_report.as_secs_f64());
        let b = boot(&lab, &format!("bench-uefi-{i}"), &uefi, &dir);
        ue.push(b.to_report.as_secs_f64());
        let b = boot(&lab, &format!("bench-fwl-verbose-{i}"), &verbose, &dir);
        fv.push(b.to_report.as_secs_f64());
    }
    eprintln!(
        "samples (s): firmware-less {fw:.2?}\nUEFI {ue:.2?}\nfirmware-less, verbose console {fv:.2?}"
    );
    let stats = |v: Vec<f64>| {
        let (m, lo, hi) = median(v);
        format!("{m:.2} s ({lo:.2}-{hi:.2})")
    };
    eprintln!(
        "QEMU start to VTOPO-GUEST, median (min-max), n={runs}: firmware-less {}, UEFI {}, firmware-less verbose {}; load average before: {}, after: {}",
        stats(fw),
        stats(ue),
        stats(fv),
        load_before.trim(),
        load().trim()
    );
}
