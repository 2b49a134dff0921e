//! ACPI 6.5 §5.2.17 System Locality Information Table (SLIT), revision 1,
//! from a plan: the planner's distance matrix, indexed by proximity domain
//! (10 on the diagonal, more than 10 elsewhere, as Linux's `slit_valid`
//! requires; the planner enforces both).

use planner::Plan;
use zerocopy::little_endian::U64;

use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::header::Signature;
use crate::wire::slit::{SlitFields, SLIT_REVISION};

/// Builds the SLIT.
#[must_use]
pub fn build(plan: &Plan, options: &Options) -> AcpiTable {
    let mut table = Table::new(Signature::SLIT, SLIT_REVISION, options);
    let localities = plan.distances.len();
    table.push(&SlitFields {
        number_of_system_localities: U64::new(u64::try_from(localities).unwrap_or(u64::MAX)),
    });
    for row in &plan.distances {
        table.push(row.as_slice());
    }
    table.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{arm_plan, header_ok};

    #[test]
    fn test_two_node_slit_bytes() {
        let src = "arch = \"aarch64\"\nplatform = \"qemu-virt\"\n[cpus]\ncores = 2\n[[node]]\nmemory = \"1GiB\"\ncpus = \"0\"\n[[node]]\nmemory = \"1GiB\"\ncpus = \"1\"\n[distances]\nmatrix = [[10, 21], [21, 10]]\n";
        let slit = build(&arm_plan(src), &Options::default());
        header_ok(slit.bytes(), b"SLIT", 1);
        let expected_body: [u8; 12] = [
            0x02, 0, 0, 0, 0, 0, 0, 0, // [36] Number of System Localities 2
            10, 21, // [44] Entry[0][0..2]
            21, 10, // [46] Entry[1][0..2]
        ];
        assert_eq!(&slit.bytes()[36..], expected_body);
    }

    #[test]
    fn test_single_node_slit_is_one_local_entry() {
        let src =
            "arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n";
        let slit = build(&arm_plan(src), &Options::default());
        assert_eq!(&slit.bytes()[36..], [1, 0, 0, 0, 0, 0, 0, 0, 10]);
    }
}
