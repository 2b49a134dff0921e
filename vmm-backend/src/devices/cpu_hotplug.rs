//! The CPU hotplug register block: QEMU's "modern" ACPI CPU hotplug
//! interface (QEMU `docs/specs/acpi_cpu_hotplug.rst`), as vtopo's DSDT drives
//! it and `docs/cpu-hotplug.md` documents it. Shared by both architectures;
//! the VMM maps it on MMIO (vtopo-virt, vtopo-pc).
//!
//! The device never trusts the guest: accesses of the wrong width or at
//! reserved offsets, reserved control bits, unknown commands and selectors
//! out of range are ignored and reported as [`Event::GuestError`], and the VM
//! goes on.

use planner::plan::Slot;
use planner::Plan;

/// Length of the register block.
pub const REGISTER_BLOCK_LEN: u64 = 12;

/// Offset of the selector (write) / command data 2 (read), a dword.
pub const SELECTOR: u64 = 0x0;
/// Offset of the status (read) / control (write) byte.
pub const FLAGS: u64 = 0x4;
/// Offset of the command byte (write).
pub const COMMAND: u64 = 0x5;
/// Offset of the command data dword.
pub const DATA: u64 = 0x8;

/// Status bit 0: the CPU is enabled.
pub const STATUS_ENABLED: u8 = 1 << 0;
/// Status bit 1 / control bit 1: insert event pending / clear it.
pub const INSERT_EVENT: u8 = 1 << 1;
/// Status bit 2 / control bit 2: remove event pending / clear it.
pub const REMOVE_EVENT: u8 = 1 << 2;
/// Control bit 3: eject the selected CPU (`_EJ0`).
pub const EJECT: u8 = 1 << 3;
/// Control bits the guest must write as zero.
const CONTROL_RESERVED: u8 = !(INSERT_EVENT | REMOVE_EVENT | EJECT);

/// Commands written to [`COMMAND`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// 0: select the next CPU with a pending event; data reads its selector.
    NextWithEvent,
    /// 1: the next data write is the `_OST` event.
    OstEvent,
    /// 2: the next data write is the `_OST` status.
    OstStatus,
    /// 3: data reads return the architecture ID (low, then high dword at 0).
    ArchId,
}

impl Command {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Command::NextWithEvent),
            1 => Some(Command::OstEvent),
            2 => Some(Command::OstStatus),
            3 => Some(Command::ArchId),
            _ => None,
        }
    }
}

/// What a guest access asks of the VMM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The guest ejected this CPU (`_EJ0`): it is disabled; park its vCPU.
    Ejected(u32),
    /// The guest reported `_OST` for this CPU.
    Ost {
        /// CPU index.
        cpu: u32,
        /// Source event (1 Device Check, 3 Eject Request, 0x103 OSPM eject...).
        event: u32,
        /// Status (0 success, 0x84 ejection in progress, ...).
        status: u32,
    },
    /// The guest did something the interface does not allow; ignored.
    GuestError(String),
}

/// Why the VMM cannot plug or unplug a CPU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HotplugError {
    /// No such possible CPU.
    #[error("CPU {cpu} does not exist (the plan has {count} possible CPUs)")]
    NoSuchCpu {
        /// The CPU asked for.
        cpu: u32,
        /// Possible CPUs.
        count: u32,
    },
    /// Already enabled.
    #[error("CPU {0} is already present")]
    AlreadyPresent(u32),
    /// Not enabled.
    #[error("CPU {0} is not present")]
    NotPresent(u32),
    /// The bootstrap processor cannot be removed.
    #[error("CPU {0} is the bootstrap processor and cannot be removed")]
    Bootstrap(u32),
    /// A removal is already pending.
    #[error("CPU {0} already has a removal pending")]
    RemovalPending(u32),
    /// The last enabled CPU cannot be removed.
    #[error("CPU {0} is the last present CPU and cannot be removed")]
    LastCpu(u32),
}

