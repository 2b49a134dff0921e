//! vtopo's ACPI table compiler: turns a `planner::Plan` into ACPI 6.5 tables.
//!
//! Work in progress: this crate has no table builders yet (see the issue
//! "ACPI table compiler"); the workspace carries it so the dependency
//! direction planner <- tablegen <- vmm-backend <- CLI is fixed from the start.
#![forbid(unsafe_code)]
