//! ACPI 6.5 §5.2.9 Fixed ACPI Description Table (FADT), revision 6, minor
//! version 5, from a plan and the DSDT's address.
//!
//! Every vtopo machine is HW-reduced (ACPI 6.5 §4.1): no SCI, no PM1/GPE
//! register blocks, no FACS. Linux arm64 accepts ACPI only with FADT
//! revision >= 5.1 and HW_REDUCED_ACPI set (`acpi_fadt_sanity_check`).
//!
//! - Flags: HW_REDUCED_ACPI, plus PWR_BUTTON and SLP_BUTTON (no
//!   fixed-feature buttons; a power button, when there is one, is a device).
//! - arm64: ARM_BOOT_ARCH = PSCI_COMPLIANT | PSCI_USE_HVC (KVM's PSCI
//!   conduit is HVC).
//! - x86 IAPC_BOOT_ARCH: qemu-q35 sets 8042, as QEMU's own FADT does (q35
//!   always has an i8042); vtopo-pc sets VGA Not Present only, as
//!   Firecracker does for its headless VMM: no 8042 flag (Linux then does
//!   not probe one), no LEGACY_DEVICES, CMOS RTC left unspecified.
//! - X_DSDT = the address given; the 32-bit DSDT field stays 0.

use planner::arch::Arch;
use planner::ids::GuestAddr;
use planner::platform::PlatformKind;
use planner::Plan;

use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::fadt::{ArmBootArch, FadtFields, FadtFlags, IapcBootArch};
use crate::wire::header::Signature;

/// The FADT flags of every vtopo machine.
pub const FLAGS: FadtFlags = FadtFlags::HW_REDUCED_ACPI
    .union(FadtFlags::PWR_BUTTON)
    .union(FadtFlags::SLP_BUTTON);

/// The IA-PC boot architecture flags of a platform (empty on Arm).
#[must_use]
pub fn iapc_boot_arch(platform: PlatformKind) -> IapcBootArch {
    match platform {
        PlatformKind::QemuQ35 => IapcBootArch::I8042,
        PlatformKind::VtopoPc => IapcBootArch::VGA_NOT_PRESENT,
        PlatformKind::QemuVirt | PlatformKind::VtopoVirt => IapcBootArch::EMPTY,
    }
}

/// The Arm boot architecture flags of an architecture (empty on x86).
#[must_use]
pub fn arm_boot_arch(arch: Arch) -> ArmBootArch {
    match arch {
        Arch::Aarch64 => ArmBootArch::PSCI_COMPLIANT | ArmBootArch::PSCI_USE_HVC,
        Arch::X86_64 => ArmBootArch::EMPTY,
    }
}

/// Builds the FADT for `platform` with the DSDT at `dsdt`.
#[must_use]
pub fn build(platform: PlatformKind, options: &Options, dsdt: GuestAddr) -> AcpiTable {
    let mut table = Table::new(Signature::FADT, FadtFields::REVISION, options);
    table.push(&FadtFields::hardware_reduced(
        FLAGS,
        iapc_boot_arch(platform),
        arm_boot_arch(platform.arch()),
        dsdt.0,
    ));
    table.finalize()
}

/// Builds the FADT for `plan`'s platform with the DSDT at `dsdt`.
#[must_use]
pub fn build_for(plan: &Plan, options: &Options, dsdt: GuestAddr) -> AcpiTable {
    build(plan.platform, options, dsdt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{header_ok, read_u16, read_u32, read_u64};

    #[test]
    fn test_arm_fadt_is_hw_reduced_psci_hvc_6_5() {
        let fadt = build(
            PlatformKind::QemuVirt,
            &Options::default(),
            GuestAddr(0x4000_1000),
        );
        let b = fadt.bytes();
        header_ok(b, b"FACP", 6);
        assert_eq!(b.len(), 276);
        assert_eq!(read_u32(b, 112), 0x0010_0030); // HW_REDUCED_ACPI | SLP_BUTTON | PWR_BUTTON
        assert_eq!(read_u16(b, 109), 0); // IAPC_BOOT_ARCH
        assert_eq!(read_u16(b, 129), 0b11); // PSCI_COMPLIANT | PSCI_USE_HVC
        assert_eq!(b[131], 5); // FADT Minor Version
        assert_eq!(read_u64(b, 140), 0x4000_1000); // X_DSDT
        assert_eq!(read_u32(b, 40), 0); // DSDT (32-bit)
        assert_eq!(read_u16(b, 46), 0); // SCI_INT
    }

    #[test]
    fn test_x86_fadt_boot_arch_per_platform() {
        let pc = build(
            PlatformKind::VtopoPc,
            &Options::default(),
            GuestAddr(0x1000),
        );
        let q35 = build(
            PlatformKind::QemuQ35,
            &Options::default(),
            GuestAddr(0x1000),
        );
        assert_eq!(read_u16(pc.bytes(), 109), 0b100); // VGA Not Present
        assert_eq!(read_u16(q35.bytes(), 109), 0b010); // 8042
        assert_eq!(read_u16(pc.bytes(), 129), 0); // ARM_BOOT_ARCH
        assert_eq!(read_u32(q35.bytes(), 112), 0x0010_0030);
    }
}
