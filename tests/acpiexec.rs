//! ACPICA's interpreter (acpiexec) runs the generated DSDT's CPU hotplug
//! methods against register states the test sets, on every platform with a
//! hotplug controller: insert -> `_STA` 0xF and Notify 1 (Device Check);
//! removal request -> Notify 3 (Eject Request); `_EJ0` -> Enabled cleared;
//! the event source (`\_SB.GED0._EVT` or `\_GPE._E02`) runs the scan.
//!
//! acpiexec backs operation regions with plain memory, so a test SSDT maps a
//! second region over the register block and stores the status byte, the
//! selector and the command data directly; the DSDT's own fields then read
//! them. A write of 1 to clear an event does not clear it in plain memory:
//! the scan must notice that the controller did not acknowledge and stop
//! (that is the livelock guard) instead of looping.

use std::path::Path;
use std::process::Command;

use planner::plan::{AddressSpace, HotplugEvent};

use crate::iasl::tempdir;
use crate::util::{require_tool, root, vtopo};

struct Run {
    /// `(method, integer)` for every evaluation that returned an integer.
    integers: Vec<(String, u64)>,
    /// `(device, value)` for every Notify.
    notifies: Vec<(String, u64)>,
    /// Lines that mention an error or a warning.
    problems: Vec<String>,
}

fn parse(output: &str) -> Run {
    let mut run = Run {
        integers: Vec::new(),
        notifies: Vec::new(),
        problems: Vec::new(),
    };
    let mut current = String::new();
    for line in output.lines() {
        let lower = line.to_ascii_lowercase();
        if let Some(rest) = line.trim().strip_prefix("Evaluating ") {
            current = rest.trim().to_string();
        } else if let Some(v) = line.trim().strip_prefix("[Integer] = ") {
            run.integers.push((
                current.clone(),
                u64::from_str_radix(v.trim(), 16).expect("hex integer"),
            ));
        } else if line.contains("Notify on [") {
            let device = line
                .split('[')
                .nth(1)
                .and_then(|s| s.split(']').next())
                .unwrap_or("")
                .to_string();
            let value = line
                .split("Value 0x")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .map(|v| u64::from_str_radix(v, 16).expect("hex value"))
                .unwrap_or(u64::MAX);
            run.notifies.push((device, value));
        } else if lower.contains("error") || lower.contains("warning") || lower.contains("ae_") {
            run.problems.push(line.to_string());
        }
    }
    run
}

/// A test SSDT with `SETS(status, selector)`: the register block's status
/// byte and the command-data dword (what command 0 returns), and, for a GED,
/// `SETE(bits)` for its event selector.
fn test_ssdt(space: AddressSpace, base: u64, ged: Option<u64>) -> String {
    let space = match space {
        AddressSpace::Io => "SystemIO",
        AddressSpace::Mmio => "SystemMemory",
    };
    let ged_part = ged.map_or(String::new(), |g| {
        format!(
            "    OperationRegion (TGED, SystemMemory, {g:#x}, 4)\n    Field (TGED, DWordAcc, NoLock, Preserve) {{ TESL, 32 }}\n    Method (SETE, 1) {{ TESL = Arg0 }}\n"
        )
    });
    format!(
        "DefinitionBlock (\"\", \"SSDT\", 2, \"VTOPO \", \"HPTEST  \", 1)\n{{\n    OperationRegion (TREG, {space}, {base:#x}, 0x0C)\n    Field (TREG, ByteAcc, NoLock, Preserve) {{ Offset (0x04), TSTS, 8 }}\n    Field (TREG, DWordAcc, NoLock, Preserve) {{ TSEL, 32, Offset (0x08), TDAT, 32 }}\n    Method (SETS, 2) {{ TSEL = Arg1; TSTS = Arg0; TDAT = Arg1 }}\n{ged_part}}}\n"
    )
}

fn run_acpiexec(dir: &Path, commands: &[String]) -> Run {
    let out = Command::new("acpiexec")
        .arg("-b")
        .arg(commands.join("; "))
        .args(["DSDT.aml", "test.aml"])
        .current_dir(dir)
        .output()
        .expect("acpiexec runs");
    parse(
        &(String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)),
    )
}

