//! Numeric constraints of the specs' parameters (`page[size]`: 1 to 100), checked by the
//! generated setters before any I/O. Used by the generated code; not part of the public API.

use std::num::{NonZeroI32, NonZeroI64, NonZeroU32, NonZeroU64};

/// A whole number a parameter may hold, widened for comparison.
pub trait WholeNumber: Copy {
    /// The value as an `i128`, which holds every `i64` and `u64`.
    fn to_i128(self) -> i128;
}

macro_rules! whole {
    ($($t:ty),*) => {$(
        impl WholeNumber for $t {
            fn to_i128(self) -> i128 {
                i128::from(self)
            }
        }
    )*};
}
whole!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! non_zero {
    ($($t:ty),*) => {$(
        impl WholeNumber for $t {
            fn to_i128(self) -> i128 {
                i128::from(self.get())
            }
        }
    )*};
}
non_zero!(NonZeroI32, NonZeroI64, NonZeroU32, NonZeroU64);

/// `value` when it lies within `min..=max` (either bound may be absent), else `None`.
pub fn within<T: WholeNumber>(value: T, min: Option<i128>, max: Option<i128>) -> Option<T> {
    let v = value.to_i128();
    let above = min.is_none_or(|min| v >= min);
    let below = max.is_none_or(|max| v <= max);
    (above && below).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_optional() {
        let size = |n: u32| NonZeroU32::new(n).expect("non-zero");
        assert_eq!(within(size(1), Some(1), Some(100)), Some(size(1)));
        assert_eq!(within(size(100), Some(1), Some(100)), Some(size(100)));
        assert_eq!(within(size(101), Some(1), Some(100)), None);
        assert_eq!(within(-1i64, Some(0), None), None);
        assert_eq!(within(i64::MAX, Some(0), None), Some(i64::MAX));
        assert_eq!(within(u64::MAX, None, Some(1000)), None);
    }
}
