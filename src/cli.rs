//! Command-line arguments (clap derive types).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// vtopo: declarative VM CPU and NUMA topology, planned, compiled to ACPI
/// tables, and booted.
#[derive(Debug, Parser)]
#[command(name = "vtopo", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of `vtopo plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable tree of sockets, clusters or dies, cores and threads.
    Text,
    /// The plan as JSON (deterministic).
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate topology files; print every problem found.
    Check {
        /// Topology files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print problems as JSON records instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Plan a topology and print the plan.
    Plan {
        /// Topology file (TOML).
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compile a topology's ACPI tables into a directory (one `<SIGNATURE>.aml` per
    /// table, the RSDP, manifest.json), written atomically.
    Compile {
        /// Topology file (TOML).
        file: PathBuf,
        /// Output directory (replaced if it holds a previous vtopo output).
        #[arg(short, long)]
        output: PathBuf,
        /// OEM ID of every table (up to 6 printable ASCII characters).
        #[arg(long, default_value = "VTOPO")]
        oem_id: String,
        /// OEM table ID of every table (up to 8 printable ASCII characters).
        #[arg(long, default_value = "VTOPO")]
        oem_table_id: String,
        /// OEM revision of every table (a firmware's table is replaced by the
        /// Linux table upgrade only by a strictly greater revision).
        #[arg(long, default_value_t = 1, value_parser = parse_u32)]
        oem_revision: u32,
        /// Link every table at real addresses from this base (RSDP first) and
        /// also write image.bin; without it, pointers stay 0 and manifest.json
        /// lists them for a loader to patch.
        #[arg(long, value_parser = parse_address)]
        base: Option<u64>,
        /// The DSDT address the FADT points at (when replacing a firmware's
        /// tables: its DSDT's address).
        #[arg(long, value_parser = parse_address, conflicts_with = "base")]
        dsdt_address: Option<u64>,
        /// The FACS address the FADT points at (full-hardware platforms: qemu-q35).
        #[arg(long, value_parser = parse_address)]
        facs_address: Option<u64>,
    },
    /// Decode ACPI tables field by field, named as in the spec: one table
    /// file, or every table in a directory (ours, a guest's
    /// /sys/firmware/acpi/tables, another VMM's).
    Dump {
        /// A table file or a directory of tables.
        path: PathBuf,
    },
    /// Check a directory of ACPI tables for cross-table disagreements and spec
    /// violations (UIDs across MADT, PPTT, SRAT and DSDT; Online Capable with
    /// Enabled; SLIT rules; SRAT coverage; memory overlaps; ...). Exit 1 when
    /// any finding is an error.
    Lint {
        /// A directory of tables (`vtopo compile` output, /sys/firmware/acpi/tables, ...).
        dir: Option<PathBuf>,
        /// List the lint rules instead.
        #[arg(long, conflicts_with = "dir")]
        rules: bool,
    },
    /// Write what an arm64 guest boots from instead of UEFI firmware: a stub
    /// device tree (boot.dtb), the EFI system table, memory map and linked ACPI
    /// tables in one blob for guest RAM (boot-blob.bin), and boot.json with
    /// every address and the QEMU options; written atomically.
    BootArtifacts(crate::boot::BootArgs),
    /// Boot a Linux guest on KVM from a topology: guest memory per NUMA node,
    /// vCPUs with the planned MPIDRs (arm64) or x2APIC IDs (x86_64), the
    /// compiled ACPI tables, a serial console on stdout, CPU hotplug through
    /// the control socket. Exit 0 when the guest powers off or a `shutdown`
    /// request ends it; 1 invalid topology or unreadable files; 3 the VM
    /// failed; 4 the guest reset itself (vtopo does not reboot).
    Boot {
        /// Topology file (TOML) for this host's architecture.
        file: PathBuf,
        /// The kernel: an arm64 `Image` or an x86 `bzImage`.
        #[arg(long)]
        kernel: PathBuf,
        /// The initramfs.
        #[arg(long)]
        initrd: Option<PathBuf>,
        /// Kernel command line (arm64: `acpi=force` is added).
        #[arg(long, default_value = "")]
        cmdline: String,
        /// Listen for control requests on this Unix socket (`vtopo hotplug`).
        #[arg(long)]
        control: Option<PathBuf>,
    },
    /// Talk to a running vtopo VM's control socket: hot-add or remove vCPUs,
    /// show their state, power the VM off. Exit 1 when the VM refuses.
    Hotplug {
        /// The VM's control socket (`vtopo boot --control SOCKET`).
        socket: PathBuf,
        /// What to ask.
        #[command(subcommand)]
        action: HotplugAction,
    },
    /// List the validation rules.
    Rules,
}

/// `vtopo hotplug` requests.
#[derive(Debug, Subcommand)]
pub enum HotplugAction {
    /// Every CPU's slot, state and node.
    Status,
    /// Hot-add a declared slot, or the lowest-index free slots.
    Add {
        /// The slot (CPU index).
        #[arg(long, required_unless_present = "count", conflicts_with = "count")]
        cpu: Option<u32>,
        /// How many slots.
        #[arg(long)]
        count: Option<u32>,
    },
    /// Ask the guest to give a CPU back.
    Remove {
        /// The CPU index.
        #[arg(long)]
        cpu: u32,
    },
    /// Power the VM off.
    Shutdown,
    /// Send one request line exactly as given (a newline is added) and print
    /// the reply: for scripts, and for testing how the VM answers malformed
    /// requests.
    Raw {
        /// The request line.
        line: String,
    },
    /// Send each line of standard input as a request over one connection
    /// and print each reply as it comes (blank lines are skipped): a session
    /// for scripts that talk to the VM many times, without a new process and
    /// connection per request. Exit 1 when the VM refused any of them.
    Session,
}

/// Parses a decimal or 0x-prefixed hexadecimal integer (`_` allowed).
pub(crate) fn parse_integer(text: &str) -> Result<u64, String> {
    let t = text.trim().replace('_', "");
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|_| format!("{text:?} is not a decimal or 0x-prefixed hexadecimal integer"))
}

/// An address (guest physical).
fn parse_address(text: &str) -> Result<u64, String> {
    parse_integer(text)
}

/// A 32-bit value.
fn parse_u32(text: &str) -> Result<u32, String> {
    let v = parse_integer(text)?;
    u32::try_from(v).map_err(|_| format!("{text:?} does not fit 32 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_integer_accepts_hex_and_decimal() {
        assert_eq!(parse_integer("0x4000_0000"), Ok(0x4000_0000));
        assert_eq!(parse_integer("4096"), Ok(4096));
        assert!(parse_integer("0xg").is_err());
        assert_eq!(
            parse_u32("0x1_0000_0000").map_err(|e| e.contains("32 bits")),
            Err(true)
        );
    }
}
