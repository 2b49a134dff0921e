#!/usr/bin/env python3
"""Make QEMU q35's own FADT and MADT usable for vCPU hotplug in a software-emulated guest.

Usage: lab/tools/q35-hotplug-override.py TABLES_DIR OUT_DIR

TABLES_DIR holds FACP.dat and APIC.dat dumped from a guest of the SAME QEMU configuration
(boot with vtopo.dumpacpi=1 and decode the VTOPO-TABLE lines, see docs/lab.md). Writes
OUT_DIR/FACP.aml and OUT_DIR/APIC.aml for scripts/mk-acpi-override.sh:

- FADT: revision 3 (244 bytes) -> revision 6.3 (276 bytes, FADT Minor Revision = 3; the
  new sleep-control/status registers and hypervisor id are zero).
- MADT: revision 3 -> 5; every Local APIC entry with Enabled=0 gets Online Capable=1.
- both: OEM revision 1 -> 2 (Linux upgrades a table only to a strictly greater OEM revision).

Why: Linux 6.12.95 (with "x86/acpi/boot: Correct acpi_is_processor_usable() check again")
counts a disabled MADT Local APIC entry as a hotpluggable CPU only if the FADT is ACPI 6.3+
and the entry is Online Capable, or, for older FADTs, only when it detects a hypervisor
(CPUID 0x40000000 signature). QEMU's TCG exposes no hypervisor signature Linux knows, so with
QEMU's own q35 tables a TCG guest gets possible == present and cannot hot-add CPUs.
The FADT's DSDT/FACS addresses are kept, so the dump must come from the same configuration
(-m, -smp, NUMA options): the firmware places the tables according to it.
"""
import struct
import sys


def checksum(table: bytearray) -> bytes:
    table[9] = 0
    table[9] = (-sum(table)) & 0xFF
    return bytes(table)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]

    fadt = bytearray(open(f"{src}/FACP.dat", "rb").read())
    if fadt[:4] != b"FACP" or len(fadt) != 244 or fadt[8] != 3:
        print(f"unexpected FADT (len {len(fadt)}, rev {fadt[8]}): want QEMU q35's rev 3", file=sys.stderr)
        return 1
    fadt += bytes(276 - 244)
    struct.pack_into("<I", fadt, 4, 276)
    fadt[8] = 6          # revision
    fadt[131] = 3        # FADT minor revision -> ACPI 6.3
    struct.pack_into("<I", fadt, 24, struct.unpack_from("<I", fadt, 24)[0] + 1)
    open(f"{dst}/FACP.aml", "wb").write(checksum(fadt))

    madt = bytearray(open(f"{src}/APIC.dat", "rb").read())
    if madt[:4] != b"APIC":
        print("APIC.dat is not a MADT", file=sys.stderr)
        return 1
    madt[8] = 5
    struct.pack_into("<I", madt, 24, struct.unpack_from("<I", madt, 24)[0] + 1)
    off = 44
    while off + 2 <= len(madt):
        typ, length = madt[off], madt[off + 1]
        if length == 0:
            break
        if typ == 0:  # Processor Local APIC: uid u8, apic id u8, flags u32
            flags = struct.unpack_from("<I", madt, off + 4)[0]
            if not flags & 1:
                struct.pack_into("<I", madt, off + 4, flags | 2)
                print(f"MADT: ACPI UID {madt[off + 2]} APIC ID {madt[off + 3]}: Enabled=0 -> Online Capable")
        off += length
    open(f"{dst}/APIC.aml", "wb").write(checksum(madt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
