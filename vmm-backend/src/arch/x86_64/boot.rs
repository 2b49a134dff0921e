//! The Linux x86 64-bit boot protocol without firmware (Linux
//! Documentation/arch/x86/boot.rst, "64-bit Boot Protocol" and "The Zero
//! Page"): where things go in guest memory, the e820 map, the zero page,
//! the boot GDT and identity page tables, and the bootstrap processor's
//! registers. Pure: values in, values out (tested below without KVM).
//!
//! Guest memory below 1 MiB (vtopo-pc's first RAM range is [0, 640 KiB)):
//!
//! | address | what |
//! | --- | --- |
//! | 0x0500 | boot GDT: null, null, `__BOOT_CS` 0x10, `__BOOT_DS` 0x18, TSS 0x20 |
//! | 0x0540 | boot IDT: one empty gate (interrupts stay disabled) |
//! | 0x7000 | zero page (`struct boot_params`), RSI at entry |
//! | 0x8ff0 | initial stack pointer (the kernel sets its own at once) |
//! | 0x9000 | identity page tables: PML4, PDPT, 4 page directories (4 GiB in 2 MiB pages) |
//! | 0x20000 | kernel command line (NUL-terminated) |
//! | 0x9fc00..0xa0000 | EBDA: reserved in the e820 map |
//! | 0xa0000..0x100000 | legacy area: not RAM in the plan; vtopo maps it (reads return 0, so Linux finds no option ROM) and reserves it; the ACPI tables sit at 0xe0000, RSDP first |
//! | 0x100000 | the protected-mode kernel (bzImage payload); entry = load + 0x200 |
//!
//! The initrd goes at the top of the highest RAM range below 4 GiB (and
//! below the kernel's `initrd_addr_max`). ACPI tables that do not fit the
//! 128 KiB at 0xe0000 (thousands of CPUs) go at the top of RAM instead,
//! as an e820 ACPI range, and a copy of their RSDP stays at 0xe0000.

use kvm_bindings::{kvm_fpu, kvm_regs, kvm_segment, kvm_sregs};
use linux_loader::loader::bootparam::{boot_e820_entry, boot_params, setup_header};
use planner::ids::GuestRange;

/// Boot GDT.
pub const GDT_ADDR: u64 = 0x500;
/// Boot IDT.
pub const IDT_ADDR: u64 = 0x540;
/// Zero page (`struct boot_params`).
pub const ZERO_PAGE_ADDR: u64 = 0x7000;
/// Initial RSP / RBP.
pub const BOOT_STACK: u64 = 0x8FF0;
/// PML4 of the identity map; the PDPT and page directories follow.
pub const PML4_ADDR: u64 = 0x9000;
/// Command line.
pub const CMDLINE_ADDR: u64 = 0x2_0000;
/// Most command-line bytes vtopo places (the kernel's own limit,
/// `setup_header.cmdline_size`, is usually 2047).
pub const CMDLINE_MAX: u64 = 0x1_0000;
/// Extended BIOS data area (reserved).
pub const EBDA: (u64, u64) = (0x9_FC00, 0xA_0000);
/// The legacy area between low RAM and 1 MiB, which vtopo maps itself.
pub const LEGACY_AREA: (u64, u64) = (0xA_0000, 0x10_0000);
/// Where the RSDP goes (Firecracker's choice; also inside the legacy scan
/// range 0xe0000..0xfffff of ACPI 6.5 §5.2.5.1).
pub const RSDP_ADDR: u64 = 0xE_0000;
/// Where the kernel is loaded (the bzImage default `code32_start`).
pub const KERNEL_ADDR: u64 = 0x10_0000;
/// Offset of the 64-bit entry point from the load address (boot.rst).
pub const ENTRY_64_OFFSET: u64 = 0x200;

/// Identity-mapped: the first 4 GiB (the kernel, zero page, command line
/// and initrd all lie below 4 GiB).
const IDENTITY_GIB: u64 = 4;
const PAGE: u64 = 0x1000;
const GIB: u64 = 1 << 30;

/// e820 types (Linux arch/x86/include/uapi/asm/e820.h; ACPI 6.5 §15.3).
pub const E820_RAM: u32 = 1;
/// Reserved.
pub const E820_RESERVED: u32 = 2;
/// ACPI tables (reclaimable).
pub const E820_ACPI: u32 = 3;

