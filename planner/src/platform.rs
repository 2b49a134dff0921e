//! Platforms: the machines whose fixed addresses a plan uses.
//!
//! - `qemu-virt`: QEMU's arm64 `virt` machine (hw/arm/virt.c memory map:
//!   GICD 0x08000000, ITS 0x08080000, GICR 0x080A0000 for 123 CPUs plus the
//!   64 MiB high region at 256 GiB for 512 more, PL011 0x09000000 on SPI 1,
//!   RAM from 1 GiB up to 256 GiB, at most 512 CPUs with GICv3).
//! - `vtopo-virt`: vtopo's own arm64 VMM. The same low map, one GICR region
//!   at 0x10000000 sized for up to 4096 CPUs, a Generic Event Device and the
//!   CPU hotplug register block.
//! - `qemu-q35`: QEMU's x86 `q35` machine (LAPIC 0xFEE00000, IOAPIC
//!   0xFEC00000, COM1 0x3F8 IRQ 4, CPU hotplug I/O block 0x0CD8 signalled
//!   through GPE0 bit 2; low RAM ends at 2 GiB when RAM >= 2.75 GiB, else
//!   at 2.75 GiB; the 640 KiB..1 MiB hole is cut out of node 0).
//! - `vtopo-pc`: vtopo's own x86_64 VMM. q35's interrupt layout, low RAM up
//!   to 3 GiB, the CPU hotplug register block on MMIO and a Generic Event Device.

use serde::{Deserialize, Serialize};

use crate::arch::Arch;
use crate::ids::GuestAddr;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Size of one GICv3 redistributor frame pair (RD_base + SGI_base).
pub const GICR_FRAME_SIZE: u64 = 0x2_0000;

/// The platform named in a topology file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformKind {
    /// QEMU arm64 `virt`.
    QemuVirt,
    /// vtopo's own arm64 VMM.
    VtopoVirt,
    /// QEMU x86 `q35`.
    QemuQ35,
    /// vtopo's own x86_64 VMM.
    VtopoPc,
}

