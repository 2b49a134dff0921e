//! A cross-table linter for a set of ACPI tables: the invariants of
//! acpi-notes §12 (one ACPI Processor UID, one possible-CPU set, one set of
//! proximity domains across MADT, SRAT, SLIT, PPTT and the DSDT) and the
//! spec and Linux rules that make a guest silently lose CPUs, NUMA or
//! topology.
//!
//! [`lint`] takes table files (name and bytes, as [`crate::dump::read_dir`]
//! returns them) so that it can also judge tables the decoder rejects. Each
//! [`Finding`] names its rule (see [`RULES`]), a severity, the table and the
//! offending values. Rules that need a table the set lacks (a PPTT, an SRAT,
//! a FADT) are skipped: linting part of a table set is allowed.
//!
//! ```
//! let toml = "arch = \"aarch64\"\nplatform = \"vtopo-virt\"\nmemory = \"1GiB\"\n[cpus]\ncores = 2\n";
//! let plan = planner::plan_source("t.toml", toml).unwrap();
//! let set = tablegen::build(&plan, &tablegen::Options::default());
//! let files: Vec<tablegen::dump::TableFile> = set.tables().into_iter().map(Into::into).collect();
//! assert!(tablegen::lint::lint(&files).is_empty());
//! ```

pub mod aml;
mod cpus;
mod headers;
mod numa;
mod topology;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use crate::dump::{
    read_dir, Decoded, DirError, Fadt, Header, Madt, Pptt, Slit, Srat, Table, TableFile,
};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Legal, or tolerated by Linux, but likely not what was meant.
    Warning,
    /// Violates the spec or makes Linux ignore or misuse the tables.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem found in a table set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule (kebab-case, one of [`RULES`]).
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// The table it is about: its signature (`RSDP` for the RSDP).
    pub table: String,
    /// What is wrong, with the offending values.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}] {}: {}",
            self.severity, self.rule, self.table, self.message
        )
    }
}

/// A lint rule: its name and what it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Kebab-case name, as in [`Finding::rule`].
    pub name: &'static str,
    /// One-line meaning.
    pub summary: &'static str,
}

const fn rule(name: &'static str, summary: &'static str) -> Rule {
    Rule { name, summary }
}

/// Every rule, in the order [`lint`] applies them.
pub const RULES: &[Rule] = &[
    rule("table-decode", "a table whose structures do not fit its Length cannot be decoded"),
    rule("table-duplicate", "two tables with one signature (other than SSDT): the checks use the first"),
    rule("header-length", "the Length field differs from the file size"),
    rule("header-checksum", "the table's bytes do not sum to zero"),
    rule("rsdp-checksum", "an RSDP checksum (first 20 bytes, or the extended one) is wrong"),
    rule("xsdt-entries", "the RSDT/XSDT Length is not 36 + n x entry size"),
    rule("fadt-hw-reduced-arm", "arm64 (GICC in the MADT) needs FADT >= 5.1, HW_REDUCED_ACPI and PSCI_COMPLIANT, or Linux ignores ACPI"),
    rule("online-capable-with-enabled", "a processor structure sets both Enabled and Online Capable"),
    rule("madt-revision-online-capable", "x86 Online Capable used in a MADT older than revision 5 (ACPI 6.3)"),
    rule("madt-hotplug-usable", "x86 disabled processor entries without Online Capable: Linux >= 6.12.95 hotplugs them only under a detected hypervisor (FADT < 6.3) or never (FADT >= 6.3)"),
    rule("gicc-length", "a GICC Length other than 76/80/82, or 82 in a MADT older than revision 6"),
    rule("gicr-discovery", "GICC GICR Base and GICR structures mixed, or a CPU whose redistributor is inaccessible"),
    rule("uid-consistency", "the ACPI Processor UIDs (and x86 APIC IDs) differ between MADT, PPTT, SRAT and DSDT/SSDT"),
    rule("srat-cpu-coverage", "a possible CPU has no Enabled SRAT processor affinity structure"),
    rule("srat-memory-overlap", "Enabled SRAT memory ranges overlap"),
    rule("slit-diagonal", "a SLIT diagonal entry is not 10"),
    rule("slit-remote", "an off-diagonal SLIT entry is 10 or less: Linux discards the SLIT"),
    rule("slit-size", "an SRAT proximity domain has no SLIT row (domain >= Number of System Localities)"),
    rule("pptt-coverage", "a possible CPU has no PPTT leaf (Linux discards the PPTT), a leaf lacks ID valid, a Thread flag in revision 1, or no Physical package above a leaf"),
    rule("pptt-possible-vs-madt", "the PPTT describes CPUs the MADT does not list as possible"),
    rule("pptt-references", "a PPTT Parent, private resource or Next Level of Cache points at no structure of the right type"),
];

