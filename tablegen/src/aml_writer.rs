//! A single-buffer AML writer for the DSDT's per-CPU hot path.
//!
//! `acpi_tables::aml` builds every object in its own vector and copies it
//! into its parent: about thirty allocations per processor device, which
//! made the DSDT of a 4096-CPU plan cost 5 ms, half of `vtopo compile`'s
//! budget. The objects repeated per CPU (the `Cxxx` devices and the `CTFY`
//! dispatcher) are written here instead, straight into one buffer. The
//! encodings follow ACPI 6.5 §20.2 (AML grammar) and are byte-identical to
//! `acpi_tables`' (including its choice of PkgLength size): unit tests in
//! `dsdt.rs` compare every processor device and the dispatcher of every
//! topology in `topologies/` with the `acpi_tables` encoding, which stays
//! the reference.

/// AML opcodes used on the hot path (ACPI 6.5 §20.2).
pub mod op {
    /// ZeroOp.
    pub const ZERO: u8 = 0x00;
    /// OneOp.
    pub const ONE: u8 = 0x01;
    /// NameOp.
    pub const NAME: u8 = 0x08;
    /// BytePrefix.
    pub const BYTE: u8 = 0x0A;
    /// WordPrefix.
    pub const WORD: u8 = 0x0B;
    /// DWordPrefix.
    pub const DWORD: u8 = 0x0C;
    /// StringPrefix.
    pub const STRING: u8 = 0x0D;
    /// QWordPrefix.
    pub const QWORD: u8 = 0x0E;
    /// BufferOp.
    pub const BUFFER: u8 = 0x11;
    /// MethodOp.
    pub const METHOD: u8 = 0x14;
    /// ExtOpPrefix.
    pub const EXT: u8 = 0x5B;
    /// DeviceOp (after ExtOpPrefix).
    pub const DEVICE: u8 = 0x82;
    /// Arg0Op; ArgN is Arg0Op + N.
    pub const ARG0: u8 = 0x68;
    /// NotifyOp.
    pub const NOTIFY: u8 = 0x86;
    /// LEqualOp.
    pub const LEQUAL: u8 = 0x93;
    /// IfOp.
    pub const IF: u8 = 0xA0;
    /// ReturnOp.
    pub const RETURN: u8 = 0xA4;
}

/// Appends AML to one growing buffer.
#[derive(Debug, Default)]
pub struct AmlWriter {
    buf: Vec<u8>,
}

impl AmlWriter {
    /// A writer with room for `capacity` bytes.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// The bytes written.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// One byte.
    pub fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// Raw bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// An Integer in its shortest encoding: ZeroOp, OneOp, then Byte, Word,
    /// DWord or QWord data (§20.2.3).
    pub fn integer(&mut self, v: u64) {
        match v {
            0 => self.byte(op::ZERO),
            1 => self.byte(op::ONE),
            2..=0xFF => self.raw(&[op::BYTE, v.to_le_bytes()[0]]),
            0x100..=0xFFFF => {
                self.byte(op::WORD);
                self.raw(&v.to_le_bytes()[..2]);
            }
            0x1_0000..=0xFFFF_FFFF => {
                self.byte(op::DWORD);
                self.raw(&v.to_le_bytes()[..4]);
            }
            _ => {
                self.byte(op::QWORD);
                self.raw(&v.to_le_bytes());
            }
        }
    }

    /// A String object (§20.2.3 String).
    pub fn string(&mut self, s: &str) {
        self.byte(op::STRING);
        self.raw(s.as_bytes());
        self.byte(0);
    }

    /// `lead` (the opcode bytes), then a PkgLength covering itself and what
    /// `body` writes (§20.2.4 Package Length Encoding).
    pub fn package(&mut self, lead: &[u8], body: impl FnOnce(&mut Self)) {
        self.raw(lead);
        let at = self.buf.len();
        self.raw(&[0; 4]);
        let body_start = self.buf.len();
        body(self);
        let len = self.buf.len() - body_start;
        let (encoded, n) = pkg_length(len);
        if n < 4 {
            self.buf.copy_within(body_start.., at + n);
            self.buf.truncate(self.buf.len() - (4 - n));
        }
        self.buf[at..at + n].copy_from_slice(&encoded[..n]);
    }

    /// `Method (name, args, NotSerialized) { body }`.
    pub fn method(&mut self, name: &[u8; 4], args: u8, body: impl FnOnce(&mut Self)) {
        self.package(&[op::METHOD], |w| {
            w.raw(name);
            w.byte(args & 0x7);
            body(w);
        });
    }

