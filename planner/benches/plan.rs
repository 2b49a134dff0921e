//! Planning time against CPU count: 256, 1024 and 4096 possible CPUs on 64
//! NUMA nodes (target: 4096 CPUs under 5 ms, growing linearly), plus the
//! committed `topologies/arm64-4096.toml`.

use std::fmt::Write;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// An arm64 topology with `cpus` possible CPUs over 64 nodes, half of them hotpluggable.
fn topology(cpus: u32) -> String {
    let nodes = 64;
    let per_node = cpus / nodes;
    let mut s = String::from(
        "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\n[cpus]\nsockets = 4\nclusters = 16\n",
    );
    let _ = writeln!(s, "cores = {}\nmpidr-policy = \"topology\"", cpus / 64);
    let _ = writeln!(s, "hotpluggable = \"{}-{}\"", cpus / 2, cpus - 1);
    for n in 0..nodes {
        let _ = writeln!(
            s,
            "[[node]]\nmemory = \"1GiB\"\ncpus = \"{}-{}\"",
            n * per_node,
            (n + 1) * per_node - 1
        );
    }
    s.push_str("[distances]\nmatrix = [\n");
    for i in 0..nodes {
        let row: Vec<String> = (0..nodes)
            .map(|j| match (i == j, i / 16 == j / 16) {
                (true, _) => "10".into(),
                (false, true) => "16".into(),
                (false, false) => "32".into(),
            })
            .collect();
        let _ = writeln!(s, "  [{}],", row.join(", "));
    }
    s.push_str("]\n");
    s
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan");
    for cpus in [256u32, 1024, 4096] {
        let source = topology(cpus);
        assert!(
            planner::plan_source("bench.toml", &source).is_ok(),
            "bench topology is valid"
        );
        group.throughput(Throughput::Elements(u64::from(cpus)));
        group.bench_with_input(BenchmarkId::new("cpus", cpus), &source, |b, s| {
            b.iter(|| planner::plan_source("bench.toml", s));
        });
    }
    group.finish();

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../topologies/arm64-4096.toml");
    if let Ok(source) = std::fs::read_to_string(path) {
        c.bench_function("plan/topologies/arm64-4096.toml", |b| {
            b.iter(|| planner::plan_source("arm64-4096.toml", &source));
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
