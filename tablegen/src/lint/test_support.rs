//! Helpers for the lint tests: our own linked table sets, byte patches
//! that keep Length and Checksum right, and finding filters.

use planner::ids::GuestAddr;

use super::{lint, Finding};
use crate::dump::TableFile;
use crate::link::{link, Placement};
use crate::table::checksum;
use crate::Options;

/// arm64, vtopo-virt, 2 sockets x 2 cores in 2 nodes, CPU 3 hotpluggable.
pub(crate) const ARM: &str = "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\n\
    [cpus]\nsockets = 2\ncores = 2\nhotpluggable = \"3\"\n\
    [[node]]\nmemory = \"1GiB\"\ncpus = \"0-1\"\n\
    [[node]]\nmemory = \"1GiB\"\ncpus = \"2-3\"\n";

/// arm64 with SMT: 1 socket x 2 cores x 2 threads, one node.
pub(crate) const ARM_SMT: &str = "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\n\
    memory = \"1GiB\"\n[cpus]\ncores = 2\nthreads = 2\n";

/// x86_64, vtopo-pc, 2 sockets x 2 cores in 2 nodes, CPU 3 hotpluggable.
pub(crate) const X86: &str = "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\n\
    [cpus]\nsockets = 2\ncores = 2\nhotpluggable = \"3\"\n\
    [[node]]\nmemory = \"1GiB\"\ncpus = \"0-1\"\n\
    [[node]]\nmemory = \"1GiB\"\ncpus = \"2-3\"\n";

/// The linked table set of a plan (RSDP, XSDT, FADT, DSDT and the rest).
pub(crate) fn tables(toml: &str) -> Vec<TableFile> {
    let plan = match planner::plan_source("t.toml", toml) {
        Ok(plan) => plan,
        Err(e) => panic!("test plan does not plan: {e}"),
    };
    let set = crate::build(&plan, &Options::default());
    let linked = link(
        &set,
        Placement::Linked {
            base: GuestAddr(0x4000_0000),
            facs: None,
        },
    );
    linked
        .tables
        .into_iter()
        .map(|t| TableFile::new(t.name, t.bytes))
        .collect()
}

/// The bytes of the table named `name` (e.g. `APIC`).
pub(crate) fn bytes_of<'a>(files: &'a mut [TableFile], name: &str) -> &'a mut Vec<u8> {
    match files.iter_mut().find(|f| f.name == name) {
        Some(f) => &mut f.bytes,
        None => panic!("no table {name}"),
    }
}

/// Applies `patch` to table `name`, then rewrites its Length and Checksum.
pub(crate) fn patch(files: &mut [TableFile], name: &str, patch: impl FnOnce(&mut Vec<u8>)) {
    let bytes = bytes_of(files, name);
    patch(bytes);
    fix(bytes);
}

/// Rewrites Length (bytes 4..8) and Checksum (byte 9) of an SDT.
pub(crate) fn fix(bytes: &mut [u8]) {
    let len = u32::try_from(bytes.len()).unwrap();
    bytes[4..8].copy_from_slice(&len.to_le_bytes());
    bytes[9] = 0;
    bytes[9] = checksum(bytes);
}

/// Offsets of the (type, length) structures from `start`.
pub(crate) fn structures(bytes: &[u8], start: usize) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    let mut at = start;
    while at + 1 < bytes.len() && bytes[at + 1] > 0 {
        out.push((at, bytes[at]));
        at += usize::from(bytes[at + 1]);
    }
    out
}

/// Offset of the `n`th structure of type `kind` from `start`.
pub(crate) fn nth(bytes: &[u8], start: usize, kind: u8, n: usize) -> usize {
    match structures(bytes, start)
        .into_iter()
        .filter(|(_, k)| *k == kind)
        .nth(n)
    {
        Some((at, _)) => at,
        None => panic!("no structure {n} of type {kind:#x}"),
    }
}

/// Writes a little-endian u32 at `at`.
pub(crate) fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Writes a little-endian u64 at `at`.
pub(crate) fn put_u64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// The findings of `rule`.
pub(crate) fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

/// Lints `files` and returns the findings of `rule`, cloned.
pub(crate) fn lint_rule(files: &[TableFile], rule: &str) -> Vec<Finding> {
    of(&lint(files), rule).into_iter().cloned().collect()
}

/// An SDT with `signature`, revision 2 and `body`, checksummed.
pub(crate) fn sdt(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 36];
    bytes[..4].copy_from_slice(signature);
    bytes[8] = 2;
    bytes.extend_from_slice(body);
    fix(&mut bytes);
    bytes
}

/// MADT offset of the first structure.
pub(crate) const MADT_START: usize = 44;
/// SRAT offset of the first structure.
pub(crate) const SRAT_START: usize = 48;
/// PPTT offset of the first structure.
pub(crate) const PPTT_START: usize = 36;
