//! ACPI 6.5 §5.2.9 Fixed ACPI Description Table (FADT), revision 6, minor
//! version 5, from a plan and the DSDT's address.
//!
//! vtopo's own machines and QEMU `virt` are HW-reduced (ACPI 6.5 §4.1): no
//! SCI, no PM1/GPE register blocks, no FACS. Linux arm64 accepts ACPI only
//! with FADT revision >= 5.1 and HW_REDUCED_ACPI set (`acpi_fadt_sanity_check`).
//! QEMU q35 is full ACPI hardware (ICH9), described as QEMU describes it.
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
//! - vtopo-pc powers off and resets through the HW-reduced sleep control
//!   and status registers (ACPI 6.5 §4.8.3.7) and the reset register
//!   (§4.8.3.6, RESET_REG_SUP), on I/O ports [`VTOPO_PC_POWER`]; the DSDT's
//!   `\_S5` gives the sleep type. vtopo-virt (arm64) uses PSCI instead.

use planner::arch::Arch;
use planner::ids::GuestAddr;
use planner::platform::PlatformKind;
use planner::Plan;

use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::fadt::{ArmBootArch, FadtFields, FadtFlags, FixedHardware, IapcBootArch};
use crate::wire::header::Signature;

/// The FADT flags of every vtopo machine.
pub const FLAGS: FadtFlags = FadtFlags::HW_REDUCED_ACPI
    .union(FadtFlags::PWR_BUTTON)
    .union(FadtFlags::SLP_BUTTON);

/// The power registers of a HW-reduced x86 platform, all on I/O ports:
/// SLEEP_CONTROL_REG and SLEEP_STATUS_REG (ACPI 6.5 §4.8.3.7, one byte each)
/// and RESET_REG (§4.8.3.6, one byte, reset by writing RESET_VALUE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerRegisters {
    /// Sleep control register port: the guest writes SLP_EN (bit 5) with
    /// SLP_TYP (bits 4:2) to enter a sleep state.
    pub sleep_control: u16,
    /// Sleep status register port: WAK_STS (bit 7), written 1 to clear.
    pub sleep_status: u16,
    /// Reset register port.
    pub reset: u16,
    /// The value that resets the machine when written to `reset`.
    pub reset_value: u8,
    /// SLP_TYP of S5 (soft-off), as the DSDT's `\_S5` package gives it.
    pub s5_sleep_type: u8,
}

/// vtopo-pc's power registers: three consecutive ports from 0x600, where
/// Cloud Hypervisor puts its ACPI shutdown device (it serves all three
/// registers on the one port 0x600; vtopo gives each its own port so that a
/// write means one thing). Nothing else on vtopo-pc uses 0x600-0x602.
pub const VTOPO_PC_POWER: PowerRegisters = PowerRegisters {
    sleep_control: 0x600,
    sleep_status: 0x601,
    reset: 0x602,
    reset_value: 0x01,
    s5_sleep_type: 5,
};

/// The sleep and reset registers of a platform whose FADT declares them
/// (vtopo-pc); None elsewhere (arm64 uses PSCI; QEMU q35's are its PM1 block
/// and 0xCF9).
#[must_use]
pub fn power_registers(platform: PlatformKind) -> Option<PowerRegisters> {
    match platform {
        PlatformKind::VtopoPc => Some(VTOPO_PC_POWER),
        PlatformKind::QemuVirt | PlatformKind::VtopoVirt | PlatformKind::QemuQ35 => None,
    }
}

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

/// QEMU q35's ICH9 fixed hardware, as QEMU's own FADT describes it
/// (hw/i386/acpi-build.c, hw/isa/lpc_ich9.c: PMBASE 0x600, GPE0 at
/// PMBASE + 0x20, SCI IRQ 9, APM control port 0xB2, RTC century at CMOS 0x32,
/// reset through 0xCF9 with value 0x0F).
pub const ICH9: FixedHardware = FixedHardware {
    sci_int: 9,
    smi_cmd: 0xB2,
    acpi_enable: 2,
    acpi_disable: 3,
    pm1a_evt: 0x600,
    pm1a_cnt: 0x604,
    pm_tmr: 0x608,
    gpe0: 0x620,
    gpe0_len: 0x10,
    century: 0x32,
    reset: (0xCF9, 0x0F),
};

