//! The command line: exit codes (0 ok, 1 invalid input, 2 usage) and formats.

use crate::util::vtopo;

#[test]
fn test_version_prints_package_version() {
    let out = vtopo(&["--version"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("vtopo {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn test_unknown_subcommand_is_usage_error() {
    assert_eq!(vtopo(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn test_missing_file_is_invalid_input_naming_the_file() {
    let out = vtopo(&["check", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Cannot read no/such/file.toml"), "{stderr}");
}
