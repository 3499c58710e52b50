//! `scale train-global-categorizer --out PATH`: rebuilds the global categorizer that ships with
//! the binary from the repository's data (seed phrases, rules, the synthetic corpus) and writes
//! it to `PATH` (`actors/data/categorization/global.bin` to update the shipped model). The same
//! data give the same bytes; it prints the model header (training record included) as JSON.

use std::path::Path;

use anyhow::Context as _;
use scale_actors::categorization::trainer;

/// Trains the model and writes its file.
pub fn run(out: &Path) -> anyhow::Result<()> {
    let model = trainer::build_shipped();
    std::fs::write(out, model.to_bytes()).with_context(|| format!("writing {}", out.display()))?;
    crate::output::print(serde_json::to_string_pretty(model.header())?)?;
    Ok(())
}
