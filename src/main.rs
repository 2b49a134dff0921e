//! The `vtopo` command line. Thin: parse arguments, call the crates, print,
//! and map outcomes to exit codes (0 ok, 1 invalid input, 2 usage error).
#![forbid(unsafe_code)]

mod boot;
mod cli;
mod compile;
mod output;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, Format, HotplugAction};

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
    #[error("{0}")]
    Decode(#[source] tablegen::dump::DecodeError),
    #[error("Cannot read tables")]
    Tables(#[source] tablegen::dump::DirError),
    #[error("Cannot talk to the VM's control socket {path}")]
    Control {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Session: cannot use {stream}")]
    Session {
        stream: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("The VM at {path} replied {line:?}, which is not a reply: {reason}")]
    BadReply {
        path: String,
        line: String,
        reason: String,
    },
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

/// Renders one table file or every table of a directory; the flag says
/// whether any file failed to decode (each failure is reported in place).
fn dump(path: &Path) -> Result<(String, bool), CliError> {
    if path.is_dir() {
        let files = tablegen::dump::decode_dir(path).map_err(CliError::Tables)?;
        let mut text = String::new();
        let mut failed = false;
        for file in files {
            text.push_str(&format!("==> {}\n", path.join(&file.name).display()));
            match file.decoded {
                Ok(decoded) => text.push_str(&tablegen::dump::render(&decoded)),
                Err(e) => {
                    failed = true;
                    text.push_str(&format!("error: {e}\n"));
                }
            }
            text.push('\n');
        }
        Ok((text, failed))
    } else {
        let bytes = std::fs::read(path).map_err(|source| CliError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let decoded = tablegen::dump::decode(&bytes).map_err(CliError::Decode)?;
        Ok((tablegen::dump::render(&decoded), false))
    }
}

/// Sends one request line to the control socket and reads the reply line.
fn hotplug(
    socket: &Path,
    request: &str,
) -> Result<(String, vmm_backend::control::Reply), CliError> {
    let mut conn = Connection::open(socket)?;
    conn.ask(request)
}

/// One connection to a VM's control socket.
struct Connection {
    path: String,
    stream: std::os::unix::net::UnixStream,
    replies: std::io::BufReader<std::os::unix::net::UnixStream>,
}

impl Connection {
    fn open(socket: &Path) -> Result<Self, CliError> {
        let path = socket.display().to_string();
        let io = |source| CliError::Control {
            path: path.clone(),
            source,
        };
        let stream = std::os::unix::net::UnixStream::connect(socket).map_err(io)?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .map_err(io)?;
        let replies = std::io::BufReader::new(stream.try_clone().map_err(io)?);
        Ok(Connection {
            path,
            stream,
            replies,
        })
    }

    /// Sends one request line and reads its reply line.
    fn ask(&mut self, request: &str) -> Result<(String, vmm_backend::control::Reply), CliError> {
        use std::io::BufRead;
        let io = |source| CliError::Control {
            path: self.path.clone(),
            source,
        };
        self.stream
            .write_all(format!("{request}\n").as_bytes())
            .map_err(io)?;
        let mut line = String::new();
        if self.replies.read_line(&mut line).map_err(io)? == 0 {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the VM closed the connection without answering {request:?}"),
            )));
        }
        let reply = serde_json::from_str(line.trim()).map_err(|e| CliError::BadReply {
            path: self.path.clone(),
            line: line.trim().to_string(),
            reason: e.to_string(),
        })?;
        Ok((line, reply))
    }
}

/// `vtopo hotplug SOCKET session` on this process's standard input and
/// output, with its exit code.
fn session(socket: &Path) -> ExitCode {
    match hotplug_session(socket, std::io::stdin().lock(), std::io::stdout().lock()) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(refused) => {
            let _ = writeln!(
                std::io::stderr(),
                "vtopo: the VM refused {refused} request(s)"
            );
            ExitCode::from(EXIT_INVALID)
        }
        Err(e) => {
            print_error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// `vtopo hotplug SOCKET session`: every non-blank line of `input` is a
/// request on one connection; each reply line goes to `out` (flushed) as it
/// comes. Returns how many requests the VM refused.
fn hotplug_session(
    socket: &Path,
    input: impl std::io::BufRead,
    mut out: impl Write,
) -> Result<usize, CliError> {
    let mut conn = Connection::open(socket)?;
    let mut refused = 0;
    for line in input.lines() {
        let line = line.map_err(|source| CliError::Session {
            stream: "standard input",
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let (text, reply) = conn.ask(&line)?;
        if reply.error.is_some() {
            refused += 1;
        }
        let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        if let Err(source) = written {
            return Err(CliError::Session {
                stream: "standard output",
                source,
            });
        }
    }
    Ok(refused)
}

/// Prints an error and its sources on one line; planner diagnostics, wherever
/// they sit in the chain, render themselves completely instead.
fn print_error(e: &(dyn std::error::Error + 'static)) {
    let mut stderr = std::io::stderr().lock();
    let mut link = Some(e);
    while let Some(err) = link {
        if let Some(d) = err.downcast_ref::<planner::Diagnostics>() {
            let _ = writeln!(stderr, "{d}");
            return;
        }
        link = err.source();
    }
    let _ = write!(stderr, "vtopo: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(stderr, ": {s}");
        source = s.source();
    }
    let _ = writeln!(stderr);
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
        Command::Dump { path } => match dump(&path) {
            Ok((text, failed)) => {
                let code = write_stdout(&text);
                if failed {
                    ExitCode::from(EXIT_INVALID)
                } else {
                    code
                }
            }
            Err(e) => {
                print_error(&e);
                ExitCode::from(e.exit_code())
            }
        },
        Command::Lint { rules: true, .. } => {
            let text: String = tablegen::lint::RULES
                .iter()
                .map(|r| format!("{:<30} {}\n", r.name, r.summary))
                .collect();
            write_stdout(&text)
        }
        Command::Lint { dir: Some(dir), .. } => match tablegen::lint::lint_dir(&dir) {
            Ok(findings) => {
                let errors = findings
                    .iter()
                    .filter(|f| f.severity == tablegen::lint::Severity::Error)
                    .count();
                let mut text: String = findings.iter().map(|f| format!("{f}\n")).collect();
                text.push_str(&format!(
                    "{}: {} error{}, {} warning{}\n",
                    dir.display(),
                    errors,
                    if errors == 1 { "" } else { "s" },
                    findings.len() - errors,
                    if findings.len() - errors == 1 {
                        ""
                    } else {
                        "s"
                    }
                ));
                let code = write_stdout(&text);
                if errors > 0 {
                    ExitCode::from(EXIT_INVALID)
                } else {
                    code
                }
            }
            Err(e) => {
                let e = CliError::Tables(e);
                print_error(&e);
                ExitCode::from(e.exit_code())
            }
        },
        Command::Lint { dir: None, .. } => {
            let _ = writeln!(
                std::io::stderr(),
                "vtopo: lint needs a directory of tables (or --rules)"
            );
            ExitCode::from(EXIT_USAGE)
        }
        Command::BootArtifacts(args) => match boot::run(&args) {
            Ok(summary) => write_stdout(&summary),
            Err(e) => {
                print_error(&e);
                ExitCode::from(e.exit_code())
            }
        },
        Command::Hotplug { socket, action } => {
            let request = match action {
                HotplugAction::Status => serde_json::json!({ "cmd": "status" }),
                HotplugAction::Add { cpu: Some(cpu), .. } => {
                    serde_json::json!({ "cmd": "add", "cpu": cpu })
                }
                HotplugAction::Add { count, .. } => {
                    serde_json::json!({ "cmd": "add", "count": count })
                }
                HotplugAction::Remove { cpu } => serde_json::json!({ "cmd": "remove", "cpu": cpu }),
                HotplugAction::Shutdown => serde_json::json!({ "cmd": "shutdown" }),
                HotplugAction::Raw { line } => serde_json::Value::String(line),
                HotplugAction::Session => return session(&socket),
            };
            let request = match request {
                serde_json::Value::String(line) => line,
                other => other.to_string(),
            };
            if request.contains('\n') {
                let _ = writeln!(
                    std::io::stderr(),
                    "vtopo: a raw request is one line; it contains a newline"
                );
                return ExitCode::from(EXIT_USAGE);
            }
            match hotplug(&socket, &request) {
                Ok((line, reply)) => {
                    let code = write_stdout(&line);
                    match reply.error {
                        Some(error) => {
                            let _ = writeln!(std::io::stderr(), "vtopo: the VM refused: {error}");
                            ExitCode::from(EXIT_INVALID)
                        }
                        None => code,
                    }
                }
                Err(e) => {
                    print_error(&e);
                    ExitCode::from(e.exit_code())
                }
            }
        }
        Command::Boot {
            file,
            kernel,
            initrd,
            cmdline,
            control,
        } => boot_vm(&file, kernel, initrd, cmdline, control),
        Command::Rules => {
            let text: String = planner::Rule::ALL
                .iter()
                .map(|r| format!("{:<24} {}\n", r.name(), r.summary()))
                .collect();
            write_stdout(&text)
        }
    }
}

/// Exit code of `vtopo boot` when the VM failed.
const EXIT_VM_FAILED: u8 = 3;
/// Exit code of `vtopo boot` when the guest reset itself.
const EXIT_GUEST_RESET: u8 = 4;

/// `vtopo boot`.
fn boot_vm(
    file: &std::path::Path,
    kernel: std::path::PathBuf,
    initrd: Option<std::path::PathBuf>,
    cmdline: String,
    control: Option<std::path::PathBuf>,
) -> ExitCode {
    let plan = match plan_file(file) {
        Ok(plan) => plan,
        Err(e) => {
            print_error(&e);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    if let Some(why) = vmm_backend::arch_mismatch(plan.arch) {
        let _ = writeln!(std::io::stderr(), "vtopo: {}: {why}", file.display());
        return ExitCode::from(EXIT_INVALID);
    }
    for path in std::iter::once(&kernel).chain(initrd.as_ref()) {
        if let Err(e) = std::fs::metadata(path) {
            let _ = writeln!(
                std::io::stderr(),
                "vtopo: cannot read {}: {e}",
                path.display()
            );
            return ExitCode::from(EXIT_INVALID);
        }
    }
    let config = vmm_backend::vm::BootConfig {
        plan,
        images: vmm_backend::vm::Images {
            kernel,
            initrd,
            cmdline,
        },
        control,
    };
    match vmm_backend::boot(config, Box::new(std::io::stdout())) {
        Ok(exit) => {
            let _ = writeln!(std::io::stderr(), "vtopo: VM ended: {exit:?}");
            match exit {
                vmm_backend::vm::VmExit::PowerOff | vmm_backend::vm::VmExit::Shutdown => {
                    ExitCode::SUCCESS
                }
                vmm_backend::vm::VmExit::Reset => ExitCode::from(EXIT_GUEST_RESET),
                vmm_backend::vm::VmExit::Failed(_) => ExitCode::from(EXIT_VM_FAILED),
            }
        }
        Err(e) => {
            print_error(&e);
            ExitCode::from(EXIT_VM_FAILED)
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
