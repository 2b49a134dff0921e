//! Guest physical memory layout: node RAM placed in the platform's RAM
//! windows in node order, then one memory hotplug window per node.
//!
//! Placement follows QEMU's x86 SRAT construction (hw/i386/acpi-build.c
//! `build_srat`): addresses advance linearly, a node that crosses a legacy
//! hole (640 KiB..1 MiB) loses those bytes, and a node that reaches the end of
//! a window (the 32-bit PCI hole) continues at the next window. Hotplug windows
//! start after all RAM, each aligned to 1 GiB, in the highest window.

use crate::ids::{GuestAddr, GuestRange};
use crate::platform::PlatformKind;

/// Alignment of memory hotplug windows.
pub const HOTPLUG_ALIGN: u64 = 1 << 30;

/// Where every node's memory went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Per node, its RAM ranges.
    pub ram: Vec<Vec<GuestRange>>,
    /// Per node, its hotplug windows.
    pub hotplug: Vec<Vec<GuestRange>>,
}

/// Memory that does not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoesNotFit {
    /// What did not fit: "RAM" or "the hotplug window of node N".
    pub what: String,
    /// Bytes asked for in total, including everything placed before.
    pub needed_end: u64,
    /// End of the highest RAM window.
    pub limit: u64,
}

fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align).saturating_mul(align)
}

/// Lays out `ram[i]` bytes of boot RAM and `hotplug[i]` bytes of hotplug
/// window for each node `i`.
///
/// # Errors
/// [`DoesNotFit`] when RAM or a window runs past the platform's map.
pub fn layout(platform: PlatformKind, ram: &[u64], hotplug: &[u64]) -> Result<Layout, DoesNotFit> {
    let total: u64 = ram.iter().fold(0u64, |a, &b| a.saturating_add(b));
    let windows = platform.ram_windows(total);
    let holes = platform.ram_holes();
    let limit = windows.last().map_or(0, |w| w.1);

    let mut window = 0;
    let mut cursor = windows.first().map_or(0, |w| w.0);
    let mut out_ram = Vec::with_capacity(ram.len());
    for &size in ram {
        let mut ranges: Vec<GuestRange> = Vec::new();
        let mut remaining = size;
        while remaining > 0 {
            let Some(&(_, end)) = windows.get(window) else {
                return Err(DoesNotFit {
                    what: "RAM".into(),
                    needed_end: cursor.saturating_add(remaining),
                    limit,
                });
            };
            let take = remaining.min(end - cursor);
            push_without_holes(&mut ranges, cursor, cursor + take, holes);
            cursor += take;
            remaining -= take;
            if cursor == end {
                window += 1;
                if let Some(&(start, _)) = windows.get(window) {
                    cursor = start;
                }
            }
        }
        out_ram.push(ranges);
    }

    let last_start = windows.last().map_or(0, |w| w.0);
    let mut next = align_up(cursor.max(last_start), HOTPLUG_ALIGN);
    let mut out_hotplug = Vec::with_capacity(hotplug.len());
    for (node, &size) in hotplug.iter().enumerate() {
        if size == 0 {
            out_hotplug.push(Vec::new());
            continue;
        }
        let end = next.saturating_add(size);
        if end > limit {
            return Err(DoesNotFit {
                what: format!("the memory hotplug window of node {node}"),
                needed_end: end,
                limit,
            });
        }
        out_hotplug.push(vec![GuestRange {
            base: GuestAddr(next),
            size,
        }]);
        next = align_up(end, HOTPLUG_ALIGN);
    }
    Ok(Layout {
        ram: out_ram,
        hotplug: out_hotplug,
    })
}

fn push_without_holes(out: &mut Vec<GuestRange>, start: u64, end: u64, holes: &[(u64, u64)]) {
    let mut pieces = vec![(start, end)];
    for &(hs, he) in holes {
        pieces = pieces
            .into_iter()
            .flat_map(|(s, e)| {
                let mut v = Vec::new();
                if s < hs.min(e) {
                    v.push((s, hs.min(e)));
                }
                if he.max(s) < e {
                    v.push((he.max(s), e));
                }
                v
            })
            .collect();
    }
    for (s, e) in pieces {
        // Merge with the previous range when contiguous.
        match out.last_mut() {
            Some(last) if last.end() == s => last.size += e - s,
            _ => out.push(GuestRange {
                base: GuestAddr(s),
                size: e - s,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn r(base: u64, size: u64) -> GuestRange {
        GuestRange {
            base: GuestAddr(base),
            size,
        }
    }

    #[test]
    fn test_virt_nodes_are_contiguous_from_1gib() {
        let l = layout(PlatformKind::QemuVirt, &[GIB, 2 * GIB], &[0, 0]).unwrap();
        assert_eq!(l.ram, vec![vec![r(GIB, GIB)], vec![r(2 * GIB, 2 * GIB)]]);
    }

    #[test]
    fn test_q35_node0_loses_the_640k_hole() {
        let l = layout(PlatformKind::QemuQ35, &[GIB], &[0]).unwrap();
        assert_eq!(l.ram[0], vec![r(0, 640 << 10), r(MIB, GIB - MIB)]);
    }

    #[test]
    fn test_q35_node_spanning_pci_hole_continues_at_4gib() {
        // 3 GiB total: lowmem is 2 GiB, so node 1 (2 GiB from 1 GiB) splits.
        let l = layout(PlatformKind::QemuQ35, &[GIB, 2 * GIB], &[0, 0]).unwrap();
        assert_eq!(l.ram[1], vec![r(GIB, GIB), r(4 * GIB, GIB)]);
    }

    #[test]
    fn test_hotplug_windows_follow_ram_aligned_to_1gib() {
        let l = layout(PlatformKind::QemuVirt, &[GIB + 2 * MIB], &[4 * GIB]).unwrap();
        // RAM ends at 2 GiB + 2 MiB; the window starts at the next GiB.
        assert_eq!(l.hotplug[0], vec![r(3 * GIB, 4 * GIB)]);
    }

    #[test]
    fn test_too_much_ram_does_not_fit() {
        let err = layout(PlatformKind::QemuVirt, &[300 * GIB], &[0]).unwrap_err();
        assert_eq!(err.limit, 256 * GIB);
        assert_eq!(err.what, "RAM");
    }
}
