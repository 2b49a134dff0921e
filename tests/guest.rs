//! A real Linux judges our ACPI tables: Debian's stock 6.12 kernel boots
//! under QEMU 10 software emulation with our generated tables substituted
//! for QEMU's through the kernel's ACPI table upgrade (docs/lab.md), and its
//! view of CPUs, topology IDs, NUMA nodes, memory and distances (printed by
//! lab/guest-init.sh) must be the plan's. On x86 the guest also hot-adds and
//! removes vCPUs through our DSDT's CPU hotplug methods, driven over QMP.
//!
//! Only the tables are ours: the lab topologies (`topologies/lab-*.toml`) are
//! shaped so that every ID in the plan is the one QEMU gives its vCPUs, and
//! the QEMU command line is derived from the plan ([`lab::machine_args`]).
//!
//! Needs QEMU (qemu-system-aarch64, qemu-system-x86_64), UEFI for arm64,
//! busybox, iasl (scripts/setup.sh) and the kernels (scripts/fetch-kernels.sh).
//! Without them the tests say so loudly and skip; in CI (CI=true) they fail.
//! The tests run one at a time (a process-wide lock), each VM has a hard
//! deadline, and a boot that hangs is reported as a hang and retried once;
//! a wrong result is never retried.

pub(crate) mod expect;
pub(crate) mod lab;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use planner::arch::Arch;
use planner::plan::Plan;
use serde_json::{json, Value};

use crate::iasl::tempdir;
use crate::util::root;
use expect::{check_acpi, check_dmesg, check_guest, Report};
use lab::{
    compile, exclusive, fadt_pointers, initramfs, machine_args, plan_of, upgraded_initrd, Lab,
    LabError, Qmp, Vm, BOOT_TIMEOUT, QEMU_EFI, STEP_TIMEOUT,
};

/// Tables replaced on arm64 `virt` + UEFI. QEMU's FADT is fine there, and
/// the GTDT cannot be upgraded (not in the kernel's list).
const ARM64_TABLES: [&str; 5] = ["APIC", "PPTT", "SRAT", "SLIT", "DSDT"];
/// Tables replaced on q35: QEMU has no SPCR or PPTT there. Our FADT (6.5)
/// is needed for hotplug under software emulation (docs/lab.md, Gotchas 1).
const X86_TABLES: [&str; 5] = ["FACP", "APIC", "SRAT", "SLIT", "DSDT"];

/// What one boot printed.
struct Boot {
    guest: Report,
    dmesg: Report,
    acpi: Report,
    /// QEMU start to the first `VTOPO-GUEST` line.
    to_report: Duration,
}

/// A VM that hung (and was killed), kept for its console's tail.
struct Hung(Box<Vm>);

/// Runs `attempt` and, when it reports a hang, once more; any other failure
/// panics at once (inside `attempt`).
fn retry_hang_once<T>(what: &str, mut attempt: impl FnMut(u32) -> Result<T, Hung>) -> T {
    match attempt(1) {
        Ok(t) => t,
        Err(Hung(vm)) => {
            eprintln!(
                "\n!!! LAB NOISE: {what}: the first attempt hung; retrying once !!!\n{}",
                vm.tail()
            );
            drop(vm);
            attempt(2).unwrap_or_else(|Hung(vm)| panic!("{what}: hung twice\n{}", vm.tail()))
        }
    }
}

/// Waits for a line; a hang hands the VM back for the retry logic, an early
/// exit fails the test.
fn wait_or_hang(
    vm: &mut Vm,
    marker: &str,
    pred: impl Fn(&str) -> bool,
    timeout: Duration,
    what: &str,
) -> Result<(Instant, Report), ()> {
    match vm.wait_line(marker, pred, timeout, what) {
        Ok((at, rest)) => Ok((at, Report::parse(&rest))),
        Err(e @ LabError::Hang { .. }) => {
            eprintln!("{}: {e}", vm.name);
            Err(())
        }
        Err(e) => vm.fail(&e),
    }
}

