//! Lists the largest columns of a loaded fleet: `cargo run --release --example columns -- FILE`

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let fleet = twindex::Fleet::load(&paths).unwrap();
    let s = fleet.store();
    let mut cols: Vec<_> = s.columns().iter().collect();
    cols.sort_by_key(|c| std::cmp::Reverse(c.heap_bytes()));
    let n = s.len() as f64;
    for c in cols.iter().take(40) {
        println!(
            "{:>8.1} B/row {:>9} values dict={:?} idx={} {}",
            c.heap_bytes() as f64 / n,
            c.len(),
            c.dictionary_len(),
            c.index().is_some(),
            c.dotted()
        );
    }
    println!("total {:.1} B/row", s.heap_bytes() as f64 / n);
}
