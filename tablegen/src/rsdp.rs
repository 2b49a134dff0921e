//! ACPI 6.5 §5.2.5.3 Root System Description Pointer (RSDP), revision 2,
//! pointing at the XSDT (no RSDT).

use planner::ids::GuestAddr;
use zerocopy::little_endian::{U32, U64};
use zerocopy::IntoBytes;

use crate::options::Options;
use crate::table::checksum;
use crate::wire::rsdp::Rsdp;

/// Builds the 36-byte RSDP for an XSDT at `xsdt`, with both checksums.
#[must_use]
pub fn build(options: &Options, xsdt: GuestAddr) -> [u8; Rsdp::LENGTH] {
    let mut rsdp = Rsdp {
        signature: Rsdp::SIGNATURE,
        checksum: 0,
        oem_id: options.oem_id(),
        revision: Rsdp::REVISION,
        rsdt_address: U32::ZERO,
        length: U32::new(crate::table::u32_len(Rsdp::LENGTH)),
        xsdt_address: U64::new(xsdt.0),
        extended_checksum: 0,
        _reserved0: [0; 3],
    };
    rsdp.checksum = checksum(&rsdp.as_bytes()[..Rsdp::CHECKSUM_SPAN]);
    rsdp.extended_checksum = checksum(rsdp.as_bytes());
    let mut out = [0u8; Rsdp::LENGTH];
    out.copy_from_slice(rsdp.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rsdp_bytes_and_both_checksums() {
        let options = Options::new("BOCHS", "BXPC", 1).unwrap();
        let rsdp = build(&options, GuestAddr(0x7FF0_0000));
        let mut expected: [u8; 36] = [
            b'R', b'S', b'D', b' ', b'P', b'T', b'R', b' ', // [0] Signature "RSD PTR "
            0x00, // [8] Checksum (computed below)
            b'B', b'O', b'C', b'H', b'S', b' ', // [9] OEMID
            0x02, // [15] Revision 2
            0x00, 0x00, 0x00, 0x00, // [16] RsdtAddress: none
            0x24, 0x00, 0x00, 0x00, // [20] Length 36
            0x00, 0x00, 0xF0, 0x7F, 0x00, 0x00, 0x00, 0x00, // [24] XsdtAddress 0x7FF00000
            0x00, // [32] Extended Checksum (computed below)
            0x00, 0x00, 0x00, // [33] Reserved
        ];
        let sum = |b: &[u8]| b.iter().fold(0u8, |a, x| a.wrapping_add(*x));
        expected[8] = 0u8.wrapping_sub(sum(&expected[..20]));
        expected[32] = 0u8.wrapping_sub(sum(&expected));
        assert_eq!(rsdp, expected);
        assert_eq!(sum(&rsdp[..20]), 0);
        assert_eq!(sum(&rsdp), 0);
    }
}
