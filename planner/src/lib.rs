//! vtopo's planner: the topology language (TOML) in, a validated,
//! plain-data [`Plan`] out.
//!
//! The planner is pure: no unsafe code, no KVM, no ACPI bytes. It decides
//! every guest-visible identifier (CPU index, ACPI UID, MPIDR or x2APIC ID,
//! proximity domain, redistributor frame, memory ranges) once, so that the
//! tables and the VMM built from one plan cannot disagree.
//!
//! ```
//! let toml = r#"
//! arch = "aarch64"
//! platform = "qemu-virt"
//! [cpus]
//! clusters = 2
//! cores = 2
//! hotpluggable = "2-3"
//! [[node]]
//! memory = "1GiB"
//! cpus = { cluster = 0 }
//! [[node]]
//! memory = "1GiB"
//! cpus = { cluster = 1 }
//! "#;
//! let plan = planner::plan_source("example.toml", toml).unwrap();
//! assert_eq!(plan.cpus.len(), 4);
//! assert_eq!(plan.cpus[3].node.0, 1);
//! assert_eq!(plan.hotpluggable_cpus().count(), 2);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod arch;
mod build;
pub mod diag;
pub mod distance;
pub mod ids;
pub mod memory;
pub mod plan;
pub mod platform;
pub mod selector;
pub mod size;
pub mod spec;
pub mod text;
pub mod topology;

pub use diag::{Diagnostic, Diagnostics, Rule};
pub use plan::Plan;

use diag::Diagnostic as Diag;

/// Plans a topology from its TOML text; `path` names it in diagnostics.
///
/// # Errors
/// Every problem found, each with its rule, place and offending value.
pub fn plan_source(path: &str, source: &str) -> Result<Plan, Diagnostics> {
    let fail = |items: Vec<Diag>| Diagnostics {
        path: path.to_string(),
        source: source.to_string(),
        items,
    };
    let spec: spec::Spec = toml::from_str(source).map_err(|e| fail(vec![toml_diagnostic(&e)]))?;
    build::build(&spec, 0..source.len()).map_err(fail)
}

fn toml_diagnostic(e: &toml::de::Error) -> Diag {
    let message = e.message().trim().to_string();
    let rule = if message.starts_with("unknown field") {
        Rule::UnknownKey
    } else if message.starts_with("missing field") {
        Rule::MissingKey
    } else if message.starts_with(selector::CPULIST_ERROR_PREFIX) {
        Rule::SelectorSyntax
    } else {
        Rule::Syntax
    };
    match e.span() {
        Some(span) => Diag::new(rule, span, message),
        None => Diag::whole_file(rule, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "arch = \"x86_64\"\nplatform = \"vtopo-pc\"\nmemory = \"1GiB\"\n";

    fn rules_of(source: &str) -> Vec<Rule> {
        plan_source("t.toml", source)
            .unwrap_err()
            .items
            .iter()
            .map(|d| d.rule)
            .collect()
    }

    #[test]
    fn test_unknown_key_names_the_key() {
        let err =
            plan_source("t.toml", &format!("{BASE}[cpus]\ncores = 2\nsmt = 2\n")).unwrap_err();
        assert_eq!(err.items[0].rule, Rule::UnknownKey);
        assert!(
            err.items[0].message.contains("`smt`"),
            "{}",
            err.items[0].message
        );
    }

    #[test]
    fn test_missing_cpus_table_is_missing_key() {
        assert_eq!(rules_of(BASE), vec![Rule::MissingKey]);
    }

    #[test]
    fn test_negative_count_is_a_syntax_error_with_place() {
        let err = plan_source("t.toml", &format!("{BASE}[cpus]\ncores = -2\n")).unwrap_err();
        assert_eq!(err.items[0].rule, Rule::Syntax);
        assert!(err.to_string().starts_with("t.toml:5:9:"), "{err}");
    }

    #[test]
    fn test_several_problems_are_reported_together() {
        let src = format!("{BASE}[cpus]\ncores = 2\nboot = \"\"\n[[cache]]\nlevel = 9\ntype = \"data\"\nsize = 1024\nways = 1\nline-size = 64\nshared-by = \"core\"\n");
        let rules = rules_of(&src);
        assert!(rules.contains(&Rule::NoBootCpu), "{rules:?}");
        assert!(rules.contains(&Rule::CacheLevel), "{rules:?}");
    }

    #[test]
    fn test_platform_of_other_arch_is_rejected() {
        let src =
            "arch = \"aarch64\"\nplatform = \"qemu-q35\"\nmemory = \"1GiB\"\n[cpus]\ncores = 1\n";
        assert_eq!(rules_of(src), vec![Rule::PlatformArch]);
    }
}
