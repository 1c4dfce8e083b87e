//! A load's store does not depend on how its inputs were cut into chunks, nor on the order
//! in which the chunks finished parsing: chunk outputs are appended in input order.

use twindex::gen::{generate, GenOptions, Layout, Shape};
use twindex::{Fleet, LoadOptions};

/// Every column's path and values by row, the modules and the report's counts.
fn contents(f: &Fleet) -> Vec<String> {
    let s = f.store();
    let r = f.report();
    let mut out = vec![
        format!(
            "records {} devices {} modules {} skipped {} invalid {}",
            r.records, r.devices, r.modules, r.skipped, r.invalid_records
        ),
        format!("modules {:?}", s.modules().iter().collect::<Vec<_>>()),
        format!("irregular {:?}", s.irregular().iter().collect::<Vec<_>>()),
    ];
    let mut columns: Vec<String> = s
        .columns()
        .iter()
        .map(|c| {
            let values: Vec<String> = c.iter().map(|(row, v)| format!("{row}={v:?}")).collect();
            format!("{:?}: {}", c.segments(), values.join(" "))
        })
        .collect();
    columns.sort();
    out.extend(columns);
    out
}

fn load(inputs: &[(&str, &[u8])], chunk_bytes: usize) -> Fleet {
    let opts = LoadOptions {
        chunk_bytes,
        ..LoadOptions::default()
    };
    let inputs = inputs
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    Fleet::from_bytes(inputs, &opts).expect("loads")
}

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
    let whole = contents(&load(&inputs, usize::MAX));
    // One record per chunk (thousands of chunks finishing out of order on the pool's
    // threads), and a few records per chunk.
    for chunk_bytes in [1, 5000] {
        let cut = contents(&load(&inputs, chunk_bytes));
        assert_eq!(cut.len(), whole.len(), "chunk_bytes {chunk_bytes}");
        for (a, b) in cut.iter().zip(&whole) {
            assert!(a == b, "chunk_bytes {chunk_bytes}:\n{a:.300}\n{b:.300}");
        }
    }
}
