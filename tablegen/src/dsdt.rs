//! DSDT (ACPI 6.5 §5.2.11.1 Differentiated System Description Table) with
//! the CPU hotplug interface, built with `acpi_tables::aml`.
//!
//! One generator serves both architectures and every platform:
//! - a processor container `\_SB.CPUS` (ACPI0010, ACPI 6.5 §8.4.2 Processor
//!   Container Device) holding one processor device (ACPI0007, §8.4) per
//!   possible CPU, named `Cxxx` after its hexadecimal index, with `_UID`,
//!   `_STA`, `_MAT` (its MADT entry with Enabled set), `_PXM`, `_EJ0` and `_OST`;
//! - the register block of QEMU's "modern" CPU hotplug interface
//!   (QEMU docs/specs/acpi_cpu_hotplug.rst; vtopo's docs/cpu-hotplug.md) on
//!   I/O ports (QEMU q35, 0x0CD8) or MMIO (vtopo's own VMMs), with the
//!   methods `CSTA` (status), `CPEJ` (eject), `COST` (status report), `CSCN`
//!   (scan: Notify 1 for inserted CPUs, Notify 3 for removal requests) and
//!   `CTFY` (notify by selector);
//! - the event source: a Generic Event Device (ACPI0013, ACPI 6.5 §5.6.9)
//!   whose `_EVT` reads the event selector and runs the scan, or QEMU q35's
//!   `\_GPE._E02`.
//!
//! `_STA` on arm64 always reports Present and toggles Enabled (0xF / 0xD), as
//! Linux's Documentation/arch/arm64/cpu-hotplug.rst requires; on x86 a CPU
//! that is not enabled is not present (0x0). A platform without a hotplug
//! controller (QEMU 10's arm64 `virt`) gets the boot-time state as constants
//! and no `_EJ0`.

use acpi_tables::aml::{
    self, Acquire, And, Device, Equal, FieldAccessType, FieldEntry, FieldLockRule, FieldUpdateRule,
    If, Interrupt, Local, Memory32Fixed, Method, MethodCall, Mutex, Name, OpRegion, OpRegionSpace,
    Package, Path, Release, ResourceTemplate, Return, Scope, Store, While, IO, ONE, ZERO,
};
use acpi_tables::{Aml, AmlSink};
use planner::arch::Arch;
use planner::plan::{
    AddressSpace, Cpu, HotplugEvent, HotplugRegisters, Plan, PlatformKind, Slot, UartKind,
};

use crate::aml_writer::{op, AmlWriter};
use crate::names::NameSeg;
use crate::options::Options;
use crate::table::{AcpiTable, Table};
use crate::wire::header::Signature;

/// `_STA` of an enabled processor: present, enabled, shown, functioning.
pub const STA_ENABLED: u8 = 0x0F;
/// arm64 `_STA` of a possible processor that is not enabled: present, shown, functioning.
pub const STA_PRESENT_DISABLED: u8 = 0x0D;
/// x86 `_STA` of a processor that is not plugged.
pub const STA_ABSENT: u8 = 0x00;

/// Bit of the GED event selector that means "CPU hotplug" (QEMU's ACPI_GED_CPU_HOTPLUG_EVT).
pub const GED_CPU_HOTPLUG_EVENT: u32 = 0x8;

/// Register-block command: select the next CPU with a pending event.
pub const CMD_GET_NEXT_WITH_EVENT: u8 = 0;
/// Register-block command: the next data write is the `_OST` event.
pub const CMD_OST_EVENT: u8 = 1;
/// Register-block command: the next data write is the `_OST` status.
pub const CMD_OST_STATUS: u8 = 2;

/// DSDT revision 2: AML integers are 64 bits wide (ACPI 6.5 §5.2.11.1).
pub const DSDT_REVISION: u8 = 2;

/// Builds the DSDT.
#[must_use]
pub fn build(plan: &Plan, options: &Options) -> AcpiTable {
    let mut table = Table::new(Signature::DSDT, DSDT_REVISION, options);
    table.push(body(plan).as_slice());
    table.finalize()
}