/// Checks `tables` (a whole set, or part of one) and returns the findings,
/// rule by rule in [`RULES`] order.
#[must_use]
pub fn lint(tables: &[TableFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    let set = Set::new(tables, &mut out);
    headers::check(&set, &mut out);
    cpus::check(&set, &mut out);
    numa::check(&set, &mut out);
    topology::check(&set, &mut out);
    let order = |rule: &str| {
        RULES
            .iter()
            .position(|r| r.name == rule)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|f| order(f.rule));
    out
}

/// Reads every table file of `dir` ([`crate::dump::read_dir`]) and lints them.
///
/// # Errors
///
/// A [`DirError`] when the directory or a file cannot be read.
pub fn lint_dir(dir: &Path) -> Result<Vec<Finding>, DirError> {
    Ok(lint(&read_dir(dir)?))
}

/// The table set being checked: each file and its decoding.
pub(crate) struct Set<'a> {
    /// Files that decoded, with their decoding.
    tables: Vec<(&'a TableFile, Decoded)>,
}

impl<'a> Set<'a> {
    fn new(files: &'a [TableFile], out: &mut Vec<Finding>) -> Self {
        let mut tables = Vec::new();
        for file in files {
            match file.decode() {
                Ok(decoded) => tables.push((file, decoded)),
                Err(e) => headers::decode_failure(file, &e, out),
            }
        }
        Self { tables }
    }

    /// The first decoded table with signature `sig`.
    fn first(&self, sig: &str) -> Option<&Decoded> {
        self.tables
            .iter()
            .map(|(_, d)| d)
            .find(|d| d.signature == sig)
    }

    fn header(d: &Decoded) -> Option<&Header> {
        d.header.as_ref()
    }

    pub(crate) fn madt(&self) -> Option<(&Header, &Madt)> {
        let d = self.first("APIC")?;
        match &d.table {
            Table::Madt(m) => Some((Self::header(d)?, m)),
            _ => None,
        }
    }

    pub(crate) fn srat(&self) -> Option<&Srat> {
        match &self.first("SRAT")?.table {
            Table::Srat(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn slit(&self) -> Option<&Slit> {
        match &self.first("SLIT")?.table {
            Table::Slit(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn pptt(&self) -> Option<(&Header, &Pptt)> {
        let d = self.first("PPTT")?;
        match &d.table {
            Table::Pptt(p) => Some((Self::header(d)?, p)),
            _ => None,
        }
    }

    pub(crate) fn fadt(&self) -> Option<(&Header, &Fadt)> {
        let d = self.first("FACP")?;
        match &d.table {
            Table::Fadt(f) => Some((Self::header(d)?, f)),
            _ => None,
        }
    }

    /// The DSDT and SSDTs: (file, signature, bytes).
    pub(crate) fn aml_tables(&self) -> impl Iterator<Item = (&'a TableFile, &str)> + '_ {
        self.tables.iter().filter_map(|(f, d)| match d.table {
            Table::Aml { .. } => Some((*f, d.signature.as_str())),
            _ => None,
        })
    }

    /// True for an arm64 set: the MADT has GICC structures.
    pub(crate) fn is_arm(&self) -> bool {
        self.madt().is_some_and(|(_, m)| {
            m.processors()
                .any(|p| p.kind == crate::dump::ProcessorKind::Gicc)
        })
    }
}

/// Most values listed in one message before "and N more".
const LIST_LIMIT: usize = 8;

/// `items` joined by ", ", at most [`LIST_LIMIT`] of them.
pub(crate) fn list(items: &[String]) -> String {
    let mut shown: Vec<String> = items.iter().take(LIST_LIMIT).cloned().collect();
    if items.len() > LIST_LIMIT {
        shown.push(format!("and {} more", items.len() - LIST_LIMIT));
    }
    shown.join(", ")
}

/// Integers as a compact list of ranges: `0-3,5,7-8`.
pub(crate) fn ranges<I: IntoIterator<Item = u64>>(values: I) -> String {
    let set: BTreeSet<u64> = values.into_iter().collect();
    let mut parts = Vec::new();
    let mut iter = set.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&end.wrapping_add(1)) && end != u64::MAX {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

/// "UID 3" or "UIDs 2-3".
pub(crate) fn plural(noun: &str, values: &BTreeSet<u64>) -> String {
    let s = if values.len() == 1 { "" } else { "s" };
    format!("{noun}{s} {}", ranges(values.iter().copied()))
}

impl Finding {
    pub(crate) fn new(
        rule: &'static str,
        severity: Severity,
        table: &str,
        message: impl Into<String>,
    ) -> Self {
        debug_assert!(RULES.iter().any(|r| r.name == rule), "unknown rule {rule}");
        Self {
            rule,
            severity,
            table: table.to_string(),
            message: message.into(),
        }
    }
}
