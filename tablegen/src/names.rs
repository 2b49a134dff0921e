//! AML name segments built by us, valid by construction.
//!
//! `acpi_tables::aml::Path::new` asserts on malformed names; every name the
//! generator makes from data goes through [`NameSeg`], whose constructors can
//! only produce four characters from `[A-Z0-9_]` starting with a letter or `_`
//! (ACPI 6.5 §20.2.2 Name Objects Encoding).

use acpi_tables::aml::Path;

/// A validated four-character AML NameSeg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameSeg([u8; 4]);

const HEX: &[u8; 16] = b"0123456789ABCDEF";

impl NameSeg {
    /// `Cxxx`: the processor device of CPU `index` (index < 4096, which every
    /// platform's CPU limit guarantees; larger values wrap to keep the name valid).
    #[must_use]
    pub fn cpu(index: u32) -> Self {
        let i = index as usize;
        Self([b'C', HEX[(i >> 8) & 0xF], HEX[(i >> 4) & 0xF], HEX[i & 0xF]])
    }

    /// `_Exx`: the edge-triggered handler of GPE `bit` (bit < 256).
    #[must_use]
    pub fn gpe_edge(bit: u32) -> Self {
        let i = bit as usize;
        Self([b'_', b'E', HEX[(i >> 4) & 0xF], HEX[i & 0xF]])
    }

    /// The four characters.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes from HEX and literals are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("____")
    }

    /// A relative AML path of this one segment.
    #[must_use]
    pub fn path(&self) -> Path {
        Path::new(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cpu_names_are_hex_indices() {
        assert_eq!(NameSeg::cpu(0).as_str(), "C000");
        assert_eq!(NameSeg::cpu(0x1AB).as_str(), "C1AB");
        assert_eq!(NameSeg::cpu(4095).as_str(), "CFFF");
    }

    #[test]
    fn test_gpe_names() {
        assert_eq!(NameSeg::gpe_edge(2).as_str(), "_E02");
    }
}