/// Emits the whole DSDT AML body (everything after the 36-byte header).
#[must_use]
pub fn body(plan: &Plan) -> Vec<u8> {
    let mut out = Vec::new();
    let uart = Uart { plan };
    let resources = HotplugResources { plan };
    let ged = GenericEventDevice { plan };
    let container = Container { plan };
    let sb = Scope::new(
        Path::new("\\_SB_"),
        vec![&uart, &resources, &ged, &container],
    );
    sb.to_aml_bytes(&mut out);
    if let Some(HotplugEvent::Gpe { bit }) = plan.devices.hotplug_event {
        GpeHandler { bit }.to_aml_bytes(&mut out);
    }
    SleepStates { plan }.to_aml_bytes(&mut out);
    out
}

/// The console UART: PL011 (`ARMH0011`) or 16550 (`PNP0501`).
struct Uart<'a> {
    plan: &'a Plan,
}

impl Aml for Uart<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        let u = self.plan.devices.uart;
        let gsi = u.gsi;
        match u.kind {
            UartKind::Pl011 => {
                let base = u32::try_from(u.base.0).unwrap_or(0);
                let mem = Memory32Fixed::new(true, base, 0x1000);
                // ResourceConsumer, Level, ActiveHigh, Exclusive (as QEMU virt).
                let irq = Interrupt::new(true, false, false, false, gsi);
                let crs = ResourceTemplate::new(vec![&mem, &irq]);
                Device::new(
                    Path::new("COM0"),
                    vec![
                        &Name::new(Path::new("_HID"), &"ARMH0011"),
                        &Name::new(Path::new("_UID"), &ZERO),
                        &Name::new(Path::new("_CRS"), &crs),
                    ],
                )
                .to_aml_bytes(sink);
            }
            UartKind::Ns16550 => {
                let port = u16::try_from(u.base.0).unwrap_or(0);
                let io = IO::new(port, port, 0, 8);
                // ResourceConsumer, Edge, ActiveHigh, Exclusive: ISA IRQ semantics.
                let irq = Interrupt::new(true, true, false, false, gsi);
                let crs = ResourceTemplate::new(vec![&io, &irq]);
                Device::new(
                    Path::new("COM1"),
                    vec![
                        &Name::new(Path::new("_HID"), &aml::EISAName::new("PNP0501")),
                        &Name::new(Path::new("_UID"), &ONE),
                        &Name::new(Path::new("_CRS"), &crs),
                    ],
                )
                .to_aml_bytes(sink);
            }
        }
    }
}

/// `\_SB.PRES`: claims the hotplug register block so the OS maps nothing else there.
struct HotplugResources<'a> {
    plan: &'a Plan,
}

impl Aml for HotplugResources<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        let Some(regs) = self.plan.devices.cpu_hotplug else {
            return;
        };
        let len = u8::try_from(regs.len).unwrap_or(u8::MAX);
        let io;
        let mem;
        let resource: &dyn Aml = match regs.space {
            AddressSpace::Io => {
                let port = u16::try_from(regs.base).unwrap_or(0);
                io = IO::new(port, port, 1, len);
                &io
            }
            AddressSpace::Mmio => {
                mem =
                    Memory32Fixed::new(true, u32::try_from(regs.base).unwrap_or(0), u32::from(len));
                &mem
            }
        };
        let crs = ResourceTemplate::new(vec![resource]);
        Device::new(
            Path::new("PRES"),
            vec![
                &Name::new(Path::new("_HID"), &aml::EISAName::new("PNP0A06")),
                &Name::new(Path::new("_UID"), &"CPU Hotplug resources"),
                &Name::new(Path::new("_CRS"), &crs),
            ],
        )
        .to_aml_bytes(sink);
    }
}

/// `\_SB.GED0`: the Generic Event Device of vtopo's own platforms.
struct GenericEventDevice<'a> {
    plan: &'a Plan,
}

