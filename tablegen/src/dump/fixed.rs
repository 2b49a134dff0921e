//! Tables with (mostly) fixed fields: RSDP, FACS, RSDT/XSDT, FADT, GTDT,
//! SPCR, MCFG, and the Generic Address Structure they embed.

use super::cursor::{field, flag, walk, Bits, Cursor, StructHeader};
use super::{array, byte_sum, title, DecodeError, Decoded, Item, Table};

/// ACPI 6.5 §5.2.5.3 Root System Description Pointer, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rsdp {
    /// Revision (0: ACPI 1.0, 20 bytes; 2: ACPI 2.0+, with Length and XSDT).
    pub revision: u8,
    /// True when the first 20 bytes sum to zero.
    pub checksum_ok: bool,
    /// The Checksum that would make them sum to zero.
    pub expected_checksum: u8,
    /// RsdtAddress.
    pub rsdt_address: u32,
    /// Length (revision 2+).
    pub length: Option<u32>,
    /// XsdtAddress (revision 2+).
    pub xsdt_address: Option<u64>,
    /// True when all Length bytes sum to zero (revision 2+).
    pub extended_checksum_ok: Option<bool>,
    /// The Extended Checksum that would make them sum to zero.
    pub expected_extended_checksum: Option<u8>,
}

/// Bytes of the ACPI 1.0 RSDP, covered by the first Checksum.
const RSDP_V1_LENGTH: usize = 20;
/// Bytes of the ACPI 2.0+ RSDP.
const RSDP_V2_LENGTH: usize = 36;

/// The checksum byte at `at` that would make `bytes` sum to zero.
fn expected(bytes: &[u8], at: usize) -> u8 {
    let stored = bytes.get(at).copied().unwrap_or(0);
    stored.wrapping_sub(byte_sum(bytes))
}

/// Decodes an RSDP (the input starts with `"RSD PTR "`).
pub(crate) fn rsdp(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let sig = "RSDP";
    if bytes.len() < RSDP_V1_LENGTH {
        return Err(DecodeError::TooShort {
            table: sig.to_string(),
            available: bytes.len(),
            needed: RSDP_V1_LENGTH,
            what: "ACPI 1.0 RSDP",
        });
    }
    let revision = bytes[15];
    let mut end = RSDP_V1_LENGTH;
    let mut declared = None;
    if revision >= 2 {
        let Some(length_bytes) = bytes.get(20..24) else {
            return Err(DecodeError::TooShort {
                table: sig.to_string(),
                available: bytes.len(),
                needed: 24,
                what: "RSDP with its Length field (revision 2+)",
            });
        };
        let length = u32::from_le_bytes(array(length_bytes));
        let length_usize = usize::try_from(length).unwrap_or(usize::MAX);
        if length_usize < RSDP_V2_LENGTH {
            return Err(DecodeError::LengthTooSmall {
                table: sig.to_string(),
                length: u64::from(length),
                minimum: RSDP_V2_LENGTH,
                what: "ACPI 2.0 RSDP",
            });
        }
        if length_usize > bytes.len() {
            return Err(DecodeError::LengthPastEnd {
                table: sig.to_string(),
                length: u64::from(length),
                available: bytes.len(),
            });
        }
        end = length_usize;
        declared = Some(length);
    }
    let table = &bytes[..end];
    let mut c = Cursor::new(table, sig, 0);
    c.ascii("Signature", 8)?;
    c.annotate(title(b"RSD PTR "));
    let checksum = c.u8("Checksum")?;
    let expected_checksum = expected(&table[..RSDP_V1_LENGTH], 8);
    if checksum != expected_checksum {
        c.annotate(&format!("INVALID, expected {expected_checksum:#04X}"));
    }
    c.ascii("OEMID", 6)?;
    c.u8("Revision")?;
    let rsdt_address = c.u32("RsdtAddress")?;
    let mut out = Rsdp {
        revision,
        checksum_ok: checksum == expected_checksum,
        expected_checksum,
        rsdt_address,
        length: declared,
        xsdt_address: None,
        extended_checksum_ok: None,
        expected_extended_checksum: None,
    };
    if declared.is_some() {
        c.u32("Length")?;
        out.xsdt_address = Some(c.u64("XsdtAddress")?);
        let extended = c.u8("Extended Checksum")?;
        let want = expected(table, 32);
        if extended != want {
            c.annotate(&format!("INVALID, expected {want:#04X}"));
        }
        out.extended_checksum_ok = Some(extended == want);
        out.expected_extended_checksum = Some(want);
        c.raw("Reserved", 3)?;
        c.rest("Unknown trailing bytes")?;
    }
    let mut items = c.finish();
    if bytes.len() > end {
        items.push(Item::Blank);
        items.push(Item::Note(format!(
            "{} bytes after the RSDP not decoded",
            bytes.len() - end
        )));
    }
    Ok(Decoded {
        signature: "RSD PTR ".to_string(),
        title: title(b"RSD PTR "),
        header: None,
        table: Table::Rsdp(out),
        items,
    })
}

