fn main() -> std::process::ExitCode {
    twindex::cli::main()
}
