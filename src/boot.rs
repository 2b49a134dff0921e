//! `vtopo boot-artifacts`: what an arm64 guest needs instead of UEFI
//! firmware (`tablegen::boot`), written to a directory atomically:
//!
//! - `boot.dtb`: the stub device tree (load with QEMU `-dtb`);
//! - `boot-blob.bin`: the EFI system table, configuration tables, EFI memory
//!   map and the linked ACPI tables, for guest RAM at the address in
//!   `boot.json` (QEMU: `-device loader,file=...,addr=...,force-raw=on`);
//! - `boot.json`: every address (blob, system table, memory map and its
//!   descriptors, RSDP, each table), the bootargs, and the QEMU options.
//!
//! Like `vtopo compile`, the files are written to a fresh sibling directory
//! renamed into place when complete; an existing directory is replaced only
//! when it holds a previous `boot-artifacts` output (a `boot.json`).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use planner::arch::kvm_linear_mpidr;
use planner::ids::{GuestAddr, GuestRange};
use planner::platform::PlatformKind;
use serde::Serialize;

use crate::cli::parse_integer;
use crate::compile::{hex_sha256, plan_sha256};
use tablegen::boot::{BootArtifacts, BootError, BootOptions};

/// Version of `boot.json`'s layout.
pub const BOOT_JSON_VERSION: u32 = 1;
/// The device tree file.
pub const DTB_FILE: &str = "boot.dtb";
/// The blob file.
pub const BLOB_FILE: &str = "boot-blob.bin";
/// The description file (also the marker of a replaceable output directory).
pub const JSON_FILE: &str = "boot.json";

/// Exit code for invalid input (the topology).
const EXIT_INVALID: u8 = 1;
/// Exit code for options that do not fit the plan.
const EXIT_USAGE: u8 = 2;

/// Arguments of `vtopo boot-artifacts`.
#[derive(Debug, clap::Args)]
pub struct BootArgs {
    /// Topology file (TOML); aarch64 plans only.
    pub file: PathBuf,
    /// Output directory (replaced if it holds a previous boot-artifacts output).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Kernel command line (`/chosen` bootargs); `acpi=force` is added unless
    /// it has `acpi=force` or `acpi=on`. QEMU's `-append` replaces it.
    #[arg(long, default_value = "")]
    pub cmdline: String,
    /// Guest physical address of the initrd (`/chosen` linux,initrd-start;
    /// QEMU writes its own).
    #[arg(long, value_parser = parse_integer, requires = "initrd_size")]
    pub initrd_start: Option<u64>,
    /// Size of the initrd in bytes.
    #[arg(long, value_parser = parse_integer, requires = "initrd_start")]
    pub initrd_size: Option<u64>,
    /// Guest physical address of boot-blob.bin (4 KiB aligned, inside one
    /// boot RAM range); default: the top of boot RAM, 2 MiB aligned.
    #[arg(long, value_parser = parse_integer)]
    pub blob_address: Option<u64>,
}

/// Errors of `vtopo boot-artifacts`.
#[derive(Debug, thiserror::Error)]
pub enum BootCliError {
    #[error("Cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(#[source] planner::Diagnostics),
    #[error("Cannot build boot artifacts for {path}")]
    Boot {
        path: String,
        #[source]
        source: BootError,
    },
    #[error(transparent)]
    Output(crate::output::OutputError),
}

impl BootCliError {
    /// 1 for a bad topology or an unwritable output, 2 for options that do
    /// not fit the plan.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            BootCliError::Boot {
                source: BootError::NotAarch64 { .. },
                ..
            } => EXIT_INVALID,
            BootCliError::Boot { .. } => EXIT_USAGE,
            _ => EXIT_INVALID,
        }
    }
}

#[derive(Debug, Serialize)]
struct FileEntry {
    file: &'static str,
    length: usize,
    sha256: String,
}

#[derive(Debug, Serialize)]
struct BlobEntry {
    file: &'static str,
    address: String,
    length: usize,
    sha256: String,
    /// The EfiACPIReclaimMemory range (the blob in whole pages).
    reserved: RangeEntry,
}

#[derive(Debug, Serialize)]
struct RangeEntry {
    start: String,
    end: String,
}

#[derive(Debug, Serialize)]
struct ConfigEntry {
    name: &'static str,
    guid: String,
    address: String,
}