/// FACS Flags (ACPI 6.5 §5.2.10).
const FACS_FLAGS: &[Bits] = &[flag(0, "S4BIOS_F"), flag(1, "64BIT_WAKE_SUPPORTED_F")];
/// FACS OSPM Enabled Firmware Control Structure Flags.
const FACS_OSPM_FLAGS: &[Bits] = &[flag(0, "64BIT_WAKE_F")];
/// Bytes of the FACS.
const FACS_LENGTH: usize = 64;

/// Decodes a FACS (ACPI 6.5 §5.2.10): no revision, no checksum.
pub(crate) fn facs(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let sig = "FACS";
    let Some(length_bytes) = bytes.get(4..8) else {
        return Err(DecodeError::TooShort {
            table: sig.to_string(),
            available: bytes.len(),
            needed: 8,
            what: "FACS Signature and Length",
        });
    };
    let length = u32::from_le_bytes(array(length_bytes));
    let length_usize = usize::try_from(length).unwrap_or(usize::MAX);
    if length_usize < FACS_LENGTH {
        return Err(DecodeError::LengthTooSmall {
            table: sig.to_string(),
            length: u64::from(length),
            minimum: FACS_LENGTH,
            what: "FACS",
        });
    }
    if length_usize > bytes.len() {
        return Err(DecodeError::LengthPastEnd {
            table: sig.to_string(),
            length: u64::from(length),
            available: bytes.len(),
        });
    }
    let mut c = Cursor::new(&bytes[..length_usize], sig, 0);
    c.ascii("Signature", 4)?;
    c.annotate(title(b"FACS"));
    c.u32("Length")?;
    c.u32("Hardware Signature")?;
    c.u32("Firmware Waking Vector")?;
    c.u32("Global Lock")?;
    c.flags("Flags", 4, FACS_FLAGS)?;
    c.u64("X Firmware Waking Vector")?;
    c.u8("Version")?;
    c.raw("Reserved", 3)?;
    c.flags("OSPM Flags", 4, FACS_OSPM_FLAGS)?;
    c.raw("Reserved", 24)?;
    c.rest("Unknown trailing bytes")?;
    Ok(Decoded {
        signature: sig.to_string(),
        title: title(b"FACS"),
        header: None,
        table: Table::Facs,
        items: c.finish(),
    })
}

/// ACPI 6.5 §5.2.7/§5.2.8 RSDT or XSDT, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xsdt {
    /// Bytes per entry: 8 (XSDT) or 4 (RSDT).
    pub entry_size: usize,
    /// The table addresses.
    pub entries: Vec<u64>,
    /// Bytes after the last whole entry (0 in a well-formed table).
    pub stray_bytes: usize,
}

