//! The command line: exit codes (0 ok, 1 invalid input, 2 usage) and formats.

use crate::util::vtopo;

#[test]
fn test_version_prints_package_version() {
    let out = vtopo(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("vtopo {}", env!("CARGO_PKG_VERSION"))
    );
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

const VALID: &str = "topologies/arm64-virt-hotplug.toml";
const INVALID: &str = "topologies/invalid/cpu-in-two-nodes.toml";

#[test]
fn test_check_valid_file_exits_zero_and_says_ok() {
    let out = vtopo(&["check", VALID]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("{VALID}: ok (")));
}

#[test]
fn test_check_reports_every_file_and_fails_if_one_is_invalid() {
    let out = vtopo(&["check", VALID, INVALID]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{VALID}: ok")));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{INVALID}:")));
}

#[test]
fn test_check_json_gives_records_with_rule_and_place() {
    let out = vtopo(&["check", "--json", INVALID]);
    assert_eq!(out.status.code(), Some(1));
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(records[0]["rule"], "cpu-in-two-nodes");
    assert_eq!(records[0]["file"], INVALID);
}

#[test]
fn test_plan_json_is_a_plan() {
    let out = vtopo(&["plan", VALID, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let plan: planner::Plan = serde_json::from_slice(&out.stdout).expect("a Plan");
    assert_eq!(plan.arch, planner::arch::Arch::Aarch64);
    assert!(plan.hotpluggable_cpus().count() > 0);
}

#[test]
fn test_plan_text_shows_the_tree() {
    let out = vtopo(&["plan", VALID]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("socket 0\n  cluster 0"), "{text}");
    assert!(text.contains("hotpluggable"), "{text}");
}

#[test]
fn test_plan_of_invalid_file_exits_one_with_no_stdout() {
    let out = vtopo(&["plan", INVALID]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn test_bad_format_value_is_usage_error() {
    assert_eq!(
        vtopo(&["plan", VALID, "--format", "yaml"]).status.code(),
        Some(2)
    );
}

#[test]
fn test_check_without_files_is_usage_error() {
    assert_eq!(vtopo(&["check"]).status.code(), Some(2));
}

#[test]
fn test_help_lists_subcommands() {
    let out = vtopo(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["check", "plan", "rules"] {
        assert!(text.contains(sub), "{text}");
    }
}

#[test]
fn test_rules_lists_every_rule() {
    let out = vtopo(&["rules"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for rule in planner::Rule::ALL {
        assert!(
            text.contains(rule.name()),
            "{} missing from:\n{text}",
            rule.name()
        );
    }
}
