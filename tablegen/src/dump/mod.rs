//! An independent decoder of ACPI tables: one table file (any System
//! Description Table, the FACS, or an RSDP) in, every field out, named as
//! in ACPI 6.5, in an iasl-like `[offset length] Field : value` layout.
//!
//! It decodes the tables vtopo emits and the ones a VMM or firmware commonly
//! adds: RSDP (§5.2.5.3), RSDT/XSDT (§5.2.7, §5.2.8), FADT (§5.2.9), FACS
//! (§5.2.10), MADT (§5.2.12: Local APIC, I/O APIC, Interrupt Source
//! Override, NMI Source, Local APIC NMI, Local APIC Address Override,
//! x2APIC, x2APIC NMI, GICC of 76/80/82 bytes, GICD, GIC MSI Frame, GICR,
//! ITS), SRAT (§5.2.16), SLIT (§5.2.17), GTDT (§5.2.25), PPTT (§5.2.30),
//! SPCR and MCFG (Microsoft and PCI Firmware specifications), and the
//! header of a DSDT/SSDT (§5.2.11; the AML body is left to `iasl -d`).
//! Any other signature gets its header and a byte count.
//!
//! It is written from the spec's offsets, not from [`crate::wire`], so that
//! decoding our own tables is a real cross-check of the encoder.
//!
//! Input is untrusted: every read is bounded (see `cursor`), a table whose
//! Length field or structures do not fit is a precise [`DecodeError`], and
//! nothing panics. A wrong checksum is *not* an error: the Checksum field
//! shows `(INVALID, expected 0xNN)`.
//!
//! ```
//! let toml = "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\n";
//! let plan = planner::plan_source("t.toml", toml).unwrap();
//! let tables = tablegen::build(&plan, &tablegen::Options::default());
//! let decoded = tablegen::dump::decode(tables.madt.bytes()).unwrap();
//! let text = tablegen::dump::render(&decoded);
//! assert!(text.contains("Type : 0x0B (GIC CPU Interface (GICC))"));
//! ```

mod cursor;
mod fixed;
mod madt;
mod numa;
mod pptt;
mod render;

#[cfg(test)]
mod robustness;

use std::fmt;
use std::path::{Path, PathBuf};

pub use fixed::{Fadt, Rsdp, Xsdt};
pub use madt::{Madt, MadtEntry, MadtProcessor, ProcessorKind};
pub use numa::{Slit, Srat, SratEntry, SratMemory, SratProcessor};
pub use pptt::{Pptt, PpttCache, PpttEntry, PpttProcessor};
pub use render::render;

use crate::table::AcpiTable;
use cursor::Cursor;

/// Length of the common System Description Table header (ACPI 6.5 §5.2.6).
pub const HEADER_LENGTH: usize = 36;

/// Why a table could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer than 4 bytes: not even a signature.
    #[error("Input is {available} bytes, too short for a table signature")]
    NoSignature {
        /// Bytes given.
        available: usize,
    },
    /// The input is shorter than the table's fixed header.
    #[error("{table}: input is {available} bytes, shorter than the {needed}-byte {what}")]
    TooShort {
        /// Signature.
        table: String,
        /// Bytes given.
        available: usize,
        /// Bytes the header needs.
        needed: usize,
        /// The header in question.
        what: &'static str,
    },
    /// The Length field claims more bytes than the input has.
    #[error("{table}: Length field is {length} bytes, larger than the input ({available} bytes)")]
    LengthPastEnd {
        /// Signature.
        table: String,
        /// The Length field.
        length: u64,
        /// Bytes given.
        available: usize,
    },
    /// The Length field is smaller than the table's fixed header.
    #[error("{table}: Length field is {length} bytes, smaller than the {minimum}-byte {what}")]
    LengthTooSmall {
        /// Signature.
        table: String,
        /// The Length field.
        length: u64,
        /// The smallest valid Length.
        minimum: usize,
        /// What that minimum is.
        what: &'static str,
    },
    /// A field does not fit in its structure (or the table).
    #[error(
        "{table}: {field} at offset {offset:#x} ({size} bytes) runs past the end of {within}, \
         which ends at offset {end:#x}"
    )]
    FieldPastEnd {
        /// Signature.
        table: String,
        /// The field's name.
        field: String,
        /// The field's table offset.
        offset: usize,
        /// The field's size.
        size: usize,
        /// The structure (or table) it belongs to.
        within: String,
        /// Where that structure ends.
        end: usize,
    },
    /// A structure's Length is shorter than its type needs (0 included).
    #[error(
        "{table}: {name} at offset {offset:#x} has Length {length}, shorter than {minimum} bytes"
    )]
    StructureTooShort {
        /// Signature.
        table: String,
        /// The structure's type, named.
        name: String,
        /// Its table offset.
        offset: usize,
        /// Its Length field.
        length: usize,
        /// The least Length its type allows.
        minimum: usize,
    },
    /// A structure's Length runs past the end of the table.
    #[error(
        "{table}: structure type {kind:#04x} at offset {offset:#x} has Length {length}, past \
         the end of the table at offset {end:#x}"
    )]
    StructurePastEnd {
        /// Signature.
        table: String,
        /// Structure type.
        kind: u8,
        /// Its table offset.
        offset: usize,
        /// Its Length field.
        length: usize,
        /// Where the table ends.
        end: usize,
    },
}