impl PlatformKind {
    /// The name used in TOML.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PlatformKind::QemuVirt => "qemu-virt",
            PlatformKind::VtopoVirt => "vtopo-virt",
            PlatformKind::QemuQ35 => "qemu-q35",
            PlatformKind::VtopoPc => "vtopo-pc",
        }
    }

    /// The architecture of the machine.
    #[must_use]
    pub fn arch(self) -> Arch {
        match self {
            PlatformKind::QemuVirt | PlatformKind::VtopoVirt => Arch::Aarch64,
            PlatformKind::QemuQ35 | PlatformKind::VtopoPc => Arch::X86_64,
        }
    }

    /// Most possible CPUs the platform can describe.
    #[must_use]
    pub fn max_cpus(self) -> u32 {
        match self {
            // QEMU virt: mc->max_cpus = 512 (123 + 512 redistributors exist).
            PlatformKind::QemuVirt => 512,
            // 512 MiB of redistributor space at 0x10000000.
            PlatformKind::VtopoVirt => 4096,
            // QEMU q35: mc->max_cpus = 4096.
            PlatformKind::QemuQ35 => 4096,
            // KVM_MAX_VCPUS with CONFIG_KVM_MAX_NR_VCPUS at its maximum.
            PlatformKind::VtopoPc => 4096,
        }
    }

    /// Why `max_cpus` is what it is, for the `cpu-limit` message.
    #[must_use]
    pub fn max_cpus_reason(self) -> &'static str {
        match self {
            PlatformKind::QemuVirt => "QEMU virt with GICv3 allows 512 CPUs",
            PlatformKind::VtopoVirt => "its 512 MiB redistributor region holds 4096 frames",
            PlatformKind::QemuQ35 => "QEMU q35 allows 4096 CPUs",
            PlatformKind::VtopoPc => "KVM on x86_64 allows at most 4096 vCPUs",
        }
    }

    /// RAM windows `[start, end)` for a VM with `total_ram` bytes of boot RAM.
    #[must_use]
    pub fn ram_windows(self, total_ram: u64) -> Vec<(u64, u64)> {
        match self {
            // RAM from 1 GiB; the high redistributor region sits at 256 GiB.
            PlatformKind::QemuVirt => vec![(GIB, 256 * GIB)],
            PlatformKind::VtopoVirt => vec![(GIB, 1024 * GIB)],
            PlatformKind::QemuQ35 => {
                // hw/i386/pc_q35.c: lowmem is 2 GiB once RAM reaches 2.75 GiB.
                let lowmem = if total_ram >= 0xB000_0000 {
                    0x8000_0000
                } else {
                    0xB000_0000
                };
                vec![(0, lowmem), (4 * GIB, 1024 * GIB)]
            }
            PlatformKind::VtopoPc => vec![(0, 3 * GIB), (4 * GIB, 1024 * GIB)],
        }
    }

    /// Address ranges inside RAM windows that RAM loses to legacy devices
    /// (x86: 640 KiB..1 MiB, VGA and BIOS); node 0 shrinks by them, as in QEMU.
    #[must_use]
    pub fn ram_holes(self) -> &'static [(u64, u64)] {
        match self {
            PlatformKind::QemuQ35 | PlatformKind::VtopoPc => &[(640 * KIB, MIB)],
            PlatformKind::QemuVirt | PlatformKind::VtopoVirt => &[],
        }
    }

    /// The interrupt controller layout for `possible_cpus` CPUs.
    #[must_use]
    pub fn interrupt_controller(self, possible_cpus: u32) -> InterruptController {
        let n = u64::from(possible_cpus);
        match self {
            PlatformKind::QemuVirt => {
                let low_frames = 0xF6_0000 / GICR_FRAME_SIZE; // 123
                let mut regions = vec![RedistributorRegion {
                    base: GuestAddr(0x080A_0000),
                    size: 0xF6_0000,
                    first_cpu: 0,
                    frames: u32::try_from(low_frames.min(n)).unwrap_or(u32::MAX),
                }];
                if n > low_frames {
                    regions.push(RedistributorRegion {
                        base: GuestAddr(256 * GIB),
                        size: 64 * MIB,
                        first_cpu: u32::try_from(low_frames).unwrap_or(u32::MAX),
                        frames: u32::try_from(n - low_frames).unwrap_or(u32::MAX),
                    });
                }
                InterruptController::GicV3 {
                    distributor: Mmio {
                        base: GuestAddr(0x0800_0000),
                        size: 0x1_0000,
                    },
                    redistributors: regions,
                    its: Some(Mmio {
                        base: GuestAddr(0x0808_0000),
                        size: 0x2_0000,
                    }),
                }
            }
            PlatformKind::VtopoVirt => InterruptController::GicV3 {
                distributor: Mmio {
                    base: GuestAddr(0x0800_0000),
                    size: 0x1_0000,
                },
                redistributors: vec![RedistributorRegion {
                    base: GuestAddr(0x1000_0000),
                    size: n * GICR_FRAME_SIZE,
                    first_cpu: 0,
                    frames: possible_cpus,
                }],
                its: Some(Mmio {
                    base: GuestAddr(0x0808_0000),
                    size: 0x2_0000,
                }),
            },
            PlatformKind::QemuQ35 | PlatformKind::VtopoPc => InterruptController::Apic {
                local_apic: GuestAddr(0xFEE0_0000),
                ioapic: IoApic {
                    id: 0,
                    base: GuestAddr(0xFEC0_0000),
                    gsi_base: 0,
                    pins: 24,
                },
            },
        }
    }

    /// Guest memory that firmware on this platform may hand to the OS as
    /// memory although it is not RAM. QEMU `virt` with UEFI (edk2 ArmVirtQemu)
    /// reports its variable store, flash bank 1 at 0x04000000..0x08000000, as
    /// write-combining runtime MMIO, which Linux adds to memblock; a SRAT that
    /// leaves it uncovered makes Linux discard the whole NUMA description
    /// ("NUMA: no nodes coverage for 64MB"). The SRAT assigns it to a node.
    #[must_use]
    pub fn firmware_memory(self) -> Option<(u64, u64)> {
        match self {
            PlatformKind::QemuVirt => Some((0x0400_0000, 0x0400_0000)),
            PlatformKind::VtopoVirt | PlatformKind::QemuQ35 | PlatformKind::VtopoPc => None,
        }
    }

    /// Fixed devices the tables describe.
    #[must_use]
    pub fn devices(self) -> Devices {
        match self {
            PlatformKind::QemuVirt => Devices {
                uart: Uart {
                    kind: UartKind::Pl011,
                    base: GuestAddr(0x0900_0000),
                    gsi: 33,
                },
                // QEMU 10's virt machine has no CPU hotplug controller: the
                // tables describe the boot-time state statically.
                cpu_hotplug: None,
                hotplug_event: None,
            },
            PlatformKind::VtopoVirt => Devices {
                uart: Uart {
                    kind: UartKind::Pl011,
                    base: GuestAddr(0x0900_0000),
                    gsi: 33,
                },
                cpu_hotplug: Some(HotplugRegisters {
                    space: AddressSpace::Mmio,
                    base: 0x0909_0000,
                    len: 12,
                }),
                hotplug_event: Some(HotplugEvent::Ged {
                    base: GuestAddr(0x0908_0000),
                    gsi: 41,
                }),
            },
            PlatformKind::QemuQ35 => Devices {
                uart: Uart {
                    kind: UartKind::Ns16550,
                    base: GuestAddr(0x3F8),
                    gsi: 4,
                },
                cpu_hotplug: Some(HotplugRegisters {
                    space: AddressSpace::Io,
                    base: 0x0CD8,
                    len: 12,
                }),
                hotplug_event: Some(HotplugEvent::Gpe { bit: 2 }),
            },
            PlatformKind::VtopoPc => Devices {
                uart: Uart {
                    kind: UartKind::Ns16550,
                    base: GuestAddr(0x3F8),
                    gsi: 4,
                },
                cpu_hotplug: Some(HotplugRegisters {
                    space: AddressSpace::Mmio,
                    base: 0xFEB0_0000,
                    len: 12,
                }),
                hotplug_event: Some(HotplugEvent::Ged {
                    base: GuestAddr(0xFEB0_1000),
                    gsi: 9,
                }),
            },
        }
    }
}