/// Starts a VM and reads its boot lines: `VTOPO-GUEST` (seq 1),
/// `VTOPO-DMESG`, `VTOPO-ACPI`.
fn boot_vm(lab: &Lab, name: &str, args: &[String], dir: &Path) -> Result<(Vm, Boot), Hung> {
    let mut vm = Vm::start(lab, name, args, dir);
    let is_boot = |r: &str| r.contains(";seq=1;event=boot;");
    let Ok((at, guest)) =
        wait_or_hang(&mut vm, "VTOPO-GUEST", is_boot, BOOT_TIMEOUT, "boot report")
    else {
        return Err(Hung(Box::new(vm)));
    };
    let to_report = at - vm.started;
    let seq1 = |r: &str| r.contains(";seq=1;");
    let Ok((_, dmesg)) = wait_or_hang(&mut vm, "VTOPO-DMESG", seq1, STEP_TIMEOUT, "VTOPO-DMESG")
    else {
        return Err(Hung(Box::new(vm)));
    };
    let Ok((_, acpi)) = wait_or_hang(&mut vm, "VTOPO-ACPI", |_| true, STEP_TIMEOUT, "VTOPO-ACPI")
    else {
        return Err(Hung(Box::new(vm)));
    };
    eprintln!(
        "{name}: VTOPO-GUEST after {:.2} s:\nVTOPO-GUEST {}\nVTOPO-DMESG {}",
        to_report.as_secs_f64(),
        guest.raw,
        dmesg.raw
    );
    Ok((
        vm,
        Boot {
            guest,
            dmesg,
            acpi,
            to_report,
        },
    ))
}

/// Waits for the guest's power-off (`vtopo.poweroff=1` or `poweroff`).
fn powered_off(mut vm: Vm) {
    match vm.wait_exit(STEP_TIMEOUT) {
        Ok(status) => assert!(
            status.success(),
            "{}: QEMU exited with {status}\n{}",
            vm.name,
            vm.tail()
        ),
        Err(e) => vm.fail(&e),
    }
}

