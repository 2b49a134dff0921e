//! The library path of `vtopo compile`: every table of a plan, linked.
//! Planning is excluded (see planner's bench); sizes 256, 1024 and 4096 CPUs
//! over 64 nodes, plus the committed `topologies/arm64-4096.toml`.
//! The whole-process number and the comparison with iasl come from
//! `scripts/bench-compile.sh`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use planner::ids::GuestAddr;
use tablegen::link::{link, Placement};

fn topology(cpus: u32) -> String {
    let per_node = cpus / 64;
    let mut s = format!(
        "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\n[cpus]\nsockets = 4\nclusters = 16\ncores = {}\nhotpluggable = \"{}-{}\"\n",
        cpus / 64,
        cpus / 2,
        cpus - 1
    );
    for n in 0..64 {
        s.push_str(&format!(
            "[[node]]\nmemory = \"1GiB\"\ncpus = \"{}-{}\"\n",
            n * per_node,
            (n + 1) * per_node - 1
        ));
    }
    s
}

fn bench(c: &mut Criterion) {
    let options = tablegen::Options::default();
    let mut group = c.benchmark_group("tables");
    for cpus in [256u32, 1024, 4096] {
        let plan =
            planner::plan_source("bench.toml", &topology(cpus)).expect("valid bench topology");
        group.throughput(Throughput::Elements(u64::from(cpus)));
        group.bench_with_input(BenchmarkId::new("build+link", cpus), &plan, |b, plan| {
            b.iter(|| {
                let set = tablegen::build(plan, &options);
                link(
                    &set,
                    Placement::Linked {
                        base: GuestAddr(0x4000_0000),
                        facs: None,
                    },
                )
            });
        });
    }
    group.finish();

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../topologies/arm64-4096.toml");
    let source = std::fs::read_to_string(path).expect("topologies/arm64-4096.toml");
    let plan = planner::plan_source("arm64-4096.toml", &source).expect("valid");
    c.bench_function("tables/topologies/arm64-4096.toml", |b| {
        b.iter(|| {
            link(
                &tablegen::build(&plan, &options),
                Placement::Unlinked {
                    dsdt: None,
                    facs: None,
                },
            )
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
