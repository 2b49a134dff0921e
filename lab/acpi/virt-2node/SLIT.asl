/*
 * Example ACPI table upgrade for the guest-lab proof: a SLIT for a 2-node QEMU machine
 * (q35 or arm64 virt) with distance 31 between the nodes instead of QEMU's 20.
 *
 * Linux replaces the firmware SLIT with this one only because the OEM ID and OEM table ID
 * equal QEMU's ("BOCHS " / "BXPC    ") and the OEM revision (2) is greater than QEMU's (1).
 * iasl data-table syntax; compile: iasl -p OUT/SLIT lab/acpi/SLIT.asl
 * (scripts/mk-acpi-override.sh compiles it for you).
 */
[0004]                          Signature : "SLIT"    [System Locality Information Table]
[0004]                       Table Length : 00000030
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "BOCHS "
[0008]                       Oem Table ID : "BXPC    "
[0004]                       Oem Revision : 00000002
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925

[0008]                         Localities : 0000000000000002
[0002]                       Locality   0 : 0A 1F
[0002]                       Locality   1 : 1F 0A