fn path_arg(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

fn set_of(cpus: impl IntoIterator<Item = u32>) -> BTreeSet<u32> {
    cpus.into_iter().collect()
}

// ---------------------------------------------------------------------------
// arm64
// ---------------------------------------------------------------------------

/// Boots arm64 `virt` + UEFI with the topology's tables and checks the
/// guest's view against the plan.
fn arm64_guest_sees_plan(lab: &Lab, topology: &Path, name: &str) {
    let dir = tempdir(&format!("guest-{name}"));
    let plan = plan_of(topology);
    let tables = dir.join("tables");
    compile(topology, &tables, None);
    let initrd = initramfs(Arch::Aarch64, &dir);
    let image = dir.join("initrd.img");
    upgraded_initrd(&tables, &ARM64_TABLES, &initrd, &image);

    let mut args = machine_args(&plan);
    args.extend(
        [
            "-machine",
            "virt,gic-version=3",
            "-bios",
            QEMU_EFI,
            "-kernel",
            &path_arg(&lab.kernel),
            "-initrd",
            &path_arg(&image),
            "-append",
            &format!("console={} panic=-1 quiet vtopo.poweroff=1", lab.console),
        ]
        .map(String::from),
    );
    let (vm, boot) = retry_hang_once(name, |n| boot_vm(lab, &format!("{name}-{n}"), &args, &dir));
    powered_off(vm);

    let boot_set = set_of(plan.boot_cpus().map(|c| c.index.0));
    check_guest(&plan, &boot.guest, &boot_set, name);
    check_dmesg(&boot.dmesg, &ARM64_TABLES, name);
    check_acpi(&boot.acpi, &tables, &ARM64_TABLES, name);
    eprintln!(
        "{name}: the guest saw the plan ({:.2} s to the report)",
        boot.to_report.as_secs_f64()
    );
    // Kept only when the test fails (logs, tables, images).
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn test_arm64_virt_guest_sees_the_planned_topology() {
    let Some(lab) = lab::lab(Arch::Aarch64) else {
        return;
    };
    let _one_at_a_time = exclusive();
    arm64_guest_sees_plan(
        &lab,
        &root().join("topologies/lab-arm64-virt.toml"),
        "arm64-virt",
    );
}

// ---------------------------------------------------------------------------
// x86
// ---------------------------------------------------------------------------

/// The QEMU options of a q35 guest for `plan` with `initrd` and `append`.
fn q35_args(lab: &Lab, plan: &Plan, initrd: &Path, append: &str) -> Vec<String> {
    let mut args = machine_args(plan);
    args.extend(
        [
            "-machine",
            "q35",
            "-kernel",
            &path_arg(&lab.kernel),
            "-initrd",
            &path_arg(initrd),
            "-append",
            &format!("console={} panic=-1 quiet {append}", lab.console),
        ]
        .map(String::from),
    );
    args
}

/// One hotplug step's outcome: the guest's report and the latency from the
/// QMP command to the guest's `VTOPO-EVENT` line.
struct Step {
    guest: Report,
    latency: Duration,
}

/// Waits for `VTOPO-EVENT event=EVENT` and the report that follows it.
fn hotplug_step(vm: &mut Vm, sent: Instant, event: &str) -> Step {
    let wanted = format!(";event={event};");
    let (at, ev) = match vm.wait_line(
        "VTOPO-EVENT",
        |r| r.contains(";event=add:") || r.contains(";event=remove:"),
        STEP_TIMEOUT,
        event,
    ) {
        Ok((at, rest)) => (at, Report::parse(&rest)),
        Err(e) => vm.fail(&e),
    };
    assert!(
        format!(";{};", ev.raw).contains(&wanted),
        "{}: expected the guest event {event}, got: VTOPO-EVENT {}",
        vm.name,
        ev.raw
    );
    let seq = format!(";seq={};", ev.must("seq"));
    let guest = match vm.wait_line(
        "VTOPO-GUEST",
        |r| r.contains(&seq),
        STEP_TIMEOUT,
        "the report after a CPU event",
    ) {
        Ok((_, rest)) => Report::parse(&rest),
        Err(e) => vm.fail(&e),
    };
    Step {
        guest,
        latency: at - sent,
    }
}

/// The QMP slot (`query-hotpluggable-cpus` entry) of a plan CPU.
fn qmp_slot<'a>(slots: &'a [Value], cpu: &planner::plan::Cpu) -> &'a Value {
    let prop = |s: &Value, k: &str| s["props"].get(k).and_then(Value::as_u64);
    slots
        .iter()
        .find(|s| {
            prop(s, "socket-id") == Some(u64::from(cpu.socket))
                && prop(s, "die-id").is_none_or(|d| d == u64::from(cpu.group))
                && prop(s, "core-id") == Some(u64::from(cpu.core))
                && prop(s, "thread-id").is_none_or(|t| t == u64::from(cpu.thread))
        })
        .unwrap_or_else(|| panic!("no QEMU slot for plan CPU {}: {slots:?}", cpu.index))
}