/// `setup_header.loadflags` / `xloadflags` bits and constants (boot.rst).
pub const XLF_KERNEL_64: u16 = 1 << 0;
/// Boot protocol 2.12 added xloadflags (and so the 64-bit entry flag).
pub const MIN_BOOT_PROTOCOL: u16 = 0x020C;
/// `type_of_loader`: undefined boot loader.
pub const LOADER_UNDEFINED: u8 = 0xFF;

/// One e820 entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct E820 {
    /// First byte.
    pub addr: u64,
    /// Length.
    pub size: u64,
    /// [`E820_RAM`], [`E820_RESERVED`] or [`E820_ACPI`].
    pub kind: u32,
}

/// Where `load` puts what, decided before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Address the ACPI tables are linked at (the RSDP's when 0xe0000).
    pub tables: u64,
    /// The initrd's address, if any.
    pub initrd: Option<u64>,
    /// The e820 map for the zero page.
    pub e820: Vec<E820>,
}

/// `[start, end)` minus `[cut_start, cut_end)`: zero, one or two pieces.
fn subtract(range: (u64, u64), cut: (u64, u64)) -> Vec<(u64, u64)> {
    let (s, e) = range;
    let (cs, ce) = cut;
    if ce <= s || cs >= e {
        return vec![range];
    }
    let mut out = Vec::new();
    if cs > s {
        out.push((s, cs));
    }
    if ce < e {
        out.push((ce, e));
    }
    out
}

/// Takes `size` bytes, `PAGE`-aligned, from the top of the highest piece of
/// `free` that holds them below `limit`; removes them from `free`.
fn take_top(free: &mut Vec<(u64, u64)>, size: u64, limit: u64) -> Option<u64> {
    let mut best: Option<(usize, u64)> = None;
    for (i, &(s, e)) in free.iter().enumerate() {
        let top = e.min(limit);
        let Some(at) = top.checked_sub(size).map(|a| a / PAGE * PAGE) else {
            continue;
        };
        if at >= s && best.is_none_or(|(_, b)| at > b) {
            best = Some((i, at));
        }
    }
    let (i, at) = best?;
    let piece = free.remove(i);
    free.extend(subtract(piece, (at, at + size)));
    Some(at)
}

/// Decides where the tables and the initrd go and builds the e820 map.
///
/// `ram`: the plan's RAM ranges; `kernel_size`: bytes the kernel needs from
/// [`KERNEL_ADDR`] (`setup_header.init_size`, at least the loaded image);
/// `initrd_len`; `initrd_max`: `setup_header.initrd_addr_max`;
/// `tables_len`: the linked ACPI image.
///
/// # Errors
/// A message when something does not fit.
pub fn layout(
    ram: &[GuestRange],
    kernel_size: u64,
    initrd_len: Option<u64>,
    initrd_max: u64,
    tables_len: u64,
) -> Result<Layout, String> {
    let ram: Vec<(u64, u64)> = ram.iter().map(|r| (r.base.0, r.end())).collect();
    let kernel = (KERNEL_ADDR, KERNEL_ADDR + kernel_size);
    if !ram.iter().any(|&(s, e)| s <= kernel.0 && kernel.1 <= e) {
        return Err(format!(
            "the kernel needs {kernel_size:#x} bytes of RAM from {KERNEL_ADDR:#x} (its init_size)"
        ));
    }
    if !ram
        .iter()
        .any(|&(s, e)| s <= PML4_ADDR && CMDLINE_ADDR + CMDLINE_MAX <= e)
    {
        return Err(format!(
            "the boot data needs RAM from {GDT_ADDR:#x} to {:#x}",
            CMDLINE_ADDR + CMDLINE_MAX
        ));
    }
    // What is free for the initrd and large tables: RAM below 4 GiB minus
    // the first MiB and the kernel's window.
    let mut free: Vec<(u64, u64)> = ram
        .iter()
        .map(|&(s, e)| (s.max(KERNEL_ADDR), e.min(4 * GIB)))
        .filter(|(s, e)| s < e)
        .flat_map(|r| subtract(r, kernel))
        .collect();

    let rsdp_area = LEGACY_AREA.1 - RSDP_ADDR;
    let (tables, tables_in_ram) = if tables_len <= rsdp_area {
        (RSDP_ADDR, None)
    } else {
        let at =
            take_top(&mut free, tables_len.div_ceil(PAGE) * PAGE, 4 * GIB).ok_or_else(|| {
                format!("no room for {tables_len} bytes of ACPI tables in RAM below 4 GiB")
            })?;
        (at, Some((at, at + tables_len.div_ceil(PAGE) * PAGE)))
    };
    let initrd = match initrd_len {
        Some(len) => {
            let limit = initrd_max.saturating_add(1).min(4 * GIB);
            Some(take_top(&mut free, len, limit).ok_or_else(|| {
                format!(
                    "no room for the {len}-byte initrd in RAM below {limit:#x} (above the kernel)"
                )
            })?)
        }
        None => None,
    };

    let mut e820: Vec<E820> = Vec::new();
    for &r in &ram {
        let mut pieces = subtract(r, EBDA);
        if let Some(t) = tables_in_ram {
            pieces = pieces.into_iter().flat_map(|p| subtract(p, t)).collect();
        }
        e820.extend(pieces.into_iter().map(|(s, e)| E820 {
            addr: s,
            size: e - s,
            kind: E820_RAM,
        }));
    }
    if ram.iter().any(|&(s, e)| s < EBDA.1 && EBDA.0 < e) {
        e820.push(E820 {
            addr: EBDA.0,
            size: EBDA.1 - EBDA.0,
            kind: E820_RESERVED,
        });
    }
    e820.push(E820 {
        addr: LEGACY_AREA.0,
        size: LEGACY_AREA.1 - LEGACY_AREA.0,
        kind: E820_RESERVED,
    });
    if let Some((s, e)) = tables_in_ram {
        e820.push(E820 {
            addr: s,
            size: e - s,
            kind: E820_ACPI,
        });
    }
    e820.sort_by_key(|e| e.addr);
    Ok(Layout {
        tables,
        initrd,
        e820,
    })
}

