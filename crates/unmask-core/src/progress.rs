//! Progress reporting: an indicatif bar on a terminal, and a plain log line every ~10% when the
//! output is not a terminal (CI logs, pipes), so long loops never look stuck.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    done: AtomicU64,
    next_report: AtomicU64,
    started: Instant,
    message: std::sync::Mutex<String>,
}

impl Progress {
    /// A progress reporter for `total` units of work called `label` (e.g. "faces").
    pub fn new(label: &str, total: u64) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = interactive.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>12} [{bar:32}] {pos}/{len} {rate} eta {eta} {msg}",
                )
                .expect("valid template")
                .with_key(
                    "rate",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", s.per_sec());
                    },
                )
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        });
        Self {
            bar,
            label: label.to_string(),
            total,
            done: AtomicU64::new(0),
            next_report: AtomicU64::new(total.div_ceil(10).max(1)),
            started: Instant::now(),
            message: std::sync::Mutex::new(String::new()),
        }
    }

    /// Records `n` more finished units; safe to call from many threads.
    pub fn inc(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        let step = self.total.div_ceil(10).max(1);
        let threshold = self.next_report.load(Ordering::Relaxed);
        if done >= threshold
            && self
                .next_report
                .compare_exchange(
                    threshold,
                    threshold + step,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            let message = self.message.lock().map(|m| m.clone()).unwrap_or_default();
            tracing::info!(
                "{}: {done}/{} ({:.1}/s) {message}",
                self.label,
                self.total,
                done as f64 / secs
            );
        }
    }

    /// A short status shown after the counts (e.g. the current loss).
    pub fn set_message(&self, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.clone());
        }
        if let Ok(mut m) = self.message.lock() {
            *m = message;
        }
    }

    /// Clears the bar; the caller reports the result.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
