//! Helpers shared by the unit tests: plans from TOML, header checks and
//! little-endian field reads at spec offsets.

use planner::arch::Arch;
use planner::Plan;

use crate::table::CREATOR_ID;

fn plan(source: &str) -> Plan {
    match planner::plan_source("t.toml", source) {
        Ok(plan) => plan,
        Err(e) => panic!("test plan does not plan: {e}"),
    }
}

/// An aarch64 plan from TOML.
pub fn arm_plan(source: &str) -> Plan {
    let plan = plan(source);
    assert_eq!(plan.arch, Arch::Aarch64);
    plan
}

/// An x86_64 plan from TOML.
pub fn x86_plan(source: &str) -> Plan {
    let plan = plan(source);
    assert_eq!(plan.arch, Arch::X86_64);
    plan
}

/// Checks a table's header: signature, Length = its size, revision,
/// checksum (bytes sum to 0), creator ID.
pub fn header_ok(bytes: &[u8], signature: &[u8; 4], revision: u8) {
    assert_eq!(&bytes[0..4], signature);
    assert_eq!(read_u32(bytes, 4) as usize, bytes.len());
    assert_eq!(bytes[8], revision);
    assert_eq!(
        bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)),
        0,
        "checksum"
    );
    assert_eq!(&bytes[28..32], &CREATOR_ID);
}

/// A little-endian u16 at `offset`.
pub fn read_u16(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

/// A little-endian u32 at `offset`.
pub fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(b)
}

/// A little-endian u64 at `offset`.
pub fn read_u64(bytes: &[u8], offset: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(b)
}

/// Splits the (type u8, length u8)-headed structures from `start` to the
/// end, as an independent walker would.
pub fn structures(bytes: &[u8], start: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = start;
    while at < bytes.len() {
        let len = usize::from(bytes[at + 1]);
        assert!(len >= 2, "zero-length structure at {at}");
        out.push(&bytes[at..at + len]);
        at += len;
    }
    assert_eq!(at, bytes.len(), "structures overrun the table");
    out
}
