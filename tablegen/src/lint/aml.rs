//! A best-effort scan of a DSDT/SSDT's AML byte stream for processor
//! objects and their ACPI Processor UIDs. It is not an AML parser: it looks
//! for two shapes only.
//!
//! - `Device (XXXX) { Name (_HID, "ACPI0007") ... Name (_UID, n) }`
//!   (ACPI 6.5 §8.4 Declaring Processors): DeviceOp `5B 82` PkgLength
//!   NameString, whose own body (nested devices excluded) holds
//!   NameOp `08` `_HID` StringPrefix `0D` `"ACPI0007\0"`, and NameOp `08`
//!   `_UID` followed by an integer: ZeroOp `00`, OneOp `01`, OnesOp `FF`,
//!   BytePrefix `0A`, WordPrefix `0B`, DWordPrefix `0C` or QWordPrefix `0E`.
//!   A `_UID` declared any other way (a `Method`, a string, a computed
//!   value) is reported as unreadable, not guessed.
//! - the legacy `Processor (XXXX, ProcID, PblkAddr, PblkLen) {...}`
//!   (ProcessorOp `5B 83`, deprecated since ACPI 6.4 but still emitted by
//!   QEMU's q35), whose ProcID byte is the processor's UID (Linux
//!   `acpi_processor_get_info`).
//!
//! A byte pattern inside a buffer or string can in principle look like a
//! DeviceOp; candidates need a well-formed PkgLength that stays inside the
//! table and a valid NameString, which makes such false hits unlikely.

/// How a processor was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declaration {
    /// `Device` with `_HID "ACPI0007"`.
    Device,
    /// The legacy `Processor` operator.
    ProcessorOp,
}

/// A processor object found in AML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmlProcessor {
    /// Its name path as far as the scan can tell (enclosing `Scope`s are not
    /// tracked, enclosing `Device`s are).
    pub path: String,
    /// Table offset of its DeviceOp/ProcessorOp.
    pub offset: usize,
    /// `Device` or `Processor`.
    pub declaration: Declaration,
    /// The UID: `_UID` (Device) or ProcID (Processor); `None` when the
    /// `_UID` is not a `Name` with an integer constant.
    pub uid: Option<u64>,
}

/// Bytes of the table header before the AML.
const HEADER: usize = 36;
/// ExtOpPrefix.
const EXT_OP: u8 = 0x5B;
/// DeviceOp (after ExtOpPrefix).
const DEVICE_OP: u8 = 0x82;
/// ProcessorOp (after ExtOpPrefix).
const PROCESSOR_OP: u8 = 0x83;
/// `Name (_HID, "ACPI0007")`.
const HID_ACPI0007: &[u8] = b"\x08_HID\x0DACPI0007\x00";
/// `Name (_UID, ` (then the value).
const NAME_UID: &[u8] = b"\x08_UID";

/// Decodes a PkgLength at `at`: (value, bytes it takes).
fn pkg_length(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let lead = *bytes.get(at)?;
    let follow = usize::from(lead >> 6);
    if follow == 0 {
        return Some((usize::from(lead & 0x3F), 1));
    }
    if lead & 0x30 != 0 {
        return None;
    }
    let mut value = usize::from(lead & 0x0F);
    for k in 0..follow {
        let b = usize::from(*bytes.get(at + 1 + k)?);
        value |= b << (4 + 8 * k);
    }
    Some((value, 1 + follow))
}

fn is_lead_name_char(b: u8) -> bool {
    b.is_ascii_uppercase() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    is_lead_name_char(b) || b.is_ascii_digit()
}

/// Decodes a NameSeg at `at`, trailing underscores trimmed.
fn name_seg(bytes: &[u8], at: usize) -> Option<String> {
    let seg = bytes.get(at..at.checked_add(4)?)?;
    if !is_lead_name_char(seg[0]) || !seg[1..].iter().all(|&b| is_name_char(b)) {
        return None;
    }
    let text: String = seg.iter().map(|&b| char::from(b)).collect();
    let trimmed = text.trim_end_matches('_');
    Some(if trimmed.is_empty() {
        text
    } else {
        trimmed.to_string()
    })
}

/// Decodes a NameString at `at`: (display text, bytes it takes).
fn name_string(bytes: &[u8], at: usize) -> Option<(String, usize)> {
    let mut pos = at;
    let mut text = String::new();
    match *bytes.get(pos)? {
        b'\\' => {
            text.push('\\');
            pos += 1;
        }
        b'^' => {
            while *bytes.get(pos)? == b'^' {
                text.push('^');
                pos += 1;
            }
        }
        _ => {}
    }
    let count = match *bytes.get(pos)? {
        0x00 => {
            return Some((text, pos + 1 - at));
        }
        0x2E => {
            pos += 1;
            2
        }
        0x2F => {
            let n = usize::from(*bytes.get(pos + 1)?);
            pos += 2;
            n
        }
        _ => 1,
    };
    let mut segs = Vec::with_capacity(count);
    for _ in 0..count {
        segs.push(name_seg(bytes, pos)?);
        pos += 4;
    }
    text.push_str(&segs.join("."));
    Some((text, pos - at))
}

