//! ACPI 6.5 §5.2.9 Fixed ACPI Description Table (FADT), revision 6, minor
//! version 5: the 240 bytes that follow the common header.

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{Immutable, IntoBytes};

use super::flags;
use super::gas::Gas;
use super::header::SdtHeader;

/// ACPI 6.5 §5.2.9 Fixed ACPI Description Table (FADT): the fields after
/// the header, named as in the spec's FADT format table.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct FadtFields {
    /// FIRMWARE_CTRL: 32-bit FACS address (0: no FACS, HW-reduced).
    pub firmware_ctrl: U32,
    /// DSDT: 32-bit DSDT address (0: X_DSDT is used).
    pub dsdt: U32,
    /// Reserved (ACPI 1.0 INT_MODEL).
    pub _reserved0: u8,
    /// Preferred_PM_Profile.
    pub preferred_pm_profile: u8,
    /// SCI_INT.
    pub sci_int: U16,
    /// SMI_CMD.
    pub smi_cmd: U32,
    /// ACPI_ENABLE.
    pub acpi_enable: u8,
    /// ACPI_DISABLE.
    pub acpi_disable: u8,
    /// S4BIOS_REQ.
    pub s4bios_req: u8,
    /// PSTATE_CNT.
    pub pstate_cnt: u8,
    /// PM1a_EVT_BLK.
    pub pm1a_evt_blk: U32,
    /// PM1b_EVT_BLK.
    pub pm1b_evt_blk: U32,
    /// PM1a_CNT_BLK.
    pub pm1a_cnt_blk: U32,
    /// PM1b_CNT_BLK.
    pub pm1b_cnt_blk: U32,
    /// PM2_CNT_BLK.
    pub pm2_cnt_blk: U32,
    /// PM_TMR_BLK.
    pub pm_tmr_blk: U32,
    /// GPE0_BLK.
    pub gpe0_blk: U32,
    /// GPE1_BLK.
    pub gpe1_blk: U32,
    /// PM1_EVT_LEN.
    pub pm1_evt_len: u8,
    /// PM1_CNT_LEN.
    pub pm1_cnt_len: u8,
    /// PM2_CNT_LEN.
    pub pm2_cnt_len: u8,
    /// PM_TMR_LEN.
    pub pm_tmr_len: u8,
    /// GPE0_BLK_LEN.
    pub gpe0_blk_len: u8,
    /// GPE1_BLK_LEN.
    pub gpe1_blk_len: u8,
    /// GPE1_BASE.
    pub gpe1_base: u8,
    /// CST_CNT.
    pub cst_cnt: u8,
    /// P_LVL2_LAT.
    pub p_lvl2_lat: U16,
    /// P_LVL3_LAT.
    pub p_lvl3_lat: U16,
    /// FLUSH_SIZE.
    pub flush_size: U16,
    /// FLUSH_STRIDE.
    pub flush_stride: U16,
    /// DUTY_OFFSET.
    pub duty_offset: u8,
    /// DUTY_WIDTH.
    pub duty_width: u8,
    /// DAY_ALRM.
    pub day_alrm: u8,
    /// MON_ALRM.
    pub mon_alrm: u8,
    /// CENTURY.
    pub century: u8,
    /// IAPC_BOOT_ARCH (x86 only): [`IapcBootArch`].
    pub iapc_boot_arch: U16,
    /// Reserved.
    pub _reserved1: u8,
    /// Flags: [`FadtFlags`].
    pub flags: U32,
    /// RESET_REG.
    pub reset_reg: Gas,
    /// RESET_VALUE.
    pub reset_value: u8,
    /// ARM_BOOT_ARCH (Arm only): [`ArmBootArch`].
    pub arm_boot_arch: U16,
    /// FADT Minor Version.
    pub fadt_minor_version: u8,
    /// X_FIRMWARE_CTRL.
    pub x_firmware_ctrl: U64,
    /// X_DSDT.
    pub x_dsdt: U64,
    /// X_PM1a_EVT_BLK.
    pub x_pm1a_evt_blk: Gas,
    /// X_PM1b_EVT_BLK.
    pub x_pm1b_evt_blk: Gas,
    /// X_PM1a_CNT_BLK.
    pub x_pm1a_cnt_blk: Gas,
    /// X_PM1b_CNT_BLK.
    pub x_pm1b_cnt_blk: Gas,
    /// X_PM2_CNT_BLK.
    pub x_pm2_cnt_blk: Gas,
    /// X_PM_TMR_BLK.
    pub x_pm_tmr_blk: Gas,
    /// X_GPE0_BLK.
    pub x_gpe0_blk: Gas,
    /// X_GPE1_BLK.
    pub x_gpe1_blk: Gas,
    /// SLEEP_CONTROL_REG.
    pub sleep_control_reg: Gas,
    /// SLEEP_STATUS_REG.
    pub sleep_status_reg: Gas,
    /// Hypervisor Vendor Identity.
    pub hypervisor_vendor_identity: U64,
}

