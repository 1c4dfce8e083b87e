//! placeholder

use clap::Args;

use super::error::Failure;

#[derive(Debug, Args)]
pub struct StatsArgs {}

pub fn run(_args: StatsArgs) -> Result<(), Failure> {
    Ok(())
}