/// Decodes the entries of an RSDT (`entry_size` 4) or XSDT (8).
pub(crate) fn xsdt(c: &mut Cursor<'_>, entry_size: usize) -> Result<Table, DecodeError> {
    let mut entries = Vec::new();
    c.blank();
    while c.fits(entry_size) {
        let name = format!("Entry [{}]", entries.len());
        let value = if entry_size == 8 {
            c.u64(&name)?
        } else {
            u64::from(c.u32(&name)?)
        };
        entries.push(value);
    }
    let stray_bytes = c.remaining();
    if stray_bytes > 0 {
        c.raw("Stray bytes (not a whole entry)", stray_bytes)?;
    }
    Ok(Table::Xsdt(Xsdt {
        entry_size,
        entries,
        stray_bytes,
    }))
}

/// ACPI 6.5 §5.2.3.2 Address Space ID names.
fn address_space(id: u8) -> Option<&'static str> {
    Some(match id {
        0x00 => "System Memory",
        0x01 => "System I/O",
        0x02 => "PCI Configuration",
        0x03 => "Embedded Controller",
        0x04 => "SMBus",
        0x05 => "SystemCMOS",
        0x06 => "PciBarTarget",
        0x07 => "IPMI",
        0x08 => "General PurposeIO",
        0x09 => "GenericSerialBus",
        0x0A => "Platform Communications Channel (PCC)",
        0x0B => "Platform Runtime Mechanism (PRM)",
        0x7F => "Functional Fixed Hardware",
        0xC0..=0xFF => "OEM defined",
        _ => return None,
    })
}

/// ACPI 6.5 §5.2.3.2 Access Size names.
fn access_size(size: u8) -> Option<&'static str> {
    Some(match size {
        0 => "Undefined (legacy reasons)",
        1 => "Byte access",
        2 => "Word access",
        3 => "Dword access",
        4 => "QWord access",
        _ => return None,
    })
}

/// Decodes a Generic Address Structure (ACPI 6.5 §5.2.3.2), 12 bytes;
/// returns its Address.
pub(crate) fn gas(c: &mut Cursor<'_>, name: &str) -> Result<u64, DecodeError> {
    if !c.fits(12) {
        // Let the read name the GAS in the error.
        c.raw(name, 12)?;
    }
    c.group(name, 12, "[Generic Address Structure]");
    c.u8_named("Address Space ID", address_space)?;
    c.u8("Register Bit Width")?;
    c.u8("Register Bit Offset")?;
    c.u8_named("Access Size", access_size)?;
    c.u64("Address")
}

/// ACPI 6.5 §5.2.9 Fixed ACPI Description Table, the fields vtopo's lint
/// needs (absent when the table is too short to hold them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fadt {
    /// DSDT (32-bit).
    pub dsdt: Option<u32>,
    /// IAPC_BOOT_ARCH.
    pub iapc_boot_arch: Option<u16>,
    /// Flags.
    pub flags: Option<u32>,
    /// ARM_BOOT_ARCH (ACPI 5.1+).
    pub arm_boot_arch: Option<u16>,
    /// FADT Minor Version (ACPI 5.1+).
    pub minor_version: Option<u8>,
    /// X_DSDT (ACPI 2.0+).
    pub x_dsdt: Option<u64>,
}

/// Preferred_PM_Profile names (ACPI 6.5 §5.2.9).
fn pm_profile(p: u8) -> Option<&'static str> {
    Some(match p {
        0 => "Unspecified",
        1 => "Desktop",
        2 => "Mobile",
        3 => "Workstation",
        4 => "Enterprise Server",
        5 => "SOHO Server",
        6 => "Appliance PC",
        7 => "Performance Server",
        8 => "Tablet",
        _ => return None,
    })
}

