/*
 * SRAT for QEMU arm64 `virt` + UEFI (Debian qemu-efi-aarch64 2022.11), 2 NUMA nodes of
 * 512 MiB (RAM 0x40000000-0x5fffffff node 0, 0x60000000-0x7fffffff node 1), 4 vCPUs
 * (ACPI UIDs 0-1 node 0, 2-3 node 1): QEMU's own SRAT (as generated for
 *   -smp 4,sockets=1,clusters=2,cores=2,threads=1 -m 1G
 *   -numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1 (512M each)
 *   -numa cpu,node-id=0,socket-id=0,cluster-id=0 -numa cpu,node-id=1,socket-id=0,cluster-id=1)
 * with OEM revision 2 and ONE EXTRA memory affinity entry: 0x04000000-0x07ffffff on node 0.
 *
 * Why: EDK2 reports the second flash bank (0x04000000, 64 MiB, the UEFI variable store) as
 * runtime MMIO with the WC attribute; Linux's arm64 EFI code adds every WB/WT/WC region to
 * memblock, so 64 MiB of "RAM" lies outside QEMU's SRAT and the kernel rejects the whole NUMA
 * description ("NUMA: no nodes coverage for 64MB of 1088MB RAM", "Faking a node"). Covering
 * the flash bank in the SRAT makes the two nodes come up.
 * iasl data-table syntax (iasl computes the length and checksum).
 */
[0004]                    Signature : "SRAT"    [System Resource Affinity Table]
[0004]                 Table Length : 00000000
[0001]                     Revision : 03
[0001]                     Checksum : 00
[0006]                       Oem ID : "BOCHS "
[0008]                 Oem Table ID : "BXPC    "
[0004]                 Oem Revision : 00000002
[0004]              Asl Compiler ID : "INTL"
[0004]        Asl Compiler Revision : 20200925

[0004]               Table Revision : 00000001
[0008]                     Reserved : 0000000000000000

[0001]                Subtable Type : 03 [GICC Affinity]
[0001]                       Length : 12

[0004]             Proximity Domain : 00000000
[0004]           Acpi Processor UID : 00000000
[0004]        Flags (decoded below) : 00000001
                                     Enabled : 1
[0004]                 Clock Domain : 00000000

[0001]                Subtable Type : 03 [GICC Affinity]
[0001]                       Length : 12

[0004]             Proximity Domain : 00000000
[0004]           Acpi Processor UID : 00000001
[0004]        Flags (decoded below) : 00000001
                                     Enabled : 1
[0004]                 Clock Domain : 00000000

[0001]                Subtable Type : 03 [GICC Affinity]
[0001]                       Length : 12

[0004]             Proximity Domain : 00000001
[0004]           Acpi Processor UID : 00000002
[0004]        Flags (decoded below) : 00000001
                                     Enabled : 1
[0004]                 Clock Domain : 00000000

[0001]                Subtable Type : 03 [GICC Affinity]
[0001]                       Length : 12

[0004]             Proximity Domain : 00000001
[0004]           Acpi Processor UID : 00000003
[0004]        Flags (decoded below) : 00000001
                                     Enabled : 1
[0004]                 Clock Domain : 00000000

[0001]                Subtable Type : 01 [Memory Affinity]
[0001]                       Length : 28

[0004]             Proximity Domain : 00000000
[0002]                    Reserved1 : 0000
[0008]                 Base Address : 0000000040000000
[0008]               Address Length : 0000000020000000
[0004]                    Reserved2 : 00000000
[0004]        Flags (decoded below) : 00000001
                                     Enabled : 1
                               Hot Pluggable : 0
                                Non-Volatile : 0
[0008]                    Reserved3 : 0000000000000000

[0001]                Subtable Type : 01 [Memory Affinity]
[0001]                       Length : 28

[0004]             Proximity Domain : 00000001
[0002]                    Reserved1 : 0000
[0008]                 Base Address : 0000000060000000
[0008]               Address Length : 0000000020000000
[0004]                    Reserved2 : 00000000
[0004]        Flags (decoded below) : 00000001
                                     Enabled : 1
                               Hot Pluggable : 0
                                Non-Volatile : 0
[0008]                    Reserved3 : 0000000000000000

/* Extra: the UEFI variable-store flash bank, so that all of memblock is covered. */
[0001]                Subtable Type : 01 [Memory Affinity]
[0001]                       Length : 28
[0004]             Proximity Domain : 00000000
[0002]                    Reserved1 : 0000
[0008]                 Base Address : 0000000004000000
[0008]               Address Length : 0000000004000000
[0004]                    Reserved2 : 00000000
[0004]        Flags (decoded below) : 00000001
                             Enabled : 1
                       Hot Pluggable : 0
                        Non-Volatile : 0
[0008]                    Reserved3 : 0000000000000000
