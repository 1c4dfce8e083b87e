//! All integration tests, compiled into one binary (`cargo test --test it`).

mod bad_inputs;
mod chunking;
mod cli;
mod deferred;
mod engine;
mod fast_path;
mod fuzz_corpus;
mod golden;
mod ingest;
mod props;
mod reference;
mod regressions;
mod snapshot;
mod sql;
mod strategies;

/// A generated fleet's bytes (`twindex gen`'s defaults otherwise).
pub fn generated(
    shape: twindex::gen::Shape,
    layout: twindex::gen::Layout,
    devices: u64,
    seed: u64,
) -> Vec<u8> {
    let opts = twindex::gen::GenOptions {
        devices,
        seed,
        shape,
        layout,
        ..twindex::gen::GenOptions::default()
    };
    let mut out = Vec::new();
    twindex::gen::generate(&opts, &mut out).expect("generate");
    out
}
