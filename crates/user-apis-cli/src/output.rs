//! What the CLI writes: JSON on stdout (pretty on a terminal, compact when piped), NDJSON for
//! `--all`, progress on stderr only when stderr is a terminal.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use indicatif::{ProgressBar, ProgressDrawTarget};
use serde::Serialize;
use user_apis::{ApiError, ErrorKind};

/// Writes successes to stdout; every generated `CliConfig` is implemented by it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Output;

impl Output {
    /// Writes one JSON document to stdout, pretty when stdout is a terminal.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        if stdout.is_terminal() {
            serde_json::to_writer_pretty(&mut out, value)?;
        } else {
            serde_json::to_writer(&mut out, value)?;
        }
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }

    /// Writes every item of `items` as one compact JSON line (NDJSON), with a count of the
    /// items so far on stderr when stderr is a terminal. An item the model refuses (a
    /// `Decode` error in its place) goes to stderr, its reason and its JSON, and the listing
    /// goes on; the run then fails at the end, after every good item. Any other error stops
    /// it.
    pub async fn all<T, S>(items: S) -> anyhow::Result<()>
    where
        T: Serialize,
        S: Stream<Item = Result<T, ApiError>>,
    {
        let mut lines = Output::lines("items");
        let mut items = std::pin::pin!(items);
        let mut refused = 0u64;
        while let Some(item) = items.next().await {
            match item {
                Ok(item) => lines.write(&item)?,
                Err(err) if err.item_index().is_some() => {
                    refused += 1;
                    lines.progress.suspend(|| refused_item(&err));
                }
                Err(err) => {
                    // Off the screen before `main` prints the error on its own line.
                    lines.clear();
                    return Err(err.into());
                }
            }
        }
        let written = lines.finish()?;
        if refused > 0 {
            return Err(ApiError::new(
                ErrorKind::Decode,
                format!(
                    "{refused} item(s) did not match the spec: each is on stderr with its reason \
                     and its JSON; the {written} other item(s) were written"
                ),
            )
            .into());
        }
        Ok(())
    }

    /// An NDJSON writer to stdout with a count of `unit` on stderr when it is a terminal.
    pub fn lines(unit: &str) -> Lines {
        Lines {
            progress: progress(unit),
            written: 0,
        }
    }
}

/// One compact JSON document a line on stdout, counted on a spinner.
pub struct Lines {
    progress: ProgressBar,
    written: u64,
}

impl Lines {
    /// Writes `item` as one line.
    pub fn write<T: Serialize>(&mut self, item: &T) -> anyhow::Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        serde_json::to_writer(&mut out, item)?;
        out.write_all(b"\n")?;
        self.written += 1;
        self.progress.set_position(self.written);
        Ok(())
    }

    /// Takes the spinner off the screen (before an error is printed).
    pub fn clear(&self) {
        self.progress.finish_and_clear();
    }

    /// Flushes stdout, takes the spinner off; the number of lines written.
    pub fn finish(self) -> anyhow::Result<u64> {
        std::io::stdout().lock().flush()?;
        self.progress.finish_and_clear();
        Ok(self.written)
    }
}

/// A spinner with a count on stderr, or nothing when stderr is not a terminal.
pub fn progress(unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} {{pos}} {unit} {{msg}} ({{elapsed}})"
    )) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

macro_rules! cli_config {
    ($($service:ident),*) => {$(
        impl crate::generated::$service::CliConfig for Output {
            fn success_item<T>(&self, value: &user_apis::$service::ResponseValue<T>)
            where
                T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
            {
                // A failure to write stdout (a closed pipe) leaves nothing to report to.
                let _ = Output::json(value.as_ref());
            }

            fn success_no_item(&self, _: &user_apis::$service::ResponseValue<()>) {}

            fn error(&self, _: &ApiError) {
                // `main` reports the error once, with its exit code.
            }
        }
    )*};
}

cli_config!(zendesk, cerego, sendauth);

/// An item the model refused, on stderr: the reason on one line (escaped by `ApiError`'s
/// `Display`), then the item's JSON as received, re-encoded compactly so that no control
/// character reaches the terminal.
fn refused_item(err: &ApiError) {
    let json = match serde_json::from_slice::<serde_json::Value>(err.body()) {
        Ok(value) => value.to_string(),
        Err(_) => format!("{:?}", err.body_text()),
    };
    eprintln!("user-apis: skipped: {err}\n{json}");
}