/// ACPI 6.5 §5.2.9 Fixed ACPI Description Table Fixed Feature Flags.
pub(crate) const FADT_FLAGS: &[Bits] = &[
    flag(0, "WBINVD"),
    flag(1, "WBINVD_FLUSH"),
    flag(2, "PROC_C1"),
    flag(3, "P_LVL2_UP"),
    flag(4, "PWR_BUTTON"),
    flag(5, "SLP_BUTTON"),
    flag(6, "FIX_RTC"),
    flag(7, "RTC_S4"),
    flag(8, "TMR_VAL_EXT"),
    flag(9, "DCK_CAP"),
    flag(10, "RESET_REG_SUP"),
    flag(11, "SEALED_CASE"),
    flag(12, "HEADLESS"),
    flag(13, "CPU_SW_SLP"),
    flag(14, "PCI_EXP_WAK"),
    flag(15, "USE_PLATFORM_CLOCK"),
    flag(16, "S4_RTC_STS_VALID"),
    flag(17, "REMOTE_POWER_ON_CAPABLE"),
    flag(18, "FORCE_APIC_CLUSTER_MODEL"),
    flag(19, "FORCE_APIC_PHYSICAL_DESTINATION_MODE"),
    flag(20, "HW_REDUCED_ACPI"),
    flag(21, "LOW_POWER_S0_IDLE_CAPABLE"),
    field(
        22,
        2,
        "PERSISTENT_CPU_CACHES",
        &["not reported", "not persistent", "persistent", "reserved"],
    ),
];

/// ACPI 6.5 §5.2.9.3 IA-PC Boot Architecture Flags.
const IAPC_BOOT_ARCH: &[Bits] = &[
    flag(0, "LEGACY_DEVICES"),
    flag(1, "8042"),
    flag(2, "VGA Not Present"),
    flag(3, "MSI Not Supported"),
    flag(4, "PCIe ASPM Controls"),
    flag(5, "CMOS RTC Not Present"),
];

/// ACPI 6.5 §5.2.9.4 Arm Architecture Boot Flags.
const ARM_BOOT_ARCH: &[Bits] = &[flag(0, "PSCI_COMPLIANT"), flag(1, "PSCI_USE_HVC")];

/// One FADT field: its offset (checked in a test against the spec table),
/// size and name.
struct FadtField {
    offset: usize,
    size: usize,
    name: &'static str,
}

const fn ff(offset: usize, size: usize, name: &'static str) -> FadtField {
    FadtField { offset, size, name }
}

