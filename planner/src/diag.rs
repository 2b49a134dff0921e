//! Diagnostics: every validation rule is named, every problem points at the
//! TOML text that caused it (file:line:column) and names the offending value.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

macro_rules! rules {
    ($($(#[doc = $doc:literal])+ $variant:ident => $name:literal,)+) => {
        /// A named validation rule. `docs/topology.md` lists them all.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Rule {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl Rule {
            /// Every rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)+];

            /// The rule's stable kebab-case name, as printed in `error[name]`.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(Rule::$variant => $name,)+ }
            }

            /// One sentence saying what the rule checks.
            #[must_use]
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => concat!($($doc),+).trim_ascii(),)+ }
            }
        }
    };
}

rules! {
    /// The file is not valid TOML, or a value has the wrong type.
    Syntax => "syntax",
    /// A key the topology language does not define.
    UnknownKey => "unknown-key",
    /// A required key is missing.
    MissingKey => "missing-key",
    /// The platform belongs to the other architecture.
    PlatformArch => "platform-arch",
    /// A key that only the other architecture understands (clusters on x86_64, dies or x2APIC on aarch64).
    ArchKey => "arch-key",
    /// Both the symmetric counts and the explicit per-socket shape are given, or neither.
    ShapeConflict => "shape-conflict",
    /// A count of sockets, clusters, dies, cores or threads is zero.
    ZeroCount => "zero-count",
    /// More possible CPUs than the platform allows (its redistributor space, its VMM, the architecture).
    CpuLimit => "cpu-limit",
    /// A topology level does not fit its MPIDR affinity field (8 bits).
    MpidrAffinityOverflow => "mpidr-affinity-overflow",
    /// Aff0 above 15: GICv3 SGI target lists address only Aff0 0..15.
    MpidrAff0 => "mpidr-aff0",
    /// An MPIDR with Aff3 on vtopo-virt: KVM's VGICv3 has no affinity level 3.
    MpidrAff3 => "mpidr-aff3",
    /// Two CPUs share one MPIDR.
    MpidrCollision => "mpidr-collision",
    /// An MPIDR override sets bits outside the affinity fields.
    MpidrReservedBits => "mpidr-reserved-bits",
    /// Two CPUs share one x2APIC ID.
    ApicIdCollision => "apic-id-collision",
    /// An x2APIC ID does not fit 32 bits or is the broadcast ID 0xFFFFFFFF.
    ApicIdRange => "apic-id-range",
    /// An x2APIC ID override whose package or die field (per the CPUID layout) is not the CPU's socket or die.
    ApicIdPlace => "apic-id-place",
    /// An ID override names a CPU twice, or a CPU that does not exist.
    OverrideTarget => "override-target",
    /// A CPU selector names a CPU or a topology place that does not exist.
    SelectorRange => "selector-range",
    /// A CPU list string is malformed.
    SelectorSyntax => "selector-syntax",
    /// `boot` and `hotpluggable` overlap or leave a CPU in neither.
    SlotConflict => "slot-conflict",
    /// No CPU is present at boot.
    NoBootCpu => "no-boot-cpu",
    /// A CPU (boot or hotpluggable slot) belongs to two NUMA nodes.
    CpuInTwoNodes => "cpu-in-two-nodes",
    /// A CPU (boot or hotpluggable slot) belongs to no NUMA node.
    CpuInNoNode => "cpu-in-no-node",
    /// A NUMA node has neither CPUs nor memory.
    EmptyNode => "empty-node",
    /// The VM has no memory at boot.
    NoMemory => "no-memory",
    /// Memory given both at the top level and per node.
    MemoryConflict => "memory-conflict",
    /// A memory size is not a multiple of 2 MiB.
    MemoryAlignment => "memory-alignment",
    /// The memory (with hotplug windows) does not fit the platform's guest physical map.
    MemoryFit => "memory-fit",
    /// A diagonal SLIT distance other than 10.
    DistanceDiagonal => "distance-diagonal",
    /// An off-diagonal distance of 10 or less.
    DistanceRemote => "distance-remote",
    /// A pair of distinct nodes with no distance given in either direction.
    DistanceMissing => "distance-missing",
    /// A distance matrix whose size is not the node count, or a pair naming a node that does not exist.
    DistanceShape => "distance-shape",
    /// The same directed pair given twice.
    DistanceDuplicate => "distance-duplicate",
    /// Distances given both as a matrix and as pairs.
    DistanceConflict => "distance-conflict",
    /// A cache's size is not sets x ways x line size, or its line size is not a power of two.
    CacheGeometry => "cache-geometry",
    /// A cache level outside 1..=4.
    CacheLevel => "cache-level",
    /// A cache shared by a level the architecture does not have.
    CacheSharing => "cache-sharing",
    /// A cache shared more narrowly than a cache below it.
    CacheOrder => "cache-order",
    /// Two caches with the same level and type.
    CacheDuplicate => "cache-duplicate",
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem found in a topology file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The rule that failed.
    pub rule: Rule,
    /// Byte range in the source, when the problem has a place.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// What is wrong, naming the offending value.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic pointing at `span`.
    #[must_use]
    pub fn new(rule: Rule, span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            rule,
            span: Some(span),
            message: message.into(),
        }
    }

    /// A diagnostic about the whole file.
    #[must_use]
    pub fn whole_file(rule: Rule, message: impl Into<String>) -> Self {
        Self {
            rule,
            span: None,
            message: message.into(),
        }
    }
}

