//! Per-table rules: `table-decode`, `table-duplicate`, `header-length`,
//! `header-checksum`, `rsdp-checksum`, `xsdt-entries`.

use std::collections::BTreeMap;

use super::{Finding, Set, Severity};
use crate::dump::{DecodeError, Table, TableFile};

/// The name a finding gives a table file: its signature when it has one.
pub(crate) fn table_name(file: &TableFile) -> String {
    if file.bytes.starts_with(b"RSD PTR ") {
        return "RSDP".to_string();
    }
    match file.bytes.get(..4) {
        Some(sig) if sig.iter().all(|b| b.is_ascii_graphic()) => {
            sig.iter().map(|&b| char::from(b)).collect()
        }
        _ => file.name.clone(),
    }
}

/// A table the decoder rejects: `header-length` when its Length runs past
/// the file (a truncated file), `table-decode` otherwise.
pub(crate) fn decode_failure(file: &TableFile, error: &DecodeError, out: &mut Vec<Finding>) {
    let table = table_name(file);
    let text = error.to_string();
    let message = text
        .strip_prefix(&format!("{table}: "))
        .unwrap_or(&text)
        .to_string();
    match error {
        DecodeError::LengthPastEnd {
            length, available, ..
        } => out.push(Finding::new(
            "header-length",
            Severity::Error,
            &table,
            format!(
                "Length field says {length} bytes but file {} has {available}: the table is truncated",
                file.name
            ),
        )),
        _ => out.push(Finding::new(
            "table-decode",
            Severity::Error,
            &table,
            format!("{message} (file {})", file.name),
        )),
    }
}

pub(crate) fn check(set: &Set<'_>, out: &mut Vec<Finding>) {
    duplicates(set, out);
    for (file, decoded) in &set.tables {
        let table = table_name(file);
        let file_len = file.bytes.len();
        let declared = match (&decoded.header, &decoded.table) {
            (Some(h), _) => Some(u64::from(h.length)),
            (None, Table::Rsdp(r)) => r.length.map(u64::from),
            (None, _) => file
                .bytes
                .get(4..8)
                .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        };
        if let Some(length) = declared {
            if u64::try_from(file_len).is_ok_and(|n| n != length) {
                out.push(Finding::new(
                    "header-length",
                    Severity::Error,
                    &table,
                    format!(
                        "Length field says {length} bytes but file {} has {file_len}",
                        file.name
                    ),
                ));
            }
        }
        if let Some(h) = &decoded.header {
            if !h.checksum_ok() {
                out.push(Finding::new(
                    "header-checksum",
                    Severity::Error,
                    &table,
                    format!(
                        "Checksum {:#04X} is wrong: the table's bytes sum to {:#04X}, the \
                         Checksum should be {:#04X}",
                        h.checksum,
                        h.checksum.wrapping_sub(h.expected_checksum),
                        h.expected_checksum
                    ),
                ));
            }
        }
        match &decoded.table {
            Table::Rsdp(r) => rsdp(&table, r, out),
            Table::Xsdt(x) if x.stray_bytes > 0 => out.push(Finding::new(
                "xsdt-entries",
                Severity::Error,
                &table,
                format!(
                    "Length is not 36 + {} x n: {} whole entries and {} stray bytes",
                    x.entry_size,
                    x.entries.len(),
                    x.stray_bytes
                ),
            )),
            _ => {}
        }
    }
}

fn rsdp(table: &str, r: &crate::dump::Rsdp, out: &mut Vec<Finding>) {
    if !r.checksum_ok {
        out.push(Finding::new(
            "rsdp-checksum",
            Severity::Error,
            table,
            format!(
                "Checksum over the first 20 bytes is wrong (it should be {:#04X}): ACPICA's \
                 acpi_tb_validate_rsdp rejects the RSDP",
                r.expected_checksum
            ),
        ));
    }
    if r.extended_checksum_ok == Some(false) {
        out.push(Finding::new(
            "rsdp-checksum",
            Severity::Error,
            table,
            format!(
                "Extended Checksum over all {} bytes is wrong (it should be {:#04X})",
                r.length.unwrap_or(0),
                r.expected_extended_checksum.unwrap_or(0)
            ),
        ));
    }
}

