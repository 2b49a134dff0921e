//! Placing tables and resolving the pointers between them.
//!
//! Three tables hold addresses: the RSDP (-> XSDT, ACPI 6.5 §5.2.5.3), the
//! XSDT (-> every table but the DSDT and FACS, §5.2.8) and the FADT (-> DSDT
//! and, on full-hardware platforms, FACS, §5.2.9). [`link`] either
//!
//! - places everything at real addresses from a base ([`Placement::Linked`]):
//!   RSDP first (16-byte aligned, as the x86 legacy scan requires), then the
//!   XSDT, the FADT, the DSDT and the other tables, each 8-byte aligned, and
//!   one contiguous image a VMM or firmware loads at the base; or
//! - leaves the tables where a loader will put them ([`Placement::Unlinked`]):
//!   pointer fields stay 0 (unless an address is given, e.g. a firmware's own
//!   DSDT that a replacement FADT must keep pointing at) and every pointer
//!   field is listed, as QEMU's table-loader does, so the loader can patch
//!   them and fix the checksums.

use planner::ids::GuestAddr;

use crate::fadt::FadtPointers;
use crate::table::AcpiTable;
use crate::wire::fadt::FadtFields;
use crate::wire::header::SdtHeader;
use crate::wire::rsdp::Rsdp;
use crate::TableSet;

/// RSDP alignment (ACPI 6.5 §5.2.5.1: on a 16-byte boundary).
pub const RSDP_ALIGN: u64 = 16;
/// Alignment of every other table in a linked image.
pub const TABLE_ALIGN: u64 = 8;
/// Offset of the XSDT address in the RSDP.
pub const RSDP_XSDT_OFFSET: usize = 24;
/// Offset of the 32-bit FIRMWARE_CTRL (FACS) field in the FADT.
pub const FADT_FIRMWARE_CTRL_OFFSET: usize = 36;
/// Offset of the 32-bit DSDT field in the FADT.
pub const FADT_DSDT_OFFSET: usize = 40;
/// Offset of X_DSDT in the FADT.
pub const FADT_X_DSDT_OFFSET: usize = 140;
/// Offset of the first XSDT entry.
pub const XSDT_ENTRIES_OFFSET: usize = 36;

/// Where the tables go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// At real addresses from `base`.
    Linked {
        /// Address of the RSDP, the first byte of the image.
        base: GuestAddr,
        /// The firmware's FACS, for full-hardware platforms (qemu-q35).
        facs: Option<GuestAddr>,
    },
    /// Not placed: pointer fields are 0 unless given here.
    Unlinked {
        /// The DSDT the FADT points at (a firmware's, when replacing its tables).
        dsdt: Option<GuestAddr>,
        /// The FACS the FADT points at.
        facs: Option<GuestAddr>,
    },
}

/// One output table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedTable {
    /// Signature as a file stem: `APIC`, `FACP`, ..., `RSDP`.
    pub name: String,
    /// The bytes, checksums final.
    pub bytes: Vec<u8>,
    /// Its address when linked.
    pub address: Option<GuestAddr>,
}

/// A pointer field that refers to another table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerField {
    /// The table holding the field.
    pub table: String,
    /// Byte offset of the field.
    pub offset: usize,
    /// Field width in bytes (4 or 8).
    pub size: usize,
    /// The table it points at.
    pub target: String,
    /// The value written (0 when unlinked and not given).
    pub value: u64,
}

/// The result of [`link`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// RSDP, XSDT, FADT, DSDT, then the other tables.
    pub tables: Vec<LinkedTable>,
    /// Every pointer field.
    pub pointers: Vec<PointerField>,
    /// The contiguous image (RSDP at its start) when linked.
    pub image: Option<Vec<u8>>,
}

fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align) * align
}