#[derive(Debug, Clone, Copy, Default)]
struct CpuState {
    enabled: bool,
    inserting: bool,
    removing: bool,
}

/// The register block and the hotplug state of every possible CPU.
#[derive(Debug, Clone)]
pub struct CpuHotplugController {
    cpus: Vec<CpuState>,
    arch_ids: Vec<u64>,
    bootstrap: u32,
    selector: u32,
    command: Command,
    ost_event: u32,
}

impl CpuHotplugController {
    /// The controller of `plan`: boot CPUs enabled, slots not.
    #[must_use]
    pub fn new(plan: &Plan) -> Self {
        let cpus = plan
            .cpus
            .iter()
            .map(|c| CpuState {
                enabled: c.slot == Slot::Boot,
                ..CpuState::default()
            })
            .collect();
        let arch_ids = plan
            .cpus
            .iter()
            .map(|c| {
                c.mpidr
                    .map(|m| m.0)
                    .or_else(|| c.x2apic_id.map(|a| u64::from(a.0)))
                    .unwrap_or(0)
            })
            .collect();
        let bootstrap = plan.boot_cpus().next().map_or(0, |c| c.index.0);
        Self {
            cpus,
            arch_ids,
            bootstrap,
            selector: 0,
            command: Command::NextWithEvent,
            ost_event: 0,
        }
    }

    /// Number of possible CPUs.
    #[must_use]
    pub fn possible(&self) -> u32 {
        u32::try_from(self.cpus.len()).unwrap_or(u32::MAX)
    }

    /// True when `cpu` is enabled.
    #[must_use]
    pub fn is_enabled(&self, cpu: u32) -> bool {
        self.state(cpu).is_some_and(|s| s.enabled)
    }

    /// True when a removal request for `cpu` waits for the guest's `_EJ0`.
    #[must_use]
    pub fn is_removing(&self, cpu: u32) -> bool {
        self.state(cpu).is_some_and(|s| s.removing)
    }

    /// Enabled CPUs, ascending.
    #[must_use]
    pub fn enabled(&self) -> Vec<u32> {
        (0u32..)
            .zip(&self.cpus)
            .filter(|(_, s)| s.enabled)
            .map(|(i, _)| i)
            .collect()
    }

    fn state(&self, cpu: u32) -> Option<&CpuState> {
        self.cpus.get(cpu as usize)
    }

    fn check(&self, cpu: u32) -> Result<(), HotplugError> {
        if (cpu as usize) < self.cpus.len() {
            Ok(())
        } else {
            Err(HotplugError::NoSuchCpu {
                cpu,
                count: self.possible(),
            })
        }
    }

    /// VMM side: enable `cpu` and mark an insert event (then raise the
    /// hotplug event). The vCPU must be runnable before the guest sees it.
    ///
    /// # Errors
    /// The CPU does not exist or is already present.
    pub fn plug(&mut self, cpu: u32) -> Result<(), HotplugError> {
        self.check(cpu)?;
        let s = &mut self.cpus[cpu as usize];
        if s.enabled {
            return Err(HotplugError::AlreadyPresent(cpu));
        }
        *s = CpuState {
            enabled: true,
            inserting: true,
            removing: false,
        };
        Ok(())
    }

    /// VMM side: ask the guest to give `cpu` back (then raise the hotplug
    /// event); it stays enabled until the guest's `_EJ0`.
    ///
    /// # Errors
    /// The CPU does not exist, is not present, is the bootstrap processor or
    /// the last present CPU, or already has a removal pending.
    pub fn request_unplug(&mut self, cpu: u32) -> Result<(), HotplugError> {
        self.check(cpu)?;
        let enabled = self
            .cpus
            .iter()
            .filter(|s| s.enabled && !s.removing)
            .count();
        let s = self.cpus[cpu as usize];
        if !s.enabled {
            return Err(HotplugError::NotPresent(cpu));
        }
        if cpu == self.bootstrap {
            return Err(HotplugError::Bootstrap(cpu));
        }
        if s.removing {
            return Err(HotplugError::RemovalPending(cpu));
        }
        if enabled <= 1 {
            return Err(HotplugError::LastCpu(cpu));
        }
        self.cpus[cpu as usize].removing = true;
        Ok(())
    }