const _: () = assert!(size_of::<FadtFields>() == FadtFields::LENGTH);
const _: () = assert!(SdtHeader::LENGTH + FadtFields::LENGTH == FadtFields::TABLE_LENGTH);

impl FadtFields {
    /// Length of the fields after the header.
    pub const LENGTH: usize = 240;
    /// Length of the whole table.
    pub const TABLE_LENGTH: usize = 276;
    /// Table revision (ACPI 6.5).
    pub const REVISION: u8 = 6;
    /// FADT Minor Version (ACPI 6.5).
    pub const MINOR_VERSION: u8 = 5;

    /// Every field zero (no legacy hardware), with the given flags, boot
    /// architecture flags and DSDT address.
    #[must_use]
    pub fn hardware_reduced(
        flags: FadtFlags,
        iapc: IapcBootArch,
        arm: ArmBootArch,
        x_dsdt: u64,
    ) -> Self {
        Self {
            firmware_ctrl: U32::ZERO,
            dsdt: U32::ZERO,
            _reserved0: 0,
            preferred_pm_profile: PM_PROFILE_UNSPECIFIED,
            sci_int: U16::ZERO,
            smi_cmd: U32::ZERO,
            acpi_enable: 0,
            acpi_disable: 0,
            s4bios_req: 0,
            pstate_cnt: 0,
            pm1a_evt_blk: U32::ZERO,
            pm1b_evt_blk: U32::ZERO,
            pm1a_cnt_blk: U32::ZERO,
            pm1b_cnt_blk: U32::ZERO,
            pm2_cnt_blk: U32::ZERO,
            pm_tmr_blk: U32::ZERO,
            gpe0_blk: U32::ZERO,
            gpe1_blk: U32::ZERO,
            pm1_evt_len: 0,
            pm1_cnt_len: 0,
            pm2_cnt_len: 0,
            pm_tmr_len: 0,
            gpe0_blk_len: 0,
            gpe1_blk_len: 0,
            gpe1_base: 0,
            cst_cnt: 0,
            p_lvl2_lat: U16::ZERO,
            p_lvl3_lat: U16::ZERO,
            flush_size: U16::ZERO,
            flush_stride: U16::ZERO,
            duty_offset: 0,
            duty_width: 0,
            day_alrm: 0,
            mon_alrm: 0,
            century: 0,
            iapc_boot_arch: U16::new(iapc.bits()),
            _reserved1: 0,
            flags: U32::new(flags.bits()),
            reset_reg: Gas::NONE,
            reset_value: 0,
            arm_boot_arch: U16::new(arm.bits()),
            fadt_minor_version: Self::MINOR_VERSION,
            x_firmware_ctrl: U64::ZERO,
            x_dsdt: U64::new(x_dsdt),
            x_pm1a_evt_blk: Gas::NONE,
            x_pm1b_evt_blk: Gas::NONE,
            x_pm1a_cnt_blk: Gas::NONE,
            x_pm1b_cnt_blk: Gas::NONE,
            x_pm2_cnt_blk: Gas::NONE,
            x_pm_tmr_blk: Gas::NONE,
            x_gpe0_blk: Gas::NONE,
            x_gpe1_blk: Gas::NONE,
            sleep_control_reg: Gas::NONE,
            sleep_status_reg: Gas::NONE,
            hypervisor_vendor_identity: U64::ZERO,
        }
    }
}

impl FadtFields {
    /// Declares the HW-reduced sleep control and status registers (ACPI 6.5
    /// §4.8.3.7) and the reset register (§4.8.3.6) on I/O ports, one byte
    /// each, and sets RESET_REG_SUP.
    pub fn set_power_registers(&mut self, power: &crate::fadt::PowerRegisters) {
        use super::gas::{AccessSize, AddressSpaceId};
        let port = |p: u16| Gas::new(AddressSpaceId::SystemIo, 8, AccessSize::Byte, u64::from(p));
        self.sleep_control_reg = port(power.sleep_control);
        self.sleep_status_reg = port(power.sleep_status);
        self.reset_reg = port(power.reset);
        self.reset_value = power.reset_value;
        self.flags = U32::new(self.flags.get() | FadtFlags::RESET_REG_SUP.bits());
    }
}