/// Places `set` and resolves its pointers.
#[must_use]
pub fn link(set: &TableSet, placement: Placement) -> Linked {
    let others: Vec<&AcpiTable> = set.tables();
    let facs = match placement {
        Placement::Linked { facs, .. } | Placement::Unlinked { facs, .. } => facs,
    };
    let full_hw = set.platform == planner::platform::PlatformKind::QemuQ35;

    // Sizes are known before addresses: the FADT's is fixed, the XSDT's is the
    // header and one 8-byte entry per table it lists (the FADT and `others`).
    let fadt_len = FadtFields::TABLE_LENGTH;
    let xsdt_len = SdtHeader::LENGTH + 8 * (others.len() + 1);
    let lengths: Vec<usize> = [Rsdp::LENGTH, xsdt_len, fadt_len, set.dsdt.len()]
        .into_iter()
        .chain(others.iter().map(|t| t.len()))
        .collect();

    let addresses: Option<Vec<u64>> = match placement {
        Placement::Linked { base, .. } => {
            let mut next = align_up(base.0, RSDP_ALIGN);
            Some(
                lengths
                    .iter()
                    .map(|&len| {
                        let at = align_up(next, TABLE_ALIGN);
                        next = at + len as u64;
                        at
                    })
                    .collect(),
            )
        }
        Placement::Unlinked { .. } => None,
    };
    let addr = |i: usize| addresses.as_ref().map_or(0, |a| a[i]);
    let (xsdt_at, fadt_at, dsdt_at) = (addr(1), addr(2), addr(3));
    let dsdt_target = match placement {
        Placement::Linked { .. } => dsdt_at,
        Placement::Unlinked { dsdt, .. } => dsdt.map_or(0, |d| d.0),
    };

    let fadt = set.fadt(FadtPointers {
        dsdt: GuestAddr(dsdt_target),
        facs,
    });
    let xsdt_entries: Vec<GuestAddr> = std::iter::once(fadt_at)
        .chain((0..others.len()).map(|i| addr(4 + i)))
        .map(GuestAddr)
        .collect();
    let xsdt = set.xsdt(&xsdt_entries);
    let rsdp = set.rsdp(GuestAddr(xsdt_at)).to_vec();

    let mut pointers = vec![PointerField {
        table: "RSDP".into(),
        offset: RSDP_XSDT_OFFSET,
        size: 8,
        target: "XSDT".into(),
        value: xsdt_at,
    }];
    let names: Vec<String> = std::iter::once("FACP".to_string())
        .chain(others.iter().map(|t| t.signature().to_string()))
        .collect();
    for (i, (name, entry)) in names.iter().zip(&xsdt_entries).enumerate() {
        pointers.push(PointerField {
            table: "XSDT".into(),
            offset: XSDT_ENTRIES_OFFSET + 8 * i,
            size: 8,
            target: name.clone(),
            value: entry.0,
        });
    }
    if full_hw {
        pointers.push(PointerField {
            table: "FACP".into(),
            offset: FADT_FIRMWARE_CTRL_OFFSET,
            size: 4,
            target: "FACS".into(),
            value: facs.map_or(0, |f| f.0),
        });
        pointers.push(PointerField {
            table: "FACP".into(),
            offset: FADT_DSDT_OFFSET,
            size: 4,
            target: "DSDT".into(),
            value: dsdt_target,
        });
    }
    pointers.push(PointerField {
        table: "FACP".into(),
        offset: FADT_X_DSDT_OFFSET,
        size: 8,
        target: "DSDT".into(),
        value: dsdt_target,
    });

    let mut tables = vec![
        LinkedTable {
            name: "RSDP".into(),
            bytes: rsdp,
            address: None,
        },
        LinkedTable {
            name: "XSDT".into(),
            bytes: xsdt.into_bytes(),
            address: None,
        },
        LinkedTable {
            name: "FACP".into(),
            bytes: fadt.into_bytes(),
            address: None,
        },
        LinkedTable {
            name: "DSDT".into(),
            bytes: set.dsdt.bytes().to_vec(),
            address: None,
        },
    ];
    tables.extend(others.iter().map(|t| LinkedTable {
        name: t.signature().to_string(),
        bytes: t.bytes().to_vec(),
        address: None,
    }));

    let image = addresses.map(|addrs| {
        let base = addrs[0];
        let end = addrs
            .iter()
            .zip(&tables)
            .map(|(a, t)| a + t.bytes.len() as u64)
            .max()
            .unwrap_or(base);
        let mut image = vec![0u8; usize::try_from(end - base).unwrap_or(0)];
        for (table, &at) in tables.iter_mut().zip(&addrs) {
            table.address = Some(GuestAddr(at));
            let start = usize::try_from(at - base).unwrap_or(0);
            if let Some(slot) = image.get_mut(start..start + table.bytes.len()) {
                slot.copy_from_slice(&table.bytes);
            }
        }
        image
    });
    Linked {
        tables,
        pointers,
        image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;

    const ARM: &str =
        "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\n";

    fn set() -> TableSet {
        let plan = planner::plan_source("t.toml", ARM).expect("valid");
        crate::build(&plan, &Options::default())
    }

    fn u64_at(bytes: &[u8], at: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(b)
    }

    #[test]
    fn test_linked_pointers_resolve_to_the_tables() {
        let linked = link(
            &set(),
            Placement::Linked {
                base: GuestAddr(0x4000_0000),
                facs: None,
            },
        );
        let by_name = |n: &str| linked.tables.iter().find(|t| t.name == n).expect("table");
        let rsdp = by_name("RSDP");
        assert_eq!(rsdp.address, Some(GuestAddr(0x4000_0000)));
        let xsdt = by_name("XSDT");
        // RSDP (36 bytes) then the XSDT, 8-byte aligned: 0x40000028.
        assert_eq!(xsdt.address, Some(GuestAddr(0x4000_0028)));
        assert_eq!(u64_at(&rsdp.bytes, RSDP_XSDT_OFFSET), 0x4000_0028);
        let fadt = by_name("FACP");
        assert_eq!(
            u64_at(&xsdt.bytes, XSDT_ENTRIES_OFFSET),
            fadt.address.expect("placed").0
        );
        assert_eq!(
            u64_at(&fadt.bytes, FADT_X_DSDT_OFFSET),
            by_name("DSDT").address.expect("placed").0
        );
    }

    #[test]
    fn test_linked_image_holds_every_table_at_its_address() {
        let linked = link(
            &set(),
            Placement::Linked {
                base: GuestAddr(0x1000),
                facs: None,
            },
        );
        let image = linked.image.as_ref().expect("an image");
        for t in &linked.tables {
            let at = usize::try_from(t.address.expect("placed").0 - 0x1000).expect("small");
            assert_eq!(
                &image[at..at + t.bytes.len()],
                t.bytes.as_slice(),
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn test_every_table_checksums_to_zero() {
        for placement in [
            Placement::Linked {
                base: GuestAddr(0x1000),
                facs: None,
            },
            Placement::Unlinked {
                dsdt: None,
                facs: None,
            },
        ] {
            for t in link(&set(), placement).tables {
                let span = if t.name == "RSDP" { 20 } else { t.bytes.len() };
                let sum = t.bytes[..span].iter().fold(0u8, |a, b| a.wrapping_add(*b));
                assert_eq!(sum, 0, "{}", t.name);
            }
        }
    }

    #[test]
    fn test_unlinked_lists_every_pointer_as_zero_unless_given() {
        let linked = link(
            &set(),
            Placement::Unlinked {
                dsdt: Some(GuestAddr(0x3FFE_0040)),
                facs: None,
            },
        );
        assert!(linked.image.is_none());
        let x_dsdt = linked
            .pointers
            .iter()
            .find(|p| p.table == "FACP" && p.offset == FADT_X_DSDT_OFFSET)
            .expect("X_DSDT");
        assert_eq!(x_dsdt.value, 0x3FFE_0040);
        let fadt = linked
            .tables
            .iter()
            .find(|t| t.name == "FACP")
            .expect("FADT");
        assert_eq!(u64_at(&fadt.bytes, FADT_X_DSDT_OFFSET), 0x3FFE_0040);
        assert!(linked
            .pointers
            .iter()
            .filter(|p| p.table == "XSDT")
            .all(|p| p.value == 0));
        // The XSDT lists the FADT and every table but the DSDT: APIC, GTDT, SPCR, SRAT, SLIT, PPTT.
        assert_eq!(
            linked.pointers.iter().filter(|p| p.table == "XSDT").count(),
            7
        );
    }
}