    fn selected(&self) -> Option<usize> {
        let i = self.selector as usize;
        (i < self.cpus.len()).then_some(i)
    }

    fn status_byte(&self) -> u8 {
        self.selected().map_or(0, |i| {
            let s = self.cpus[i];
            let mut bits = 0;
            if s.enabled {
                bits |= STATUS_ENABLED;
            }
            if s.inserting {
                bits |= INSERT_EVENT;
            }
            if s.removing {
                bits |= REMOVE_EVENT;
            }
            bits
        })
    }

    fn data(&self) -> u32 {
        match (self.selected(), self.command) {
            (Some(_), Command::NextWithEvent) => self.selector,
            (Some(i), Command::ArchId) => low32(self.arch_ids[i]),
            _ => 0,
        }
    }

    fn data2(&self) -> u32 {
        match (self.selected(), self.command) {
            (Some(i), Command::ArchId) => low32(self.arch_ids[i] >> 32),
            _ => 0,
        }
    }

    /// A guest read of `data.len()` bytes at `offset`.
    pub fn read(&self, offset: u64, data: &mut [u8]) -> Option<Event> {
        let mut image = [0u8; 12];
        image[0..4].copy_from_slice(&self.data2().to_le_bytes());
        image[4] = self.status_byte();
        image[8..12].copy_from_slice(&self.data().to_le_bytes());
        let valid = matches!((offset, data.len()), (SELECTOR | DATA, 4) | (FLAGS, 1));
        match usize::try_from(offset)
            .ok()
            .and_then(|o| image.get(o..o.checked_add(data.len())?))
        {
            Some(bytes) if valid => {
                data.copy_from_slice(bytes);
                None
            }
            _ => {
                data.fill(0);
                Some(Event::GuestError(format!(
                    "read of {} bytes at offset {offset:#x} of the CPU hotplug block",
                    data.len()
                )))
            }
        }
    }

    /// A guest write of `data` at `offset`.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Option<Event> {
        match (offset, data) {
            (SELECTOR, &[a, b, c, d]) => {
                self.selector = u32::from_le_bytes([a, b, c, d]);
                (self.selected().is_none()).then(|| {
                    Event::GuestError(format!(
                        "selector {} out of range (0..{})",
                        self.selector,
                        self.cpus.len()
                    ))
                })
            }
            (FLAGS, &[bits]) => self.control(bits),
            (COMMAND, &[cmd]) => self.command(cmd),
            (DATA, &[a, b, c, d]) => self.command_data(u32::from_le_bytes([a, b, c, d])),
            _ => Some(Event::GuestError(format!(
                "write of {} bytes at offset {offset:#x} of the CPU hotplug block",
                data.len()
            ))),
        }
    }

    fn control(&mut self, bits: u8) -> Option<Event> {
        let Some(i) = self.selected() else {
            return Some(Event::GuestError(format!(
                "control write {bits:#04x} with no valid selector"
            )));
        };
        if bits & CONTROL_RESERVED != 0 {
            return Some(Event::GuestError(format!(
                "control write {bits:#04x} sets reserved bits"
            )));
        }
        let s = &mut self.cpus[i];
        if bits & INSERT_EVENT != 0 {
            s.inserting = false;
        }
        if bits & REMOVE_EVENT != 0 {
            s.removing = false;
        }
        if bits & EJECT != 0 {
            let cpu = self.selector;
            if !s.enabled {
                return Some(Event::GuestError(format!(
                    "eject of CPU {cpu}, which is not present"
                )));
            }
            if cpu == self.bootstrap {
                return Some(Event::GuestError(format!(
                    "eject of the bootstrap processor (CPU {cpu}) refused"
                )));
            }
            *s = CpuState::default();
            return Some(Event::Ejected(cpu));
        }
        None
    }

    fn command(&mut self, cmd: u8) -> Option<Event> {
        let Some(command) = Command::from_byte(cmd) else {
            return Some(Event::GuestError(format!("unknown command {cmd}")));
        };
        self.command = command;
        if command == Command::NextWithEvent {
            let n = self.cpus.len();
            let start = self.selected().unwrap_or(0);
            if let Some(i) = (0..n)
                .map(|k| (start + k) % n)
                .find(|&i| self.cpus[i].inserting || self.cpus[i].removing)
            {
                self.selector = u32::try_from(i).unwrap_or(0);
            }
        }
        None
    }

    fn command_data(&mut self, value: u32) -> Option<Event> {
        let Some(i) = self.selected() else {
            return Some(Event::GuestError(format!(
                "data write {value:#x} with no valid selector"
            )));
        };
        match self.command {
            Command::OstEvent => {
                self.ost_event = value;
                None
            }
            Command::OstStatus => Some(Event::Ost {
                cpu: u32::try_from(i).unwrap_or(0),
                event: self.ost_event,
                status: value,
            }),
            Command::NextWithEvent | Command::ArchId => Some(Event::GuestError(format!(
                "data write {value:#x} after a read-only command"
            ))),
        }
    }
}

