//! The `twindex` command: everything lives in [`twindex::cli`].

fn main() -> std::process::ExitCode {
    twindex::cli::main()
}
