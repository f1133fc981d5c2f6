//! What a retry waits for: the runtime emits a `retrying` event (operation, attempt,
//! `wait_ms`) before each wait between attempts, inside the operation's span, after the
//! attempt's `http_request` span recorded its status (or a debug `attempt failed` event named
//! its failure). A wait longer than a second is said on stderr, one line, so that a 6-second
//! wait for a 429 is not taken for a hang.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Waits up to this long pass silently.
const QUIET: Duration = Duration::from_secs(1);

/// The layer that says long waits on stderr, for the process's subscriber.
pub fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    Waits::default()
}

/// The runtime's span of one HTTP attempt.
const ATTEMPT_SPAN: &str = "user_apis.attempt";

/// What the last attempt ended with.
#[derive(Default)]
struct Waits {
    last: Mutex<Last>,
}

#[derive(Default)]
struct Last {
    status: Option<u64>,
    failure: Option<String>,
}

/// The fields of the events and spans this layer reads.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    operation: Option<String>,
    status: Option<u64>,
    attempt: Option<u64>,
    wait_ms: Option<u64>,
    error: Option<String>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "http.response.status_code" => self.status = Some(value),
            "attempt" => self.attempt = Some(value),
            "wait_ms" => self.wait_ms = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(value) = u64::try_from(value) {
            self.record_u64(field, value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = Some(value.to_string()),
            "operation" => self.operation = Some(value.to_string()),
            "error" => self.error = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = Some(format!("{value:?}")),
            "operation" => self.operation = Some(format!("{value:?}")),
            // `error = %chain(error)`: Display through Debug; at most one line, capped.
            "error" => {
                let text = format!("{value:?}");
                let line = text.lines().next().unwrap_or_default();
                self.error = Some(line.chars().take(160).collect());
            }
            _ => {}
        }
    }
}

impl Waits {
    fn last(&self) -> std::sync::MutexGuard<'_, Last> {
        // A poisoned lock only means a panic elsewhere mid-update: the data is still usable.
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<S> Layer<S> for Waits
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() == ATTEMPT_SPAN {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            *self.last() = Last {
                status: fields.status,
                failure: None,
            };
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if ctx.span(id).is_some_and(|s| s.name() == ATTEMPT_SPAN) {
            let mut fields = Fields::default();
            values.record(&mut fields);
            if let Some(status) = fields.status {
                self.last().status = Some(status);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        match fields.message.as_deref() {
            Some("attempt failed") => self.last().failure = fields.error,
            Some("rate limit: waiting") => {
                let wait = Duration::from_millis(fields.wait_ms.unwrap_or(0));
                if wait > QUIET {
                    eprintln!(
                        "user-apis: {}: the rate limit allows the next request in {:.1} s; waiting",
                        fields.operation.as_deref().unwrap_or("the call"),
                        wait.as_secs_f64()
                    );
                }
            }
            Some("retrying") => {
                let wait = Duration::from_millis(fields.wait_ms.unwrap_or(0));
                if wait > QUIET {
                    let last = self.last();
                    eprintln!(
                        "{}",
                        notice(
                            fields.operation.as_deref().unwrap_or("the call"),
                            last.status,
                            last.failure.as_deref(),
                            wait,
                            fields.attempt,
                        )
                    );
                }
            }
            _ => {}
        }
    }
}

/// `user-apis: count_users: HTTP 429 Too Many Requests; waiting 6.0 s before attempt 2`.
fn notice(
    operation: &str,
    status: Option<u64>,
    failure: Option<&str>,
    wait: Duration,
    attempt: Option<u64>,
) -> String {
    let why = match (status, failure) {
        (Some(code), _) => {
            let reason = u16::try_from(code)
                .ok()
                .and_then(|c| user_apis::reqwest::StatusCode::from_u16(c).ok())
                .and_then(|c| c.canonical_reason())
                .unwrap_or("");
            format!("HTTP {code} {reason}").trim_end().to_string()
        }
        (None, Some(failure)) => failure.to_string(),
        (None, None) => "the attempt failed".to_string(),
    };
    let next = attempt.map_or(String::new(), |a| format!(" before attempt {}", a + 1));
    format!(
        "user-apis: {operation}: {why}; waiting {:.1} s{next}",
        wait.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_says_what_it_waits_for_and_how_long() {
        assert_eq!(
            notice(
                "count_users",
                Some(429),
                None,
                Duration::from_secs(6),
                Some(1)
            ),
            "user-apis: count_users: HTTP 429 Too Many Requests; waiting 6.0 s before attempt 2"
        );
        assert_eq!(
            notice(
                "show_user",
                None,
                Some("connection refused"),
                Duration::from_millis(2500),
                None
            ),
            "user-apis: show_user: connection refused; waiting 2.5 s"
        );
    }
}
