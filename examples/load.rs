//! Loads inputs and prints the load report and memory: `cargo run --release --example load -- FILE...`

use std::time::Instant;

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let t = Instant::now();
    let fleet = match twindex::Fleet::load(&paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let r = fleet.report();
    let s = fleet.store();
    println!(
        "{} records ({} modules), {} bytes in {:.3} s = {:.2} GB/s; {} columns; heap {} bytes ({:.1}% of input)",
        r.records,
        r.modules,
        r.bytes,
        secs,
        r.bytes as f64 / secs / 1e9,
        s.built_columns().len(),
        s.heap_bytes(),
        100.0 * s.heap_bytes() as f64 / r.bytes as f64
    );
    println!("{:?}", r.phases);
    if s.has_deferred() && std::env::var_os("LOAD_ONLY").is_none() {
        // What the first query inside a `$metadata` pays.
        let t = Instant::now();
        s.decode_deferred();
        println!(
            "deferred $metadata columns built in {:.3} s; {} columns; heap {} bytes ({:.1}% of input)",
            t.elapsed().as_secs_f64(),
            s.columns().len(),
            s.heap_bytes(),
            100.0 * s.heap_bytes() as f64 / r.bytes as f64
        );
    }
}
