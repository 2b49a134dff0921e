//! A bounded little-endian reader that records every field it reads, so the
//! offsets shown by [`super::render`] come from the same code that decodes
//! the values (one source of truth for the layout).
//!
//! Every read is checked against the end of the current structure: a field
//! that does not fit is a [`DecodeError::FieldPastEnd`], never a panic.

use super::{DecodeError, Field, Item};

/// One named bit or bit field of a flags value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bits {
    /// Lowest bit.
    pub shift: u32,
    /// Width in bits (1 for a flag).
    pub width: u32,
    /// Name, as in the spec.
    pub name: &'static str,
    /// Names of the field's values (index = value); empty for a plain flag.
    pub values: &'static [&'static str],
}

/// A one-bit flag.
pub(crate) const fn flag(shift: u32, name: &'static str) -> Bits {
    Bits {
        shift,
        width: 1,
        name,
        values: &[],
    }
}

/// A multi-bit field with named values.
pub(crate) const fn field(
    shift: u32,
    width: u32,
    name: &'static str,
    values: &'static [&'static str],
) -> Bits {
    Bits {
        shift,
        width,
        name,
        values,
    }
}

impl Bits {
    fn mask(&self) -> u64 {
        if self.width >= 64 {
            u64::MAX
        } else {
            ((1u64 << self.width) - 1) << self.shift.min(63)
        }
    }

    fn get(&self, value: u64) -> u64 {
        (value & self.mask()) >> self.shift.min(63)
    }
}

/// The detail lines of a flags value, and the names of its set flags (for
/// the one-line summary).
pub(crate) fn describe_bits(value: u64, bits: &[Bits]) -> (Vec<(String, String)>, Vec<String>) {
    let mut lines = Vec::new();
    let mut summary = Vec::new();
    let mut known = 0u64;
    for b in bits {
        known |= b.mask();
        let v = b.get(value);
        if b.values.is_empty() {
            lines.push((b.name.to_string(), v.to_string()));
            if v != 0 {
                summary.push(b.name.to_string());
            }
        } else {
            let name = usize::try_from(v)
                .ok()
                .and_then(|i| b.values.get(i))
                .copied()
                .unwrap_or("reserved");
            lines.push((b.name.to_string(), format!("{v} ({name})")));
        }
    }
    let unknown = value & !known;
    if unknown != 0 {
        lines.push(("Reserved bits set".to_string(), format!("{unknown:#x}")));
        summary.push(format!("reserved bits {unknown:#x}"));
    }
    (lines, summary)
}

/// The value of an integer field as the renderer prints it.
pub(crate) fn hex(value: u64, size: usize) -> String {
    format!("0x{value:0width$X}", width = size * 2)
}

/// Printable ASCII of `bytes`, other bytes as `\xNN`.
pub(crate) fn ascii(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_graphic() || b == b' ' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// Space-separated hex bytes, at most `limit` of them, then an ellipsis.
pub(crate) fn hex_bytes(bytes: &[u8], limit: usize) -> String {
    let mut parts: Vec<String> = bytes
        .iter()
        .take(limit)
        .map(|b| format!("{b:02X}"))
        .collect();
    if bytes.len() > limit {
        parts.push(format!("... ({} bytes)", bytes.len()));
    }
    parts.join(" ")
}

/// Bytes of a raw field shown before eliding the rest.
pub(crate) const RAW_LIMIT: usize = 32;

/// A reader over one table (offsets are table offsets) bounded to one
/// structure (or the whole table).
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    table: &'a str,
    within: String,
    items: Vec<Item>,
}

impl<'a> Cursor<'a> {
    /// A cursor over the whole `bytes`, starting at `start`.
    pub(crate) fn new(bytes: &'a [u8], table: &'a str, start: usize) -> Self {
        Self {
            bytes,
            pos: start.min(bytes.len()),
            end: bytes.len(),
            table,
            within: format!("the table (Length {})", bytes.len()),
            items: Vec::new(),
        }
    }

