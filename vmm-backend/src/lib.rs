//! vtopo's thin KVM backend: boots a guest from a plan and hot-plugs vCPUs.
//!
//! This crate is the only one with unsafe code and KVM. What is not tied to
//! a hypervisor lives in plain, unit-tested modules:
//! - [`devices`]: the CPU hotplug register block and the Generic Event
//!   Device, exactly as the generated DSDT drives them (docs/cpu-hotplug.md);
//! - [`control`]: the control socket's JSON-lines protocol;
//! - [`lifecycle`]: which vCPUs exist, run or wait parked, in the order KVM
//!   requires, behind a [`lifecycle::Hypervisor`] trait (tested with a fake
//!   that enforces KVM's arm64 rules).
//!
//! The KVM VMM itself (vCPU creation and parking, memory, the boot paths of
//! both architectures) is not written yet: see the issues "Thin KVM backend
//! (x86_64)" and "ARM64".
#![deny(missing_docs)]

pub mod control;
pub mod devices;
pub mod lifecycle;