/// ACPI 6.5 §5.2.6 System Description Table Header, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Signature.
    pub signature: [u8; 4],
    /// Length.
    pub length: u32,
    /// Revision.
    pub revision: u8,
    /// Checksum as stored.
    pub checksum: u8,
    /// The Checksum that would make the table's bytes sum to zero.
    pub expected_checksum: u8,
    /// OEMID.
    pub oem_id: [u8; 6],
    /// OEM Table ID.
    pub oem_table_id: [u8; 8],
    /// OEM Revision.
    pub oem_revision: u32,
    /// Creator ID.
    pub creator_id: [u8; 4],
    /// Creator Revision.
    pub creator_revision: u32,
}

impl Header {
    /// True when the table's bytes sum to zero.
    #[must_use]
    pub fn checksum_ok(&self) -> bool {
        self.checksum == self.expected_checksum
    }
}

/// One line of a decoded table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A field.
    Field(Field),
    /// A separator between structures.
    Blank,
    /// Free text.
    Note(String),
}

/// One decoded field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Offset from the start of the table.
    pub offset: usize,
    /// Size in bytes.
    pub length: usize,
    /// Name, as in the spec.
    pub name: String,
    /// Value as shown (hex, text, and a name or flag summary in parentheses).
    pub value: String,
    /// Decoded flag bits or sub-values: (name, value) lines under the field.
    pub details: Vec<(String, String)>,
}

/// The typed content of a decoded table: what [`crate::lint`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Table {
    /// Root System Description Pointer.
    Rsdp(Rsdp),
    /// XSDT (8-byte entries) or RSDT (4-byte entries).
    Xsdt(Xsdt),
    /// Fixed ACPI Description Table.
    Fadt(Fadt),
    /// Firmware ACPI Control Structure.
    Facs,
    /// Multiple APIC Description Table.
    Madt(Madt),
    /// System Resource Affinity Table.
    Srat(Srat),
    /// System Locality Information Table.
    Slit(Slit),
    /// Processor Properties Topology Table.
    Pptt(Pptt),
    /// Generic Timer Description Table.
    Gtdt,
    /// Serial Port Console Redirection Table.
    Spcr,
    /// PCI Express memory-mapped configuration space table.
    Mcfg,
    /// DSDT or SSDT: an AML definition block of `aml_length` bytes.
    Aml {
        /// Bytes of AML after the header.
        aml_length: usize,
    },
    /// A table this decoder does not know: header only.
    Other,
}

/// One decoded table file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Signature: four characters, or `RSD PTR ` for an RSDP.
    pub signature: String,
    /// The table's name in the spec.
    pub title: &'static str,
    /// The common header (none for an RSDP or a FACS).
    pub header: Option<Header>,
    /// Typed content.
    pub table: Table,
    /// Every field, in table order.
    pub items: Vec<Item>,
}

/// The signature of an RSDP.
const RSDP_SIGNATURE: &[u8; 8] = b"RSD PTR ";

/// A table signature as text (non-printable bytes escaped).
fn signature_text(bytes: &[u8]) -> String {
    cursor::ascii(bytes)
}