/// QEMU q35's FADT flags (QEMU writes 0x84A5): WBINVD, PROC_C1, SLP_BUTTON,
/// RTC_S4, RESET_REG_SUP, USE_PLATFORM_CLOCK.
pub const ICH9_FLAGS: FadtFlags = FadtFlags::WBINVD
    .union(FadtFlags::PROC_C1)
    .union(FadtFlags::SLP_BUTTON)
    .union(FadtFlags::RTC_S4)
    .union(FadtFlags::RESET_REG_SUP)
    .union(FadtFlags::USE_PLATFORM_CLOCK);

/// Where the FADT's pointers go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FadtPointers {
    /// The DSDT.
    pub dsdt: GuestAddr,
    /// The FACS, on platforms with full ACPI hardware (qemu-q35: the
    /// firmware's FACS, whose address the firmware chose).
    pub facs: Option<GuestAddr>,
}

/// Builds the FADT for `platform`.
///
/// qemu-q35 gets a full-hardware FADT that describes ICH9 as QEMU does, at
/// revision 6.5 rather than QEMU's 3: Linux (since "x86/acpi/boot: Correct
/// acpi_is_processor_usable() check again", 2025) counts a MADT entry that is
/// not Enabled as a hotpluggable CPU only when it is Online Capable and the
/// FADT is ACPI 6.3 or later (or a known hypervisor is detected, which a
/// software-emulated guest does not see). Every other platform is HW-reduced.
#[must_use]
pub fn build(platform: PlatformKind, options: &Options, pointers: FadtPointers) -> AcpiTable {
    let mut table = Table::new(Signature::FADT, FadtFields::REVISION, options);
    let fields = match platform {
        PlatformKind::QemuQ35 => {
            let facs = pointers.facs.map_or(0, |f| u32::try_from(f.0).unwrap_or(0));
            FadtFields::full_hardware(
                &ICH9,
                ICH9_FLAGS,
                iapc_boot_arch(platform),
                facs,
                pointers.dsdt.0,
            )
        }
        PlatformKind::QemuVirt | PlatformKind::VtopoVirt | PlatformKind::VtopoPc => {
            let mut fields = FadtFields::hardware_reduced(
                FLAGS,
                iapc_boot_arch(platform),
                arm_boot_arch(platform.arch()),
                pointers.dsdt.0,
            );
            if let Some(power) = power_registers(platform) {
                fields.set_power_registers(&power);
            }
            fields
        }
    };
    table.push(&fields);
    table.finalize()
}

