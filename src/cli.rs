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
    /// List the validation rules.
    Rules,
}