/// The spec name of a table signature.
fn title(signature: &[u8]) -> &'static str {
    match signature {
        b"APIC" => "Multiple APIC Description Table (MADT)",
        b"FACP" => "Fixed ACPI Description Table (FADT)",
        b"FACS" => "Firmware ACPI Control Structure (FACS)",
        b"DSDT" => "Differentiated System Description Table (DSDT)",
        b"SSDT" => "Secondary System Description Table (SSDT)",
        b"XSDT" => "Extended System Description Table (XSDT)",
        b"RSDT" => "Root System Description Table (RSDT)",
        b"SRAT" => "System Resource Affinity Table (SRAT)",
        b"SLIT" => "System Locality Information Table (SLIT)",
        b"PPTT" => "Processor Properties Topology Table (PPTT)",
        b"GTDT" => "Generic Timer Description Table (GTDT)",
        b"SPCR" => "Serial Port Console Redirection Table (SPCR)",
        b"MCFG" => "PCI Express Memory-mapped Configuration Space Table (MCFG)",
        b"HMAT" => "Heterogeneous Memory Attribute Table (HMAT)",
        b"IORT" => "I/O Remapping Table (IORT)",
        b"DBG2" => "Debug Port Table 2 (DBG2)",
        b"HPET" => "High Precision Event Timer Table (HPET)",
        b"WAET" => "Windows ACPI Emulated Devices Table (WAET)",
        b"BGRT" => "Boot Graphics Resource Table (BGRT)",
        b"VIOT" => "Virtual I/O Translation Table (VIOT)",
        b"RSD PTR " => "Root System Description Pointer (RSDP)",
        _ => "unknown table",
    }
}

/// Decodes one table file: an RSDP, a FACS, or any System Description Table.
///
/// Bytes after the table's Length (a file with trailing data) are not
/// decoded; a note says how many there are.
///
/// # Errors
///
/// A [`DecodeError`] naming the table, the offset and what does not fit.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.starts_with(RSDP_SIGNATURE) {
        return fixed::rsdp(bytes);
    }
    let Some(signature) = bytes.get(..4) else {
        return Err(DecodeError::NoSignature {
            available: bytes.len(),
        });
    };
    if signature == b"FACS" {
        return fixed::facs(bytes);
    }
    let sig = signature_text(signature);
    if bytes.len() < HEADER_LENGTH {
        return Err(DecodeError::TooShort {
            table: sig,
            available: bytes.len(),
            needed: HEADER_LENGTH,
            what: "table header",
        });
    }
    let length = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let length_usize = usize::try_from(length).unwrap_or(usize::MAX);
    if length_usize < HEADER_LENGTH {
        return Err(DecodeError::LengthTooSmall {
            table: sig,
            length: u64::from(length),
            minimum: HEADER_LENGTH,
            what: "table header",
        });
    }
    if length_usize > bytes.len() {
        return Err(DecodeError::LengthPastEnd {
            table: sig,
            length: u64::from(length),
            available: bytes.len(),
        });
    }
    let table_bytes = &bytes[..length_usize];
    let mut c = Cursor::new(table_bytes, &sig, 0);
    let header = sdt_header(&mut c, table_bytes)?;
    let table = match signature {
        b"XSDT" => fixed::xsdt(&mut c, 8)?,
        b"RSDT" => fixed::xsdt(&mut c, 4)?,
        b"FACP" => fixed::fadt(&mut c, header.revision)?,
        b"APIC" => madt::madt(&mut c)?,
        b"SRAT" => numa::srat(&mut c)?,
        b"SLIT" => numa::slit(&mut c)?,
        b"PPTT" => pptt::pptt(&mut c, header.revision)?,
        b"GTDT" => fixed::gtdt(&mut c)?,
        b"SPCR" => fixed::spcr(&mut c)?,
        b"MCFG" => fixed::mcfg(&mut c)?,
        b"DSDT" | b"SSDT" => {
            let aml_length = c.remaining();
            c.blank();
            c.note(format!(
                "AML: {aml_length} bytes at offset {HEADER_LENGTH:#x} (use iasl -d)"
            ));
            Table::Aml { aml_length }
        }
        _ => {
            let left = c.remaining();
            c.blank();
            c.note(format!("body: {left} bytes not decoded"));
            Table::Other
        }
    };
    let mut items = c.finish();
    if bytes.len() > length_usize {
        items.push(Item::Blank);
        items.push(Item::Note(format!(
            "{} bytes after the table's Length ({length}) not decoded",
            bytes.len() - length_usize
        )));
    }
    Ok(Decoded {
        title: title(signature),
        signature: sig,
        header: Some(header),
        table,
        items,
    })
}

/// The sum of `bytes` modulo 256.
pub(crate) fn byte_sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b))
}

