//! Byte-level ACPI structures: one packed, little-endian, size-asserted
//! struct per spec structure (style guide 2.3 rule 4).
//!
//! Every struct derives zerocopy's `IntoBytes` and `Immutable`, so its bytes
//! are exactly its fields in declaration order with no padding. Multi-byte
//! fields use [`zerocopy::little_endian`] types, so the layout does not depend
//! on the host. A `const _: () = assert!(...)` under each struct pins its
//! size; `TYPE` and `LENGTH` constants give the structure type and length, so
//! no call site writes a literal.
//!
//! Where a table has fixed fields after the common 36-byte header, they are
//! a separate `...Fields` struct: the [`crate::table::Table`] builder writes
//! the header itself.
//!
//! acpi_tables 0.2.1 has no SRAT x2APIC/GICC affinity, no MADT x2APIC
//! entries, hard-codes MADT and SRAT revision 1 and creator ID "RVAT", and
//! its GICC is the 82-byte ACPI 6.5 layout; so every structure is ours, in
//! one modelling style (style guide 2.4 item 3). acpi_tables serves as an
//! independent encoder in the unit tests.

pub mod fadt;
pub mod gas;
pub mod gtdt;
pub mod header;
pub mod madt;
pub mod pptt;
pub mod rsdp;
pub mod slit;
pub mod spcr;
pub mod srat;

/// Defines a flag-set newtype over an integer, with named constants, `|`
/// and `bits()`; the style guide asks for named flags, never bare `1 << n`
/// at call sites.
macro_rules! flags {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($inner:ty) {
            $(
                $(#[$fmeta:meta])*
                const $flag:ident = $value:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name($inner);

        impl $name {
            $(
                $(#[$fmeta])*
                pub const $flag: Self = Self($value);
            )*

            /// No flag set.
            pub const EMPTY: Self = Self(0);

            /// The raw value written to the table.
            #[must_use]
            pub const fn bits(self) -> $inner {
                self.0
            }

            /// `self` and `other` together (usable in constants).
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// True when every flag of `other` is set in `self`.
            #[must_use]
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }
        }

        impl core::ops::BitOr for $name {
            type Output = Self;

            fn bitor(self, rhs: Self) -> Self {
                Self(self.0 | rhs.0)
            }
        }

        impl core::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: Self) {
                self.0 |= rhs.0;
            }
        }
    };
}

pub(crate) use flags;

#[cfg(test)]
mod tests {
    flags! {
        /// Test flags.
        pub struct TestFlags(u16) {
            /// Bit 0.
            const A = 1 << 0;
            /// Bit 3.
            const B = 1 << 3;
        }
    }

    #[test]
    fn test_flags_combine_and_contain() {
        let f = TestFlags::A | TestFlags::B;
        assert_eq!(f.bits(), 0b1001);
        assert_eq!(TestFlags::A.union(TestFlags::B), f);
        let mut g = TestFlags::EMPTY;
        g |= TestFlags::B;
        assert_eq!(g, TestFlags::B);
        assert!(f.contains(TestFlags::B));
        assert!(!TestFlags::A.contains(TestFlags::B));
        assert_eq!(TestFlags::EMPTY.bits(), 0);
    }
}