/// The zero page for `hdr` (the bzImage's setup header, from its loader):
/// command line, initrd, e820 map and RSDP filled in as boot.rst asks of a
/// boot loader; the rest stays zero (no video: `orig_video_isVGA` 0).
#[must_use]
pub fn zero_page(
    hdr: setup_header,
    cmdline: (u64, usize),
    initrd: Option<(u64, u64)>,
    e820: &[E820],
    rsdp: u64,
) -> boot_params {
    let mut params = boot_params {
        hdr,
        ..boot_params::default()
    };
    params.hdr.type_of_loader = LOADER_UNDEFINED;
    params.hdr.cmd_line_ptr = u32::try_from(cmdline.0).unwrap_or(0);
    params.ext_cmd_line_ptr = u32::try_from(cmdline.0 >> 32).unwrap_or(0);
    if let Some((addr, len)) = initrd {
        params.hdr.ramdisk_image = u32::try_from(addr & 0xFFFF_FFFF).unwrap_or(0);
        params.hdr.ramdisk_size = u32::try_from(len & 0xFFFF_FFFF).unwrap_or(0);
        params.ext_ramdisk_image = u32::try_from(addr >> 32).unwrap_or(0);
        params.ext_ramdisk_size = u32::try_from(len >> 32).unwrap_or(0);
    }
    params.acpi_rsdp_addr = rsdp;
    let n = e820.len().min(params.e820_table.len());
    for (slot, e) in params.e820_table.iter_mut().zip(&e820[..n]) {
        *slot = boot_e820_entry {
            addr: e.addr,
            size: e.size,
            r#type: e.kind,
        };
    }
    params.e820_entries = u8::try_from(n).unwrap_or(u8::MAX);
    params
}

/// Boot GDT entries (Intel SDM Vol. 3A §3.4.5 segment descriptors): null,
/// null, `__BOOT_CS` (0x10: 64-bit code, execute/read), `__BOOT_DS` (0x18:
/// read/write data), a 64-bit TSS (0x20) for TR, as boot.rst asks ("4G
/// flat segments").
pub const GDT: [u64; 6] = [
    0,
    0,
    gdt_entry(0xA09B, 0, 0xF_FFFF),
    gdt_entry(0xC093, 0, 0xF_FFFF),
    gdt_entry(0x808B, 0, 0xF_FFFF),
    0,
];
/// Selectors of the boot GDT.
pub const BOOT_CS: u16 = 0x10;
/// `__BOOT_DS`.
pub const BOOT_DS: u16 = 0x18;
/// TR.
pub const BOOT_TSS: u16 = 0x20;