/// The integer after `Name (_UID, `, if it is a constant.
fn integer(bytes: &[u8], at: usize) -> Option<u64> {
    let op = *bytes.get(at)?;
    let le = |n: usize| -> Option<u64> {
        let slice = bytes.get(at + 1..at + 1 + n)?;
        Some(
            slice
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
        )
    };
    match op {
        0x00 => Some(0),
        0x01 => Some(1),
        0xFF => Some(u64::MAX),
        0x0A => le(1),
        0x0B => le(2),
        0x0C => le(4),
        0x0E => le(8),
        _ => None,
    }
}

/// One Device or Processor object.
struct Object {
    op_offset: usize,
    body_start: usize,
    end: usize,
    name: String,
    kind: u8,
    proc_id: u8,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// Finds every Device/Processor object candidate, with its nesting.
fn objects(bytes: &[u8]) -> Vec<Object> {
    let mut out: Vec<Object> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut i = HEADER;
    while i + 1 < bytes.len() {
        let kind = bytes[i + 1];
        if bytes[i] != EXT_OP || (kind != DEVICE_OP && kind != PROCESSOR_OP) {
            i += 1;
            continue;
        }
        let Some(object) = object_at(bytes, i, kind) else {
            i += 1;
            continue;
        };
        // Close the objects that end before this one starts, and any that
        // this one overruns (a false candidate must not swallow real ones).
        while let Some(&top) = stack.last() {
            if out[top].end <= i || out[top].end < object.end {
                stack.pop();
            } else {
                break;
            }
        }
        let idx = out.len();
        let parent = stack.last().copied();
        if let Some(p) = parent {
            out[p].children.push(idx);
        }
        out.push(Object { parent, ..object });
        stack.push(idx);
        // Continue inside the body: nested objects are found there.
        i = out[idx].body_start;
    }
    out
}

fn object_at(bytes: &[u8], at: usize, kind: u8) -> Option<Object> {
    let pkg_at = at + 2;
    let (len, len_bytes) = pkg_length(bytes, pkg_at)?;
    let end = pkg_at.checked_add(len)?;
    if end > bytes.len() || len < len_bytes + 1 {
        return None;
    }
    let (name, name_len) = name_string(bytes, pkg_at + len_bytes)?;
    let mut body_start = pkg_at + len_bytes + name_len;
    let mut proc_id = 0;
    if kind == PROCESSOR_OP {
        // ProcID (1), PblkAddr (4), PblkLen (1).
        proc_id = *bytes.get(body_start)?;
        body_start += 6;
    }
    if body_start > end {
        return None;
    }
    Some(Object {
        op_offset: at,
        body_start,
        end,
        name,
        kind,
        proc_id,
        parent: None,
        children: Vec::new(),
    })
}

/// The object's own body: its bytes minus its nested objects.
fn own_body<'a>(bytes: &'a [u8], objects: &[Object], o: &Object) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut from = o.body_start;
    for &c in &o.children {
        let child = &objects[c];
        if child.op_offset > from {
            parts.push(&bytes[from..child.op_offset]);
        }
        from = from.max(child.end);
    }
    if o.end > from {
        parts.push(&bytes[from..o.end]);
    }
    parts
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn path(objects: &[Object], idx: usize) -> String {
    let mut names = Vec::new();
    let mut at = Some(idx);
    let mut guard = objects.len();
    while let Some(i) = at {
        names.push(objects[i].name.as_str());
        if objects[i].name.starts_with('\\') || guard == 0 {
            break;
        }
        guard -= 1;
        at = objects[i].parent;
    }
    names.reverse();
    names.join(".")
}

