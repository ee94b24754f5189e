//! Progress bars on stderr for long work (hidden with `--quiet` or when stderr is not a terminal).

use std::sync::Arc;
use std::time::Duration;

use flowlake_connect::http::HttpObserver;
use flowlake_engine::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// An indicatif bar behind the engine's [`Progress`] trait.
pub struct Bar {
    bar: ProgressBar,
    quiet: bool,
}

impl Bar {
    /// A bar, silent when `quiet`.
    pub fn new(quiet: bool) -> Self {
        Self {
            bar: ProgressBar::hidden(),
            quiet,
        }
    }
}

impl Bar {
    /// An observer that prints rate-limit waits above the bar (and nothing when quiet).
    pub fn observer(&self) -> Arc<dyn HttpObserver> {
        Arc::new(WaitNotice {
            bar: self.bar.clone(),
        })
    }
}

/// Prints a line above the bar when the HTTP client waits for a rate limit.
struct WaitNotice {
    bar: ProgressBar,
}

impl HttpObserver for WaitNotice {
    fn waiting(&self, reason: &str, for_: Duration) {
        tracing::info!(seconds = for_.as_secs_f64(), "{reason}");
        if !self.bar.is_hidden() {
            self.bar.println(format!(
                "  waiting {:.0} s: {reason}",
                for_.as_secs_f64().ceil()
            ));
        }
    }
}

impl Progress for Bar {
    fn start(&self, label: &str, total: Option<u64>) {
        if self.quiet {
            return;
        }
        self.bar.set_draw_target(ProgressDrawTarget::stderr());
        self.bar.reset();
        self.bar.set_position(0);
        match total {
            Some(n) => {
                self.bar.set_length(n);
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "{msg:>14} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
            }
            None => {
                self.bar.unset_length();
                self.bar.set_style(
                    ProgressStyle::with_template("{msg:>14} {spinner} {human_pos} {per_sec}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
            }
        }
        self.bar.set_message(label.to_string());
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