/// A segment descriptor from flags (type, S, DPL, P at 15:8 of the access
/// word; AVL, L, D/B, G at 15:12 of its upper byte), base and 20-bit limit.
const fn gdt_entry(flags: u16, base: u32, limit: u32) -> u64 {
    let flags = flags as u64;
    let base = base as u64;
    let limit = limit as u64;
    ((base & 0xFF00_0000) << 32)
        | ((flags & 0xF0FF) << 40)
        | ((limit & 0xF_0000) << 32)
        | ((base & 0x00FF_FFFF) << 16)
        | (limit & 0xFFFF)
}

/// The KVM form of GDT entry `index`.
#[must_use]
pub fn segment(index: usize) -> kvm_segment {
    let e = GDT.get(index).copied().unwrap_or(0);
    let bit = |n: u32| u8::from((e >> n) & 1 == 1);
    let raw_limit = u32::try_from(((e >> 32) & 0xF_0000) | (e & 0xFFFF)).unwrap_or(0);
    let g = bit(55);
    let base = ((e >> 16) & 0xFF_FFFF) | ((e >> 32) & 0xFF00_0000);
    kvm_segment {
        base,
        limit: if g == 1 {
            (raw_limit << 12) | 0xFFF
        } else {
            raw_limit
        },
        selector: u16::try_from(index * 8).unwrap_or(0),
        type_: u8::try_from((e >> 40) & 0xF).unwrap_or(0),
        present: bit(47),
        dpl: u8::try_from((e >> 45) & 0x3).unwrap_or(0),
        db: bit(54),
        s: bit(44),
        l: bit(53),
        g,
        avl: bit(52),
        unusable: u8::from(bit(47) == 0),
        padding: 0,
    }
}

/// The GDT as bytes.
#[must_use]
pub fn gdt_bytes() -> Vec<u8> {
    GDT.iter().flat_map(|e| e.to_le_bytes()).collect()
}

/// Page table entry bits (Intel SDM Vol. 3A §4.5).
const PTE_PRESENT: u64 = 1 << 0;
const PTE_WRITABLE: u64 = 1 << 1;
const PTE_PAGE_SIZE: u64 = 1 << 7;

