//! A minimal flattened device tree writer (Devicetree Specification v0.4,
//! chapter 5 "Flattened Devicetree (DTB) Format"), infallible by
//! construction: node and property names are constants or formatted from
//! integers here, and string values are checked for NUL bytes before they
//! get here ([`super::BootError::CommandLineNul`]).
//!
//! The output is byte-identical to rust-vmm's `vm-fdt` for the same calls
//! (header, an empty memory reservation block at offset 40, the structure
//! block, then the strings block with names in first-use order); the unit
//! tests compare the two.

use zerocopy::big_endian::U32;
use zerocopy::{Immutable, IntoBytes};

use crate::table::u32_len;

/// Devicetree Specification v0.4 §5.2 "Header" (`struct fdt_header`): ten
/// big-endian 32-bit fields.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, IntoBytes, Immutable)]
pub struct FdtHeader {
    /// magic: 0xd00dfeed.
    pub magic: U32,
    /// totalsize: of the whole blob.
    pub totalsize: U32,
    /// off_dt_struct: offset of the structure block.
    pub off_dt_struct: U32,
    /// off_dt_strings: offset of the strings block.
    pub off_dt_strings: U32,
    /// off_mem_rsvmap: offset of the memory reservation block.
    pub off_mem_rsvmap: U32,
    /// version: 17.
    pub version: U32,
    /// last_comp_version: 16.
    pub last_comp_version: U32,
    /// boot_cpuid_phys: 0 (CPUs are described by ACPI, not the tree).
    pub boot_cpuid_phys: U32,
    /// size_dt_strings: length of the strings block.
    pub size_dt_strings: U32,
    /// size_dt_struct: length of the structure block.
    pub size_dt_struct: U32,
}

const _: () = assert!(size_of::<FdtHeader>() == FdtHeader::LENGTH);

impl FdtHeader {
    /// Length of the header in bytes.
    pub const LENGTH: usize = 40;
    /// FDT magic.
    pub const MAGIC: u32 = 0xd00d_feed;
    /// Version of the format written.
    pub const VERSION: u32 = 17;
    /// Lowest version it is backwards compatible with.
    pub const LAST_COMP_VERSION: u32 = 16;
}

/// Devicetree Specification v0.4 §5.3.2 `struct fdt_reserve_entry`: the
/// all-zero entry ends the memory reservation block.
const RESERVE_ENTRY_LENGTH: usize = 16;

/// Devicetree Specification v0.4 §5.4.1 "Lexical structure" tokens.
mod token {
    /// FDT_BEGIN_NODE, followed by the node's unit name, NUL-terminated, padded to 4.
    pub const BEGIN_NODE: u32 = 0x1;
    /// FDT_END_NODE.
    pub const END_NODE: u32 = 0x2;
    /// FDT_PROP, followed by `struct { len; nameoff; }` and the value, padded to 4.
    pub const PROP: u32 = 0x3;
    /// FDT_END: the last token of the structure block.
    pub const END: u32 = 0x9;
}

/// A device tree under construction.
#[derive(Debug, Clone, Default)]
pub struct Fdt {
    structure: Vec<u8>,
    strings: Vec<u8>,
    names: Vec<(&'static str, u32)>,
}

impl Fdt {
    /// An empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn push_u32(&mut self, value: u32) {
        self.structure.extend_from_slice(&value.to_be_bytes());
    }

    fn pad(&mut self) {
        while self.structure.len() % 4 != 0 {
            self.structure.push(0);
        }
    }

    /// Opens a node (`""` for the root). `name` has no NUL byte.
    pub fn begin_node(&mut self, name: &str) {
        self.push_u32(token::BEGIN_NODE);
        self.structure.extend_from_slice(name.as_bytes());
        self.structure.push(0);
        self.pad();
    }

    /// Closes the innermost open node.
    pub fn end_node(&mut self) {
        self.push_u32(token::END_NODE);
    }

    /// Offset of `name` in the strings block, added on first use
    /// (Devicetree Specification v0.4 §5.5 "Strings Block").
    fn name_offset(&mut self, name: &'static str) -> u32 {
        if let Some(&(_, off)) = self.names.iter().find(|(n, _)| *n == name) {
            return off;
        }
        let off = u32_len(self.strings.len());
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        self.names.push((name, off));
        off
    }

    /// A property with a raw value.
    pub fn property(&mut self, name: &'static str, value: &[u8]) {
        let nameoff = self.name_offset(name);
        self.push_u32(token::PROP);
        self.push_u32(u32_len(value.len()));
        self.push_u32(nameoff);
        self.structure.extend_from_slice(value);
        self.pad();
    }

    /// A `<u32>` property.
    pub fn property_u32(&mut self, name: &'static str, value: u32) {
        self.property(name, &value.to_be_bytes());
    }