fn hotplug_flow(topology: &str) {
    let source = std::fs::read_to_string(root().join(topology)).expect("topology");
    let plan = planner::plan_source(topology, &source).expect("valid");
    let regs = plan.devices.cpu_hotplug.expect("a hotplug controller");
    let slot = plan
        .hotpluggable_cpus()
        .next()
        .expect("a hotpluggable slot");
    let (dev, sel) = (format!("\\_SB.CPUS.C{:03X}", slot.index.0), slot.index.0);
    let ged = match plan.devices.hotplug_event {
        Some(HotplugEvent::Ged { base, .. }) => Some(base.0),
        _ => None,
    };
    let (absent, event) = match plan.arch {
        planner::arch::Arch::Aarch64 => (0x0D, "\\_SB.GED0._EVT 41".to_string()),
        planner::arch::Arch::X86_64 if ged.is_some() => (0x00, "\\_SB.GED0._EVT 9".to_string()),
        planner::arch::Arch::X86_64 => (0x00, "\\_GPE._E02".to_string()),
    };

    let dir = tempdir(&format!(
        "acpiexec-{}",
        Path::new(topology)
            .file_stem()
            .expect("name")
            .to_string_lossy()
    ));
    let out = vtopo(&["compile", topology, "-o", dir.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("test.asl"), test_ssdt(regs.space, regs.base, ged)).expect("write");
    let compiled = Command::new("iasl")
        .arg("test.asl")
        .current_dir(&dir)
        .output()
        .expect("iasl runs");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stdout)
    );

    // Status bits: 1 enabled, 2 insert event, 4 remove event.
    let mut commands = vec![
        format!("evaluate {dev}._STA"),
        format!("evaluate SETS 3 {sel}"),
        format!("evaluate {dev}._STA"),
    ];
    if ged.is_some() {
        commands.push("evaluate SETE 8".into());
    }
    commands.extend([
        format!("evaluate {event}"),
        format!("evaluate SETS 5 {sel}"),
        "evaluate \\_SB.CPUS.CSCN".into(),
        format!("evaluate {dev}._EJ0 0"),
        format!("evaluate {dev}._STA"),
    ]);
    let run = run_acpiexec(&dir, &commands);

    assert!(
        run.problems.is_empty(),
        "{topology}: acpiexec reported:\n{}",
        run.problems.join("\n")
    );
    let sta: Vec<u64> = run
        .integers
        .iter()
        .filter(|(m, _)| m.ends_with("._STA"))
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(
        sta,
        vec![absent, 0x0F, absent],
        "{topology}: _STA before insert, after insert, after _EJ0"
    );
    let name = format!("C{:03X}", slot.index.0);
    assert_eq!(
        run.notifies,
        vec![(name.clone(), 1), (name, 3)],
        "{topology}: Device Check then Eject Request"
    );
}

#[test]
fn test_arm64_vtopo_virt_hotplug_flow_runs_in_acpica() {
    if require_tool("acpiexec", "executing the hotplug AML")
        && require_tool("iasl", "compiling the test SSDT")
    {
        hotplug_flow("topologies/arm64-vtopo-hotplug.toml");
    }
}

#[test]
fn test_x86_vtopo_pc_hotplug_flow_runs_in_acpica() {
    if require_tool("acpiexec", "executing the hotplug AML")
        && require_tool("iasl", "compiling the test SSDT")
    {
        hotplug_flow("topologies/x86-vtopo-dies.toml");
    }
}

#[test]
fn test_x86_q35_hotplug_flow_runs_in_acpica() {
    if require_tool("acpiexec", "executing the hotplug AML")
        && require_tool("iasl", "compiling the test SSDT")
    {
        hotplug_flow("topologies/x86-2s-smt-hotplug.toml");
    }
}

#[test]
fn test_parse_reads_integers_and_notifies() {
    let run = parse(
        "Evaluating \\_SB.CPUS.C003._STA\n  [Integer] = 000000000000000F\nACPI Exec: Global:    Received a System Notify on [C003] 0x5 Value 0x03 (Eject Request)\n",
    );
    assert_eq!(
        run.integers,
        vec![("\\_SB.CPUS.C003._STA".to_string(), 0xF)]
    );
    assert_eq!(run.notifies, vec![("C003".to_string(), 3)]);
}
