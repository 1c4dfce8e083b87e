//! The floor: parse every line of a JSON Lines file to a simd-json tape, in parallel, and
//! nothing else. `cargo run --release --example bare -- FILE`

use std::cell::RefCell;
use std::time::Instant;

use rayon::prelude::*;

thread_local! {
    static SCRATCH: RefCell<(simd_json::Buffers, Vec<u8>)> =
        RefCell::new((simd_json::Buffers::default(), Vec::new()));
}

fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let bytes = std::fs::read(&path).unwrap();
    let t = Instant::now();
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let want = (start + (4 << 20)).min(bytes.len());
        let end = memchr::memchr(b'\n', &bytes[want..]).map_or(bytes.len(), |i| want + i + 1);
        chunks.push(start..end);
        start = end;
    }
    let nodes: usize = chunks
        .into_par_iter()
        .map(|r| {
            SCRATCH.with(|s| {
                let (buffers, line) = &mut *s.borrow_mut();
                let mut tape = simd_json::Tape::null().reset();
                let mut n = 0;
                for l in bytes[r].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    line.clear();
                    line.extend_from_slice(l);
                    let len = line.len();
                    line.resize(len + simd_json::INPUT_PADDING, b' ');
                    let mut t = tape.reset();
                    simd_json::fill_tape_padded(line, len, buffers, &mut t).unwrap();
                    n += t.0.len();
                    tape = t.reset();
                }
                n
            })
        })
        .sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{nodes} tape nodes, {} bytes in {secs:.3} s = {:.2} GB/s",
        bytes.len(),
        bytes.len() as f64 / secs / 1e9
    );
}