/// 1-based line and column of a byte offset (columns count characters).
#[must_use]
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// All problems found in one file, rendered as `file:line:col: error[rule]: message`
/// with the offending source line underneath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file name used in the rendering.
    pub path: String,
    /// The file's text.
    pub source: String,
    /// Problems in source order.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// A JSON-friendly list: rule, line, column, message.
    #[must_use]
    pub fn to_records(&self) -> Vec<DiagnosticRecord> {
        self.items
            .iter()
            .map(|d| {
                let (line, column) = d.span.as_ref().map_or((None, None), |s| {
                    let (l, c) = line_col(&self.source, s.start);
                    (Some(l), Some(c))
                });
                DiagnosticRecord {
                    file: self.path.clone(),
                    line,
                    column,
                    rule: d.rule,
                    message: d.message.clone(),
                }
            })
            .collect()
    }
}

/// A diagnostic with its place resolved, for `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosticRecord {
    /// The file.
    pub file: String,
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    /// 1-based column, when the problem has a place.
    pub column: Option<usize>,
    /// The rule that failed.
    pub rule: Rule,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            match &d.span {
                Some(span) => {
                    let (line, column) = line_col(&self.source, span.start);
                    writeln!(
                        f,
                        "{}:{line}:{column}: error[{}]: {}",
                        self.path, d.rule, d.message
                    )?;
                    let text = self.source.lines().nth(line - 1).unwrap_or("");
                    let gutter = line.to_string();
                    let pad = " ".repeat(gutter.len());
                    let span_chars = self
                        .source
                        .get(span.clone())
                        .map_or(1, |s| s.lines().next().unwrap_or("").chars().count().max(1));
                    let width =
                        span_chars.min(text.chars().count().saturating_sub(column - 1).max(1));
                    writeln!(f, "{pad} |")?;
                    writeln!(f, "{gutter} | {text}")?;
                    writeln!(f, "{pad} | {}{}", " ".repeat(column - 1), "^".repeat(width))?;
                }
                None => writeln!(f, "{}: error[{}]: {}", self.path, d.rule, d.message)?,
            }
        }
        let n = self.items.len();
        write!(
            f,
            "{}: {n} problem{}",
            self.path,
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_line_col_is_one_based() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 11), (2, 6));
    }

    #[test]
    fn test_rule_names_are_unique() {
        let mut names: Vec<_> = Rule::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Rule::ALL.len());
    }

    #[test]
    fn test_rendering_points_at_value() {
        let diags = Diagnostics {
            path: "t.toml".into(),
            source: "x = 1\ncores = 0\n".into(),
            items: vec![Diagnostic::new(Rule::ZeroCount, 14..15, "cores is 0")],
        };
        let text = diags.to_string();
        assert!(
            text.starts_with("t.toml:2:9: error[zero-count]: cores is 0\n"),
            "{text}"
        );
        assert!(text.contains("2 | cores = 0\n  |         ^\n"), "{text}");
    }
}
