//! vtopo's single integration-test binary (one binary links once; ripgrep style).
// Integration tests are whole files of tests; the lint is meant for library code.
#![allow(clippy::tests_outside_test_module)]

// ACPICA's acpiexec runs the hotplug AML: insert, scan, removal, eject.
mod acpiexec;
// CLI behaviour: exit codes, output formats, --help and --version.
mod cli;
// Every invalid topology: exit code 1, its rule named, the rendered errors snapshotted.
mod errors;
// `vtopo hotplug` through a control socket served by vmm-backend and a real lifecycle.
mod hotplug;
// ACPICA's iasl decodes every table of every topology without error or warning.
mod iasl;
// arm64 without firmware: our device tree + EFI blob + ACPI tables boot Linux under QEMU.
mod firmwareless;
// Every valid topology: the plan snapshotted (text, and JSON for the small ones), determinism.
mod golden;
// A real Linux (6.12, QEMU software emulation) boots with our tables and sees the plan.
mod guest;
// The nested-KVM lab: an L1 Linux with its own KVM under QEMU; the KVM probe.
mod nested;
// Hand-checked IDs and layouts of the example topologies.
mod plans;
// Arbitrary and truncated inputs never panic the planner.
mod robustness;
// Shared helpers: paths, running the binary.
mod util;