/// The processor objects of one DSDT/SSDT (`table`: the whole table,
/// header included), in table order.
#[must_use]
pub fn processors(table: &[u8]) -> Vec<AmlProcessor> {
    let objects = objects(table);
    let mut out = Vec::new();
    for (idx, o) in objects.iter().enumerate() {
        if o.kind == PROCESSOR_OP {
            out.push(AmlProcessor {
                path: path(&objects, idx),
                offset: o.op_offset,
                declaration: Declaration::ProcessorOp,
                uid: Some(u64::from(o.proc_id)),
            });
            continue;
        }
        let body = own_body(table, &objects, o);
        if !body.iter().any(|part| find(part, HID_ACPI0007).is_some()) {
            continue;
        }
        let uid = body.iter().find_map(|part| {
            let at = find(part, NAME_UID)?;
            integer(part, at + NAME_UID.len())
        });
        out.push(AmlProcessor {
            path: path(&objects, idx),
            offset: o.op_offset,
            declaration: Declaration::Device,
            uid,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 36-byte dummy header followed by `aml`.
    fn table(aml: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; HEADER];
        t.extend_from_slice(aml);
        t
    }

    /// `Device (name) { body }` with a one- or two-byte PkgLength (which
    /// counts itself).
    fn device(name: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = vec![EXT_OP, DEVICE_OP];
        let short = 1 + 4 + body.len();
        if short < 0x40 {
            out.push(u8::try_from(short).unwrap());
        } else {
            let long = short + 1;
            assert!(long < 0x1000);
            out.push(0x40 | u8::try_from(long & 0x0F).unwrap());
            out.push(u8::try_from(long >> 4).unwrap());
        }
        out.extend_from_slice(name);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn test_device_with_byte_uid() {
        // Device (C002) { Name (_HID, "ACPI0007") Name (_UID, 0x02) }
        let body = [HID_ACPI0007, b"\x08_UID\x0A\x02"].concat();
        let found = processors(&table(&device(b"C002", &body)));
        assert_eq!(
            found,
            [AmlProcessor {
                path: "C002".to_string(),
                offset: 36,
                declaration: Declaration::Device,
                uid: Some(2),
            }]
        );
    }

    #[test]
    fn test_uid_encodings() {
        for (encoded, value) in [
            (&b"\x00"[..], 0u64),
            (b"\x01", 1),
            (b"\x0B\x34\x12", 0x1234),
            (b"\x0C\x78\x56\x34\x12", 0x1234_5678),
            (
                b"\x0E\x08\x07\x06\x05\x04\x03\x02\x01",
                0x0102_0304_0506_0708,
            ),
        ] {
            let body = [HID_ACPI0007, NAME_UID, encoded].concat();
            assert_eq!(
                processors(&table(&device(b"C000", &body)))[0].uid,
                Some(value)
            );
        }
    }

    #[test]
    fn test_string_uid_is_unreadable() {
        // Name (_UID, "7")
        let body = [HID_ACPI0007, b"\x08_UID\x0D7\x00"].concat();
        assert_eq!(processors(&table(&device(b"C000", &body)))[0].uid, None);
    }

    #[test]
    fn test_nested_devices_keep_their_own_uids() {
        // Device (CPUS) { Name (_HID, "ACPI0010") Device (C000) {...} Device (C001) {...} }
        let c0 = device(b"C000", &[HID_ACPI0007, b"\x08_UID\x00"].concat());
        let c1 = device(b"C001", &[HID_ACPI0007, b"\x08_UID\x01"].concat());
        let container_body = [&b"\x08_HID\x0DACPI0010\x00"[..], &c0, &c1].concat();
        let cpus = device(b"CPUS", &container_body);
        let found = processors(&table(&cpus));
        let summary: Vec<(String, Option<u64>)> =
            found.into_iter().map(|p| (p.path, p.uid)).collect();
        assert_eq!(
            summary,
            [
                ("CPUS.C000".to_string(), Some(0)),
                ("CPUS.C001".to_string(), Some(1))
            ]
        );
    }

    #[test]
    fn test_uid_of_a_child_device_is_not_the_parents() {
        // Device (C000) { Name (_HID, "ACPI0007") Device (X) { Name (_UID, 5) } }
        let child = device(b"XDEV", b"\x08_UID\x0A\x05");
        let parent = device(b"C000", &[HID_ACPI0007, &child].concat());
        assert_eq!(processors(&table(&parent))[0].uid, None);
    }

    #[test]
    fn test_processor_op_uses_proc_id() {
        // Processor (C003, 0x03, 0x00000000, 0x00) {}
        let aml = [
            EXT_OP,
            PROCESSOR_OP,
            0x0B,
            b'C',
            b'0',
            b'0',
            b'3',
            0x03,
            0,
            0,
            0,
            0,
            0,
        ];
        let found = processors(&table(&aml));
        assert_eq!(found[0].uid, Some(3));
        assert_eq!(found[0].declaration, Declaration::ProcessorOp);
    }

    #[test]
    fn test_pkg_length_encodings() {
        assert_eq!(pkg_length(&[0x3F], 0), Some((0x3F, 1)));
        assert_eq!(pkg_length(&[0x45, 0x12], 0), Some((0x125, 2)));
        assert_eq!(pkg_length(&[0x81, 0x34, 0x12], 0), Some((0x12341, 3)));
        assert_eq!(pkg_length(&[0x50, 0x00], 0), None);
        assert_eq!(pkg_length(&[0x41], 0), None);
    }

    #[test]
    fn test_name_strings() {
        assert_eq!(name_string(b"\\_SB_", 0), Some(("\\_SB".to_string(), 5)));
        assert_eq!(
            name_string(b"\\.\x2E_SB_CPUS", 2),
            Some(("_SB.CPUS".to_string(), 9))
        );
        assert_eq!(name_string(b"^^C001", 0), Some(("^^C001".to_string(), 6)));
        assert_eq!(name_string(b"1ABC", 0), None);
    }

    #[test]
    fn test_garbage_does_not_panic() {
        let mut noise = table(&[EXT_OP, DEVICE_OP, 0xFF, 0xFF, EXT_OP, PROCESSOR_OP]);
        noise.extend_from_slice(&[EXT_OP, DEVICE_OP, 0x05, b'C', b'0']);
        assert!(processors(&noise).is_empty());
        assert!(processors(&[]).is_empty());
    }
}