/// The fixed hardware of a full (not HW-reduced) ACPI platform: the PM1,
/// PM timer and GPE0 register blocks in I/O space, the SCI and the SMI
/// command port. Used for QEMU q35 (ICH9), whose tables vtopo replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHardware {
    /// SCI interrupt (ISA IRQ).
    pub sci_int: u16,
    /// SMI command port.
    pub smi_cmd: u32,
    /// Value written to SMI_CMD to enable ACPI.
    pub acpi_enable: u8,
    /// Value written to SMI_CMD to disable ACPI.
    pub acpi_disable: u8,
    /// PM1a event block port (4 bytes).
    pub pm1a_evt: u16,
    /// PM1a control block port (2 bytes).
    pub pm1a_cnt: u16,
    /// PM timer port (4 bytes).
    pub pm_tmr: u16,
    /// GPE0 block port.
    pub gpe0: u16,
    /// GPE0 block length in bytes.
    pub gpe0_len: u8,
    /// RTC CMOS index of the century.
    pub century: u8,
    /// Reset register port and the value that resets.
    pub reset: (u16, u8),
}

impl FadtFields {
    /// A full-hardware FADT (revision 6.5): `hw`'s register blocks in both
    /// the 32-bit and the extended (GAS) fields, FIRMWARE_CTRL = `facs`
    /// (32-bit, X_FIRMWARE_CTRL 0, as a firmware below 4 GiB writes it), and
    /// both DSDT fields.
    #[must_use]
    pub fn full_hardware(
        hw: &FixedHardware,
        flags: FadtFlags,
        iapc: IapcBootArch,
        facs: u32,
        dsdt: u64,
    ) -> Self {
        use super::gas::{AccessSize, AddressSpaceId};
        let io = |bytes: u8, port: u16| {
            Gas::new(
                AddressSpaceId::SystemIo,
                bytes * 8,
                AccessSize::Undefined,
                u64::from(port),
            )
        };
        let mut f = Self::hardware_reduced(flags, iapc, ArmBootArch::EMPTY, dsdt);
        f.firmware_ctrl = U32::new(facs);
        f.dsdt = U32::new(u32::try_from(dsdt).unwrap_or(0));
        f.sci_int = U16::new(hw.sci_int);
        f.smi_cmd = U32::new(hw.smi_cmd);
        f.acpi_enable = hw.acpi_enable;
        f.acpi_disable = hw.acpi_disable;
        f.pm1a_evt_blk = U32::new(u32::from(hw.pm1a_evt));
        f.pm1a_cnt_blk = U32::new(u32::from(hw.pm1a_cnt));
        f.pm_tmr_blk = U32::new(u32::from(hw.pm_tmr));
        f.gpe0_blk = U32::new(u32::from(hw.gpe0));
        f.pm1_evt_len = 4;
        f.pm1_cnt_len = 2;
        f.pm_tmr_len = 4;
        f.gpe0_blk_len = hw.gpe0_len;
        // No C2/C3 states: latencies above 100 and 1000 us (ACPI 6.5 §5.2.9).
        f.p_lvl2_lat = U16::new(0x0FFF);
        f.p_lvl3_lat = U16::new(0x0FFF);
        f.century = hw.century;
        f.reset_reg = Gas::new(
            AddressSpaceId::SystemIo,
            8,
            AccessSize::Undefined,
            u64::from(hw.reset.0),
        );
        f.reset_value = hw.reset.1;
        f.x_pm1a_evt_blk = io(4, hw.pm1a_evt);
        f.x_pm1a_cnt_blk = io(2, hw.pm1a_cnt);
        f.x_pm_tmr_blk = io(4, hw.pm_tmr);
        f.x_gpe0_blk = io(hw.gpe0_len, hw.gpe0);
        f
    }
}

/// Preferred_PM_Profile 0: Unspecified.
pub const PM_PROFILE_UNSPECIFIED: u8 = 0;

