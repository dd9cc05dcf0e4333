//! `advkit params`: the parameter registry, for people or machines.

use std::io::Write;

use advkit_core::Apply;
use anyhow::Result;

use super::{SceneArg, load};

#[derive(Debug, clap::Args)]
pub struct ParamsArgs {
    #[command(flatten)]
    scene: SceneArg,
    /// Print the schema as JSON (one object per parameter).
    #[arg(long)]
    json: bool,
}

pub fn run(args: ParamsArgs) -> Result<()> {
    let scene = load::scene(args.scene.scene.as_deref())?;
    let params = advkit_core::params::for_scene(&scene);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, params.specs())?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<[String; 6]> = params
        .specs()
        .iter()
        .map(|s| {
            [
                s.name.clone(),
                s.kind.type_name().to_owned(),
                s.kind.describe(),
                s.default.to_string(),
                match s.apply {
                    Apply::Live => "live".to_owned(),
                    Apply::Reboot => "reboot".to_owned(),
                },
                s.description.clone(),
            ]
        })
        .collect();
    let header = ["NAME", "TYPE", "ALLOWED", "DEFAULT", "APPLY", "DESCRIPTION"].map(str::to_owned);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter().zip(row) {
            write!(out, "{cell:<w$}  ")?;
        }
        writeln!(out, "{}", row[5])?;
    }
    Ok(())
}
