//! ACPI 6.5 §5.2.8 Extended System Description Table (XSDT), revision 1:
//! the header followed by the 64-bit addresses of the other tables (not the
//! DSDT, which the FADT points to, nor the FACS).

use planner::ids::GuestAddr;
use zerocopy::little_endian::U64;

use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::header::Signature;

/// XSDT revision.
pub const XSDT_REVISION: u8 = 1;

/// Builds an XSDT listing `tables`.
#[must_use]
pub fn build(options: &Options, tables: &[GuestAddr]) -> AcpiTable {
    let mut table = Table::new(Signature::XSDT, XSDT_REVISION, options);
    for address in tables {
        table.push(&U64::new(address.0));
    }
    table.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::header_ok;

    #[test]
    fn test_xsdt_lists_addresses_little_endian() {
        let xsdt = build(
            &Options::default(),
            &[GuestAddr(0x1122_3344_5566_7788), GuestAddr(0x1000)],
        );
        header_ok(xsdt.bytes(), b"XSDT", 1);
        let expected: [u8; 16] = [
            0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // [36] Entry 0
            0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // [44] Entry 1
        ];
        assert_eq!(&xsdt.bytes()[36..], expected);
        assert_eq!(xsdt.len(), 52);
    }
}
