//! Cutting an input into records without parsing them: JSON Lines at newlines, JSON arrays at
//! their top-level element boundaries (eight bytes at a time to the next byte that matters, on
//! all cores for a large array; the elements are then parsed in parallel like lines).

mod parallel;

use std::ops::Range;

use crate::swar::{find, first_zero, quote_or_backslash, ONES};

/// Newline-aligned chunks of about `target` bytes covering `bytes` (each ends after a `\n`,
/// except possibly the last).
pub fn line_chunks(bytes: &[u8], target: usize) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let want = (start + target).min(bytes.len());
        let end = if want == bytes.len() {
            want
        } else {
            match memchr::memchr(b'\n', &bytes[want..]) {
                Some(i) => want + i + 1,
                None => bytes.len(),
            }
        };
        chunks.push(start..end);
        start = end;
    }
    chunks
}

/// The top-level elements of a JSON array; and, when the array is not well-formed, where and
/// why it stops (the elements before that point are still returned).
pub struct ArrayScan {
    pub elements: Elements,
    pub error: Option<(usize, &'static str)>,
}

/// An array's elements as a load needs them: records (objects) as byte ranges; anything else
/// (skipped as not a record) only counted, with the places of the first few, so that an
/// array of millions of tiny scalars does not cost a range per element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elements {
    pub records: Vec<Range<usize>>,
    /// Elements that are not objects.
    pub others: u64,
    /// Where the first `keep` of them start.
    pub others_at: Vec<usize>,
    keep: usize,
}

impl Elements {
    /// Keeping the places of up to `keep` elements that are not records.
    pub fn new(keep: usize) -> Elements {
        Elements {
            records: Vec::new(),
            others: 0,
            others_at: Vec::new(),
            keep,
        }
    }

    fn push(&mut self, bytes: &[u8], element: Range<usize>) {
        if bytes.get(element.start) == Some(&b'{') {
            self.records.push(element);
        } else {
            self.others += 1;
            if self.others_at.len() < self.keep {
                self.others_at.push(element.start);
            }
        }
    }
}

/// Scans `bytes` (which start, after white space, with `[`) for its elements. Strings and
/// nesting are tracked so that commas and brackets inside them do not split; the elements
/// themselves are validated later by the parser. A large array is scanned on all cores
/// ([`parallel`]) when it is well formed; otherwise, and for small ones, serially. `keep`:
/// how many places of elements that are not records to keep ([`Elements`]).
pub fn array_elements(bytes: &[u8], keep: usize) -> ArrayScan {
    let i = skip_ws(bytes, 0);
    if bytes.get(i) == Some(&b'[') && bytes.len() - i > 2 * PIECE_BYTES {
        if let Some(scan) = parallel::elements(bytes, i + 1, PIECE_BYTES, keep) {
            return scan;
        }
    }
    serial_array_elements(bytes, keep)
}

/// Pieces of a JSON array scanned in parallel: a few per core for a file of a few hundred MB.
const PIECE_BYTES: usize = 4 << 20;

/// Scans `bytes` as a JSON array in pieces of each of `piece_sizes` bytes and requires each
/// answer the pieces give to be the serial scan's; returns how many sizes were answered (the
/// others gave up). For tests and fuzz targets: their arrays are too small for [`PIECE_BYTES`].
pub(crate) fn array_scans_agree(
    bytes: &[u8],
    piece_sizes: impl IntoIterator<Item = usize>,
) -> Result<usize, String> {
    let i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'[') {
        return Ok(0);
    }
    let serial = serial_array_elements(bytes, usize::MAX);
    let mut answered = 0;
    for piece_bytes in piece_sizes {
        if let Some(scan) = parallel::elements(bytes, i + 1, piece_bytes, usize::MAX) {
            if (&scan.elements, scan.error) != (&serial.elements, serial.error) {
                return Err(format!(
                    "{:?} in pieces of {piece_bytes} bytes: {:?} {:?}, serially {:?} {:?}",
                    String::from_utf8_lossy(bytes),
                    scan.elements,
                    scan.error,
                    serial.elements,
                    serial.error
                ));
            }
            answered += 1;
        }
    }
    Ok(answered)
}