flags! {
    /// ACPI 6.5 §5.2.9 Fixed ACPI Description Table Fixed Feature Flags.
    pub struct FadtFlags(u32) {
        /// Bit 0 WBINVD: the WBINVD instruction works.
        const WBINVD = 1 << 0;
        /// Bit 2 PROC_C1: C1 is supported on all processors.
        const PROC_C1 = 1 << 2;
        /// Bit 4 PWR_BUTTON: the power button, if any, is a control method
        /// device (no fixed-feature power button).
        const PWR_BUTTON = 1 << 4;
        /// Bit 5 SLP_BUTTON: the sleep button, if any, is a control method
        /// device (no fixed-feature sleep button).
        const SLP_BUTTON = 1 << 5;
        /// Bit 7 RTC_S4: the RTC can wake the system from S4.
        const RTC_S4 = 1 << 7;
        /// Bit 10 RESET_REG_SUP: the RESET_REG is supported.
        const RESET_REG_SUP = 1 << 10;
        /// Bit 15 USE_PLATFORM_CLOCK: OSPM should use a platform clock.
        const USE_PLATFORM_CLOCK = 1 << 15;
        /// Bit 20 HW_REDUCED_ACPI: the ACPI Hardware-Reduced interface.
        const HW_REDUCED_ACPI = 1 << 20;
    }
}

flags! {
    /// ACPI 6.5 §5.2.9.3 IA-PC Boot Architecture Flags.
    pub struct IapcBootArch(u16) {
        /// Bit 0 LEGACY_DEVICES: user-visible LPC or ISA devices.
        const LEGACY_DEVICES = 1 << 0;
        /// Bit 1 8042: an 8042-compatible keyboard controller exists.
        const I8042 = 1 << 1;
        /// Bit 2 VGA Not Present.
        const VGA_NOT_PRESENT = 1 << 2;
        /// Bit 5 CMOS RTC Not Present.
        const CMOS_RTC_NOT_PRESENT = 1 << 5;
    }
}

flags! {
    /// ACPI 6.5 §5.2.9.4 Arm Architecture Boot Flags.
    pub struct ArmBootArch(u16) {
        /// Bit 0 PSCI_COMPLIANT: PSCI is implemented.
        const PSCI_COMPLIANT = 1 << 0;
        /// Bit 1 PSCI_USE_HVC: PSCI is called with HVC instead of SMC.
        const PSCI_USE_HVC = 1 << 1;
    }
}

#[cfg(test)]
mod tests {
    use zerocopy::IntoBytes;

    use super::*;

    /// Writes `bytes` at `offset` of the whole table (header included);
    /// the expected image is built from the spec's offsets, not from the struct.
    fn put(image: &mut [u8], table_offset: usize, bytes: &[u8]) {
        let at = table_offset - SdtHeader::LENGTH;
        image[at..at + bytes.len()].copy_from_slice(bytes);
    }

    #[test]
    fn test_arm_fadt_fields_follow_the_spec_offsets() {
        let fields = FadtFields::hardware_reduced(
            FadtFlags::HW_REDUCED_ACPI | FadtFlags::PWR_BUTTON | FadtFlags::SLP_BUTTON,
            IapcBootArch::EMPTY,
            ArmBootArch::PSCI_COMPLIANT | ArmBootArch::PSCI_USE_HVC,
            0x1122_3344_5566_7788,
        );
        let mut expected = [0u8; 240];
        put(&mut expected, 112, &[0x30, 0x00, 0x10, 0x00]); // Flags: bits 4, 5, 20
        put(&mut expected, 129, &[0x03, 0x00]); // ARM_BOOT_ARCH: PSCI_COMPLIANT | PSCI_USE_HVC
        put(&mut expected, 131, &[0x05]); // FADT Minor Version 5
        put(
            &mut expected,
            140,
            &[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11],
        ); // X_DSDT
        assert_eq!(fields.as_bytes(), expected);
    }

    #[test]
    fn test_x86_fadt_puts_iapc_boot_arch_at_109() {
        let fields = FadtFields::hardware_reduced(
            FadtFlags::HW_REDUCED_ACPI,
            IapcBootArch::VGA_NOT_PRESENT | IapcBootArch::I8042,
            ArmBootArch::EMPTY,
            0x1000,
        );
        let mut expected = [0u8; 240];
        put(&mut expected, 109, &[0x06, 0x00]); // IAPC_BOOT_ARCH: 8042 | VGA Not Present
        put(&mut expected, 112, &[0x00, 0x00, 0x10, 0x00]); // Flags: HW_REDUCED_ACPI
        put(&mut expected, 131, &[0x05]); // FADT Minor Version 5
        put(&mut expected, 140, &[0x00, 0x10, 0, 0, 0, 0, 0, 0]); // X_DSDT 0x1000
        assert_eq!(fields.as_bytes(), expected);
        assert_eq!(IapcBootArch::LEGACY_DEVICES.bits(), 1);
        assert_eq!(IapcBootArch::CMOS_RTC_NOT_PRESENT.bits(), 0x20);
    }
}
