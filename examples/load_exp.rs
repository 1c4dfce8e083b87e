//! temp experiment (not committed)
use std::time::Instant;
fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = twindex::LoadOptions::default();
    if let Ok(c) = std::env::var("CHUNK_MB") {
        opts.chunk_bytes = c.parse::<usize>().unwrap() << 20;
    }
    let t = Instant::now();
    let fleet = twindex::Fleet::load_with(&paths, &opts).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{:.3} s {:?} heap {}",
        secs,
        fleet.report().phases,
        fleet.store().heap_bytes()
    );
}