/// [`array_elements`] a byte (or word) at a time: the reference, and the scan that reports
/// where an array stops being well formed.
fn serial_array_elements(bytes: &[u8], keep: usize) -> ArrayScan {
    let mut elements = Elements::new(keep);
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'[') {
        return ArrayScan {
            elements,
            error: Some((i, "expected '[' to start a JSON array")),
        };
    }
    i = skip_ws(bytes, i + 1);
    if bytes.get(i) == Some(&b']') {
        return finish(bytes, elements, i + 1);
    }
    loop {
        let start = i;
        let end = match element_end(bytes, i) {
            Ok(end) => end,
            // Report the element that does not end: that is the record a reader looks for.
            Err(why) => {
                return ArrayScan {
                    elements,
                    error: Some((start, why)),
                }
            }
        };
        elements.push(bytes, start..end);
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b']') => return finish(bytes, elements, i + 1),
            Some(_) => {
                return ArrayScan {
                    elements,
                    error: Some((i, "expected ',' or ']' after an array element")),
                }
            }
            None => {
                return ArrayScan {
                    elements,
                    error: Some((i, "JSON array is missing its closing ']'")),
                }
            }
        }
    }
}

fn finish(bytes: &[u8], elements: Elements, after: usize) -> ArrayScan {
    let rest = skip_ws(bytes, after);
    let error = (rest < bytes.len()).then_some((rest, "unexpected data after the JSON array"));
    ArrayScan { elements, error }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The end of the JSON value starting at `i`: objects and arrays by bracket depth, strings by
/// their closing quote, scalars up to the next delimiter.
fn element_end(bytes: &[u8], i: usize) -> Result<usize, &'static str> {
    match bytes.get(i) {
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                j = find(bytes, j, brackets_or_quote, |b| {
                    matches!(b, b'"' | b'{' | b'[' | b'}' | b']')
                });
                match bytes.get(j) {
                    None => return Err("JSON array is missing its closing ']'"),
                    Some(b'"') => j = string_end(bytes, j).map_err(|(_, why)| why)?,
                    Some(b'{') | Some(b'[') => {
                        depth += 1;
                        j += 1;
                    }
                    Some(_) => {
                        depth -= 1;
                        j += 1;
                        if depth == 0 {
                            return Ok(j);
                        }
                    }
                }
            }
        }
        Some(b'"') => string_end(bytes, i).map_err(|(_, why)| why),
        Some(_) => {
            let mut j = i;
            while j < bytes.len() && !matches!(bytes[j], b',' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                j += 1;
            }
            Ok(j)
        }
        None => Err("JSON array is missing its closing ']'"),
    }
}

/// The index after the closing quote of the string whose opening quote is at `i`.
fn string_end(bytes: &[u8], i: usize) -> Result<usize, (usize, &'static str)> {
    let mut j = i + 1;
    loop {
        j = find(bytes, j, quote_or_backslash, |b| matches!(b, b'"' | b'\\'));
        match bytes.get(j) {
            Some(b'\\') => j += 2,
            Some(_) => return Ok(j + 1),
            None => return Err((i, "unterminated string in JSON array")),
        }
        if j >= bytes.len() {
            return Err((i, "unterminated string in JSON array"));
        }
    }
}

