//! Writes a generated fleet: `cargo run --release --example gen -- DEVICES FILE`

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let devices: u64 = args[1].parse().unwrap();
    let file = std::fs::File::create(&args[2]).unwrap();
    let mut out = std::io::BufWriter::new(file);
    let opts = twindex::gen::GenOptions {
        devices,
        ..Default::default()
    };
    let s = twindex::gen::generate(&opts, &mut out).unwrap();
    eprintln!("{s:?}");
}