impl Aml for GenericEventDevice<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        let Some(HotplugEvent::Ged { base, gsi }) = self.plan.devices.hotplug_event else {
            return;
        };
        // ResourceConsumer, Edge, ActiveHigh, Exclusive (QEMU's GED uses the same).
        let irq = Interrupt::new(true, true, false, false, gsi);
        let crs = ResourceTemplate::new(vec![&irq]);
        let region_base = base.0;
        let four = 4u8;
        let region = OpRegion::new(
            Path::new("EREG"),
            OpRegionSpace::SystemMemory,
            &region_base,
            &four,
        );
        let field = aml::Field::new(
            Path::new("EREG"),
            FieldAccessType::DWord,
            FieldLockRule::NoLock,
            FieldUpdateRule::WriteAsZeroes,
            vec![FieldEntry::Named(*b"ESEL", 32)],
        );
        // Local0 = ESEL (read-to-clear); If ((Local0 & 8) == 8) { \_SB.CPUS.CSCN () }
        let esel = Path::new("ESEL");
        let read = Store::new(&Local(0), &esel);
        let bit = GED_CPU_HOTPLUG_EVENT;
        let masked = And::new(&ZERO, &Local(0), &bit);
        let is_cpu = Equal::new(&masked, &bit);
        let scan = MethodCall::new(Path::new("\\_SB_.CPUS.CSCN"), vec![]);
        let when = If::new(&is_cpu, vec![&scan]);
        let evt = Method::new(Path::new("_EVT"), 1, true, vec![&read, &when]);
        Device::new(
            Path::new("GED0"),
            vec![
                &Name::new(Path::new("_HID"), &"ACPI0013"),
                &Name::new(Path::new("_UID"), &ZERO),
                &Name::new(Path::new("_CRS"), &crs),
                &region,
                &field,
                &evt,
            ],
        )
        .to_aml_bytes(sink);
    }
}

/// `\_GPE._Exx` for QEMU q35's GPE-signalled hotplug.
struct GpeHandler {
    bit: u32,
}

impl Aml for GpeHandler {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        let name = NameSeg::gpe_edge(self.bit);
        let scan = MethodCall::new(Path::new("\\_SB_.CPUS.CSCN"), vec![]);
        let method = Method::new(name.path(), 0, false, vec![&scan]);
        Scope::new(
            Path::new("\\_GPE"),
            vec![&Name::new(Path::new("_HID"), &"ACPI0006"), &method],
        )
        .to_aml_bytes(sink);
    }
}

/// `\_S5`: soft-off, for platforms whose VMM powers off through ACPI sleep registers.
struct SleepStates<'a> {
    plan: &'a Plan,
}

impl Aml for SleepStates<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        // SLP_TYP for S5: QEMU's ICH9 treats 0 as soft-off; vtopo-pc's sleep
        // control register takes 5 (crate::fadt::VTOPO_PC_POWER). arm64
        // powers off through PSCI SYSTEM_OFF.
        let slp_typ: u8 = match self.plan.platform {
            PlatformKind::QemuQ35 => 0,
            PlatformKind::VtopoPc => crate::fadt::VTOPO_PC_POWER.s5_sleep_type,
            PlatformKind::QemuVirt | PlatformKind::VtopoVirt => return,
        };
        let pkg = Package::new(vec![&slp_typ, &slp_typ, &ZERO, &ZERO]);
        Name::new(Path::new("\\_S5_"), &pkg).to_aml_bytes(sink);
    }
}

/// `\_SB.CPUS`: the processor container, the register block and its methods.
struct Container<'a> {
    plan: &'a Plan,
}

impl Aml for Container<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        let plan = self.plan;
        let hid = Name::new(Path::new("_HID"), &"ACPI0010");
        let cid = Name::new(Path::new("_CID"), &aml::EISAName::new("PNP0A05"));
        let mut children: Vec<&dyn Aml> = vec![&hid, &cid];
        let registers = plan
            .devices
            .cpu_hotplug
            .map(|regs| Registers { regs, plan });
        if let Some(r) = &registers {
            children.push(r);
        }
        let devices = ProcessorDevices {
            plan,
            hotplug: registers.is_some(),
        };
        children.push(&devices);
        Device::new(Path::new("CPUS"), children).to_aml_bytes(sink);
    }
}

/// The bootstrap processor (the lowest-index boot CPU) cannot be ejected.
fn is_bootstrap(plan: &Plan, cpu: &Cpu) -> bool {
    plan.boot_cpus()
        .next()
        .is_some_and(|b| b.index == cpu.index)
}

/// Register block fields and the methods that use them.
struct Registers<'a> {
    regs: HotplugRegisters,
    plan: &'a Plan,
}

