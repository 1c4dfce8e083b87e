//! placeholder

use clap::Args;

use super::error::Failure;

#[derive(Debug, Args)]
pub struct DemoArgs {}

pub fn run(_args: DemoArgs) -> Result<(), Failure> {
    Ok(())
}