fn low32(v: u64) -> u32 {
    u32::try_from(v & 0xFFFF_FFFF).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        planner::plan_source(
            "t.toml",
            "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 4\nhotpluggable = \"2-3\"\nmpidr-policy = \"topology\"\n",
        )
        .expect("valid")
    }

    fn write32(c: &mut CpuHotplugController, off: u64, v: u32) -> Option<Event> {
        c.write(off, &v.to_le_bytes())
    }

    fn read8(c: &CpuHotplugController, off: u64) -> u8 {
        let mut b = [0u8; 1];
        assert_eq!(c.read(off, &mut b), None);
        b[0]
    }

    fn read32(c: &CpuHotplugController, off: u64) -> u32 {
        let mut b = [0u8; 4];
        assert_eq!(c.read(off, &mut b), None);
        u32::from_le_bytes(b)
    }

    #[test]
    fn test_boot_cpus_enabled_slots_not() {
        let c = CpuHotplugController::new(&plan());
        assert_eq!(c.enabled(), vec![0, 1]);
    }

    #[test]
    fn test_insert_is_seen_by_the_scan_and_cleared() {
        let mut c = CpuHotplugController::new(&plan());
        c.plug(3).expect("plug");
        // The AML scan: command 0 from selector 0 finds CPU 3.
        assert_eq!(write32(&mut c, SELECTOR, 0), None);
        assert_eq!(c.write(COMMAND, &[0]), None);
        assert_eq!(read8(&c, FLAGS), STATUS_ENABLED | INSERT_EVENT);
        assert_eq!(read32(&c, DATA), 3);
        // Clear the insert event: the next scan finds nothing.
        assert_eq!(c.write(FLAGS, &[INSERT_EVENT]), None);
        assert_eq!(c.write(COMMAND, &[0]), None);
        assert_eq!(read8(&c, FLAGS), STATUS_ENABLED);
    }

    #[test]
    fn test_remove_then_guest_eject_disables_and_reports() {
        let mut c = CpuHotplugController::new(&plan());
        c.plug(2).expect("plug");
        c.request_unplug(2).expect("unplug");
        assert_eq!(c.write(COMMAND, &[0]), None);
        assert_eq!(read32(&c, DATA), 2);
        assert_eq!(read8(&c, FLAGS) & REMOVE_EVENT, REMOVE_EVENT);
        assert_eq!(c.write(FLAGS, &[REMOVE_EVENT]), None);
        assert_eq!(c.write(FLAGS, &[EJECT]), Some(Event::Ejected(2)));
        assert!(!c.is_enabled(2));
    }

    #[test]
    fn test_ost_is_reported() {
        let mut c = CpuHotplugController::new(&plan());
        assert_eq!(write32(&mut c, SELECTOR, 1), None);
        assert_eq!(c.write(COMMAND, &[1]), None);
        assert_eq!(write32(&mut c, DATA, 3), None);
        assert_eq!(c.write(COMMAND, &[2]), None);
        assert_eq!(
            write32(&mut c, DATA, 0x84),
            Some(Event::Ost {
                cpu: 1,
                event: 3,
                status: 0x84
            })
        );
    }

    #[test]
    fn test_arch_id_command_returns_the_planned_mpidr() {
        let mut c = CpuHotplugController::new(&plan());
        assert_eq!(write32(&mut c, SELECTOR, 3), None);
        assert_eq!(c.write(COMMAND, &[3]), None);
        // Topology policy, 1 cluster of 4 cores: CPU 3 is core 3 -> Aff1 = 3.
        assert_eq!(read32(&c, DATA), 0x300);
        assert_eq!(read32(&c, SELECTOR), 0);
    }

    #[test]
    fn test_vmm_side_refusals() {
        let mut c = CpuHotplugController::new(&plan());
        assert_eq!(c.plug(9), Err(HotplugError::NoSuchCpu { cpu: 9, count: 4 }));
        assert_eq!(c.plug(1), Err(HotplugError::AlreadyPresent(1)));
        assert_eq!(c.request_unplug(0), Err(HotplugError::Bootstrap(0)));
        assert_eq!(c.request_unplug(3), Err(HotplugError::NotPresent(3)));
        c.request_unplug(1).expect("CPU 1 can go");
        assert_eq!(c.request_unplug(1), Err(HotplugError::RemovalPending(1)));
    }

    #[test]
    fn test_last_cpu_cannot_be_removed() {
        let p = planner::plan_source(
            "t.toml",
            "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\nboot = \"1\"\nhotpluggable = \"0\"\n",
        )
        .expect("valid");
        let mut c = CpuHotplugController::new(&p);
        // CPU 1 is the only boot CPU, so it is the bootstrap processor.
        assert_eq!(c.request_unplug(1), Err(HotplugError::Bootstrap(1)));
        c.plug(0).expect("plug");
        c.request_unplug(0).expect("two present");
    }

    #[test]
    fn test_guest_nonsense_is_ignored_and_reported() {
        let mut c = CpuHotplugController::new(&plan());
        assert!(matches!(
            write32(&mut c, SELECTOR, 99),
            Some(Event::GuestError(_))
        ));
        // With an invalid selector, reads return 0 and writes are ignored.
        assert_eq!(read8(&c, FLAGS), 0);
        assert!(matches!(
            c.write(FLAGS, &[EJECT]),
            Some(Event::GuestError(_))
        ));
        assert_eq!(write32(&mut c, SELECTOR, 1), None);
        assert!(matches!(
            c.write(FLAGS, &[0x81]),
            Some(Event::GuestError(_))
        ));
        assert!(matches!(c.write(COMMAND, &[7]), Some(Event::GuestError(_))));
        assert!(matches!(c.write(6, &[1]), Some(Event::GuestError(_))));
        assert!(matches!(
            c.write(SELECTOR, &[1, 2]),
            Some(Event::GuestError(_))
        ));
        let mut wide = [0xAAu8; 8];
        assert!(matches!(c.read(4, &mut wide), Some(Event::GuestError(_))));
        assert_eq!(wide, [0; 8]);
        // The bootstrap processor cannot be ejected by the guest either.
        assert_eq!(write32(&mut c, SELECTOR, 0), None);
        assert!(matches!(
            c.write(FLAGS, &[EJECT]),
            Some(Event::GuestError(_))
        ));
        assert!(c.is_enabled(0));
        // Nothing changed.
        assert_eq!(c.enabled(), vec![0, 1]);
    }
}