/// The FADT's fields after the header, in order (ACPI 6.5 §5.2.9, Table
/// "FADT Format"). GAS fields have size 12.
const FADT_FIELDS: &[FadtField] = &[
    ff(36, 4, "FIRMWARE_CTRL"),
    ff(40, 4, "DSDT"),
    ff(44, 1, "Reserved"),
    ff(45, 1, "Preferred_PM_Profile"),
    ff(46, 2, "SCI_INT"),
    ff(48, 4, "SMI_CMD"),
    ff(52, 1, "ACPI_ENABLE"),
    ff(53, 1, "ACPI_DISABLE"),
    ff(54, 1, "S4BIOS_REQ"),
    ff(55, 1, "PSTATE_CNT"),
    ff(56, 4, "PM1a_EVT_BLK"),
    ff(60, 4, "PM1b_EVT_BLK"),
    ff(64, 4, "PM1a_CNT_BLK"),
    ff(68, 4, "PM1b_CNT_BLK"),
    ff(72, 4, "PM2_CNT_BLK"),
    ff(76, 4, "PM_TMR_BLK"),
    ff(80, 4, "GPE0_BLK"),
    ff(84, 4, "GPE1_BLK"),
    ff(88, 1, "PM1_EVT_LEN"),
    ff(89, 1, "PM1_CNT_LEN"),
    ff(90, 1, "PM2_CNT_LEN"),
    ff(91, 1, "PM_TMR_LEN"),
    ff(92, 1, "GPE0_BLK_LEN"),
    ff(93, 1, "GPE1_BLK_LEN"),
    ff(94, 1, "GPE1_BASE"),
    ff(95, 1, "CST_CNT"),
    ff(96, 2, "P_LVL2_LAT"),
    ff(98, 2, "P_LVL3_LAT"),
    ff(100, 2, "FLUSH_SIZE"),
    ff(102, 2, "FLUSH_STRIDE"),
    ff(104, 1, "DUTY_OFFSET"),
    ff(105, 1, "DUTY_WIDTH"),
    ff(106, 1, "DAY_ALRM"),
    ff(107, 1, "MON_ALRM"),
    ff(108, 1, "CENTURY"),
    ff(109, 2, "IAPC_BOOT_ARCH"),
    ff(111, 1, "Reserved"),
    ff(112, 4, "Flags"),
    ff(116, 12, "RESET_REG"),
    ff(128, 1, "RESET_VALUE"),
    ff(129, 2, "ARM_BOOT_ARCH"),
    ff(131, 1, "FADT Minor Version"),
    ff(132, 8, "X_FIRMWARE_CTRL"),
    ff(140, 8, "X_DSDT"),
    ff(148, 12, "X_PM1a_EVT_BLK"),
    ff(160, 12, "X_PM1b_EVT_BLK"),
    ff(172, 12, "X_PM1a_CNT_BLK"),
    ff(184, 12, "X_PM1b_CNT_BLK"),
    ff(196, 12, "X_PM2_CNT_BLK"),
    ff(208, 12, "X_PM_TMR_BLK"),
    ff(220, 12, "X_GPE0_BLK"),
    ff(232, 12, "X_GPE1_BLK"),
    ff(244, 12, "SLEEP_CONTROL_REG"),
    ff(256, 12, "SLEEP_STATUS_REG"),
    ff(268, 8, "Hypervisor Vendor Identity"),
];

/// Decodes the FADT: each field while it fits in the table's Length (older
/// revisions are shorter: 116 bytes in ACPI 1.0, 244 in 2.0-4.0, 268 in 5.0).
pub(crate) fn fadt(c: &mut Cursor<'_>, revision: u8) -> Result<Table, DecodeError> {
    let mut out = Fadt::default();
    for f in FADT_FIELDS {
        if !c.fits(f.size) {
            c.note(format!(
                "Table ends at offset {:#x}: {} (offset {:#x}) and the fields after it are absent",
                c.end(),
                f.name,
                f.offset
            ));
            break;
        }
        match (f.name, f.size) {
            (_, 12) => {
                gas(c, f.name)?;
            }
            ("Preferred_PM_Profile", _) => {
                c.u8_named(f.name, pm_profile)?;
            }
            ("IAPC_BOOT_ARCH", _) => {
                out.iapc_boot_arch =
                    Some(u16::try_from(c.flags(f.name, 2, IAPC_BOOT_ARCH)?).unwrap_or(0));
            }
            ("Flags", _) => {
                out.flags = Some(u32::try_from(c.flags(f.name, 4, FADT_FLAGS)?).unwrap_or(0));
            }
            ("ARM_BOOT_ARCH", _) => {
                out.arm_boot_arch =
                    Some(u16::try_from(c.flags(f.name, 2, ARM_BOOT_ARCH)?).unwrap_or(0));
            }
            ("DSDT", _) => out.dsdt = Some(c.u32(f.name)?),
            ("X_DSDT", _) => out.x_dsdt = Some(c.u64(f.name)?),
            ("FADT Minor Version", _) => {
                let minor = c.u8(f.name)?;
                c.annotate(&format!("FADT version {revision}.{minor}"));
                out.minor_version = Some(minor);
            }
            ("Hypervisor Vendor Identity", _) => {
                let id = c.u64(f.name)?;
                c.annotate(&format!("\"{}\"", super::cursor::ascii(&id.to_le_bytes())));
            }
            (_, 1) => {
                c.u8(f.name)?;
            }
            (_, 2) => {
                c.u16(f.name)?;
            }
            (_, 4) => {
                c.u32(f.name)?;
            }
            _ => {
                c.u64(f.name)?;
            }
        }
    }
    c.rest("Unknown trailing bytes")?;
    Ok(Table::Fadt(out))
}

