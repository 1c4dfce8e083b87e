//! Reading ahead of the parse. A load reads its input once, from page-cache pages that no CPU
//! cache holds, and the hardware's own prefetchers stop at every 4 KiB page: each page's first
//! lines would wait on memory. Asking for the input a little ahead of the record being read
//! took 3–5% off a load (BENCHMARKS.md, session 8).

use std::ops::Range;

/// How far ahead of the record being read its input is asked for: about one and a half
/// records of a typical export. 1.5, 2 and 3 KiB measured alike; 32 KiB gained nothing.
const DISTANCE: usize = 2048;

/// The size of a cache line on the targets that prefetch.
const LINE: usize = 64;

/// Prefetches a range of the input from the start, ahead of a reader going through it.
pub struct ReadAhead {
    /// The next byte to prefetch.
    next: usize,
    end: usize,
}

impl ReadAhead {
    pub fn new(range: &Range<usize>) -> ReadAhead {
        ReadAhead {
            next: range.start,
            end: range.end,
        }
    }

    /// The reader is at `at`: asks for the input up to [`DISTANCE`] bytes past it.
    #[inline]
    pub fn reading(&mut self, bytes: &[u8], at: usize) {
        let to = at.saturating_add(DISTANCE).min(self.end);
        while self.next < to {
            prefetch(bytes, self.next);
            self.next += LINE;
        }
    }
}

/// Asks the CPU to start loading the cache line holding `bytes[i]` (nothing when `i` is out of
/// bounds, or on targets without a stable prefetch).
#[inline(always)]
fn prefetch(bytes: &[u8], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(b) = bytes.get(i) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is only a hint: it reads nothing into the program, never faults
        // (an address that is not mapped is ignored) and changes no memory; SSE, which
        // provides it, is part of every x86_64 CPU. The address is inside `bytes` anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(b).cast()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (bytes, i);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_stays_inside_its_range_and_keeps_a_distance() {
        let bytes = vec![0u8; 10_000];
        let mut ahead = ReadAhead::new(&(100..5_000));
        ahead.reading(&bytes, 100);
        assert_eq!(ahead.next, 100 + DISTANCE.div_ceil(LINE) * LINE);
        let before = ahead.next;
        // Reading on within what was asked for asks for nothing new.
        ahead.reading(&bytes, 100 + LINE);
        assert_eq!(ahead.next, before + LINE);
        ahead.reading(&bytes, 4_000);
        assert!(ahead.next >= 5_000 && ahead.next < 5_000 + LINE);
        // Past the end (and past the bytes) it stops.
        ahead.reading(&bytes, usize::MAX);
        assert!(ahead.next < 5_000 + LINE);
        let mut past = ReadAhead::new(&(9_990..20_000));
        past.reading(&bytes, 9_990);
    }
}
