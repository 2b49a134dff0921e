//! Robustness: the decoder and the linter take untrusted bytes. Every
//! prefix of real tables, and thousands of randomly corrupted copies, must
//! decode or fail with an error, never panic (overflow checks are on in
//! test builds, so arithmetic overflow would panic too).

use std::path::Path;

use super::{decode, read_dir, render, TableFile};
use crate::lint::lint;
use crate::lint::test_support::{tables, ARM, X86};

/// xorshift64*: a small deterministic generator (no rand dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }
}

/// Real table sets: both QEMU fixtures and our ARM and x86 sets.
fn sets() -> Vec<Vec<TableFile>> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    vec![
        read_dir(&fixtures.join("qemu-10.0-virt-smp2-max4")).unwrap(),
        read_dir(&fixtures.join("qemu-10.0-q35-smp2-max4")).unwrap(),
        tables(ARM),
        tables(X86),
    ]
}

#[test]
fn test_every_strict_prefix_is_an_error() {
    for set in sets() {
        for file in &set {
            for n in 0..file.bytes.len() {
                assert!(
                    decode(&file.bytes[..n]).is_err(),
                    "{} prefix of {n} bytes decoded",
                    file.name
                );
            }
            assert!(decode(&file.bytes).is_ok(), "{}", file.name);
        }
    }
}

#[test]
fn test_random_corruption_never_panics() {
    let mut rng = Rng(0x05EE_D0FA_C1D7_AB1E);
    for set in sets() {
        for (index, file) in set.iter().enumerate() {
            for round in 0..400 {
                let mut bytes = file.bytes.clone();
                // One to four random bytes; every fourth round also a
                // structure-sized Length/Type region near the start.
                for _ in 0..=rng.below(4) {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.byte();
                }
                if round % 4 == 0 && bytes.len() > 48 {
                    let at = 36 + rng.below(bytes.len() - 36);
                    bytes[at] = rng.byte() % 8;
                }
                if round % 7 == 0 {
                    bytes.truncate(rng.below(bytes.len() + 1));
                }
                if let Ok(d) = decode(&bytes) {
                    let _ = render(&d);
                }
                if round % 10 == 0 {
                    let mut corrupted = set.clone();
                    corrupted[index].bytes = bytes;
                    let _ = lint(&corrupted);
                }
            }
        }
    }
}

#[test]
fn test_fixed_fields_at_extreme_values_never_panic() {
    for set in sets() {
        for file in &set {
            for fill in [0x00u8, 0xFF] {
                for at in 36..file.bytes.len() {
                    let mut bytes = file.bytes.clone();
                    bytes[at] = fill;
                    if let Ok(d) = decode(&bytes) {
                        let _ = render(&d);
                    }
                }
            }
        }
        let _ = lint(&set);
    }
}
