//! Every file in `topologies/invalid/` is rejected with exit code 1 and names
//! the rule its file name names; the full error output is snapshotted.

use planner::Rule;

use crate::util::{files_in, rel, root, snapshot_settings, vtopo};

/// `cpu-in-two-nodes-2` -> `cpu-in-two-nodes`.
fn rule_of_stem(stem: &str) -> &str {
    match stem.rsplit_once('-') {
        Some((head, tail)) if tail.chars().all(|c| c.is_ascii_digit()) => head,
        _ => stem,
    }
}

#[test]
fn test_every_invalid_topology_fails_with_its_rule() {
    let files = files_in("topologies/invalid", "toml");
    assert!(!files.is_empty(), "the invalid corpus exists");
    for file in files {
        let path = rel(&file);
        let out = vtopo(&["check", &path]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{path}: {stderr}");
        let stem = file
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if stem != "multiple-problems" {
            let rule = rule_of_stem(&stem);
            assert!(
                stderr.contains(&format!("error[{rule}]")),
                "{path} must report error[{rule}]:\n{stderr}"
            );
        }
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("check-invalid-{stem}"), stderr);
        });
    }
}

#[test]
fn test_every_rule_has_an_invalid_example() {
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .map(|r| r.name())
        .filter(|name| {
            !root()
                .join("topologies/invalid")
                .join(format!("{name}.toml"))
                .exists()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "rules without topologies/invalid/<rule>.toml: {missing:?}"
    );
}

#[test]
fn test_multiple_problems_are_reported_at_once() {
    let out = vtopo(&["check", "topologies/invalid/multiple-problems.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.matches("error[").count() >= 3, "{stderr}");
}

#[test]
fn test_every_diagnostic_has_file_line_and_column() {
    for file in files_in("topologies/invalid", "toml") {
        let out = vtopo(&["check", "--json", &rel(&file)]);
        let records: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON records");
        for record in records.as_array().expect("an array") {
            assert!(
                record["line"].as_u64().is_some_and(|l| l >= 1),
                "{}: {record}",
                file.display()
            );
            assert!(
                record["column"].as_u64().is_some_and(|c| c >= 1),
                "{}: {record}",
                file.display()
            );
        }
    }
}
