//! `flowlake tracker-exporter`: tracker-exporter's environment in, the same schedule out (see
//! `flowlake_engine::config::exporter_env` for the translation).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use flowlake_engine::config::exporter_env::{ExporterEnv, JOB};

use super::service;

/// Reads the variables (`env_file`'s under the process environment's, which win, as in tracker-exporter's
/// settings), then prints the config or runs the job: once, or every `EXPORTER_ETL_INTERVAL_MINUTES`
/// without the HTTP server, as tracker-exporter runs.
pub(super) fn run(env_file: Option<&Path>, once: bool, print_config: bool) -> Result<()> {
    if let Some(path) = env_file {
        // Into the process environment (variables already set are kept): the source reads its token
        // from there when it is built.
        dotenvy::from_path(path).with_context(|| format!("--env-file {}", path.display()))?;
    }
    let process: Vec<(String, String)> = std::env::vars().collect();
    let vars: BTreeMap<String, String> = process
        .iter()
        .filter(|(k, _)| k.to_ascii_uppercase().starts_with("EXPORTER_"))
        .cloned()
        .collect();
    let cwd = std::env::current_dir().context("the current folder")?;
    let env = ExporterEnv::translate(&vars, &cwd)?;
    if print_config {
        print!("{}", env.text);
        return Ok(());
    }
    for warning in &env.warnings {
        crate::term::warning(warning);
    }
    let config = env.config(&process)?;
    service::run(config, &[JOB.to_string()], once, true)
}