impl Aml for Registers<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        let space = match self.regs.space {
            AddressSpace::Io => OpRegionSpace::SystemIO,
            AddressSpace::Mmio => OpRegionSpace::SystemMemory,
        };
        let base = self.regs.base;
        let len = u8::try_from(self.regs.len).unwrap_or(u8::MAX);
        let region = OpRegion::new(Path::new("PRST"), space, &base, &len);
        // Byte fields: the status/control byte at 4 and the command at 5.
        let flags = aml::Field::new(
            Path::new("PRST"),
            FieldAccessType::Byte,
            FieldLockRule::NoLock,
            FieldUpdateRule::WriteAsZeroes,
            vec![
                FieldEntry::Reserved(32),
                FieldEntry::Named(*b"CPEN", 1),
                FieldEntry::Named(*b"CINS", 1),
                FieldEntry::Named(*b"CRMV", 1),
                FieldEntry::Named(*b"CEJ0", 1),
                FieldEntry::Named(*b"CEJF", 1),
                FieldEntry::Reserved(3),
                FieldEntry::Named(*b"CCMD", 8),
            ],
        );
        // Dword fields: the selector at 0 and the command data at 8.
        let words = aml::Field::new(
            Path::new("PRST"),
            FieldAccessType::DWord,
            FieldLockRule::NoLock,
            FieldUpdateRule::Preserve,
            vec![
                FieldEntry::Named(*b"CSEL", 32),
                FieldEntry::Reserved(32),
                FieldEntry::Named(*b"CDAT", 32),
            ],
        );
        let lock = Mutex::new(Path::new("CPLK"), 0);
        let csel = Path::new("CSEL");
        let cpen = Path::new("CPEN");
        let cins = Path::new("CINS");
        let crmv = Path::new("CRMV");
        let cej0 = Path::new("CEJ0");
        let ccmd = Path::new("CCMD");
        let cdat = Path::new("CDAT");
        let acquire = Acquire::new(Path::new("CPLK"), 0xFFFF);
        let release = Release::new(Path::new("CPLK"));

        // _INI: a write of 0 to the first dword switches an older QEMU from its
        // legacy interface to this one; on every other implementation it only
        // selects CPU 0.
        let select_zero = Store::new(&csel, &ZERO);
        let ini = Method::new(
            Path::new("_INI"),
            0,
            false,
            vec![&acquire, &select_zero, &release],
        );

        // CSTA (Arg0 = selector): select, then 0xF when enabled, else 0xD (arm64) or 0 (x86).
        let off = match self.plan.arch {
            Arch::Aarch64 => STA_PRESENT_DISABLED,
            Arch::X86_64 => STA_ABSENT,
        };
        let sel_arg = Store::new(&csel, &aml::Arg(0));
        let enabled = Equal::new(&cpen, &ONE);
        let set_on = Store::new(&Local(0), &STA_ENABLED);
        let set_off = Store::new(&Local(0), &off);
        let sta_if = If::new(&enabled, vec![&set_on]);
        let sta_else = aml::Else::new(vec![&set_off]);
        let ret0 = Return::new(&Local(0));
        let csta = Method::new(
            Path::new("CSTA"),
            1,
            true,
            vec![&acquire, &sel_arg, &sta_if, &sta_else, &release, &ret0],
        );

        // CPEJ (Arg0 = selector): select, set the eject bit (the field is CEJ0).
        let set_eject = Store::new(&cej0, &ONE);
        let cej0_m = Method::new(
            Path::new("CPEJ"),
            1,
            true,
            vec![&acquire, &sel_arg, &set_eject, &release],
        );

        // COST (Arg0 = selector, Arg1 = event, Arg2 = status): report _OST.
        let cmd_ev = CMD_OST_EVENT;
        let cmd_st = CMD_OST_STATUS;
        let (arg1, arg2) = (aml::Arg(1), aml::Arg(2));
        let (cmd1, data1) = (Store::new(&ccmd, &cmd_ev), Store::new(&cdat, &arg1));
        let (cmd2, data2) = (Store::new(&ccmd, &cmd_st), Store::new(&cdat, &arg2));
        let cost = Method::new(
            Path::new("COST"),
            3,
            true,
            vec![&acquire, &sel_arg, &cmd1, &data1, &cmd2, &data2, &release],
        );

        // CTFY (Arg0 = selector, Arg1 = notify value): Notify the device.
        let ctfy = Dispatcher { plan: self.plan };

        // CSCN: while a CPU has an event: select it (command 0); an insert
        // event -> Notify 1 (Device Check) and clear it; a remove event ->
        // Notify 3 (Eject Request) and clear it. Notify only queues work in
        // the OS, so holding CPLK here cannot deadlock with _STA.
        let cmd_next = CMD_GET_NEXT_WITH_EVENT;
        let three = 3u8;
        let more = Store::new(&Local(0), &ONE);
        let stop = Store::new(&Local(0), &ZERO);
        let select_next = Store::new(&ccmd, &cmd_next);
        let sel_to_local = Store::new(&Local(1), &cdat);
        let notify_insert = MethodCall::new(Path::new("CTFY"), vec![&Local(1), &ONE]);
        let clear_insert = Store::new(&cins, &ONE);
        let notify_remove = MethodCall::new(Path::new("CTFY"), vec![&Local(1), &three]);
        let clear_remove = Store::new(&crmv, &ONE);
        let ins = Equal::new(&cins, &ONE);
        let rem = Equal::new(&crmv, &ONE);
        // Go on only when the controller acknowledged the clear: a controller
        // that keeps the flag set (broken, or absent) cannot livelock the scan.
        let ins_cleared = Equal::new(&cins, &ZERO);
        let rem_cleared = Equal::new(&crmv, &ZERO);
        let continue_ins = If::new(&ins_cleared, vec![&more]);
        let continue_rem = If::new(&rem_cleared, vec![&more]);
        let on_insert = If::new(
            &ins,
            vec![&sel_to_local, &notify_insert, &clear_insert, &continue_ins],
        );
        let remove_if = If::new(
            &rem,
            vec![&sel_to_local, &notify_remove, &clear_remove, &continue_rem],
        );
        let on_remove = aml::Else::new(vec![&remove_if]);
        let looping = Equal::new(&Local(0), &ONE);
        let body = While::new(&looping, vec![&stop, &select_next, &on_insert, &on_remove]);
        let cscn = Method::new(
            Path::new("CSCN"),
            0,
            true,
            vec![&acquire, &more, &body, &release],
        );

        for item in [
            &region as &dyn Aml,
            &flags,
            &words,
            &lock,
            &ini,
            &csta,
            &cej0_m,
            &cost,
            &ctfy,
            &cscn,
        ] {
            item.to_aml_bytes(sink);
        }
    }
}

