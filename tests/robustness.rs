//! "Never a panic, whatever the input": every prefix and a spread of
//! single-byte corruptions of every topology file go through the planner.
//! Each either plans or returns diagnostics; a panic fails the test.

use crate::util::files_in;

fn corpus() -> Vec<String> {
    let mut files = files_in("topologies", "toml");
    files.extend(files_in("topologies/invalid", "toml"));
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("readable"))
        // The 4096-CPU file is large; its shape is covered by the smaller ones.
        .filter(|s| s.len() < 16 * 1024)
        .collect()
}

#[test]
fn test_truncated_inputs_never_panic() {
    for source in corpus() {
        for end in (0..source.len()).filter(|&i| source.is_char_boundary(i)) {
            let _ = planner::plan_source("t.toml", &source[..end]);
        }
    }
}

#[test]
fn test_corrupted_inputs_never_panic() {
    const REPLACEMENTS: &[&str] = &["0", "-1", "\"", "]", "[", "=", "99999999999", "\n", "x"];
    for source in corpus() {
        let bytes: Vec<usize> = (0..source.len())
            .step_by(3)
            .filter(|&i| source.is_char_boundary(i))
            .collect();
        for (n, &i) in bytes.iter().enumerate() {
            let mut s = source.clone();
            let end = (i + 1..=s.len())
                .find(|&e| s.is_char_boundary(e))
                .unwrap_or(s.len());
            s.replace_range(i..end, REPLACEMENTS[n % REPLACEMENTS.len()]);
            let _ = planner::plan_source("t.toml", &s);
        }
    }
}

#[test]
fn test_huge_counts_are_errors_not_allocations() {
    let source = "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n\
                  [cpus]\nsockets = 4294967295\ncores = 4294967295\nthreads = 4294967295\n";
    let err = planner::plan_source("t.toml", source).expect_err("far too many CPUs");
    assert_eq!(err.items[0].rule, planner::Rule::CpuLimit);
}