fn duplicates(set: &Set<'_>, out: &mut Vec<Finding>) {
    let mut by_signature: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (file, decoded) in &set.tables {
        if decoded.signature != "SSDT" {
            by_signature
                .entry(decoded.signature.as_str())
                .or_default()
                .push(file.name.as_str());
        }
    }
    for (sig, names) in by_signature {
        if names.len() > 1 {
            out.push(Finding::new(
                "table-duplicate",
                Severity::Warning,
                sig.trim_end(),
                format!(
                    "{} tables have this signature ({}); the cross-table checks use the first",
                    names.len(),
                    names.join(", ")
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{bytes_of, lint_rule, patch, tables, ARM, MADT_START};
    use super::super::{lint, Severity};
    use crate::dump::TableFile;

    #[test]
    fn test_our_tables_pass_the_header_rules() {
        let findings = lint(&tables(ARM));
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn test_header_checksum_catches_a_corrupted_byte() {
        let mut files = tables(ARM);
        bytes_of(&mut files, "SRAT")[40] ^= 0x01;
        let found = lint_rule(&files, "header-checksum");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].table, "SRAT");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("the table's bytes sum to 0x01"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn test_header_length_catches_trailing_bytes() {
        let mut files = tables(ARM);
        // Zero bytes keep the checksum right: only the length is wrong.
        bytes_of(&mut files, "SLIT").extend_from_slice(&[0; 4]);
        let found = lint_rule(&files, "header-length");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "Length field says 48 bytes but file SLIT has 52"
        );
    }

    #[test]
    fn test_header_length_catches_a_truncated_file() {
        let mut files = tables(ARM);
        let madt = bytes_of(&mut files, "APIC");
        let full = madt.len();
        madt.truncate(full - 10);
        let found = lint_rule(&files, "header-length");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            format!(
                "Length field says {full} bytes but file APIC has {}: the table is truncated",
                full - 10
            )
        );
    }

    #[test]
    fn test_rsdp_checksum_catches_both_checksums() {
        let mut files = tables(ARM);
        bytes_of(&mut files, "RSDP")[10] ^= 0x01;
        let found = lint_rule(&files, "rsdp-checksum");
        assert_eq!(found.len(), 2);
        assert!(found[0]
            .message
            .starts_with("Checksum over the first 20 bytes is wrong"));
        assert!(found[1]
            .message
            .starts_with("Extended Checksum over all 36 bytes is wrong"));
    }

    #[test]
    fn test_xsdt_entries_catches_stray_bytes() {
        let mut files = tables(ARM);
        patch(&mut files, "XSDT", |x| x.extend_from_slice(&[0; 4]));
        let found = lint_rule(&files, "xsdt-entries");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.starts_with("Length is not 36 + 8 x n:"),
            "{}",
            found[0].message
        );
        assert!(found[0]
            .message
            .ends_with("whole entries and 4 stray bytes"));
    }

    #[test]
    fn test_table_decode_reports_a_broken_structure() {
        let mut files = tables(ARM);
        patch(&mut files, "APIC", |m| m[MADT_START + 1] = 0);
        let found = lint_rule(&files, "table-decode");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "structure type 0x0b at offset 0x2c has Length 0, shorter than 2 bytes (file APIC)"
        );
    }

    #[test]
    fn test_table_duplicate_is_a_warning() {
        let mut files = tables(ARM);
        let madt = files
            .iter()
            .find(|f| f.name == "APIC")
            .unwrap()
            .bytes
            .clone();
        files.push(TableFile::new("APIC.dat", madt));
        let found = lint_rule(&files, "table-duplicate");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].message,
            "2 tables have this signature (APIC, APIC.dat); the cross-table checks use the first"
        );
    }
}