/// Every processor device `\_SB.CPUS.Cxxx`, written with [`AmlWriter`] into
/// one buffer (the hot path of a large DSDT; see `aml_writer.rs`).
struct ProcessorDevices<'a> {
    plan: &'a Plan,
    hotplug: bool,
}

impl Aml for ProcessorDevices<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        let mut w = AmlWriter::with_capacity(self.plan.cpus.len() * 192);
        let entries = crate::madt::processor_entries(self.plan);
        for (cpu, mat) in self.plan.cpus.iter().zip(entries) {
            Processor::new(self.plan, cpu, self.hotplug, mat).write(&mut w);
        }
        sink.vec(w.bytes());
    }
}

/// One processor device `\_SB.CPUS.Cxxx`.
struct Processor<'a> {
    cpu: &'a Cpu,
    arch: Arch,
    hotplug: bool,
    ejectable: bool,
    mat: Vec<u8>,
}

impl<'a> Processor<'a> {
    fn new(plan: &Plan, cpu: &'a Cpu, hotplug: bool, mat: Vec<u8>) -> Self {
        Processor {
            cpu,
            arch: plan.arch,
            hotplug,
            ejectable: hotplug && !is_bootstrap(plan, cpu),
            mat,
        }
    }

    fn static_sta(&self) -> u8 {
        match (self.cpu.slot, self.arch) {
            (Slot::Boot, _) => STA_ENABLED,
            (Slot::Hotpluggable, Arch::Aarch64) => STA_PRESENT_DISABLED,
            (Slot::Hotpluggable, Arch::X86_64) => STA_ABSENT,
        }
    }

