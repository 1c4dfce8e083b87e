//! [`Buf`]: a typed vector that is either owned (a store built by a load) or a view into shared,
//! read-only bytes (a store opened from a snapshot, viewed in place from the memory map).
//!
//! The cast from bytes to `&[u32]` / `&[u64]` goes through `bytemuck`'s checked
//! `try_cast_slice`, which verifies alignment and length, so viewing mapped bytes as typed
//! columns needs no `unsafe` here: the only `unsafe` of a snapshot is creating the map.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use bytemuck::Pod;
use memmap2::Mmap;

/// Bytes that typed views point into: a read-only memory map, or owned 8-byte words (so that
/// a snapshot read into memory, from standard input or a `.gz` file, is as aligned as a map).
pub enum Backing {
    Mapped(Mmap),
    Words { words: Vec<u64>, len: usize },
}

impl Backing {
    /// Copies `bytes` into 8-byte aligned memory.
    pub fn copy_of(bytes: &[u8]) -> Backing {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        Backing::Words {
            words,
            len: bytes.len(),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(m) => m,
            Backing::Words { words, len } => {
                let all: &[u8] = bytemuck::cast_slice(words);
                all.get(..*len).unwrap_or(all)
            }
        }
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self, Backing::Mapped(_))
    }
}

/// A typed vector, owned or viewed in place.
pub struct Buf<T> {
    inner: Inner<T>,
}

enum Inner<T> {
    Owned(Vec<T>),
    /// `bytes` is a byte range of `backing`, checked at construction to be in bounds, aligned
    /// for `T` and a whole number of `T`s.
    Shared {
        backing: Arc<Backing>,
        bytes: Range<usize>,
    },
}

impl<T: Pod> Buf<T> {
    /// A view of `bytes` of `backing` as `[T]`; fails if the range is out of bounds, not
    /// aligned for `T`, or not a whole number of `T`s.
    pub fn view(backing: Arc<Backing>, bytes: Range<usize>) -> Result<Buf<T>, String> {
        let slice = backing.bytes().get(bytes.clone()).ok_or_else(|| {
            format!(
                "bytes {}..{} are outside the file ({} bytes)",
                bytes.start,
                bytes.end,
                backing.bytes().len()
            )
        })?;
        bytemuck::try_cast_slice::<u8, T>(slice).map_err(|e| {
            format!(
                "bytes {}..{} cannot be viewed as {}-byte values: {e}",
                bytes.start,
                bytes.end,
                std::mem::size_of::<T>()
            )
        })?;
        Ok(Buf {
            inner: Inner::Shared { backing, bytes },
        })
    }

    /// Bytes owned by this buffer (a view owns none).
    pub fn heap_bytes(&self) -> usize {
        match &self.inner {
            Inner::Owned(v) => v.capacity() * std::mem::size_of::<T>(),
            Inner::Shared { .. } => 0,
        }
    }
}

impl<T> From<Vec<T>> for Buf<T> {
    fn from(v: Vec<T>) -> Buf<T> {
        Buf {
            inner: Inner::Owned(v),
        }
    }
}

impl<T> Default for Buf<T> {
    fn default() -> Buf<T> {
        Vec::new().into()
    }
}

impl<T: Pod> Deref for Buf<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match &self.inner {
            Inner::Owned(v) => v,
            // Checked in `view`; the fallback is unreachable but keeps this free of panics.
            Inner::Shared { backing, bytes } => backing
                .bytes()
                .get(bytes.clone())
                .and_then(|b| bytemuck::try_cast_slice(b).ok())
                .unwrap_or_default(),
        }
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for Buf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_check_bounds_alignment_and_size() {
        let bytes: Vec<u8> = (0..64).collect();
        let backing = Arc::new(Backing::copy_of(&bytes));
        let v: Buf<u32> = Buf::view(Arc::clone(&backing), 8..24).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[0], u32::from_le_bytes([8, 9, 10, 11]));
        assert!(
            Buf::<u32>::view(Arc::clone(&backing), 2..10).is_err(),
            "misaligned"
        );
        assert!(
            Buf::<u64>::view(Arc::clone(&backing), 8..20).is_err(),
            "partial value"
        );
        assert!(
            Buf::<u8>::view(Arc::clone(&backing), 60..65).is_err(),
            "out of bounds"
        );
        let empty: Buf<u64> = Buf::view(backing, 64..64).unwrap();
        assert!(empty.is_empty());
    }
}