    /// A cursor over `len` bytes at the current position, described by
    /// `within` in errors. The caller has checked that they fit.
    pub(crate) fn sub(&self, len: usize, within: String) -> Cursor<'a> {
        let end = self.pos.saturating_add(len).min(self.end);
        Cursor {
            bytes: self.bytes,
            pos: self.pos,
            end,
            table: self.table,
            within,
            items: Vec::new(),
        }
    }

    /// Appends a finished sub-cursor's items and moves past its bytes.
    pub(crate) fn absorb(&mut self, sub: Cursor<'a>) {
        self.pos = sub.end.max(self.pos);
        self.items.extend(sub.items);
    }

    /// The table signature (for errors raised by callers).
    pub(crate) fn table(&self) -> &'a str {
        self.table
    }

    /// Current offset in the table.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Offset where the current structure ends.
    pub(crate) fn end(&self) -> usize {
        self.end
    }

    /// Bytes left in the current structure.
    pub(crate) fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// True when `size` more bytes fit in the current structure.
    pub(crate) fn fits(&self, size: usize) -> bool {
        self.remaining() >= size
    }

    /// The byte `ahead` bytes after the current position, if inside the structure.
    pub(crate) fn peek_u8(&self, ahead: usize) -> Option<u8> {
        let at = self.pos.checked_add(ahead)?;
        if at < self.end {
            self.bytes.get(at).copied()
        } else {
            None
        }
    }

    /// The little-endian u16 `ahead` bytes after the current position.
    pub(crate) fn peek_u16(&self, ahead: usize) -> Option<u16> {
        let lo = self.peek_u8(ahead)?;
        let hi = self.peek_u8(ahead.checked_add(1)?)?;
        Some(u16::from_le_bytes([lo, hi]))
    }

    fn take(&mut self, name: &str, size: usize) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let stop = start.checked_add(size).filter(|&s| s <= self.end);
        match stop.and_then(|s| self.bytes.get(start..s)) {
            Some(slice) => {
                self.pos = start + size;
                Ok(slice)
            }
            None => Err(DecodeError::FieldPastEnd {
                table: self.table.to_string(),
                field: name.to_string(),
                offset: start,
                size,
                within: self.within.clone(),
                end: self.end,
            }),
        }
    }

    fn push(&mut self, offset: usize, length: usize, name: &str, value: String) {
        self.items.push(Item::Field(Field {
            offset,
            length,
            name: name.to_string(),
            value,
            details: Vec::new(),
        }));
    }

    /// Reads a little-endian unsigned integer of `size` (1 to 8) bytes.
    pub(crate) fn uint(&mut self, name: &str, size: usize) -> Result<u64, DecodeError> {
        let offset = self.pos;
        let slice = self.take(name, size)?;
        let mut buf = [0u8; 8];
        for (dst, src) in buf.iter_mut().zip(slice) {
            *dst = *src;
        }
        let value = u64::from_le_bytes(buf);
        self.push(offset, size, name, hex(value, size));
        Ok(value)
    }

    /// Reads a u8 field.
    pub(crate) fn u8(&mut self, name: &str) -> Result<u8, DecodeError> {
        let v = self.uint(name, 1)?;
        Ok(u8::try_from(v).unwrap_or(u8::MAX))
    }

    /// Reads a little-endian u16 field.
    pub(crate) fn u16(&mut self, name: &str) -> Result<u16, DecodeError> {
        let v = self.uint(name, 2)?;
        Ok(u16::try_from(v).unwrap_or(u16::MAX))
    }

    /// Reads a little-endian u32 field.
    pub(crate) fn u32(&mut self, name: &str) -> Result<u32, DecodeError> {
        let v = self.uint(name, 4)?;
        Ok(u32::try_from(v).unwrap_or(u32::MAX))
    }

    /// Reads a little-endian u64 field.
    pub(crate) fn u64(&mut self, name: &str) -> Result<u64, DecodeError> {
        self.uint(name, 8)
    }

    /// Reads a u8 whose value has a name (`names(value)`), shown after it.
    pub(crate) fn u8_named(
        &mut self,
        name: &str,
        names: impl Fn(u8) -> Option<&'static str>,
    ) -> Result<u8, DecodeError> {
        let v = self.u8(name)?;
        self.annotate(names(v).unwrap_or("unknown"));
        Ok(v)
    }

    /// Reads an integer flags field of `size` bytes and lists its bits.
    pub(crate) fn flags(
        &mut self,
        name: &str,
        size: usize,
        bits: &[Bits],
    ) -> Result<u64, DecodeError> {
        let v = self.uint(name, size)?;
        self.describe_last(v, bits);
        Ok(v)
    }

    /// Adds the bit lines of `value` under the last field, and the names of
    /// the set flags after its value.
    pub(crate) fn describe_last(&mut self, value: u64, bits: &[Bits]) {
        let (lines, summary) = describe_bits(value, bits);
        if !summary.is_empty() {
            self.annotate(&summary.join(", "));
        }
        if let Some(Item::Field(f)) = self.items.last_mut() {
            f.details.extend(lines);
        }
    }

    /// Appends ` (text)` to the last field's value.
    pub(crate) fn annotate(&mut self, text: &str) {
        if let Some(Item::Field(f)) = self.items.last_mut() {
            f.value.push_str(" (");
            f.value.push_str(text);
            f.value.push(')');
        }
    }

    /// Reads `size` bytes shown as text.
    pub(crate) fn ascii(&mut self, name: &str, size: usize) -> Result<&'a [u8], DecodeError> {
        let offset = self.pos;
        let slice = self.take(name, size)?;
        self.push(offset, size, name, format!("\"{}\"", ascii(slice)));
        Ok(slice)
    }

    /// Reads `size` bytes shown as hex bytes.
    pub(crate) fn raw(&mut self, name: &str, size: usize) -> Result<&'a [u8], DecodeError> {
        let offset = self.pos;
        let slice = self.take(name, size)?;
        self.push(offset, size, name, hex_bytes(slice, RAW_LIMIT));
        Ok(slice)
    }

    /// Shows whatever is left of the structure as raw bytes (nothing if empty).
    pub(crate) fn rest(&mut self, name: &str) -> Result<(), DecodeError> {
        let left = self.remaining();
        if left > 0 {
            self.raw(name, left)?;
        }
        Ok(())
    }

    /// Adds a line for the `size`-byte group of fields that follows (a GAS),
    /// without reading it.
    pub(crate) fn group(&mut self, name: &str, size: usize, value: &str) {
        let offset = self.pos;
        self.push(offset, size, name, value.to_string());
    }

    /// Adds a free-text line.
    pub(crate) fn note(&mut self, text: String) {
        self.items.push(Item::Note(text));
    }

    /// Adds an empty line (between structures).
    pub(crate) fn blank(&mut self) {
        self.items.push(Item::Blank);
    }

    /// The recorded items.
    pub(crate) fn finish(self) -> Vec<Item> {
        self.items
    }
}

