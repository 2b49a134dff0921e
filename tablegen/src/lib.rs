//! vtopo's ACPI table compiler: a [`planner::Plan`] in, byte-exact ACPI 6.5
//! tables out.
//!
//! [`build`] turns a plan into the tables that depend only on the plan
//! (MADT, SRAT, SLIT, SPCR, and on arm64 also PPTT and GTDT). The tables
//! that hold addresses (FADT -> DSDT, XSDT -> tables, RSDP -> XSDT) are
//! built by [`TableSet::fadt`], [`TableSet::xsdt`] and [`TableSet::rsdp`]
//! once a VMM or linker has placed the tables in guest memory.
//!
//! Emitting cannot fail: a `Plan` is valid by construction and [`Options`]
//! are validated by [`Options::new`]. Every structure is a packed
//! little-endian struct in [`wire`], and every table's Length and Checksum
//! are computed once, in [`table::Table::finalize`].
//!
//! ```
//! let toml = r#"
//! arch = "aarch64"
//! platform = "qemu-virt"
//! memory = "1GiB"
//! [cpus]
//! cores = 4
//! hotpluggable = "2-3"
//! "#;
//! let plan = planner::plan_source("example.toml", toml).unwrap();
//! let tables = tablegen::build(&plan, &tablegen::Options::default());
//! // MADT: 44-byte header, 4 GICC (80 bytes each), GICD, GICR, ITS.
//! assert_eq!(tables.madt.len(), 44 + 4 * 80 + 24 + 16 + 20);
//! assert!(tables.pptt.is_some());
//! let dsdt = planner::ids::GuestAddr(0x4000_0000);
//! let fadt = tables.fadt(tablegen::fadt::FadtPointers { dsdt, facs: None });
//! assert_eq!(&fadt.bytes()[..4], b"FACP");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aml_writer;
pub mod boot;
pub mod dsdt;
pub mod dump;
pub mod fadt;
pub mod gtdt;
pub mod link;
pub mod lint;
pub mod madt;
mod names;
pub mod options;
pub mod pptt;
pub mod rsdp;
pub mod slit;
pub mod spcr;
pub mod srat;
pub mod table;
pub mod wire;
pub mod xsdt;

#[cfg(test)]
mod test_util;

use planner::arch::Arch;
use planner::ids::GuestAddr;
use planner::platform::PlatformKind;
use planner::Plan;

pub use options::{OemField, Options, OptionsError};
pub use table::AcpiTable;
pub use wire::header::Signature;

/// The tables of one plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSet {
    /// The plan's platform (the FADT's boot architecture flags depend on it).
    pub platform: PlatformKind,
    /// The OEM fields every table carries.
    pub options: Options,
    /// MADT ("APIC").
    pub madt: AcpiTable,
    /// SRAT.
    pub srat: AcpiTable,
    /// SLIT.
    pub slit: AcpiTable,
    /// SPCR.
    pub spcr: AcpiTable,
    /// PPTT (arm64 only: x86 Linux ignores the PPTT).
    pub pptt: Option<AcpiTable>,
    /// GTDT (arm64 only).
    pub gtdt: Option<AcpiTable>,
    /// DSDT (reached through the FADT, not listed in the XSDT).
    pub dsdt: AcpiTable,
}

impl TableSet {
    /// The address-independent tables, in the order an XSDT would list them.
    #[must_use]
    pub fn tables(&self) -> Vec<&AcpiTable> {
        let mut out = vec![&self.madt];
        out.extend(self.gtdt.as_ref());
        out.push(&self.spcr);
        out.push(&self.srat);
        out.push(&self.slit);
        out.extend(self.pptt.as_ref());
        out
    }

    /// The FADT pointing at the DSDT (and, on full-hardware platforms, the FACS).
    #[must_use]
    pub fn fadt(&self, pointers: fadt::FadtPointers) -> AcpiTable {
        fadt::build(self.platform, &self.options, pointers)
    }

    /// An XSDT listing the tables at `tables` (the FADT and every table of
    /// [`TableSet::tables`], wherever they were placed).
    #[must_use]
    pub fn xsdt(&self, tables: &[GuestAddr]) -> AcpiTable {
        xsdt::build(&self.options, tables)
    }

    /// The RSDP for an XSDT at `xsdt`.
    #[must_use]
    pub fn rsdp(&self, xsdt: GuestAddr) -> [u8; wire::rsdp::Rsdp::LENGTH] {
        rsdp::build(&self.options, xsdt)
    }
}

/// Builds every address-independent table of `plan`.
#[must_use]
pub fn build(plan: &Plan, options: &Options) -> TableSet {
    let arm = plan.arch == Arch::Aarch64;
    TableSet {
        platform: plan.platform,
        options: options.clone(),
        madt: madt::build(plan, options),
        srat: srat::build(plan, options),
        slit: slit::build(plan, options),
        spcr: spcr::build(plan, options),
        pptt: arm.then(|| pptt::build(plan, options)),
        gtdt: arm.then(|| gtdt::build(plan, options)),
        dsdt: dsdt::build(plan, options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{arm_plan, header_ok, x86_plan};

    const ARM: &str =
        "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\n";
    const X86: &str =
        "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\n";

    #[test]
    fn test_arm_set_has_pptt_and_gtdt() {
        let set = build(&arm_plan(ARM), &Options::default());
        let signatures: Vec<String> = set
            .tables()
            .iter()
            .map(|t| t.signature().to_string())
            .collect();
        assert_eq!(signatures, ["APIC", "GTDT", "SPCR", "SRAT", "SLIT", "PPTT"]);
    }

    #[test]
    fn test_x86_set_has_no_pptt_or_gtdt() {
        let set = build(&x86_plan(X86), &Options::default());
        let signatures: Vec<String> = set
            .tables()
            .iter()
            .map(|t| t.signature().to_string())
            .collect();
        assert_eq!(signatures, ["APIC", "SPCR", "SRAT", "SLIT"]);
    }

    #[test]
    fn test_every_table_carries_the_options() {
        let options = Options::new("BOCHS", "BXPC", 7).unwrap();
        let set = build(&arm_plan(ARM), &options);
        let fadt = set.fadt(fadt::FadtPointers {
            dsdt: GuestAddr(0x1000),
            facs: None,
        });
        let xsdt = set.xsdt(&[GuestAddr(0x2000)]);
        let all: Vec<&AcpiTable> = set.tables().into_iter().chain([&fadt, &xsdt]).collect();
        assert!(all
            .iter()
            .all(|t| &t.bytes()[10..16] == b"BOCHS " && &t.bytes()[16..24] == b"BXPC    "));
        assert!(all.iter().all(|t| t.bytes()[24..28] == [7, 0, 0, 0]));
        header_ok(fadt.bytes(), b"FACP", 6);
        header_ok(xsdt.bytes(), b"XSDT", 1);
        assert_eq!(&set.rsdp(GuestAddr(0x3000))[9..15], b"BOCHS ");
    }

    #[test]
    fn test_same_plan_same_bytes() {
        let a = build(&arm_plan(ARM), &Options::default());
        let b = build(&arm_plan(ARM), &Options::default());
        assert_eq!(a, b);
    }
}