/// A block of MMIO registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mmio {
    /// Base address.
    pub base: GuestAddr,
    /// Length in bytes.
    pub size: u64,
}

/// One contiguous GICv3 redistributor region (MADT GICR structure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedistributorRegion {
    /// Discovery range base.
    pub base: GuestAddr,
    /// Discovery range length.
    pub size: u64,
    /// Index of the first CPU whose frame is in this region.
    pub first_cpu: u32,
    /// Frames in use (one per possible CPU).
    pub frames: u32,
}

/// An x86 I/O APIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoApic {
    /// I/O APIC ID.
    pub id: u8,
    /// MMIO base.
    pub base: GuestAddr,
    /// First global system interrupt.
    pub gsi_base: u32,
    /// Number of redirection entries.
    pub pins: u32,
}

/// The interrupt controller layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum InterruptController {
    /// Arm GICv3: distributor, redistributor regions covering every possible CPU, ITS.
    GicV3 {
        /// GICD.
        distributor: Mmio,
        /// GICR regions, in CPU order.
        redistributors: Vec<RedistributorRegion>,
        /// GIC ITS, when the platform has one.
        its: Option<Mmio>,
    },
    /// x86 local APICs (x2APIC mode) and one I/O APIC.
    Apic {
        /// Local APIC MMIO base (xAPIC mode).
        local_apic: GuestAddr,
        /// The I/O APIC.
        ioapic: IoApic,
    },
}

/// UART model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UartKind {
    /// Arm PL011 on MMIO.
    Pl011,
    /// 16550 on I/O ports.
    Ns16550,
}

/// The console UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uart {
    /// Model.
    pub kind: UartKind,
    /// MMIO address (PL011) or I/O port (16550).
    pub base: GuestAddr,
    /// Global system interrupt.
    pub gsi: u32,
}

/// Address space of a register block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressSpace {
    /// Memory-mapped.
    Mmio,
    /// x86 I/O ports.
    Io,
}

/// The CPU hotplug register block (QEMU's "modern" CPU hotplug interface, docs/cpu-hotplug.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotplugRegisters {
    /// MMIO or I/O.
    pub space: AddressSpace,
    /// Base address or port.
    pub base: u64,
    /// Length in bytes.
    pub len: u64,
}

/// How the VMM signals a CPU hotplug event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum HotplugEvent {
    /// A Generic Event Device (ACPI0013) with its event register and interrupt.
    Ged {
        /// Event selector register.
        base: GuestAddr,
        /// Interrupt.
        gsi: u32,
    },
    /// A general-purpose event bit of the FADT GPE0 block (`\_GPE._Exx`).
    Gpe {
        /// GPE number.
        bit: u32,
    },
}

/// Fixed devices of a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Devices {
    /// Console UART.
    pub uart: Uart,
    /// CPU hotplug registers, when the platform has them.
    pub cpu_hotplug: Option<HotplugRegisters>,
    /// Hotplug event source, when the platform has one.
    pub hotplug_event: Option<HotplugEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_qemu_virt_splits_redistributors_at_123() {
        let InterruptController::GicV3 { redistributors, .. } =
            PlatformKind::QemuVirt.interrupt_controller(130)
        else {
            panic!("virt has a GIC");
        };
        assert_eq!(redistributors.len(), 2);
        assert_eq!(redistributors[0].frames, 123);
        assert_eq!(redistributors[1].first_cpu, 123);
        assert_eq!(redistributors[1].frames, 7);
        assert_eq!(redistributors[1].base, GuestAddr(0x40_0000_0000));
    }

    #[test]
    fn test_q35_lowmem_follows_qemu() {
        assert_eq!(
            PlatformKind::QemuQ35.ram_windows(2 * GIB)[0],
            (0, 0xB000_0000)
        );
        assert_eq!(
            PlatformKind::QemuQ35.ram_windows(3 * GIB)[0],
            (0, 0x8000_0000)
        );
    }
}