/// ACPI 6.5 §5.2.25 GTDT timer flags.
const TIMER_FLAGS: &[Bits] = &[
    field(
        0,
        1,
        "Timer Interrupt Mode",
        &["level-triggered", "edge-triggered"],
    ),
    field(
        1,
        1,
        "Timer Interrupt Polarity",
        &["active high", "active low"],
    ),
    flag(2, "Always-on Capability"),
];

/// Bytes of a GTDT revision 2 (without the virtual EL2 timer).
const GTDT_REV2_LENGTH: usize = 96;

/// Decodes the GTDT: the architected timers, then the platform timer
/// structures (GT Block, Arm Generic Watchdog) as type, length and bytes.
pub(crate) fn gtdt(c: &mut Cursor<'_>) -> Result<Table, DecodeError> {
    c.u64("CntControlBase Physical Address")?;
    c.raw("Reserved", 4)?;
    for timer in [
        "Secure EL1 Timer",
        "Non-Secure EL1 Timer",
        "Virtual EL1 Timer",
        "EL2 Timer",
    ] {
        c.u32(&format!("{timer} GSIV"))?;
        c.flags(&format!("{timer} Flags"), 4, TIMER_FLAGS)?;
    }
    c.u64("CntReadBase Physical Address")?;
    let count = c.u32("Platform Timer Count")?;
    let offset = c.u32("Platform Timer Offset")?;
    if c.fits(8) {
        c.u32("Virtual EL2 Timer GSIV")?;
        c.flags("Virtual EL2 Timer Flags", 4, TIMER_FLAGS)?;
    } else {
        c.note(format!(
            "No Virtual EL2 Timer fields (revision 2 layout, {GTDT_REV2_LENGTH} bytes)"
        ));
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    if count > 0 && offset >= c.pos() && offset <= c.end() {
        if offset > c.pos() {
            c.rest_until(offset)?;
        }
        walk(c, StructHeader::TypeU8LengthU16, |s, _, _| {
            s.u8_named("Platform Timer Type", |t| match t {
                0 => Some("GT Block"),
                1 => Some("Arm Generic Watchdog"),
                _ => None,
            })?;
            s.u16("Length")?;
            s.rest("Data")
        })?;
    } else if count > 0 {
        c.note(format!(
            "Platform Timer Offset {offset:#x} is outside the table: timers not decoded"
        ));
    }
    c.rest("Unknown trailing bytes")?;
    Ok(Table::Gtdt)
}

/// SPCR Interface Type names (Microsoft DBG2 Serial Port subtypes; ACPICA
/// `ACPI_DBG2_*`).
fn interface_type(t: u8) -> Option<&'static str> {
    Some(match t {
        0x00 => "16550 compatible",
        0x01 => "16550 subset",
        0x02 => "MAX311xE SPI UART",
        0x03 => "Arm PL011 UART",
        0x04 => "MSM8x60",
        0x05 => "Nvidia 16550",
        0x06 => "TI OMAP",
        0x08 => "APM88xxxx",
        0x09 => "MSM8974",
        0x0A => "SAM5250",
        0x0B => "Intel USIF",
        0x0C => "i.MX 6",
        0x0D => "Arm SBSA (2.x only) Generic UART, 32-bit access",
        0x0E => "Arm SBSA Generic UART",
        0x0F => "Arm DCC",
        0x10 => "BCM2835",
        0x11 => "SDM845 at 1.8432 MHz",
        0x12 => "16550 compatible with parameters in the GAS",
        0x13 => "SDM845 at 7.372 MHz",
        0x14 => "Intel LPSS",
        0x15 => "RISC-V SBI console",
        _ => return None,
    })
}

