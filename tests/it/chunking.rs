//! A load's store does not depend on how its inputs were cut into chunks, nor on the order
//! in which the chunks finished parsing: chunk outputs are appended in input order.

use twindex::fuzzing::chunking_agrees;
use twindex::gen::{generate, GenOptions, Layout, Shape};

#[test]
fn any_chunking_gives_the_same_store() {
    let mut inputs = Vec::new();
    for (i, (shape, layout)) in [
        (Shape::Export, Layout::JsonLines),
        (Shape::Twin, Layout::JsonArray),
    ]
    .into_iter()
    .enumerate()
    {
        let opts = GenOptions {
            devices: 1500,
            seed: 11 + i as u64,
            shape,
            layout,
            ..GenOptions::default()
        };
        let mut out = Vec::new();
        generate(&opts, &mut out).expect("generate");
        inputs.push((format!("f{i}"), out));
    }
    let inputs: Vec<(&str, &[u8])> = inputs
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    // One record per chunk (thousands of chunks finishing out of order on the pool's
    // threads), and a few records per chunk.
    for chunk_bytes in [1, 5000] {
        chunking_agrees(&inputs, chunk_bytes).unwrap_or_else(|e| panic!("{chunk_bytes}: {e}"));
    }
}
