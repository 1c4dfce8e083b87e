//! A JSON array's element boundaries found on all cores. The text is cut into pieces at
//! newlines (a raw newline is never inside a valid JSON string, so every piece starts outside
//! one); each piece is lexed once, from a bracket depth it does not know yet, noting only what
//! can lie at the array's own level; then the pieces' depths are added up in order and the
//! array's grammar is checked over those notes. Anything the serial scan would treat
//! differently or report — a string crossing a piece, a scalar or string element, stray bytes,
//! a missing comma, text after the array — gives up (`None`), and the serial scan decides.

use rayon::prelude::*;

use super::{brackets_or_quote, find, string_end, ArrayScan, Elements};

/// Something at a piece's lowest depth so far (relative to the piece's start): a candidate for
/// the array's own level until the piece's starting depth is known.
#[derive(Clone, Copy)]
struct Note {
    at: usize,
    /// Depth before the byte (for `]`/`}`: after it).
    depth: i64,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    Comma,
    /// A string, a scalar's byte, or anything else that is not white space.
    Other,
}

/// One piece: its net change in depth and its notes.
struct Piece {
    delta: i64,
    notes: Vec<Note>,
}

/// The elements of the array whose `[` ends at `after`, if the pieces agree on a well-formed
/// array of objects and arrays with nothing but white space after it.
pub(super) fn elements(
    bytes: &[u8],
    after: usize,
    piece_bytes: usize,
    keep: usize,
) -> Option<ArrayScan> {
    let mut cuts = vec![after];
    while let Some(&last) = cuts.last() {
        let want = last.saturating_add(piece_bytes.max(1));
        match bytes
            .get(want..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
        {
            Some(k) if want + k + 1 < bytes.len() => cuts.push(want + k + 1),
            _ => break,
        }
    }
    cuts.push(bytes.len());
    let pieces: Vec<Option<Piece>> = cuts
        .par_windows(2)
        .map(|w| lex(bytes, w[0], w[1]))
        .collect();

    let mut elements = Elements::new(keep);
    let mut state = State::First;
    let mut depth = 1i64; // inside the `[`
    for piece in pieces {
        let piece = piece?;
        for n in &piece.notes {
            let level = depth + n.depth;
            state = match (n.kind, level, state) {
                (_, l, _) if l < 0 => return None,
                (Kind::Open, 1, State::First | State::Next) => State::In(n.at),
                (Kind::Close, 1, State::In(start)) => {
                    elements.push(bytes, start..n.at + 1);
                    State::After
                }
                // The serial scan closes the array at a `]` only (an element's end may be
                // either bracket: it counts depth).
                (Kind::Close, 0, State::First | State::After) if bytes[n.at] == b']' => {
                    State::Closed
                }
                (Kind::Comma, 1, State::After) => State::Next,
                // Deeper than the array's level: part of an element.
                (Kind::Open | Kind::Comma | Kind::Other, l, s) if l >= 2 => s,
                (Kind::Close, l, s) if l >= 2 => s,
                _ => return None,
            };
        }
        depth += piece.delta;
    }
    (state == State::Closed && depth == 0).then_some(ArrayScan {
        elements,
        error: None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// After the `[`.
    First,
    /// Inside the element that starts here.
    In(usize),
    /// After an element.
    After,
    /// After a comma.
    Next,
    /// After the closing `]`.
    Closed,
}

/// Lexes `bytes[start..end]` as if it started outside a string, at depth 0; notes what lies at
/// the lowest depth reached so far (where the array's own level must be, if it is in the
/// piece at all). `None` when a string does not end inside the piece.
fn lex(bytes: &[u8], start: usize, end: usize) -> Option<Piece> {
    // A piece's notes are a few per element, plus the top-level members of an element it
    // starts inside; many more (tiny elements, or one huge array of scalars) are left to the
    // serial scan, so that notes never take more memory than a fraction of the input.
    let max_notes = ((end - start) / 128).max(4096);
    let text = &bytes[..end];
    let (mut depth, mut low) = (0i64, 0i64);
    let mut notes = Vec::new();
    let mut j = start;
    loop {
        if notes.len() > max_notes {
            return None;
        }
        j = if depth == low {
            // Every byte but white space may matter here.
            super::skip_ws(text, j)
        } else {
            find(text, j, brackets_or_quote, |b| {
                matches!(b, b'"' | b'{' | b'[' | b'}' | b']')
            })
        };
        let Some(&b) = text.get(j) else {
            return Some(Piece {
                delta: depth,
                notes,
            });
        };
        let shallow = depth == low;
        let mut note = |kind| {
            if shallow {
                notes.push(Note { at: j, depth, kind });
            }
        };
        match b {
            b'"' => {
                note(Kind::Other);
                j = string_end(text, j).ok()?;
                continue;
            }
            b'{' | b'[' => {
                note(Kind::Open);
                depth += 1;
            }
            b'}' | b']' => {
                depth -= 1;
                if depth <= low {
                    low = depth;
                    notes.push(Note {
                        at: j,
                        depth,
                        kind: Kind::Close,
                    });
                }
            }
            b',' => note(Kind::Comma),
            _ => note(Kind::Other),
        }
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::array_scans_agree;

    fn agree(bytes: &[u8], piece_sizes: &[usize]) -> usize {
        array_scans_agree(bytes, piece_sizes.iter().copied()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_generated_twin_array_is_cut_like_the_serial_scan() {
        let opts = crate::gen::GenOptions {
            devices: 300,
            shape: crate::gen::Shape::Twin,
            layout: crate::gen::Layout::JsonArray,
            ..crate::gen::GenOptions::default()
        };
        let mut bytes = Vec::new();
        crate::gen::generate(&opts, &mut bytes).expect("generate");
        let sizes = [1, 100, 4096, 1 << 20];
        assert_eq!(
            agree(&bytes, &sizes),
            sizes.len(),
            "the pieces gave up on a well-formed array"
        );
    }

    /// Found by the property below: the serial scan closes an array at `]` only.
    #[test]
    fn arrays_close_at_a_square_bracket_only() {
        let answered: usize = [&b"[}"[..], b"[{}\n}", b"[{}\n]", b"[\n]"]
            .iter()
            .map(|text| agree(text, &[1, 2, 8]))
            .sum();
        assert_eq!(answered, 6, "only the two well-formed arrays are answered");
    }

    /// An array whose pieces would note most of their bytes (here one element of a million
    /// numbers, or strings) is left to the serial scan.
    #[test]
    fn pieces_that_would_note_most_bytes_give_up() {
        for item in [&b"1,\n"[..], b"\"a\",\n"] {
            let mut bytes = b"[[".to_vec();
            for _ in 0..1_000_000 {
                bytes.extend_from_slice(item);
            }
            bytes.extend_from_slice(b"1]]\n");
            assert!(super::elements(&bytes, 1, 1 << 20, 10).is_none());
            assert_eq!(agree(&bytes, &[1 << 20]), 0);
            // Every piece on its own, strings included.
            let strings = item.iter().filter(|&&b| b != b',').copied();
            let piece: Vec<u8> = strings.cycle().take(item.len() * 100_000).collect();
            assert!(super::lex(&piece, 0, piece.len()).is_none());
        }
    }

    /// Well-formed arrays of random elements and spacing are answered by the pieces.
    #[test]
    fn well_formed_arrays_are_answered() {
        let elements: [&[u8]; 4] = [b"{\"a\":1}", b"[1,{\"b\":\"]}\"}]", b"{}", b"{\"c\":[[]]}"];
        for n in 0..40usize {
            let mut bytes = b"[\n".to_vec();
            for i in 0..n {
                if i > 0 {
                    bytes.extend_from_slice(if i % 3 == 0 { b",\n" } else { b" ,\n  " });
                }
                bytes.extend_from_slice(elements[(i * 7 + n) % elements.len()]);
            }
            bytes.extend_from_slice(b"\n]\n");
            assert_eq!(agree(&bytes, &[1, 3, 16]), 3, "{n} elements");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn pieces_cut_arrays_like_the_serial_scan(
            picks in proptest::collection::vec(0usize..18, 0..120),
            piece_bytes in 1usize..40,
        ) {
            // Well-formed runs of elements, with the bytes that break them mixed in.
            const ALPHABET: [&[u8]; 18] = [
                b"{\"a\":1}", b"[1,[2]]", b",", b",\n", b"\n", b" ", b"{", b"}", b"[", b"]",
                b"\"", b"\"x\\n\"", b"\\", b"\"a\\\n\"", b"5", b"\"s\"", b"{\"k\":\"]\"}", b"\t",
            ];
            let mut bytes = b"[".to_vec();
            bytes.extend(picks.iter().flat_map(|&p| ALPHABET[p].iter().copied()));
            agree(&bytes, &[piece_bytes]);
            bytes.extend_from_slice(b"]\n");
            agree(&bytes, &[piece_bytes]);
        }
    }
}
