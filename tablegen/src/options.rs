//! Table generation options: the OEM identification written into every
//! table header, validated once so that emitting cannot fail.

use std::fmt;

/// Which OEM field a value was meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OemField {
    /// OEMID (6 bytes).
    OemId,
    /// OEM Table ID (8 bytes).
    OemTableId,
}

impl OemField {
    /// Bytes the field holds.
    #[must_use]
    pub fn capacity(self) -> usize {
        match self {
            OemField::OemId => 6,
            OemField::OemTableId => 8,
        }
    }
}

impl fmt::Display for OemField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OemField::OemId => "OEM ID",
            OemField::OemTableId => "OEM table ID",
        })
    }
}

/// An invalid [`Options`] value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// The value is empty.
    #[error("{field} is empty; give 1 to {} printable ASCII characters", field.capacity())]
    Empty {
        /// The field.
        field: OemField,
    },
    /// The value does not fit the field.
    #[error("{field} {value:?} is {len} bytes long; it holds at most {}", field.capacity())]
    TooLong {
        /// The field.
        field: OemField,
        /// The value given.
        value: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The value has a character outside printable ASCII (0x20..=0x7E).
    #[error("{field} {value:?} has {character:?} at position {position}; only printable ASCII is allowed")]
    NotPrintableAscii {
        /// The field.
        field: OemField,
        /// The value given.
        value: String,
        /// The first offending character.
        character: char,
        /// Its character position.
        position: usize,
    },
}

/// OEM identification for every table header (and the RSDP's OEMID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    oem_id: [u8; 6],
    oem_table_id: [u8; 8],
    oem_revision: u32,
}

impl Options {
    /// Validates the OEM fields: 1 to 6 (OEM ID) or 8 (OEM table ID)
    /// printable ASCII characters; shorter values are padded with spaces.
    ///
    /// To override a firmware table with Linux's ACPI table upgrade, the
    /// OEM ID and table ID must equal the firmware's (QEMU: `"BOCHS "`,
    /// `"BXPC    "`) and the OEM revision must be greater.
    ///
    /// # Errors
    /// [`OptionsError`] naming the field and the offending value.
    pub fn new(oem_id: &str, oem_table_id: &str, oem_revision: u32) -> Result<Self, OptionsError> {
        Ok(Self {
            oem_id: padded(OemField::OemId, oem_id)?,
            oem_table_id: padded(OemField::OemTableId, oem_table_id)?,
            oem_revision,
        })
    }

    /// OEMID.
    #[must_use]
    pub fn oem_id(&self) -> [u8; 6] {
        self.oem_id
    }

    /// OEM Table ID.
    #[must_use]
    pub fn oem_table_id(&self) -> [u8; 8] {
        self.oem_table_id
    }

    /// OEM Revision.
    #[must_use]
    pub fn oem_revision(&self) -> u32 {
        self.oem_revision
    }
}

impl Default for Options {
    /// OEM ID `"VTOPO "`, OEM table ID `"VTOPO   "`, OEM revision 1.
    fn default() -> Self {
        Self {
            oem_id: *b"VTOPO ",
            oem_table_id: *b"VTOPO   ",
            oem_revision: 1,
        }
    }
}

fn padded<const N: usize>(field: OemField, value: &str) -> Result<[u8; N], OptionsError> {
    if let Some((position, character)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| !(' '..='~').contains(c))
    {
        return Err(OptionsError::NotPrintableAscii {
            field,
            value: value.to_string(),
            character,
            position,
        });
    }
    if value.is_empty() {
        return Err(OptionsError::Empty { field });
    }
    let bytes = value.as_bytes();
    if bytes.len() > N {
        return Err(OptionsError::TooLong {
            field,
            value: value.to_string(),
            len: bytes.len(),
        });
    }
    let mut out = [b' '; N];
    out[..bytes.len()].copy_from_slice(bytes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_short_values_are_space_padded() {
        let options = Options::new("BOCHS", "BXPC", 2).unwrap();
        assert_eq!(&options.oem_id(), b"BOCHS ");
        assert_eq!(&options.oem_table_id(), b"BXPC    ");
        assert_eq!(options.oem_revision(), 2);
    }

    #[test]
    fn test_full_length_values_are_kept() {
        let options = Options::new("ABCDEF", "ABCDEFGH", 0).unwrap();
        assert_eq!(&options.oem_id(), b"ABCDEF");
        assert_eq!(&options.oem_table_id(), b"ABCDEFGH");
    }

    #[test]
    fn test_too_long_oem_id_is_rejected_with_its_length() {
        let err = Options::new("VTOPO-X", "T", 1).unwrap_err();
        assert_eq!(
            err,
            OptionsError::TooLong {
                field: OemField::OemId,
                value: "VTOPO-X".into(),
                len: 7
            }
        );
        assert_eq!(
            err.to_string(),
            "OEM ID \"VTOPO-X\" is 7 bytes long; it holds at most 6"
        );
    }

    #[test]
    fn test_non_ascii_table_id_is_rejected_with_position() {
        let err = Options::new("VTOPO", "TAB\u{e9}", 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "OEM table ID \"TAB\u{e9}\" has '\u{e9}' at position 3; only printable ASCII is allowed"
        );
    }

    #[test]
    fn test_control_character_is_rejected() {
        let err = Options::new("A\tB", "T", 1).unwrap_err();
        assert!(matches!(
            err,
            OptionsError::NotPrintableAscii {
                position: 1,
                character: '\t',
                ..
            }
        ));
    }

    #[test]
    fn test_empty_value_is_rejected() {
        let err = Options::new("V", "", 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "OEM table ID is empty; give 1 to 8 printable ASCII characters"
        );
    }

    #[test]
    fn test_default_is_vtopo() {
        let options = Options::default();
        assert_eq!(&options.oem_id(), b"VTOPO ");
        assert_eq!(&options.oem_table_id(), b"VTOPO   ");
        assert_eq!(options.oem_revision(), 1);
    }
}