/// Calibrates (QEMU's FADT pointers), boots q35 with the topology's tables,
/// checks the guest, hot-adds `adds` slots, removes the last one added, and
/// checks the guest after each step.
fn x86_guest_sees_plan_and_hotplugs(lab: &Lab, topology: &Path, name: &str, adds: usize) {
    let dir = tempdir(&format!("guest-{name}"));
    let plan = plan_of(topology);
    let initrd = initramfs(Arch::X86_64, &dir);

    // 1. Calibration: the same machine with QEMU's own tables, to read where
    //    its FADT points (our FADT must point at the same DSDT and FACS:
    //    ACPICA reads the table at the FADT's DSDT address before the
    //    upgrade replaces it by signature).
    let calibration = Instant::now();
    let firmware = lab::firmware_pointers(lab, &q35_args(lab, &plan, &initrd, ""), &dir);
    eprintln!(
        "{name}: QEMU's FADT points at DSDT {:#x}, FACS {:#x} (read in {:.2} s)",
        firmware.dsdt,
        firmware.facs,
        calibration.elapsed().as_secs_f64()
    );

    // 2. Our tables, pointing at the firmware's DSDT and FACS.
    let tables = dir.join("tables");
    compile(topology, &tables, Some(firmware));
    let image = dir.join("initrd.img");
    upgraded_initrd(&tables, &X86_TABLES, &initrd, &image);

    // 3. Boot with QMP, no power-off. lpj= skips the hot-added CPU's 0.5 s
    //    delay calibration under software emulation.
    let qmp_path = dir.join("qmp.sock");
    let mut args = q35_args(lab, &plan, &image, "lpj=10000000");
    args.extend([
        "-qmp".to_string(),
        format!("unix:{},server=on,wait=off", path_arg(&qmp_path)),
    ]);
    let (mut vm, boot) = retry_hang_once(name, |n| {
        let _ = std::fs::remove_file(&qmp_path);
        let (mut vm, boot) = boot_vm(lab, &format!("{name}-{n}"), &args, &dir)?;
        match wait_or_hang(
            &mut vm,
            "VTOPO-READY",
            |_| true,
            STEP_TIMEOUT,
            "VTOPO-READY",
        ) {
            Ok(_) => Ok((vm, boot)),
            Err(()) => Err(Hung(Box::new(vm))),
        }
    });
    let mut online = set_of(plan.boot_cpus().map(|c| c.index.0));
    check_guest(&plan, &boot.guest, &online, name);
    check_dmesg(&boot.dmesg, &X86_TABLES, name);
    check_acpi(&boot.acpi, &tables, &X86_TABLES, name);

    // 4. Hot-add: the first `adds` slots, in plan order.
    let mut qmp = Qmp::connect(&qmp_path, STEP_TIMEOUT);
    let slots = qmp
        .execute("query-hotpluggable-cpus", &json!({}))
        .expect("query-hotpluggable-cpus");
    let slots: Vec<Value> = slots
        .as_array()
        .expect("a list")
        .iter()
        .filter(|s| s.get("qom-path").is_none())
        .cloned()
        .collect();
    let targets: Vec<&planner::plan::Cpu> = plan.hotpluggable_cpus().take(adds).collect();
    assert_eq!(targets.len(), adds, "the plan has {adds} hotpluggable CPUs");
    let mut added = Vec::new();
    for cpu in &targets {
        let slot = qmp_slot(&slots, cpu);
        assert_eq!(
            slot["props"].get("node-id").and_then(Value::as_u64),
            Some(u64::from(cpu.node.0)),
            "QEMU's -numa cpu mapping must be the plan's"
        );
        let id = format!("vcpu{}", cpu.index);
        let mut arguments = json!({ "driver": slot["type"], "id": id });
        for (k, v) in slot["props"].as_object().expect("props") {
            arguments[k] = v.clone();
        }
        let sent = Instant::now();
        if let Err(e) = qmp.execute("device_add", &arguments) {
            panic!("device_add {arguments}: {e}\n{}", vm.tail());
        }
        let step = hotplug_step(&mut vm, sent, &format!("add:cpu{}", cpu.index));
        // The guest's `_OST` for the Device Check (source 1): success.
        let ost = qmp.wait_event(
            |e| {
                let info = &e["data"]["info"];
                e["event"] == "ACPI_DEVICE_OST"
                    && info["device"] == id.as_str()
                    && info["source"] == 1
            },
            STEP_TIMEOUT,
        );
        let ost =
            ost.unwrap_or_else(|| panic!("no _OST for the insertion of {id}: {:?}", qmp.events));
        assert_eq!(
            ost.1["data"]["info"]["status"], 0,
            "_OST of the insertion of {id}: {}",
            ost.1
        );
        online.insert(cpu.index.0);
        check_guest(
            &plan,
            &step.guest,
            &online,
            &format!("{name} after adding {id}"),
        );
        eprintln!(
            "{name}: hot-add {id} (plan CPU {}, x2APIC {}): device_add -> guest event {:.0} ms\nVTOPO-GUEST {}",
            cpu.index,
            cpu.x2apic_id.expect("x86").0,
            step.latency.as_secs_f64() * 1000.0,
            step.guest.raw
        );
        added.push((id, cpu.index.0));
    }

    // 5. Remove the last CPU added. The guest's ejection runs our `_EJ0`
    //    and reports `_OST`: QEMU turns both into ACPI_DEVICE_OST events
    //    (source 3 = eject request; status 0x84 "ejection in progress" first,
    //    then 0 = success, which carries no device name: the device is gone),
    //    and frees the slot. QEMU 10 under software emulation never finalizes
    //    an unplugged vCPU object, so DEVICE_DELETED comes only for its
    //    `lapic` child (`/machine/peripheral/ID/lapic`), not for the CPU.
    let (id, index) = added.pop().expect("at least one CPU added");
    let sent = Instant::now();
    if let Err(e) = qmp.execute("device_del", &json!({ "id": id })) {
        panic!("device_del {id}: {e}\n{}", vm.tail());
    }
    let step = hotplug_step(&mut vm, sent, &format!("remove:cpu{index}"));
    online.remove(&index);
    check_guest(
        &plan,
        &step.guest,
        &online,
        &format!("{name} after removing {id}"),
    );
    let slot = index.to_string();
    let ost_of = |status: u64| {
        let slot = slot.clone();
        move |e: &Value| {
            let info = &e["data"]["info"];
            e["event"] == "ACPI_DEVICE_OST"
                && info["slot-type"] == "CPU"
                && info["slot"] == slot.as_str()
                && info["source"] == 3
                && info["status"] == status
        }
    };
    let in_progress = qmp.wait_event(ost_of(0x84), STEP_TIMEOUT);
    let success = qmp.wait_event(ost_of(0), STEP_TIMEOUT);
    let lapic = format!("/machine/peripheral/{id}/");
    let deleted = qmp.wait_event(
        |e| {
            e["event"] == "DEVICE_DELETED"
                && (e["data"]["device"] == id.as_str()
                    || e["data"]["path"]
                        .as_str()
                        .is_some_and(|p| p.starts_with(&lapic)))
        },
        STEP_TIMEOUT,
    );
    let (Some(_), Some((ejected_at, _)), Some(_)) = (in_progress, success, deleted) else {
        panic!(
            "{name}: the eject of {id} (slot {slot}) did not complete: wanted _OST 0x84 then 0 \
             and DEVICE_DELETED; QMP events: {:?}\n{}",
            qmp.events,
            vm.tail()
        );
    };
    let free = qmp
        .execute("query-hotpluggable-cpus", &json!({}))
        .expect("query-hotpluggable-cpus");
    let removed = plan
        .cpus
        .iter()
        .find(|c| c.index.0 == index)
        .expect("plan CPU");
    let now_free: Vec<Value> = free
        .as_array()
        .expect("a list")
        .iter()
        .filter(|s| s.get("qom-path").is_none())
        .cloned()
        .collect();
    let _ = qmp_slot(&now_free, removed); // panics unless the slot is free again
    eprintln!(
        "{name}: remove {id}: device_del -> guest event {:.0} ms, -> _OST success {:.0} ms\nVTOPO-GUEST {}",
        step.latency.as_secs_f64() * 1000.0,
        (ejected_at - sent).as_secs_f64() * 1000.0,
        step.guest.raw
    );

    // 6. Still healthy: a fresh report on request, then a clean power-off.
    vm.send("report");
    let guest = match vm.wait_line(
        "VTOPO-GUEST",
        |r| r.contains(";event=cmd;"),
        STEP_TIMEOUT,
        "the requested report",
    ) {
        Ok((_, rest)) => Report::parse(&rest),
        Err(e) => vm.fail(&e),
    };
    check_guest(&plan, &guest, &online, &format!("{name} final report"));
    vm.send("poweroff");
    powered_off(vm);
    eprintln!(
        "{name}: the guest saw the plan ({:.2} s to the boot report), and every hotplug step",
        boot.to_report.as_secs_f64()
    );
    // Kept only when the test fails (logs, tables, images).
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn test_x86_q35_guest_sees_the_planned_topology_and_hotplugs() {
    let Some(lab) = lab::lab(Arch::X86_64) else {
        return;
    };
    let _one_at_a_time = exclusive();
    x86_guest_sees_plan_and_hotplugs(
        &lab,
        &root().join("topologies/lab-x86-q35.toml"),
        "x86-q35",
        2,
    );
}

// ---------------------------------------------------------------------------
// Variants: other shapes on the same machines. Their topologies live here,
// not in topologies/, because they exist only for these tests; the same
// constraints apply (boot CPUs 0..k, IDs as QEMU assigns them).
// ---------------------------------------------------------------------------

/// Writes a variant topology into a scratch directory.
fn scratch_topology(name: &str, text: &str) -> (PathBuf, PathBuf) {
    let dir = tempdir(&format!("guest-{name}-topology"));
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write the topology");
    (dir, path)
}

/// arm64 with two sockets and SMT: package IDs other than 0, core IDs from
/// PPTT core nodes (not leaves), thread siblings from thread leaves, nodes
/// of different sizes, and a node (socket 1) with boot CPUs and slots.
const ARM64_2S_SMT: &str = r#"
name = "guest lab variant: arm64 virt, 2 sockets x 2 cores x 2 threads"
arch = "aarch64"
platform = "qemu-virt"

[cpus]
sockets = 2
clusters = 1
cores = 2
threads = 2
boot = "0-5"
hotpluggable = "6-7"
mpidr-policy = "kvm-linear"

[[node]]
memory = "512MiB"
cpus = { socket = 0 }

[[node]]
memory = "256MiB"
cpus = { socket = 1 }

[distances]
matrix = [[10, 17], [17, 10]]
"#;

#[test]
fn test_arm64_virt_guest_sees_a_two_socket_smt_topology() {
    let Some(lab) = lab::lab(Arch::Aarch64) else {
        return;
    };
    let _one_at_a_time = exclusive();
    let (dir, topology) = scratch_topology("arm64-2s-smt", ARM64_2S_SMT);
    arm64_guest_sees_plan(&lab, &topology, "arm64-2s-smt");
    let _ = std::fs::remove_dir_all(dir);
}

/// x86 without SMT (a 2-bit core field: APIC ID = socket << 2 | core), boot
/// CPUs in both sockets, and the two last cores of socket 1 as slots.
const X86_NO_SMT: &str = r#"
name = "guest lab variant: x86 q35, 2 sockets x 4 cores, no SMT"
arch = "x86_64"
platform = "qemu-q35"

[cpus]
sockets = 2
cores = 4
threads = 1
boot = "0-5"
hotpluggable = "6-7"

[[node]]
memory = "512MiB"
cpus = { socket = 0 }

[[node]]
memory = "512MiB"
cpus = { socket = 1 }

[distances]
matrix = [[10, 31], [31, 10]]
"#;

#[test]
fn test_x86_q35_guest_without_smt_sees_the_planned_topology_and_hotplugs() {
    let Some(lab) = lab::lab(Arch::X86_64) else {
        return;
    };
    let _one_at_a_time = exclusive();
    let (dir, topology) = scratch_topology("x86-q35-no-smt", X86_NO_SMT);
    x86_guest_sees_plan_and_hotplugs(&lab, &topology, "x86-q35-no-smt", 2);
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------
// The harness's own parsers (no QEMU needed).
// ---------------------------------------------------------------------------

#[test]
fn test_guest_lab_parsers() {
    assert_eq!(expect::cpulist("0-3,6"), set_of([0, 1, 2, 3, 6]));
    assert_eq!(expect::cpulist("0,1,2"), set_of([0, 1, 2]));
    assert_eq!(expect::cpulist(""), set_of([]));

    let dmesg = Report::parse(
        "v=1;seq=1;problems=0;upgrades=2;upgrade.1=ACPI: Table Upgrade: override [SLIT-BOCHS -BXPC    ];\
         upgrade.0=ACPI: Table Upgrade: override [SRAT-BOCHS -BXPC    ]%3B 100%25\r",
    );
    assert_eq!(dmesg.must("seq"), "1");
    assert_eq!(
        dmesg.numbered("upgrade"),
        [
            "ACPI: Table Upgrade: override [SRAT-BOCHS -BXPC    ]; 100%",
            "ACPI: Table Upgrade: override [SLIT-BOCHS -BXPC    ]",
        ]
    );
    check_dmesg(&dmesg, &["SLIT", "SRAT"], "parser self-test");

    // A revision 3 FADT (244 bytes) with both the 32- and 64-bit DSDT fields,
    // and one with only the 32-bit FIRMWARE_CTRL.
    let mut fadt = vec![0u8; 244];
    fadt[..4].copy_from_slice(b"FACP");
    fadt[36..40].copy_from_slice(&0x3ffe_0000u32.to_le_bytes());
    fadt[40..44].copy_from_slice(&0x3ffe_0040u32.to_le_bytes());
    fadt[140..148].copy_from_slice(&0x1_2345_6780u64.to_le_bytes());
    assert_eq!(
        fadt_pointers(&fadt),
        lab::FirmwarePointers {
            dsdt: 0x1_2345_6780,
            facs: 0x3ffe_0000
        }
    );
}
