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
    // Into the process environment, where the source reads its token when it is built. Variables already
    // set are kept, so the process environment wins over --env-file, which wins over ./.env, as in
    // tracker-exporter (`load_dotenv(--env-file)`, then its settings' `env_file = ".env"`).
    if let Some(path) = env_file {
        dotenvy::from_path(path).with_context(|| format!("--env-file {}", path.display()))?;
    }
    match dotenvy::from_path(".env") {
        Ok(()) => {}
        Err(e) if e.not_found() => {}
        Err(e) => return Err(e).context(".env"),
    }
    let process: Vec<(String, String)> = std::env::vars().collect();
    let vars: BTreeMap<String, String> = process
        .iter()
        .filter(|(k, _)| k.to_ascii_uppercase().starts_with("EXPORTER_"))
        .cloned()
        .collect();
    let cwd = std::env::current_dir().context("the current folder")?;
    let env = ExporterEnv::translate(&vars, &cwd)?;
    for warning in &env.warnings {
        crate::term::warning(warning);
    }
    let config = env.config(&process)?;
    if print_config {
        print!("{}", env.as_file());
        return Ok(());
    }
    service::run(config, &[JOB.to_string()], once, true)
}
