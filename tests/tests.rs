//! vtopo's single integration-test binary (one binary links once; ripgrep style).

// CLI behaviour: exit codes, output formats, --help and --version.
mod cli;
// Shared helpers: paths, running the binary.
mod util;