/// Marks the first `"`, `{`, `[`, `}` or `]` of a word (`[` and `]` are `{` and `}` without
/// the 0x20 bit).
#[inline(always)]
fn brackets_or_quote(w: u64) -> u64 {
    let folded = w | (ONES * 0x20);
    first_zero(w ^ (ONES * u64::from(b'"')))
        | first_zero(folded ^ (ONES * u64::from(b'{')))
        | first_zero(folded ^ (ONES * u64::from(b'}')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_newlines_and_cover_everything() {
        let text = b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}";
        let chunks = line_chunks(text, 10);
        assert_eq!(chunks.first().unwrap().start, 0);
        assert_eq!(chunks.last().unwrap().end, text.len());
        for w in chunks.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert_eq!(text[w[0].end - 1], b'\n');
        }
    }

    #[test]
    fn array_elements_respect_strings_and_nesting() {
        let text = br#" [ {"a":"],}","b":[1,{"c":2}]} , {"x":"\"]"}, 5 ] "#;
        let scan = array_elements(text, 10);
        assert!(scan.error.is_none());
        let got: Vec<&[u8]> = scan
            .elements
            .records
            .iter()
            .map(|r| &text[r.clone()])
            .collect();
        assert_eq!(
            got,
            vec![
                &br#"{"a":"],}","b":[1,{"c":2}]}"#[..],
                &br#"{"x":"\"]"}"#[..],
            ]
        );
        assert_eq!(scan.elements.others, 1);
        assert_eq!(text[scan.elements.others_at[0]], b'5');
    }

    /// Elements that are not records are counted, and only the first `keep` placed: an array
    /// of a million tiny scalars holds no range per element.
    #[test]
    fn elements_that_are_not_records_are_only_counted() {
        let mut text = b"[".to_vec();
        for i in 0..1_000_000 {
            text.extend_from_slice(if i % 250_000 == 7 { b"{}," } else { b"1," });
        }
        text.extend_from_slice(b"[2]]");
        let scan = array_elements(&text, 3);
        assert!(scan.error.is_none());
        assert_eq!(scan.elements.records.len(), 4);
        assert_eq!(scan.elements.others, 1_000_000 - 4 + 1);
        assert_eq!(scan.elements.others_at, vec![1, 3, 5]);
        assert!(scan.elements.records.capacity() < 64);
    }

    /// The element scan before it searched eight bytes at a time: a byte at a time, strings
    /// by `memchr2`. The word scan must cut every input the same way.
    fn reference_element_end(bytes: &[u8], i: usize) -> Result<usize, &'static str> {
        let string_end = |i: usize| -> Result<usize, &'static str> {
            let mut j = i + 1;
            loop {
                match memchr::memchr2(b'"', b'\\', &bytes[j..]) {
                    Some(k) if bytes[j + k] == b'\\' => j += k + 2,
                    Some(k) => return Ok(j + k + 1),
                    None => return Err("unterminated string in JSON array"),
                }
                if j >= bytes.len() {
                    return Err("unterminated string in JSON array");
                }
            }
        };
        match bytes.get(i) {
            Some(b'{') | Some(b'[') => {
                let mut depth = 0usize;
                let mut j = i;
                while j < bytes.len() {
                    match bytes[j] {
                        b'"' => j = string_end(j)?,
                        b'{' | b'[' => {
                            depth += 1;
                            j += 1;
                        }
                        b'}' | b']' => {
                            depth -= 1;
                            j += 1;
                            if depth == 0 {
                                return Ok(j);
                            }
                        }
                        _ => j += 1,
                    }
                }
                Err("JSON array is missing its closing ']'")
            }
            Some(b'"') => string_end(i),
            _ => element_end(bytes, i),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn word_scan_cuts_elements_like_the_byte_scan(
            picks in proptest::collection::vec(0usize..16, 0..200),
            start in 0usize..8,
        ) {
            // Mostly structure, with bytes that differ from it by one bit, non-ASCII and runs.
            const ALPHABET: [&[u8]; 16] = [
                b"{", b"}", b"[", b"]", b"\"", b"\\", b",", b" ", b"a", b"1", b"\n",
                b"\xfb", b"\xdd", b"{\"k\":\"v\"}", b"\"abcdefghij\"", b"\\\"",
            ];
            let bytes: Vec<u8> = picks.iter().flat_map(|&p| ALPHABET[p].iter().copied()).collect();
            for i in start.min(bytes.len())..bytes.len() {
                proptest::prop_assert_eq!(
                    element_end(&bytes, i),
                    reference_element_end(&bytes, i),
                    "at {} of {:?}", i, String::from_utf8_lossy(&bytes)
                );
            }
        }
    }

    #[test]
    fn truncated_array_keeps_complete_elements() {
        let text = br#"[{"a":1},{"a":2"#;
        let scan = array_elements(text, 10);
        assert_eq!(scan.elements.records.len(), 1);
        assert_eq!(
            scan.error.unwrap().1,
            "JSON array is missing its closing ']'"
        );
        assert!(array_elements(b"[]", 10).error.is_none());
        assert!(array_elements(b"[] x", 10).error.is_some());
        assert!(array_elements(br#"["abc"#, 10).error.is_some());
    }
}
