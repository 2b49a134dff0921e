//! Devices the guest's ACPI tables describe, shared by both architectures.

pub mod cpu_hotplug;
pub mod ged;
pub mod pl011;
