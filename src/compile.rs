//! `vtopo compile`: a plan's tables written to a directory, atomically.
//!
//! The directory gets one file per table (`<SIGNATURE>.aml`: `APIC.aml` for
//! the MADT, `FACP.aml` for the FADT, `RSDP.aml` for the RSDP), with
//! `--base` also `image.bin` (every table linked at its address), and
//! `manifest.json`: per table its signature, revision, length, checksum,
//! SHA-256 and address, every pointer field, and the SHA-256 of the plan's
//! compact JSON, so a deployment can pin the guest-visible tables across
//! upgrades and live migration.
//!
//! The files are written to a fresh sibling directory that is renamed into
//! place only when complete: an error leaves no partial directory behind.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tablegen::link::{Linked, Placement};

/// Version of the manifest's layout.
pub const MANIFEST_VERSION: u32 = 1;

/// Errors of `vtopo compile`.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The output directory could not be written.
    #[error(transparent)]
    Output(crate::output::OutputError),
}

#[derive(Debug, Serialize)]
struct TableEntry {
    file: String,
    signature: String,
    revision: u8,
    length: usize,
    checksum: String,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

#[derive(Debug, Serialize)]
struct PointerEntry {
    table: String,
    offset: usize,
    size: usize,
    target: String,
    value: String,
}

#[derive(Debug, Serialize)]
struct Manifest {
    manifest_version: u32,
    vtopo_version: &'static str,
    plan_sha256: String,
    platform: &'static str,
    oem_id: String,
    oem_table_id: String,
    oem_revision: u32,
    linked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<ImageEntry>,
    tables: Vec<TableEntry>,
    pointers: Vec<PointerEntry>,
}

#[derive(Debug, Serialize)]
struct ImageEntry {
    file: &'static str,
    base: String,
    length: usize,
    sha256: String,
}

/// Lowercase hex of a digest.
fn hex(digest: &[u8]) -> String {
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of `bytes`, in hex (manifest.json, boot.json).
pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of the plan's compact JSON (`serde_json::to_writer`), streamed
/// into the hasher: the plan of 4096 CPUs is 1.2 MB of JSON, never built.
pub(crate) fn plan_sha256(plan: &planner::Plan) -> String {
    let mut hasher = Sha256::new();
    // Writing plain data into a hasher cannot fail.
    let _ = serde_json::to_writer(&mut hasher, plan);
    hex(&hasher.finalize())
}

/// Everything `compile` writes, in memory.
#[derive(Debug)]
pub struct Output {
    files: Vec<(String, Vec<u8>)>,
}

impl Output {
    /// Builds the files for `plan` compiled with `options` and `placement`.
    #[must_use]
    pub fn new(plan: &planner::Plan, options: &tablegen::Options, placement: Placement) -> Self {
        let set = tablegen::build(plan, options);
        let Linked {
            tables,
            pointers,
            image,
        } = tablegen::link::link(&set, placement);
        let mut files = Vec::new();
        let mut entries = Vec::new();
        for t in &tables {
            let file = format!("{}.aml", t.name);
            let (signature, revision, checksum) = if t.name == "RSDP" {
                ("RSD PTR ".to_string(), t.bytes[15], t.bytes[8])
            } else {
                (t.name.clone(), t.bytes[8], t.bytes[9])
            };
            entries.push(TableEntry {
                file: file.clone(),
                signature,
                revision,
                length: t.bytes.len(),
                checksum: format!("{checksum:#04x}"),
                sha256: hex_sha256(&t.bytes),
                address: t.address.map(|a| format!("{:#x}", a.0)),
            });
            files.push((file, t.bytes.clone()));
        }
        let image_entry = image.as_ref().map(|img| ImageEntry {
            file: "image.bin",
            base: tables
                .first()
                .and_then(|t| t.address)
                .map_or_else(String::new, |a| format!("{:#x}", a.0)),
            length: img.len(),
            sha256: hex_sha256(img),
        });
        if let Some(img) = image {
            files.push(("image.bin".into(), img));
        }
        let manifest = Manifest {
            manifest_version: MANIFEST_VERSION,
            vtopo_version: env!("CARGO_PKG_VERSION"),
            plan_sha256: plan_sha256(plan),
            platform: plan.platform.name(),
            oem_id: String::from_utf8_lossy(&options.oem_id()).into_owned(),
            oem_table_id: String::from_utf8_lossy(&options.oem_table_id()).into_owned(),
            oem_revision: options.oem_revision(),
            linked: image_entry.is_some(),
            image: image_entry,
            tables: entries,
            pointers: pointers
                .into_iter()
                .map(|p| PointerEntry {
                    table: p.table,
                    offset: p.offset,
                    size: p.size,
                    target: p.target,
                    value: format!("{:#x}", p.value),
                })
                .collect(),
        };
        // Serializing strings and integers cannot fail.
        let json = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
        files.push(("manifest.json".into(), json.into_bytes()));
        Self { files }
    }

    /// File names and contents.
    #[must_use]
    pub fn files(&self) -> &[(String, Vec<u8>)] {
        &self.files
    }

    /// Writes the files to `dir`, replacing a previous `compile` output there.
    ///
    /// # Errors
    /// The directory cannot be written, or `dir` holds something else.
    pub fn write(&self, dir: &Path) -> Result<(), CompileError> {
        crate::output::write_dir_atomically(dir, "manifest.json", &self.files)
            .map_err(CompileError::Output)
    }
}
