//! vtopo's thin KVM backend: boots a guest from a plan and hot-plugs vCPUs.
//!
//! Work in progress: no backend code yet (see the issues "Thin KVM backend
//! (x86_64)" and "ARM64"). This is the only crate that will hold unsafe code,
//! each block with a `// SAFETY:` comment.
