//! ACPICA's iasl judges every table of every topology: `iasl -d` must decode
//! each one with no error and no warning. Needs `iasl` (Debian acpica-tools,
//! installed by scripts/setup.sh); without it the test says so loudly, and in
//! CI (CI=true) it fails instead of skipping.

use std::path::Path;
use std::process::Command;

use crate::util::{files_in, rel, require_tool, vtopo};

/// Disassembles `aml` with `iasl -d` in its directory; returns the problems.
fn iasl_problems(aml: &Path) -> Vec<String> {
    let dir = aml.parent().expect("a directory");
    let out = Command::new("iasl")
        .arg("-d")
        .arg(aml.file_name().expect("a file"))
        .current_dir(dir)
        .output()
        .expect("iasl runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut problems: Vec<String> = text
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            (l.contains("error")
                || l.contains("warning")
                || l.contains("invalid")
                || l.contains("unknown"))
                && !l.contains("0 errors")
                && !l.contains("0 warnings")
        })
        .map(|l| format!("{}: {l}", aml.display()))
        .collect();
    if !out.status.success() {
        problems.push(format!(
            "{}: iasl exited with {}",
            aml.display(),
            out.status
        ));
    }
    let dsl = aml.with_extension("dsl");
    match std::fs::read_to_string(&dsl) {
        Ok(text) => problems.extend(
            text.lines()
                .filter(|l| l.contains("****") || l.to_ascii_lowercase().contains("invalid"))
                .map(|l| format!("{}: {l}", dsl.display())),
        ),
        Err(e) => problems.push(format!("{}: no disassembly ({e})", dsl.display())),
    }
    if aml.file_name().is_some_and(|n| n == "DSDT.aml") {
        problems.extend(aml_problems(aml));
    }
    problems
}

/// The disassembler is lenient with AML; two stricter judges for the DSDT:
/// its disassembly must recompile with no error, warning or remark, and
/// ACPICA's interpreter (acpiexec) must load it, running every `_INI` and
/// `_STA`, with no error or warning.
fn aml_problems(aml: &Path) -> Vec<String> {
    let dir = aml.parent().expect("a directory");
    let mut problems = Vec::new();
    let recompile = Command::new("iasl")
        .args(["-p", "recompiled", "DSDT.dsl"])
        .current_dir(dir)
        .output()
        .expect("iasl runs");
    let text = String::from_utf8_lossy(&recompile.stdout).to_string()
        + &String::from_utf8_lossy(&recompile.stderr);
    if !text.contains("0 Errors, 0 Warnings, 0 Remarks") {
        problems.push(format!(
            "{}: the disassembly does not recompile cleanly:\n{text}",
            aml.display()
        ));
    }
    let load = Command::new("acpiexec")
        .args(["-b", "quit"])
        .arg(aml)
        .output()
        .expect("acpiexec runs");
    let text =
        String::from_utf8_lossy(&load.stdout).to_string() + &String::from_utf8_lossy(&load.stderr);
    problems.extend(
        text.lines()
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                l.contains("error") || l.contains("warning") || l.contains("ae_")
            })
            .map(|l| format!("{}: acpiexec: {l}", aml.display())),
    );
    problems
}

#[test]
fn test_iasl_decodes_every_table_of_every_topology_cleanly() {
    if !require_tool("iasl", "the iasl cross-check of every generated table")
        || !require_tool("acpiexec", "loading every generated DSDT in ACPICA")
    {
        return;
    }
    let scratch = tempdir("iasl");
    let mut problems = Vec::new();
    let mut checked = 0;
    for topology in files_in("topologies", "toml") {
        let name = topology
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let out = scratch.join(&name);
        let run = vtopo(&[
            "compile",
            &rel(&topology),
            "-o",
            out.to_str().expect("utf-8"),
        ]);
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        for aml in files_in_abs(&out, "aml") {
            // iasl 20200925 cannot disassemble a bare RSDP (it is not an SDT);
            // tests/cli.rs checks the RSDP's checksums and pointer instead.
            if aml.file_name().is_some_and(|n| n == "RSDP.aml") {
                continue;
            }
            problems.extend(iasl_problems(&aml));
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} tables checked");
    assert!(
        problems.is_empty(),
        "iasl found problems:\n{}",
        problems.join("\n")
    );
}

fn files_in_abs(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("output dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// A fresh scratch directory under the target directory, unique per call
/// (tests run in parallel threads of one process).
pub fn tempdir(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