    /// ASL (as `iasl -d` prints it):
    /// ```text
    /// Device (C003) {
    ///     Name (_HID, "ACPI0007")
    ///     Name (_UID, 0x03)
    ///     Method (_STA, 0) { Return (CSTA (0x03)) }    // or Return (0x0D) without a controller
    ///     Method (_MAT, 0) { Return (Buffer (0x50) { ...the MADT entry, Enabled... }) }
    ///     Method (_PXM, 0) { Return (One) }
    ///     Method (_OST, 3) { COST (0x03, Arg0, Arg1) } // with a controller
    ///     Method (_EJ0, 1) { CPEJ (0x03) }             // with a controller, not on the BSP
    /// }
    /// ```
    fn write(&self, w: &mut AmlWriter) {
        let index = u64::from(self.cpu.index.0);
        w.package(&[op::EXT, op::DEVICE], |w| {
            w.raw(NameSeg::cpu(self.cpu.index.0).as_str().as_bytes());
            w.name_string(b"_HID", "ACPI0007");
            w.name_integer(b"_UID", u64::from(self.cpu.uid.0));
            w.method(b"_STA", 0, |w| {
                w.byte(op::RETURN);
                if self.hotplug {
                    w.raw(b"CSTA");
                    w.integer(index);
                } else {
                    w.integer(u64::from(self.static_sta()));
                }
            });
            w.method(b"_MAT", 0, |w| {
                w.byte(op::RETURN);
                w.buffer(&self.mat);
            });
            w.method(b"_PXM", 0, |w| {
                w.byte(op::RETURN);
                w.integer(u64::from(self.cpu.node.0));
            });
            if self.hotplug {
                // _OST(event, status, buffer): the register block takes event and status.
                w.method(b"_OST", 3, |w| {
                    w.raw(b"COST");
                    w.integer(index);
                    w.byte(op::ARG0);
                    w.byte(op::ARG0 + 1);
                });
            }
            if self.ejectable {
                w.method(b"_EJ0", 1, |w| {
                    w.raw(b"CPEJ");
                    w.integer(index);
                });
            }
        });
    }
}

/// `CTFY (Arg0 = selector, Arg1 = value)`: `If (Arg0 == i) { Notify (Cxxx,
/// Arg1) }` for every possible CPU, written with [`AmlWriter`].
struct Dispatcher<'a> {
    plan: &'a Plan,
}

impl Aml for Dispatcher<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        let mut w = AmlWriter::with_capacity(self.plan.cpus.len() * 16 + 16);
        w.method(b"CTFY", 2, |w| {
            for cpu in &self.plan.cpus {
                w.package(&[op::IF], |w| {
                    w.byte(op::LEQUAL);
                    w.byte(op::ARG0);
                    w.integer(u64::from(cpu.index.0));
                    w.byte(op::NOTIFY);
                    w.raw(NameSeg::cpu(cpu.index.0).as_str().as_bytes());
                    w.byte(op::ARG0 + 1);
                });
            }
        });
        sink.vec(w.bytes());
    }
}

#[cfg(test)]
impl Dispatcher<'_> {
    /// The same method built with `acpi_tables::aml`: the reference encoding.
    fn reference(&self, sink: &mut dyn AmlSink) {
        use acpi_tables::aml::Notify;
        let names: Vec<NameSeg> = self
            .plan
            .cpus
            .iter()
            .map(|c| NameSeg::cpu(c.index.0))
            .collect();
        let indices: Vec<u32> = self.plan.cpus.iter().map(|c| c.index.0).collect();
        let paths: Vec<Path> = names.iter().map(NameSeg::path).collect();
        let tests: Vec<Equal> = indices
            .iter()
            .map(|i| Equal::new(&aml::Arg(0), i))
            .collect();
        let notifies: Vec<Notify> = paths.iter().map(|p| Notify::new(p, &aml::Arg(1))).collect();
        let ifs: Vec<If> = tests
            .iter()
            .zip(&notifies)
            .map(|(t, n)| If::new(t, vec![n]))
            .collect();
        Method::new(
            Path::new("CTFY"),
            2,
            false,
            ifs.iter().map(|i| i as &dyn Aml).collect(),
        )
        .to_aml_bytes(sink);
    }
}

