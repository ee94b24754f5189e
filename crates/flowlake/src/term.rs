//! What flowlake writes around its results: lines for people on stderr (plain, or JSON objects with
//! `--log-format json`), colour only on a terminal, and a usable table width when a terminal reports none.

use std::io::{IsTerminal, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{SecondsFormat, Utc};

/// Whether stderr carries JSON lines (`--log-format json`): then every line flowlake itself writes there is
/// a JSON object too, so a log shipper never meets a plain line.
static JSON_STDERR: AtomicBool = AtomicBool::new(false);

/// Columns tables are laid out in when the terminal says it has none.
const FALLBACK_COLUMNS: u16 = 80;

/// Makes stderr lines JSON objects (`true`) or plain text.
pub fn set_json_stderr(on: bool) {
    JSON_STDERR.store(on, Ordering::Relaxed);
}

/// Whether log lines may carry colour codes: only when stderr is a terminal and `NO_COLOR` is unset or
/// empty (<https://no-color.org>). A file or a pipe gets plain text.
pub fn stderr_colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A note for people on stderr (`flowlake demo: 2000 synthetic issues …`).
pub fn notice(message: &str) {
    line("INFO", message, message);
}

/// Something people should act on that does not stop the run: `warning: …`, or JSON with level `WARN`.
pub fn warning(message: &str) {
    line("WARN", message, &format!("warning: {message}"));
}

/// The error a run ends with: `error: …`, or a JSON object with level `ERROR`.
pub fn error_line(message: &str) {
    line("ERROR", message, &format!("error: {message}"));
}

fn line(level: &str, message: &str, plain: &str) {
    let text = if JSON_STDERR.load(Ordering::Relaxed) {
        json_line(level, message)
    } else {
        plain.to_string()
    };
    // Nothing is left to tell anyone when stderr itself is gone.
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// One object shaped like tracing-subscriber's JSON log lines.
fn json_line(level: &str, message: &str) -> String {
    serde_json::json!({
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        "level": level,
        "fields": { "message": message },
        "target": "flowlake",
    })
    .to_string()
}

/// Gives `table` a width when the terminal reports zero columns (a pseudo-terminal nobody sized, as under
/// `script -qfc …` run from a script): `COLUMNS` if it holds a positive number, else 80. Without this,
/// comfy-table lays every column out one character wide. A terminal that reports its size, and output that
/// is not a terminal (no wrapping at all), are left alone.
pub fn fit_table(table: &mut comfy_table::Table) {
    if table.width() == Some(0) {
        table.set_width(fallback_columns(std::env::var("COLUMNS").ok().as_deref()));
    }
}

fn fallback_columns(columns: Option<&str>) -> u16 {
    columns
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c > 0)
        .unwrap_or(FALLBACK_COLUMNS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_without_columns_is_laid_out_in_columns_or_80() {
        assert_eq!(fallback_columns(None), 80);
        assert_eq!(fallback_columns(Some("0")), 80);
        assert_eq!(fallback_columns(Some("x")), 80);
        assert_eq!(fallback_columns(Some(" 132 ")), 132);
    }

    #[test]
    fn json_lines_are_objects_with_the_log_lines_keys() {
        let v: serde_json::Value = serde_json::from_str(&json_line("ERROR", "a \"b\"\nc")).unwrap();
        assert_eq!(v["level"], "ERROR");
        assert_eq!(v["fields"]["message"], "a \"b\"\nc");
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