/// SPCR Interrupt Type bits.
const SPCR_INTERRUPT_TYPE: &[Bits] = &[
    flag(0, "PC-AT-compatible dual-8259 IRQ interrupt"),
    flag(1, "I/O APIC interrupt (Global System Interrupt)"),
    flag(2, "I/O SAPIC interrupt (Global System Interrupt)"),
    flag(3, "ARM GIC"),
    flag(4, "RISC-V PLIC/APLIC"),
];

/// SPCR Configured Baud Rate names.
fn baud_rate(b: u8) -> Option<&'static str> {
    Some(match b {
        0 => "as is (preconfigured)",
        3 => "9600",
        4 => "19200",
        6 => "57600",
        7 => "115200",
        _ => return None,
    })
}

/// SPCR Flow Control bits.
const FLOW_CONTROL: &[Bits] = &[
    flag(0, "DCD required"),
    flag(1, "RTS/CTS"),
    flag(2, "XON/XOFF"),
];

/// SPCR Terminal Type names.
fn terminal_type(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "VT100",
        1 => "Extended VT100 (VT100+)",
        2 => "VT-UTF8",
        3 => "ANSI",
        _ => return None,
    })
}

/// Decodes the SPCR (revisions 1-4): every field that fits.
pub(crate) fn spcr(c: &mut Cursor<'_>) -> Result<Table, DecodeError> {
    c.u8_named("Interface Type", interface_type)?;
    c.raw("Reserved", 3)?;
    gas(c, "Base Address")?;
    c.flags("Interrupt Type", 1, SPCR_INTERRUPT_TYPE)?;
    c.u8("IRQ")?;
    c.u32("Global System Interrupt")?;
    c.u8_named("Configured Baud Rate", baud_rate)?;
    c.u8("Parity")?;
    c.u8("Stop Bits")?;
    c.flags("Flow Control", 1, FLOW_CONTROL)?;
    c.u8_named("Terminal Type", terminal_type)?;
    c.u8("Language")?;
    c.u16("PCI Device ID")?;
    c.u16("PCI Vendor ID")?;
    c.u8("PCI Bus Number")?;
    c.u8("PCI Device Number")?;
    c.u8("PCI Function Number")?;
    c.u32("PCI Flags")?;
    c.u8("PCI Segment")?;
    if c.fits(4) {
        c.u32("UART Clock Frequency")?;
    }
    if c.fits(8) {
        c.u32("Precise Baud Rate")?;
        c.u16("NameSpaceStringLength")?;
        c.u16("NameSpaceStringOffset")?;
    }
    c.rest("NameSpaceString / trailing bytes")?;
    Ok(Table::Spcr)
}

/// Decodes the MCFG (PCI Firmware Specification 3.x §4.1.2): 8 reserved
/// bytes, then 16-byte configuration space base address allocations.
pub(crate) fn mcfg(c: &mut Cursor<'_>) -> Result<Table, DecodeError> {
    c.raw("Reserved", 8)?;
    while c.fits(16) {
        c.blank();
        c.u64("Base Address")?;
        c.u16("PCI Segment Group Number")?;
        c.u8("Start Bus Number")?;
        c.u8("End Bus Number")?;
        c.raw("Reserved", 4)?;
    }
    c.rest("Stray bytes (not a whole allocation structure)")?;
    Ok(Table::Mcfg)
}

impl Cursor<'_> {
    /// Shows the bytes from here up to table offset `offset` as raw bytes.
    pub(crate) fn rest_until(&mut self, offset: usize) -> Result<(), DecodeError> {
        let n = offset.saturating_sub(self.pos());
        if n > 0 {
            self.raw("Unknown bytes", n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::HEADER_LENGTH;
    use super::*;

    #[test]
    fn test_fadt_field_offsets_are_contiguous_and_end_at_276() {
        let mut at = HEADER_LENGTH;
        for f in FADT_FIELDS {
            assert_eq!(f.offset, at, "{}", f.name);
            at += f.size;
        }
        assert_eq!(at, 276);
    }
}