    /// `Name (name, value)` with an integer value.
    pub fn name_integer(&mut self, name: &[u8; 4], v: u64) {
        self.byte(op::NAME);
        self.raw(name);
        self.integer(v);
    }

    /// `Name (name, "string")`.
    pub fn name_string(&mut self, name: &[u8; 4], s: &str) {
        self.byte(op::NAME);
        self.raw(name);
        self.string(s);
    }

    /// `Buffer (n) { bytes }` (§20.2.5.4 DefBuffer).
    pub fn buffer(&mut self, bytes: &[u8]) {
        self.package(&[op::BUFFER], |w| {
            w.integer(bytes.len() as u64);
            w.raw(bytes);
        });
    }
}

/// PkgLength of a body of `len` bytes, counting its own bytes, with the
/// same size thresholds as `acpi_tables` (1 byte below 63, 2 below 4094,
/// 3 below 2^20 - 3, else 4); returns the bytes and how many are used.
#[must_use]
pub fn pkg_length(len: usize) -> ([u8; 4], usize) {
    let n = if len < 63 {
        1
    } else if len < (1 << 12) - 2 {
        2
    } else if len < (1 << 20) - 3 {
        3
    } else {
        4
    };
    let total = len + n;
    let low = |x: usize| x.to_le_bytes()[0];
    let mut out = [0u8; 4];
    if n == 1 {
        out[0] = low(total);
    } else {
        out[0] = low(((n - 1) << 6) | (total & 0xF));
        for (i, byte) in out.iter_mut().enumerate().take(n).skip(1) {
            *byte = low(total >> (4 + 8 * (i - 1)));
        }
    }
    (out, n)
}

#[cfg(test)]
mod tests {
    use acpi_tables::aml::{self, Method, Name, Path, Return};
    use acpi_tables::Aml;

    use super::*;

    fn reference(object: &dyn Aml) -> Vec<u8> {
        let mut v = Vec::new();
        object.to_aml_bytes(&mut v);
        v
    }

    #[test]
    fn test_integers_match_acpi_tables() {
        for v in [
            0u64,
            1,
            2,
            0xFF,
            0x100,
            0xFFFF,
            0x1_0000,
            0xFFFF_FFFF,
            0x1_0000_0000,
        ] {
            let mut w = AmlWriter::default();
            w.integer(v);
            assert_eq!(w.bytes(), reference(&v).as_slice(), "{v:#x}");
        }
    }

    #[test]
    fn test_nested_packages_match_acpi_tables_across_pkg_length_sizes() {
        // A Method holding a Buffer: both PkgLengths cross the 1/2/3/4-byte
        // boundaries (63, 4094, 2^20 - 3 bytes) for these payload sizes.
        for len in [
            0usize,
            50,
            55,
            56,
            57,
            60,
            61,
            62,
            63,
            4080,
            4085,
            4086,
            4087,
            4090,
            (1 << 20) - 20,
            (1 << 20) - 12,
            1 << 20,
        ] {
            let payload: Vec<u8> = (0..len).map(|i: usize| i.to_le_bytes()[0]).collect();
            let mut w = AmlWriter::default();
            w.method(b"TEST", 0, |w| w.buffer(&payload));
            let expected = reference(&Method::new(
                Path::new("TEST"),
                0,
                false,
                vec![&aml::BufferData::new(payload.clone())],
            ));
            assert!(
                w.bytes() == expected.as_slice(),
                "payload of {len} bytes differs"
            );
        }
    }

    #[test]
    fn test_method_name_and_return_match_acpi_tables() {
        let mut w = AmlWriter::default();
        w.method(b"_PXM", 0, |w| {
            w.byte(op::RETURN);
            w.integer(0x1234);
        });
        w.name_string(b"_HID", "ACPI0007");
        w.name_integer(b"_UID", 300);
        let mut expected = reference(&Method::new(
            Path::new("_PXM"),
            0,
            false,
            vec![&Return::new(&0x1234u32)],
        ));
        expected.extend(reference(&Name::new(Path::new("_HID"), &"ACPI0007")));
        expected.extend(reference(&Name::new(Path::new("_UID"), &300u32)));
        assert_eq!(w.bytes(), expected.as_slice());
    }

    #[test]
    fn test_buffer_matches_acpi_tables() {
        let data: Vec<u8> = (0..80).collect();
        let mut w = AmlWriter::default();
        w.buffer(&data);
        assert_eq!(w.bytes(), reference(&aml::BufferData::new(data)).as_slice());
    }
}
