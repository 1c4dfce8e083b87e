//! The `twindex` command: everything lives in [`twindex::cli`].

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    twindex::cli::main()
}
