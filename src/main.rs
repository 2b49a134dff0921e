//! The `vtopo` command line. Thin: parse arguments, call the crates, print,
//! and map outcomes to exit codes (0 ok, 1 invalid input, 2 usage error).
#![forbid(unsafe_code)]

mod cli;
mod compile;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, Format};

/// Exit code for invalid input (a topology that fails validation, an unreadable file).
const EXIT_INVALID: u8 = 1;
/// Exit code for usage errors (clap uses it too).
const EXIT_USAGE: u8 = 2;

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("Cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(#[source] planner::Diagnostics),
    #[error("Invalid table options")]
    Options(#[source] tablegen::OptionsError),
    #[error("Cannot compile {path}")]
    Compile {
        path: String,
        #[source]
        source: compile::CompileError,
    },
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Options(_) => EXIT_USAGE,
            _ => EXIT_INVALID,
        }
    }
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn plan_file(path: &Path) -> Result<planner::Plan, CliError> {
    let source = read(path)?;
    planner::plan_source(&path.display().to_string(), &source).map_err(CliError::Invalid)
}

fn print_error(e: &CliError) {
    let mut stderr = std::io::stderr().lock();
    match e {
        // Diagnostics render themselves completely.
        CliError::Invalid(d) => {
            let _ = writeln!(stderr, "{d}");
        }
        other => {
            let _ = write!(stderr, "vtopo: {other}");
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                let _ = write!(stderr, ": {s}");
                source = s.source();
            }
            let _ = writeln!(stderr);
        }
    }
}

fn write_stdout(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`vtopo plan x | head`) is not an error worth a panic.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "vtopo: cannot write output: {e}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check { files, json } => {
            let mut failed = false;
            let mut records = Vec::new();
            let mut report = String::new();
            for file in &files {
                match plan_file(file) {
                    Ok(plan) => {
                        if !json {
                            let plural = |n: usize, what: &str| {
                                format!("{n} {what}{}", if n == 1 { "" } else { "s" })
                            };
                            report.push_str(&format!(
                                "{}: ok ({}, {})\n",
                                file.display(),
                                plural(plan.cpus.len(), "CPU"),
                                plural(plan.nodes.len(), "node")
                            ));
                        }
                    }
                    Err(CliError::Invalid(d)) if json => {
                        failed = true;
                        records.extend(d.to_records());
                    }
                    Err(e) => {
                        failed = true;
                        print_error(&e);
                    }
                }
            }
            if json {
                report = serde_json::to_string_pretty(&records).unwrap_or_default() + "\n";
            }
            let code = write_stdout(&report);
            if failed {
                ExitCode::from(EXIT_INVALID)
            } else {
                code
            }
        }
        Command::Plan { file, format } => match plan_file(&file) {
            Ok(plan) => write_stdout(&match format {
                Format::Text => planner::text::render(&plan),
                Format::Json => plan.to_json() + "\n",
            }),
            Err(e) => {
                print_error(&e);
                ExitCode::from(EXIT_INVALID)
            }
        },
        Command::Compile {
            file,
            output,
            oem_id,
            oem_table_id,
            oem_revision,
            base,
            dsdt_address,
            facs_address,
        } => {
            let result = tablegen::Options::new(&oem_id, &oem_table_id, oem_revision)
                .map_err(CliError::Options)
                .and_then(|options| {
                    let plan = plan_file(&file)?;
                    let facs = facs_address.map(planner::ids::GuestAddr);
                    let placement = match base {
                        Some(b) => tablegen::link::Placement::Linked {
                            base: planner::ids::GuestAddr(b),
                            facs,
                        },
                        None => tablegen::link::Placement::Unlinked {
                            dsdt: dsdt_address.map(planner::ids::GuestAddr),
                            facs,
                        },
                    };
                    let out = compile::Output::new(&plan, &options, placement);
                    out.write(&output).map_err(|source| CliError::Compile {
                        path: file.display().to_string(),
                        source,
                    })?;
                    Ok(out.files().len())
                });
            match result {
                Ok(n) => write_stdout(&format!("{}: {n} files\n", output.display())),
                Err(e) => {
                    print_error(&e);
                    ExitCode::from(e.exit_code())
                }
            }
        }
        Command::Rules => {
            let text: String = planner::Rule::ALL
                .iter()
                .map(|r| format!("{:<24} {}\n", r.name(), r.summary()))
                .collect();
            write_stdout(&text)
        }
    }
}

fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS // --help and --version
            }
        }
    }
}