/// The identity map at [`PML4_ADDR`]: PML4 (one entry), PDPT (4 entries),
/// then 4 page directories of 512 2-MiB pages each; 6 pages of bytes.
#[must_use]
pub fn page_tables() -> Vec<u8> {
    let pdpt = PML4_ADDR + PAGE;
    let pd = pdpt + PAGE;
    let mut words = vec![0u64; usize::try_from((2 + IDENTITY_GIB) * 512).unwrap_or(0)];
    words[0] = pdpt | PTE_PRESENT | PTE_WRITABLE;
    for g in 0..IDENTITY_GIB {
        let i = usize::try_from(g).unwrap_or(0);
        words[512 + i] = (pd + g * PAGE) | PTE_PRESENT | PTE_WRITABLE;
        for p in 0..512u64 {
            let j = usize::try_from(p).unwrap_or(0);
            words[1024 + i * 512 + j] =
                ((g << 30) | (p << 21)) | PTE_PRESENT | PTE_WRITABLE | PTE_PAGE_SIZE;
        }
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Control register and EFER bits (Intel SDM Vol. 3A §2.5, §2.2.1).
const CR0_PE: u64 = 1 << 0;
const CR0_ET: u64 = 1 << 4;
const CR0_NE: u64 = 1 << 5;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;

/// The bootstrap processor's special registers for the 64-bit entry: the
/// boot GDT's flat segments, long mode with paging on the identity map,
/// caches enabled (CR0.CD/NW clear). `s` is the vCPU's current value.
#[must_use]
pub fn boot_sregs(mut s: kvm_sregs) -> kvm_sregs {
    let code = segment(usize::from(BOOT_CS / 8));
    let data = segment(usize::from(BOOT_DS / 8));
    s.cs = code;
    s.ds = data;
    s.es = data;
    s.fs = data;
    s.gs = data;
    s.ss = data;
    s.tr = segment(usize::from(BOOT_TSS / 8));
    s.gdt.base = GDT_ADDR;
    s.gdt.limit = u16::try_from(GDT.len() * 8 - 1).unwrap_or(u16::MAX);
    s.idt.base = IDT_ADDR;
    s.idt.limit = 7;
    s.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    s.cr3 = PML4_ADDR;
    s.cr4 = CR4_PAE;
    s.efer = EFER_LME | EFER_LMA;
    s
}

/// The bootstrap processor's general registers: RIP the 64-bit entry, RSI
/// the zero page, interrupts disabled (RFLAGS only its reserved bit 1).
#[must_use]
pub fn boot_regs(entry: u64, zero_page: u64) -> kvm_regs {
    kvm_regs {
        rip: entry,
        rsi: zero_page,
        rsp: BOOT_STACK,
        rbp: BOOT_STACK,
        rflags: 0x2,
        ..kvm_regs::default()
    }
}

/// The x87 / SSE state at reset: FCW 0x37f, MXCSR 0x1f80 (Intel SDM Vol. 1
/// §8.1.5, §10.2.3).
#[must_use]
pub fn boot_fpu() -> kvm_fpu {
    kvm_fpu {
        fcw: 0x37F,
        mxcsr: 0x1F80,
        ..kvm_fpu::default()
    }
}

#[cfg(test)]
mod tests {
    use planner::ids::GuestAddr;
    use vm_memory::ByteValued;

    use super::*;

    const MIB: u64 = 1 << 20;

    fn r(base: u64, size: u64) -> GuestRange {
        GuestRange {
            base: GuestAddr(base),
            size,
        }
    }

    /// The lab topology's RAM: node 0 [0, 640K) + [1M, 256M), node 1 [256M, 512M).
    fn lab_ram() -> Vec<GuestRange> {
        vec![r(0, 640 << 10), r(MIB, 255 * MIB), r(256 * MIB, 256 * MIB)]
    }

    #[test]
    fn test_layout_lab_tables_at_e0000_initrd_at_top_of_ram() {
        let l = layout(&lab_ram(), 64 * MIB, Some(3_000_000), 0x7FFF_FFFF, 6000).expect("fits");
        assert_eq!(l.tables, 0xE0000);
        // Top of node 1 (512 MiB) minus 3,000,000 bytes, page-aligned down.
        assert_eq!(l.initrd, Some((512 * MIB - 3_000_000) / 4096 * 4096));
        let e: Vec<(u64, u64, u32)> = l.e820.iter().map(|e| (e.addr, e.size, e.kind)).collect();
        assert_eq!(
            e,
            vec![
                (0, 0x9FC00, E820_RAM),
                (0x9FC00, 0x400, E820_RESERVED),   // EBDA
                (0xA0000, 0x60000, E820_RESERVED), // legacy area with the tables
                (MIB, 255 * MIB, E820_RAM),
                (256 * MIB, 256 * MIB, E820_RAM),
            ]
        );
    }

    #[test]
    fn test_layout_big_tables_go_to_the_top_of_ram_as_acpi() {
        // 200 KiB of tables does not fit the 128 KiB at 0xe0000.
        let l = layout(&lab_ram(), 64 * MIB, Some(8192), 0x7FFF_FFFF, 200 << 10).expect("fits");
        assert_eq!(l.tables, 512 * MIB - (200 << 10));
        assert_eq!(l.initrd, Some(512 * MIB - (200 << 10) - 8192));
        assert!(l.e820.contains(&E820 {
            addr: 512 * MIB - (200 << 10),
            size: 200 << 10,
            kind: E820_ACPI
        }));
        assert!(l.e820.contains(&E820 {
            addr: 256 * MIB,
            size: 256 * MIB - (200 << 10),
            kind: E820_RAM
        }));
    }

    #[test]
    fn test_layout_initrd_respects_initrd_addr_max_and_the_kernel() {
        // One range [1M, 3G) with initrd_addr_max 0x37ffffff (old kernels).
        let ram = vec![r(0, 640 << 10), r(MIB, 3072 * MIB - MIB)];
        let l = layout(&ram, 64 * MIB, Some(MIB), 0x37FF_FFFF, 100).expect("fits");
        assert_eq!(l.initrd, Some(0x3800_0000 - MIB));
        // Room only inside the kernel's window: refused.
        let tight = vec![r(0, 640 << 10), r(MIB, 64 * MIB)];
        let err = layout(&tight, 60 * MIB, Some(8 * MIB), 0x7FFF_FFFF, 100).expect_err("no room");
        assert!(err.contains("initrd"), "{err}");
        let err = layout(&tight, 80 * MIB, None, 0x7FFF_FFFF, 100).expect_err("kernel too big");
        assert!(err.contains("init_size"), "{err}");
    }

    #[test]
    fn test_zero_page_fields_at_boot_protocol_offsets() {
        let hdr = setup_header {
            version: 0x020F,
            ..setup_header::default()
        };
        let e820 = [
            E820 {
                addr: 0,
                size: 0x9FC00,
                kind: E820_RAM,
            },
            E820 {
                addr: 0x9FC00,
                size: 0x400,
                kind: E820_RESERVED,
            },
        ];
        let zp = zero_page(
            hdr,
            (0x20000, 10),
            Some((0x1F00_0000, 0x12345)),
            &e820,
            0xE0000,
        );
        let b = zp.as_slice();
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4"));
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8"));
        // boot.rst "The Zero Page" and "The Real-Mode Kernel Header" offsets.
        assert_eq!(u64_at(0x070), 0xE0000); // acpi_rsdp_addr
        assert_eq!(b[0x1E8], 2); // e820_entries
        assert_eq!(b[0x210], 0xFF); // type_of_loader
        assert_eq!(u32_at(0x218), 0x1F00_0000); // ramdisk_image
        assert_eq!(u32_at(0x21C), 0x12345); // ramdisk_size
        assert_eq!(u32_at(0x228), 0x20000); // cmd_line_ptr
        assert_eq!(u32_at(0x0C0), 0); // ext_ramdisk_image
                                      // e820_table at 0x2d0, 20 bytes per entry: addr, size, type.
        assert_eq!(u64_at(0x2D0 + 20), 0x9FC00);
        assert_eq!(u64_at(0x2D0 + 28), 0x400);
        assert_eq!(u32_at(0x2D0 + 36), E820_RESERVED);
        assert_eq!(b.len(), 4096);
    }

    #[test]
    fn test_gdt_segments_are_the_boot_protocol_flat_ones() {
        let cs = segment(2);
        assert_eq!(
            (
                cs.selector,
                cs.base,
                cs.limit,
                cs.type_,
                cs.l,
                cs.db,
                cs.s,
                cs.present,
                cs.g
            ),
            (0x10, 0, 0xFFFF_FFFF, 0xB, 1, 0, 1, 1, 1)
        );
        let ds = segment(3);
        assert_eq!(
            (
                ds.selector,
                ds.type_,
                ds.l,
                ds.db,
                ds.s,
                ds.present,
                ds.unusable
            ),
            (0x18, 0x3, 0, 1, 1, 1, 0)
        );
        let tr = segment(4);
        assert_eq!((tr.selector, tr.type_, tr.s, tr.present), (0x20, 0xB, 0, 1));
        assert_eq!(segment(0).unusable, 1);
        // The raw descriptors (as Firecracker and Cloud Hypervisor write them).
        assert_eq!(GDT[2], 0x00AF_9B00_0000_FFFF);
        assert_eq!(GDT[3], 0x00CF_9300_0000_FFFF);
        assert_eq!(gdt_bytes().len(), 48);
    }

    #[test]
    fn test_page_tables_identity_map_4_gib_with_2_mib_pages() {
        let t = page_tables();
        let word = |i: usize| u64::from_le_bytes(t[i * 8..i * 8 + 8].try_into().expect("8"));
        assert_eq!(t.len(), 6 * 4096);
        assert_eq!(word(0), 0xA000 | 0b11); // PML4[0] -> PDPT
        assert_eq!(word(1), 0);
        assert_eq!(word(512), 0xB000 | 0b11); // PDPT[0] -> PD 0
        assert_eq!(word(515), 0xE000 | 0b11); // PDPT[3] -> PD 3
        assert_eq!(word(516), 0);
        assert_eq!(word(1024), 0x83); // 0: present, writable, 2 MiB
        assert_eq!(word(1025), 0x20_0083);
        assert_eq!(word(1024 + 3 * 512 + 511), 0xFFE0_0083); // last 2 MiB below 4 GiB
    }

    #[test]
    fn test_boot_registers_enter_long_mode() {
        let s = boot_sregs(kvm_sregs {
            cr0: 0x6000_0010, // reset value: CD, NW, ET
            ..kvm_sregs::default()
        });
        assert_eq!(s.cr0, 0x8000_0031);
        assert_eq!((s.cr3, s.cr4, s.efer), (0x9000, 0x20, 0x500));
        assert_eq!(
            (s.cs.selector, s.ss.selector, s.tr.selector),
            (0x10, 0x18, 0x20)
        );
        assert_eq!(
            (s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit),
            (0x500, 47, 0x540, 7)
        );
        let r = boot_regs(0x10_0200, ZERO_PAGE_ADDR);
        assert_eq!((r.rip, r.rsi, r.rflags), (0x10_0200, 0x7000, 2));
        assert_eq!(boot_fpu().fcw, 0x37F);
    }
}
