//! The iasl-like text layout of a decoded table:
//!
//! ```text
//! [044h 0068   1]                             Type : 0x0B (GIC CPU Interface (GICC))
//! [050h 0080   4]                            Flags : 0x00000008 (Online Capable)
//!                                          Enabled : 0
//!                                   Online Capable : 1
//! ```
//!
//! `[hex-offset decimal-offset length]`, the field name right-aligned, its
//! value (integers in hex, text in quotes, names and set flags in
//! parentheses), and one line per flag bit or bit field under a flags field.

use std::fmt::Write;

use super::{Decoded, Item};

/// Width of the right-aligned name column.
const NAME_WIDTH: usize = 36;
/// Width of the `[000h 0000   4] ` prefix.
const PREFIX_WIDTH: usize = 16;

/// Renders every field of `decoded`, one per line.
#[must_use]
pub fn render(decoded: &Decoded) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{}: {}", decoded.signature.trim_end(), decoded.title);
    let mut last_blank = false;
    for item in &decoded.items {
        match item {
            Item::Field(f) => {
                let _ = writeln!(
                    out,
                    "[{:03X}h {:04} {:3}] {:>NAME_WIDTH$} : {}",
                    f.offset, f.offset, f.length, f.name, f.value
                );
                for (name, value) in &f.details {
                    let _ = writeln!(out, "{:PREFIX_WIDTH$}{name:>NAME_WIDTH$} : {value}", "");
                }
                last_blank = false;
            }
            Item::Blank => {
                if !last_blank {
                    out.push('\n');
                }
                last_blank = true;
            }
            Item::Note(text) => {
                let _ = writeln!(out, "{text}");
                last_blank = false;
            }
        }
    }
    out
}