/// Decodes the 36-byte header; the caller checked that it fits.
fn sdt_header(c: &mut Cursor<'_>, table: &[u8]) -> Result<Header, DecodeError> {
    let signature = array(c.ascii("Signature", 4)?);
    c.annotate(title(&signature));
    let length = c.u32("Length")?;
    c.annotate(&format!("{length} bytes"));
    let revision = c.u8("Revision")?;
    let checksum = c.u8("Checksum")?;
    let expected_checksum = checksum.wrapping_sub(byte_sum(table));
    if checksum != expected_checksum {
        c.annotate(&format!("INVALID, expected {expected_checksum:#04X}"));
    }
    let oem_id = array(c.ascii("OEMID", 6)?);
    let oem_table_id = array(c.ascii("OEM Table ID", 8)?);
    let oem_revision = c.u32("OEM Revision")?;
    let creator_id = array(c.ascii("Creator ID", 4)?);
    let creator_revision = c.u32("Creator Revision")?;
    Ok(Header {
        signature,
        length,
        revision,
        checksum,
        expected_checksum,
        oem_id,
        oem_table_id,
        oem_revision,
        creator_id,
        creator_revision,
    })
}

/// A fixed-size array from a slice the cursor sized (zero-padded otherwise).
pub(crate) fn array<const N: usize>(slice: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (dst, src) in out.iter_mut().zip(slice) {
        *dst = *src;
    }
    out
}

/// One table file of a directory, or any table given by name and bytes:
/// the input of [`crate::lint::lint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    /// The file name (e.g. `APIC`, `SSDT1`, `DSDT.dat`) or the signature.
    pub name: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl TableFile {
    /// A table file.
    #[must_use]
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            bytes: bytes.into(),
        }
    }

    /// Decodes the file.
    ///
    /// # Errors
    ///
    /// As [`decode`].
    pub fn decode(&self) -> Result<Decoded, DecodeError> {
        decode(&self.bytes)
    }
}

impl From<&AcpiTable> for TableFile {
    fn from(table: &AcpiTable) -> Self {
        Self::new(table.signature().to_string(), table.bytes())
    }
}

/// A table file of a directory, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFile {
    /// The file name.
    pub name: String,
    /// The decoded table, or why it could not be decoded.
    pub decoded: Result<Decoded, DecodeError>,
}

/// Why a directory of tables could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// Listing the directory failed.
    #[error("Cannot list directory {path}")]
    List {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Reading a file failed.
    #[error("Cannot read table file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// True for the names [`read_dir`] takes: `*.aml`, `*.dat`, `*.bin`, or an
/// extension-less name like Linux's `/sys/firmware/acpi/tables` entries
/// (four signature characters, then an optional instance number: `APIC`,
/// `SSDT1`).
#[must_use]
pub fn is_table_file_name(name: &str) -> bool {
    if let Some((_, ext)) = name.rsplit_once('.') {
        return ["aml", "dat", "bin"]
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e));
    }
    let bytes = name.as_bytes();
    bytes.len() >= 4
        && bytes[..4]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        && bytes[4..].iter().all(u8::is_ascii_digit)
}

/// Reads every table file of `dir` (see [`is_table_file_name`]), sorted by
/// file name; subdirectories (Linux's `dynamic/`, `data/`) are skipped.
///
/// # Errors
///
/// A [`DirError`] when the directory or a file cannot be read.
pub fn read_dir(dir: &Path) -> Result<Vec<TableFile>, DirError> {
    let list = |source| DirError::List {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list)? {
        let entry = entry.map_err(list)?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if path.is_file() && is_table_file_name(name) {
            names.push((name.to_string(), path));
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|(name, path)| match std::fs::read(&path) {
            Ok(bytes) => Ok(TableFile { name, bytes }),
            Err(source) => Err(DirError::Read { path, source }),
        })
        .collect()
}

/// Decodes every table file of `dir` (see [`read_dir`]).
///
/// # Errors
///
/// A [`DirError`] when the directory or a file cannot be read; a table
/// that cannot be decoded is an `Err` in its [`DecodedFile`] instead.
pub fn decode_dir(dir: &Path) -> Result<Vec<DecodedFile>, DirError> {
    Ok(read_dir(dir)?
        .into_iter()
        .map(|file| DecodedFile {
            decoded: file.decode(),
            name: file.name,
        })
        .collect())
}

impl fmt::Display for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self))
    }
}

#[cfg(test)]
mod tests;