#[cfg(test)]
impl Processor<'_> {
    /// The same device built with `acpi_tables::aml`: the reference encoding.
    fn reference(&self, sink: &mut dyn AmlSink) {
        let index = self.cpu.index.0;
        let uid = self.cpu.uid.0;
        let pxm = self.cpu.node.0;
        let hid = Name::new(Path::new("_HID"), &"ACPI0007");
        let uid_name = Name::new(Path::new("_UID"), &uid);
        let pxm_ret = Return::new(&pxm);
        let pxm_m = Method::new(Path::new("_PXM"), 0, false, vec![&pxm_ret]);
        let mat_buf = aml::BufferData::new(self.mat.clone());
        let mat_ret = Return::new(&mat_buf);
        let mat_m = Method::new(Path::new("_MAT"), 0, false, vec![&mat_ret]);

        let sta_call = MethodCall::new(Path::new("CSTA"), vec![&index]);
        let static_sta = self.static_sta();
        let sta_ret = if self.hotplug {
            Return::new(&sta_call)
        } else {
            Return::new(&static_sta)
        };
        let sta = Method::new(Path::new("_STA"), 0, false, vec![&sta_ret]);

        let ej0_call = MethodCall::new(Path::new("CPEJ"), vec![&index]);
        let ej0 = Method::new(Path::new("_EJ0"), 1, false, vec![&ej0_call]);
        // _OST(event, status, buffer): the register block takes event and status.
        let (a0, a1) = (aml::Arg(0), aml::Arg(1));
        let ost_call = MethodCall::new(Path::new("COST"), vec![&index, &a0, &a1]);
        let ost = Method::new(Path::new("_OST"), 3, false, vec![&ost_call]);

        let mut children: Vec<&dyn Aml> = vec![&hid, &uid_name, &sta, &mat_m, &pxm_m];
        if self.hotplug {
            children.push(&ost);
        }
        if self.ejectable {
            children.push(&ej0);
        }
        Device::new(NameSeg::cpu(index).path(), children).to_aml_bytes(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(source: &str) -> Plan {
        planner::plan_source("t.toml", source).expect("valid plan")
    }

    fn corpus() -> Vec<(String, Plan)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../topologies");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("topologies/")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|f| {
                let text = std::fs::read_to_string(&f).expect("readable");
                (f.display().to_string(), plan(&text))
            })
            .collect()
    }

    /// vtopo-pc, 2 CPUs, CPU 1 hotpluggable: its device, as `iasl -d` decodes it:
    /// ```text
    /// Device (C001)
    /// {
    ///     Name (_HID, "ACPI0007" /* Processor Device */)
    ///     Name (_UID, One)
    ///     Method (_STA, 0, NotSerialized) { Return (CSTA (One)) }
    ///     Method (_MAT, 0, NotSerialized)
    ///     {
    ///         Return (Buffer (0x08) { 0x00, 0x08, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00 })
    ///     }
    ///     Method (_PXM, 0, NotSerialized) { Return (Zero) }
    ///     Method (_OST, 3, NotSerialized) { COST (One, Arg0, Arg1) }
    ///     Method (_EJ0, 1, NotSerialized) { CPEJ (One) }
    /// }
    /// ```
    #[test]
    fn test_hotpluggable_x86_processor_device_bytes() {
        let p = plan("arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\nhotpluggable = \"1\"\n");
        let mut w = AmlWriter::default();
        let mat = crate::madt::processor_entries(&p).swap_remove(1);
        Processor::new(&p, &p.cpus[1], true, mat).write(&mut w);
        let expected: &[u8] = &[
            0x5b, 0x82, 0x4f, 0x05, // DeviceOp, PkgLength 95
            b'C', b'0', b'0', b'1', // C001
            0x08, b'_', b'H', b'I', b'D', 0x0d, b'A', b'C', b'P', b'I', b'0', b'0', b'0', b'7',
            0x00, 0x08, b'_', b'U', b'I', b'D', 0x01, // Name (_UID, One)
            0x14, 0x0c, b'_', b'S', b'T', b'A', 0x00, 0xa4, b'C', b'S', b'T', b'A', 0x01, 0x14,
            0x13, b'_', b'M', b'A', b'T', 0x00, 0xa4, 0x11, 0x0b, 0x0a, 0x08, // Buffer (8)
            0x00, 0x08, 0x01, 0x01, 0x01, 0x00, 0x00,
            0x00, // Local APIC: UID 1, APIC ID 1, Enabled
            0x14, 0x08, b'_', b'P', b'X', b'M', 0x00, 0xa4, 0x00, 0x14, 0x0d, b'_', b'O', b'S',
            b'T', 0x03, b'C', b'O', b'S', b'T', 0x01, 0x68, 0x69, 0x14, 0x0b, b'_', b'E', b'J',
            b'0', 0x01, b'C', b'P', b'E', b'J', 0x01,
        ];
        assert_eq!(w.bytes(), expected);
    }

    #[test]
    fn test_boot_processor_has_no_ej0_and_static_sta_without_controller() {
        let p = plan("arch = \"aarch64\"\nplatform = \"qemu-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\nhotpluggable = \"1\"\n");
        let mut w = AmlWriter::default();
        let mat = crate::madt::processor_entries(&p).swap_remove(1);
        Processor::new(&p, &p.cpus[1], false, mat).write(&mut w);
        let bytes = w.bytes();
        // Method (_STA) { Return (0x0D) }: present, not enabled, constant.
        let sta = [0x14, 0x09, b'_', b'S', b'T', b'A', 0x00, 0xa4, 0x0a, 0x0d];
        assert!(bytes.windows(sta.len()).any(|x| x == sta));
        assert!(!bytes.windows(4).any(|x| x == b"_EJ0"));
        assert!(!bytes.windows(4).any(|x| x == b"_OST"));
    }

    #[test]
    fn test_fast_path_equals_acpi_tables_for_every_cpu_of_every_topology() {
        for (name, p) in corpus() {
            let hotplug = p.devices.cpu_hotplug.is_some();
            for (cpu, mat) in p.cpus.iter().zip(crate::madt::processor_entries(&p)) {
                let device = Processor::new(&p, cpu, hotplug, mat);
                let mut fast = AmlWriter::default();
                device.write(&mut fast);
                let mut reference = Vec::new();
                device.reference(&mut reference);
                assert!(
                    fast.bytes() == reference.as_slice(),
                    "{name}: CPU {} differs",
                    cpu.index
                );
            }
            let dispatcher = Dispatcher { plan: &p };
            let (mut fast, mut reference) = (Vec::new(), Vec::new());
            dispatcher.to_aml_bytes(&mut fast);
            dispatcher.reference(&mut reference);
            assert!(fast == reference, "{name}: CTFY differs");
        }
    }

    #[test]
    fn test_gpe_platform_gets_e02_and_ged_platform_gets_evt() {
        let q35 = build(&plan("arch = \"x86_64\"\nplatform = \"qemu-q35\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n"), &Options::default());
        let pc = build(&plan("arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n"), &Options::default());
        assert!(q35.bytes().windows(4).any(|x| x == b"_E02"));
        assert!(!q35.bytes().windows(4).any(|x| x == b"GED0"));
        assert!(pc.bytes().windows(4).any(|x| x == b"_EVT"));
        assert_eq!(&q35.bytes()[..4], b"DSDT");
        assert_eq!(q35.bytes()[8], DSDT_REVISION);
    }

    /// `Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })` on vtopo-pc:
    /// the SLP_TYP its FADT sleep control register takes (Linux registers
    /// ACPI power-off only when `\_S5` exists and, HW-reduced, both sleep
    /// registers are declared); no `\_S5` on arm64 (PSCI SYSTEM_OFF).
    #[test]
    fn test_vtopo_pc_s5_package_matches_its_sleep_control_register() {
        let pc = body(&plan(
            "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n",
        ));
        let virt = body(&plan(
            "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n",
        ));
        let typ = crate::fadt::VTOPO_PC_POWER.s5_sleep_type;
        let s5 = [
            0x08, b'\\', b'_', b'S', b'5', b'_', // NameOp \_S5_
            0x12, 0x08, 0x04, // PackageOp, PkgLength 8, 4 elements
            0x0a, typ, 0x0a, typ, 0x00, 0x00, // BytePrefix 5, BytePrefix 5, Zero, Zero
        ];
        assert_eq!(typ, 5);
        assert!(pc.windows(s5.len()).any(|x| x == s5));
        assert!(!virt.windows(4).any(|x| x == b"_S5_"));
    }
}