/// Builds the FADT for `plan`'s platform.
#[must_use]
pub fn build_for(plan: &Plan, options: &Options, pointers: FadtPointers) -> AcpiTable {
    build(plan.platform, options, pointers)
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
            ptr(0x4000_1000),
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
        let pc = build(PlatformKind::VtopoPc, &Options::default(), ptr(0x1000));
        let q35 = build(PlatformKind::QemuQ35, &Options::default(), ptr(0x1000));
        assert_eq!(read_u16(pc.bytes(), 109), 0b100); // VGA Not Present
        assert_eq!(read_u16(q35.bytes(), 109), 0b010); // 8042
        assert_eq!(read_u16(pc.bytes(), 129), 0); // ARM_BOOT_ARCH
        assert_eq!(read_u32(pc.bytes(), 112), 0x0010_0430); // + RESET_REG_SUP
    }

    fn ptr(dsdt: u64) -> FadtPointers {
        FadtPointers {
            dsdt: GuestAddr(dsdt),
            facs: None,
        }
    }

    #[test]
    fn test_vtopo_pc_fadt_has_sleep_and_reset_registers_on_ports() {
        let pc = build(PlatformKind::VtopoPc, &Options::default(), ptr(0x1000));
        let b = pc.bytes();
        header_ok(b, b"FACP", 6);
        // Flags: HW_REDUCED_ACPI | RESET_REG_SUP | SLP_BUTTON | PWR_BUTTON.
        assert_eq!(read_u32(b, 112), 0x0010_0430);
        // RESET_REG: SystemIO, 8 bits, offset 0, byte access, port 0x602; RESET_VALUE 1.
        assert_eq!(&b[116..128], &[1, 8, 0, 1, 0x02, 0x06, 0, 0, 0, 0, 0, 0]);
        assert_eq!(b[128], 0x01);
        // SLEEP_CONTROL_REG port 0x600, SLEEP_STATUS_REG port 0x601.
        assert_eq!(&b[244..256], &[1, 8, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[256..268], &[1, 8, 0, 1, 0x01, 0x06, 0, 0, 0, 0, 0, 0]);
        // Still no legacy blocks.
        assert_eq!(read_u32(b, 64), 0); // PM1a_CNT_BLK
        assert_eq!(&b[172..184], &[0; 12]); // X_PM1a_CNT_BLK
    }

    #[test]
    fn test_only_vtopo_pc_has_power_registers() {
        for platform in [PlatformKind::QemuVirt, PlatformKind::VtopoVirt] {
            let b = build(platform, &Options::default(), ptr(0x1000)).into_bytes();
            assert_eq!(&b[244..268], &[0; 24], "{platform:?} sleep registers");
            assert_eq!(&b[116..129], &[0; 13], "{platform:?} reset register");
            assert_eq!(
                read_u32(&b, 112) & (1 << 10),
                0,
                "{platform:?} RESET_REG_SUP"
            );
        }
        assert_eq!(power_registers(PlatformKind::QemuQ35), None);
        assert_eq!(power_registers(PlatformKind::VtopoPc), Some(VTOPO_PC_POWER));
    }

    #[test]
    fn test_q35_fadt_matches_qemu_fixed_hardware_at_6_5() {
        // Expected values are QEMU 10.0 q35's own FADT (revision 3, dumped
        // from a guest), moved to revision 6.5.
        let pointers = FadtPointers {
            dsdt: GuestAddr(0x3FFE_0040),
            facs: Some(GuestAddr(0x3FFE_0000)),
        };
        let q35 = build(PlatformKind::QemuQ35, &Options::default(), pointers);
        let b = q35.bytes();
        header_ok(b, b"FACP", 6);
        assert_eq!(b[131], 5); // FADT Minor Version
        assert_eq!(read_u32(b, 36), 0x3FFE_0000); // FIRMWARE_CTRL
        assert_eq!(read_u32(b, 40), 0x3FFE_0040); // DSDT
        assert_eq!(read_u64(b, 140), 0x3FFE_0040); // X_DSDT
        assert_eq!(read_u16(b, 46), 9); // SCI_INT
        assert_eq!(read_u32(b, 48), 0xB2); // SMI_CMD
        assert_eq!((b[52], b[53]), (2, 3)); // ACPI_ENABLE, ACPI_DISABLE
        assert_eq!(read_u32(b, 56), 0x600); // PM1a_EVT_BLK
        assert_eq!(read_u32(b, 64), 0x604); // PM1a_CNT_BLK
        assert_eq!(read_u32(b, 76), 0x608); // PM_TMR_BLK
        assert_eq!(read_u32(b, 80), 0x620); // GPE0_BLK
        assert_eq!(&b[88..93], &[4, 2, 0, 4, 0x10]); // PM1_EVT, PM1_CNT, PM2_CNT, PM_TMR, GPE0 lengths
        assert_eq!(read_u32(b, 112), 0x84A5); // Flags, as QEMU
        assert_eq!(&b[116..128], &[1, 8, 0, 0, 0xF9, 0x0C, 0, 0, 0, 0, 0, 0]); // RESET_REG
        assert_eq!(b[128], 0x0F); // RESET_VALUE
        assert_eq!(&b[148..152], &[1, 0x20, 0, 0]); // X_PM1a_EVT_BLK: SystemIO, 32 bits
        assert_eq!(read_u64(b, 152), 0x600);
        assert_eq!(&b[220..224], &[1, 0x80, 0, 0]); // X_GPE0_BLK: SystemIO, 128 bits
        assert_eq!(read_u64(b, 224), 0x620);
    }
}