/// How a table's structures begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StructHeader {
    /// u8 Type, u8 Length (MADT, SRAT, PPTT).
    TypeU8LengthU8,
    /// u8 Type, u16 Length (GTDT platform timers).
    TypeU8LengthU16,
}

/// Walks the structures from the cursor's position to its end, calling
/// `decode(sub_cursor, type, length)` for each, bounded to its length.
/// A structure whose length is shorter than its own type/length header or
/// runs past the end is an error.
pub(crate) fn walk<'a>(
    c: &mut Cursor<'a>,
    header: StructHeader,
    mut decode: impl FnMut(&mut Cursor<'a>, u8, usize) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let header_len = match header {
        StructHeader::TypeU8LengthU8 => 2,
        StructHeader::TypeU8LengthU16 => 3,
    };
    while c.remaining() > 0 {
        let offset = c.pos();
        let (kind, length) = match header {
            StructHeader::TypeU8LengthU8 => (c.peek_u8(0), c.peek_u8(1).map(usize::from)),
            StructHeader::TypeU8LengthU16 => (c.peek_u8(0), c.peek_u16(1).map(usize::from)),
        };
        let (Some(kind), Some(length)) = (kind, length) else {
            return Err(DecodeError::FieldPastEnd {
                table: c.table().to_string(),
                field: "structure Type and Length".to_string(),
                offset,
                size: header_len,
                within: c.within.clone(),
                end: c.end(),
            });
        };
        if length < header_len {
            return Err(DecodeError::StructureTooShort {
                table: c.table().to_string(),
                name: format!("structure type {kind:#04x}"),
                offset,
                length,
                minimum: header_len,
            });
        }
        if length > c.remaining() {
            return Err(DecodeError::StructurePastEnd {
                table: c.table().to_string(),
                kind,
                offset,
                length,
                end: c.end(),
            });
        }
        let mut sub = c.sub(
            length,
            format!("the structure type {kind:#04x} at offset {offset:#x} (Length {length})"),
        );
        c.blank();
        decode(&mut sub, kind, length)?;
        sub.rest("Unknown trailing bytes")?;
        c.absorb(sub);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_FLAGS: &[Bits] = &[
        flag(0, "Enabled"),
        flag(3, "Online Capable"),
        field(4, 2, "Mode", &["zero", "one", "two"]),
    ];

    #[test]
    fn test_describe_bits_lists_every_defined_bit_and_reserved_ones() {
        let (lines, summary) = describe_bits(0b0001_1001 | 0x140, TEST_FLAGS);
        assert_eq!(
            lines,
            [
                ("Enabled".to_string(), "1".to_string()),
                ("Online Capable".to_string(), "1".to_string()),
                ("Mode".to_string(), "1 (one)".to_string()),
                ("Reserved bits set".to_string(), "0x140".to_string()),
            ]
        );
        assert_eq!(
            summary,
            ["Enabled", "Online Capable", "reserved bits 0x140"]
        );
    }

    #[test]
    fn test_field_value_out_of_names_is_reserved() {
        let (lines, _) = describe_bits(0b11_0000, TEST_FLAGS);
        assert_eq!(lines[2].1, "3 (reserved)");
    }

    #[test]
    fn test_reads_are_bounded_by_the_structure() {
        let bytes = [1u8, 2, 3, 4, 5];
        let mut c = Cursor::new(&bytes, "TEST", 1);
        assert_eq!(c.u16("A").unwrap(), 0x0302);
        let err = c.u32("B").unwrap_err();
        assert_eq!(
            err.to_string(),
            "TEST: B at offset 0x3 (4 bytes) runs past the end of the table (Length 5), \
             which ends at offset 0x5"
        );
        assert_eq!(c.u16("C").unwrap(), 0x0504);
        assert!(c.u8("D").is_err());
    }

    #[test]
    fn test_ascii_escapes_unprintable_bytes() {
        assert_eq!(ascii(b"AB \x01"), "AB \\x01");
        assert_eq!(hex_bytes(&[1, 2, 3], 2), "01 02 ... (3 bytes)");
    }

    #[test]
    fn test_walk_rejects_zero_length_and_overlong_structures() {
        let zero = [0x0Bu8, 0x00, 0, 0];
        let mut c = Cursor::new(&zero, "APIC", 0);
        let err = walk(&mut c, StructHeader::TypeU8LengthU8, |_, _, _| Ok(())).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::StructureTooShort { length: 0, .. }
        ));

        let long = [0x0Bu8, 0x10, 0, 0];
        let mut c = Cursor::new(&long, "APIC", 0);
        let err = walk(&mut c, StructHeader::TypeU8LengthU8, |_, _, _| Ok(())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "APIC: structure type 0x0b at offset 0x0 has Length 16, past the end of the \
             table at offset 0x4"
        );

        let lone = [0x0Bu8];
        let mut c = Cursor::new(&lone, "APIC", 0);
        assert!(walk(&mut c, StructHeader::TypeU8LengthU8, |_, _, _| Ok(())).is_err());
    }
}
