//! Not written yet.

use super::harness::{Ctx, Verdict};

/// Runs the scenario.
pub async fn run(_ctx: &Ctx) -> anyhow::Result<Verdict> {
    anyhow::bail!("not written yet")
}