#[derive(Debug, Serialize)]
struct DescriptorEntry {
    #[serde(rename = "type")]
    kind: &'static str,
    start: String,
    end: String,
    pages: u64,
    attribute: String,
}

#[derive(Debug, Serialize)]
struct MemoryMapEntry {
    address: String,
    size: u64,
    descriptor_size: usize,
    descriptor_version: u32,
    descriptors: Vec<DescriptorEntry>,
}

#[derive(Debug, Serialize)]
struct TableEntry {
    name: String,
    address: String,
    length: usize,
}

#[derive(Debug, Serialize)]
struct QemuEntry {
    /// Options for `qemu-system-aarch64` (with `-kernel`, `-initrd`, and any
    /// `-append`, which must keep `acpi=force`).
    args: Vec<String>,
    /// Why QEMU's vCPUs would not match the plan, if they would not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct BootJson {
    boot_json_version: u32,
    vtopo_version: &'static str,
    plan_sha256: String,
    platform: &'static str,
    dtb: FileEntry,
    blob: BlobEntry,
    system_table: String,
    rsdp: String,
    config_tables: Vec<ConfigEntry>,
    memory_map: MemoryMapEntry,
    tables: Vec<TableEntry>,
    bootargs: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    initrd: Option<RangeEntry>,
    /// The `-device` argument that loads the blob.
    qemu_device_loader: String,
    /// QEMU `virt` options (qemu-virt plans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    qemu: Option<QemuEntry>,
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

fn range(r: GuestRange) -> RangeEntry {
    RangeEntry {
        start: hex(r.base.0),
        end: hex(r.end()),
    }
}

/// A path as a QEMU option value: commas doubled (QEMU's option syntax).
fn qemu_path(path: &Path) -> String {
    path.display().to_string().replace(',', ",,")
}

/// Why QEMU `virt` (software emulation, GICv3) would not give the guest the
/// vCPUs the plan describes: QEMU creates vCPUs 0..N-1 with MPIDR Aff0 =
/// index % 16, Aff1 = index / 16 (KVM's linear layout), so the plan's boot
/// CPUs must be 0..N-1 with `mpidr-policy = "kvm-linear"` MPIDRs.
fn qemu_warnings(plan: &planner::Plan) -> Vec<String> {
    let mut warnings = Vec::new();
    let boot: Vec<&planner::plan::Cpu> = plan.boot_cpus().collect();
    if boot
        .iter()
        .enumerate()
        .any(|(i, c)| usize::try_from(c.index.0) != Ok(i))
    {
        warnings.push(format!(
            "QEMU creates vCPUs 0-{}, but the plan's boot CPUs are others",
            boot.len().saturating_sub(1)
        ));
    }
    if let Some(c) = boot
        .iter()
        .find(|c| c.mpidr != Some(kvm_linear_mpidr(c.index.0)))
    {
        warnings.push(format!(
            "CPU {}'s MPIDR is not QEMU's (Aff0 = index % 16, Aff1 = index / 16): use mpidr-policy = \"kvm-linear\"",
            c.index.0
        ));
    }
    warnings
}

fn describe(plan: &planner::Plan, artifacts: &BootArtifacts, output: &Path) -> BootJson {
    let (dtb, blob) = (&artifacts.dtb, &artifacts.blob);
    let loader = format!(
        "loader,file={},addr={:#x},force-raw=on",
        qemu_path(&output.join(BLOB_FILE)),
        artifacts.blob_address.0
    );
    let qemu = (plan.platform == PlatformKind::QemuVirt).then(|| {
        let ram: u64 = plan.memory.ram.iter().map(|r| r.size).sum();
        QemuEntry {
            args: vec![
                "-machine".into(),
                "virt,gic-version=3".into(),
                "-cpu".into(),
                "max".into(),
                "-smp".into(),
                plan.boot_cpus().count().to_string(),
                "-m".into(),
                format!("{}M", ram >> 20),
                "-dtb".into(),
                output.join(DTB_FILE).display().to_string(),
                "-device".into(),
                loader.clone(),
                "-append".into(),
                artifacts.bootargs.clone(),
            ],
            warnings: qemu_warnings(plan),
        }
    });
    BootJson {
        boot_json_version: BOOT_JSON_VERSION,
        vtopo_version: env!("CARGO_PKG_VERSION"),
        plan_sha256: plan_sha256(plan),
        platform: plan.platform.name(),
        dtb: FileEntry {
            file: DTB_FILE,
            length: dtb.len(),
            sha256: hex_sha256(dtb),
        },
        blob: BlobEntry {
            file: BLOB_FILE,
            address: hex(artifacts.blob_address.0),
            length: blob.len(),
            sha256: hex_sha256(blob),
            reserved: range(artifacts.reserved),
        },
        system_table: hex(artifacts.system_table.0),
        rsdp: hex(artifacts.rsdp.0),
        config_tables: artifacts
            .config_tables
            .iter()
            .map(|t| ConfigEntry {
                name: t.name,
                guid: t.guid.to_string(),
                address: hex(t.address.0),
            })
            .collect(),
        memory_map: MemoryMapEntry {
            address: hex(artifacts.memory_map.base.0),
            size: artifacts.memory_map.size,
            descriptor_size: tablegen::boot::efi::DESCRIPTOR_SIZE,
            descriptor_version: tablegen::boot::efi::DESCRIPTOR_VERSION,
            descriptors: artifacts
                .memory_map_entries
                .iter()
                .map(|e| DescriptorEntry {
                    kind: e.kind.name(),
                    start: hex(e.range.base.0),
                    end: hex(e.range.end()),
                    pages: e.range.size / tablegen::boot::efi::PAGE_SIZE,
                    attribute: hex(e.attribute.bits()),
                })
                .collect(),
        },
        tables: artifacts
            .tables
            .iter()
            .map(|t| TableEntry {
                name: t.name.clone(),
                address: t.address.map_or_else(String::new, |a| hex(a.0)),
                length: t.bytes.len(),
            })
            .collect(),
        bootargs: artifacts.bootargs.clone(),
        initrd: artifacts.initrd.map(range),
        qemu_device_loader: loader,
        qemu,
    }
}

/// Runs `vtopo boot-artifacts`; returns the text for stdout.
///
/// # Errors
/// The topology cannot be read or planned, the options do not fit the
/// plan, or the directory cannot be written.
pub fn run(args: &BootArgs) -> Result<String, BootCliError> {
    let path = args.file.display().to_string();
    let source = fs::read_to_string(&args.file).map_err(|source| BootCliError::Read {
        path: path.clone(),
        source,
    })?;
    let plan = planner::plan_source(&path, &source).map_err(BootCliError::Invalid)?;
    let initrd = match (args.initrd_start, args.initrd_size) {
        (Some(start), Some(size)) => Some(GuestRange {
            base: GuestAddr(start),
            size,
        }),
        _ => None,
    };
    let options = BootOptions {
        cmdline: args.cmdline.clone(),
        initrd,
        blob_address: args.blob_address.map(GuestAddr),
        tables: tablegen::Options::default(),
    };
    let artifacts =
        tablegen::boot::build(&plan, &options).map_err(|source| BootCliError::Boot {
            path: path.clone(),
            source,
        })?;
    let json = describe(&plan, &artifacts, &args.output);
    // Serializing strings and integers cannot fail.
    let text = serde_json::to_string_pretty(&json).unwrap_or_default() + "\n";
    let mut summary = format!(
        "{}: {DTB_FILE} ({} bytes), {BLOB_FILE} ({} bytes at {:#x}), {JSON_FILE}\n  RSDP {:#x}, EFI system table {:#x}, memory map {:#x} ({} descriptors)\n  QEMU: -dtb {} -device {}\n",
        args.output.display(),
        artifacts.dtb.len(),
        artifacts.blob.len(),
        artifacts.blob_address.0,
        artifacts.rsdp.0,
        artifacts.system_table.0,
        artifacts.memory_map.base.0,
        artifacts.memory_map_entries.len(),
        args.output.join(DTB_FILE).display(),
        json.qemu_device_loader,
    );
    for w in json.qemu.iter().flat_map(|q| &q.warnings) {
        let _ = writeln!(summary, "  warning: {w}");
    }
    crate::output::write_dir_atomically(
        &args.output,
        JSON_FILE,
        &[
            (DTB_FILE.to_string(), artifacts.dtb),
            (BLOB_FILE.to_string(), artifacts.blob),
            (JSON_FILE.to_string(), text.into_bytes()),
        ],
    )
    .map_err(BootCliError::Output)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_qemu_path_doubles_commas() {
        assert_eq!(qemu_path(Path::new("a,b/c")), "a,,b/c");
    }
}
