//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the built `vtopo` binary with `args`, from the repository root.
pub fn vtopo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vtopo"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the vtopo binary runs")
}

/// Files with extension `ext` directly under `dir` (relative to the root), sorted.
pub fn files_in(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// `path` relative to the repository root, with forward slashes.
pub fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// insta settings: snapshots live in the top-level `snapshots/` folder.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// True when `tool` is on PATH. When it is not: in CI (CI=true) the test
/// fails, elsewhere it prints loudly why it is skipped and returns false.
pub fn require_tool(tool: &str, what: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()));
    if !found {
        let msg =
            format!("`{tool}` is not installed (scripts/setup.sh installs it): {what} cannot run");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{msg}; CI must not skip it"
        );
        eprintln!("\n!!! SKIPPED: {msg} !!!\n");
    }
    found
}