    /// A `<u64>` property (two cells).
    pub fn property_u64(&mut self, name: &'static str, value: u64) {
        self.property(name, &value.to_be_bytes());
    }

    /// A property of 64-bit values (two cells each).
    pub fn property_u64s(&mut self, name: &'static str, values: &[u64]) {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        self.property(name, &bytes);
    }

    /// A `<string>` property. `value` has no NUL byte.
    pub fn property_string(&mut self, name: &'static str, value: &str) {
        let mut bytes = Vec::with_capacity(value.len() + 1);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        self.property(name, &bytes);
    }

    /// The blob: header, an empty memory reservation block, the structure
    /// block ending in FDT_END, the strings block.
    #[must_use]
    pub fn finish(mut self) -> Vec<u8> {
        self.push_u32(token::END);
        let off_mem_rsvmap = FdtHeader::LENGTH;
        let off_dt_struct = off_mem_rsvmap + RESERVE_ENTRY_LENGTH;
        let off_dt_strings = off_dt_struct + self.structure.len();
        let totalsize = off_dt_strings + self.strings.len();
        let header = FdtHeader {
            magic: U32::new(FdtHeader::MAGIC),
            totalsize: U32::new(u32_len(totalsize)),
            off_dt_struct: U32::new(u32_len(off_dt_struct)),
            off_dt_strings: U32::new(u32_len(off_dt_strings)),
            off_mem_rsvmap: U32::new(u32_len(off_mem_rsvmap)),
            version: U32::new(FdtHeader::VERSION),
            last_comp_version: U32::new(FdtHeader::LAST_COMP_VERSION),
            boot_cpuid_phys: U32::new(0),
            size_dt_strings: U32::new(u32_len(self.strings.len())),
            size_dt_struct: U32::new(u32_len(self.structure.len())),
        };
        let mut out = Vec::with_capacity(totalsize);
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&[0u8; RESERVE_ENTRY_LENGTH]);
        out.extend_from_slice(&self.structure);
        out.extend_from_slice(&self.strings);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same tree through vm-fdt (an independent encoder).
    fn with_vm_fdt() -> Vec<u8> {
        let mut w = vm_fdt::FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 2).unwrap();
        w.property_string("compatible", "linux,dummy-virt").unwrap();
        let chosen = w.begin_node("chosen").unwrap();
        w.property_string("bootargs", "acpi=force console=ttyAMA0")
            .unwrap();
        w.property_u64("linux,uefi-system-table", 0x7fe0_0000)
            .unwrap();
        w.property_u32("linux,uefi-mmap-size", 96).unwrap();
        w.end_node(chosen).unwrap();
        let memory = w.begin_node("memory@40000000").unwrap();
        w.property_string("device_type", "memory").unwrap();
        w.property_array_u64("reg", &[0x4000_0000, 0x4000_0000])
            .unwrap();
        w.end_node(memory).unwrap();
        w.end_node(root).unwrap();
        w.finish().unwrap()
    }

    fn with_ours() -> Vec<u8> {
        let mut f = Fdt::new();
        f.begin_node("");
        f.property_u32("#address-cells", 2);
        f.property_u32("#size-cells", 2);
        f.property_string("compatible", "linux,dummy-virt");
        f.begin_node("chosen");
        f.property_string("bootargs", "acpi=force console=ttyAMA0");
        f.property_u64("linux,uefi-system-table", 0x7fe0_0000);
        f.property_u32("linux,uefi-mmap-size", 96);
        f.end_node();
        f.begin_node("memory@40000000");
        f.property_string("device_type", "memory");
        f.property_u64s("reg", &[0x4000_0000, 0x4000_0000]);
        f.end_node();
        f.end_node();
        f.finish()
    }

    #[test]
    fn test_bytes_equal_vm_fdt() {
        assert_eq!(with_ours(), with_vm_fdt());
    }

    #[test]
    fn test_header_fields() {
        let dtb = with_ours();
        let be = |at: usize| u32::from_be_bytes(dtb[at..at + 4].try_into().unwrap());
        assert_eq!(be(0), FdtHeader::MAGIC);
        assert_eq!(be(4) as usize, dtb.len());
        assert_eq!(
            be(8),
            56,
            "structure block after the 16-byte reservation terminator"
        );
        assert_eq!(
            be(16),
            40,
            "memory reservation block right after the header"
        );
        assert_eq!((be(20), be(24)), (17, 16));
        // The strings block ends the blob; names appear once, in first-use order.
        let strings = &dtb[be(12) as usize..];
        assert_eq!(be(32) as usize, strings.len());
        assert!(strings.starts_with(b"#address-cells\0#size-cells\0compatible\0bootargs\0"));
    }
}
