//! Captures everything `tracing` emits at TRACE level, `log` records included (reqwest and
//! rustls log through `log`; they are bridged into tracing), into a buffer a test can search,
//! for the secret-leak checks and for counting attempts.
//!
//! One global subscriber is installed for the test binary on first use, at TRACE level, and
//! writes into the buffer of the [`Capture`] active on the emitting thread (what other threads
//! emit is dropped). Every callsite is always enabled: a per-thread default subscriber, or a
//! filter that enables callsites only on capturing threads, lets tracing's per-callsite
//! interest cache switch a callsite off for every thread while tests run in parallel (seen:
//! the attempt spans went missing). Use a capture from a current-thread runtime (the `#[tokio::test]`
//! default), so that the client's connection tasks run on the test's thread too.

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, Once};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

type Shared = Arc<Mutex<Vec<u8>>>;

/// How the fmt subscriber writes an attempt's span (`user_apis.attempt{otel.name=…}`).
pub const ATTEMPT_SPAN: &str = "user_apis.attempt{";

/// How the fmt subscriber writes a call's span (`user_apis.call{otel.name=…}`).
pub const CALL_SPAN: &str = "user_apis.call{";

thread_local! {
    static ACTIVE: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

fn active() -> Option<Shared> {
    ACTIVE.with(|a| a.borrow().clone())
}

/// A TRACE-level capture of this thread's tracing output; active until dropped.
#[derive(Debug)]
pub struct Capture {
    buffer: Shared,
    previous: Option<Shared>,
}

impl Capture {
    /// Starts capturing on this thread: every event, and every span's creation and close,
    /// with all their fields.
    ///
    /// # Panics
    ///
    /// If another global tracing subscriber was installed in this test binary first.
    pub fn start() -> Self {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
                .with_ansi(false)
                .with_writer(ThreadBuffer)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("the capture owns the test binary's global subscriber");
            // Forward `log` records (reqwest, rustls) to tracing as well.
            let _ = tracing_log::LogTracer::init();
        });
        // Callsites hit before the subscriber was installed (by tests running in parallel)
        // cached "never": have them asked again.
        tracing::callsite::rebuild_interest_cache();
        let buffer = Shared::default();
        let previous = ACTIVE.with(|a| a.borrow_mut().replace(buffer.clone()));
        Self { buffer, previous }
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        let bytes = self.buffer.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// How many `user_apis.attempt` spans (one per attempt) were opened so far.
    pub fn attempts(&self) -> usize {
        self.text()
            .lines()
            .filter(|line| line.contains(ATTEMPT_SPAN) && line.ends_with(": new"))
            .count()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let previous = self.previous.take();
        ACTIVE.with(|a| *a.borrow_mut() = previous);
    }
}

/// Writes into the active capture's buffer of the current thread, if any.
struct ThreadBuffer;

impl io::Write for ThreadBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(shared) = active()
            && let Ok(mut b) = shared.lock()
        {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for ThreadBuffer {
    type Writer = ThreadBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        ThreadBuffer
    }
}
