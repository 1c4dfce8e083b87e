fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fleet = twindex::Fleet::load(&args[2..]).unwrap();
    eprintln!("irregular: {:?}", fleet.store().irregular());
    let q = twindex::sql::parse(&args[1]).unwrap();
    eprintln!(
        "{:?}",
        twindex::plan::plan(&q, fleet.store()).unwrap().paths
    );
    match fleet.query(&args[1]) {
        Ok(rows) => {
            for r in rows {
                println!("{r}");
            }
        }
        Err(e) => eprintln!("{}", e.render(&args[1])),
    };
}
