//! Time: the one seam through which the runtime reads the clock and waits.
//!
//! Every wait of a client — a retry's backoff, a `Retry-After`, the rate limiter's spacing, a
//! bulk job's polling, the incremental export's budget, a token's renewal ahead of its expiry
//! — reads [`Clock::now`] and waits with [`Clock::sleep`]. The default clock is the real one
//! (tokio's, so tokio's paused test clock works too) and costs what calling tokio directly
//! costs. A [`ManualClock`] stands in for it in tests: its sleeps return at once, move the
//! clock forward by what they asked for and are recorded, so a test asserts the exact waits
//! (a 429's `Retry-After`, the backoff sequence, the pacer's spacing) without waiting them.
//!
//! Timeouts of a single attempt and of connecting are enforced by the HTTP stack on real
//! time, whatever the clock: they bound I/O, they are not waits the runtime chooses.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// Where a client reads the time and how it waits. Cheap to clone.
///
/// [`Clock::real`] is the default; give a [`ManualClock`]'s clock to
/// [`ClientConfig::clock`](crate::ClientConfig::clock) to control time in tests.
#[derive(Clone, Default)]
pub struct Clock(Source);

#[derive(Clone, Default)]
enum Source {
    #[default]
    Real,
    Manual(Arc<Manual>),
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::Real => f.write_str("Clock::real"),
            Source::Manual(manual) => write!(f, "Clock::manual(+{:?})", manual.offset()),
        }
    }
}

impl Clock {
    /// The real clock: tokio's monotonic time and the system's wall-clock time.
    pub fn real() -> Self {
        Self(Source::Real)
    }

    /// The current instant on this clock.
    #[inline]
    pub fn now(&self) -> Instant {
        match &self.0 {
            Source::Real => Instant::now(),
            Source::Manual(manual) => manual.base + manual.offset(),
        }
    }

    /// The current wall-clock time (for HTTP dates and reset timestamps).
    pub fn system_now(&self) -> SystemTime {
        match &self.0 {
            Source::Real => SystemTime::now(),
            Source::Manual(manual) => manual.base_system + manual.offset(),
        }
    }

    /// Waits for `duration` on this clock.
    pub async fn sleep(&self, duration: Duration) {
        match &self.0 {
            Source::Real => tokio::time::sleep(duration).await,
            Source::Manual(manual) => {
                manual.pass(duration);
                tokio::task::yield_now().await;
            }
        }
    }

    /// Waits until `deadline` on this clock (at once if it has passed).
    pub async fn sleep_until(&self, deadline: Instant) {
        match &self.0 {
            Source::Real => tokio::time::sleep_until(deadline).await,
            Source::Manual(manual) => {
                let now = manual.base + manual.offset();
                manual.pass(deadline.saturating_duration_since(now));
                tokio::task::yield_now().await;
            }
        }
    }

    /// `now() + duration`, or `None` when that is past what an instant can hold (an
    /// unbounded deadline).
    pub fn deadline_after(&self, duration: Duration) -> Option<Instant> {
        self.now().checked_add(duration)
    }
}

/// A clock that moves only when told to, for tests.
///
/// Its sleeps return at once: each moves the clock forward by the time it asked for and is
/// recorded, so a test reads back the exact waits a client took ([`sleeps`](Self::sleeps)).
/// [`advance`](Self::advance) moves the clock without a sleep (a token's lifetime passing, a
/// rate-limit window resetting).
///
/// ```
/// use std::time::Duration;
/// use api_runtime::ManualClock;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let manual = ManualClock::new();
/// let clock = manual.clock();
/// let start = clock.now();
/// clock.sleep(Duration::from_secs(6)).await; // returns at once
/// manual.advance(Duration::from_secs(1));
/// assert_eq!(clock.now() - start, Duration::from_secs(7));
/// assert_eq!(manual.sleeps(), vec![Duration::from_secs(6)]);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Manual>);

/// The furthest a manual clock moves (a century): any instant it reports stays representable.
const MAX_OFFSET: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

struct Manual {
    base: Instant,
    base_system: SystemTime,
    state: Mutex<ManualState>,
}

#[derive(Default)]
struct ManualState {
    offset: Duration,
    sleeps: Vec<Duration>,
}

impl fmt::Debug for Manual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("elapsed", &self.offset())
            .finish_non_exhaustive()
    }
}

impl Manual {
    fn lock(&self) -> std::sync::MutexGuard<'_, ManualState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn offset(&self) -> Duration {
        self.lock().offset
    }

    fn pass(&self, duration: Duration) {
        let mut state = self.lock();
        state.sleeps.push(duration);
        state.offset = state.offset.saturating_add(duration).min(MAX_OFFSET);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock that starts at the real current time and moves only by sleeps and
    /// [`advance`](Self::advance).
    pub fn new() -> Self {
        Self(Arc::new(Manual {
            base: Instant::now(),
            base_system: SystemTime::now(),
            state: Mutex::new(ManualState::default()),
        }))
    }

    /// The [`Clock`] to give a client ([`ClientConfig::clock`](crate::ClientConfig::clock)).
    pub fn clock(&self) -> Clock {
        Clock(Source::Manual(self.0.clone()))
    }

    /// Moves the clock forward by `duration` (not recorded as a sleep). The clock stops a
    /// century after it was made.
    pub fn advance(&self, duration: Duration) {
        let mut state = self.0.lock();
        state.offset = state.offset.saturating_add(duration).min(MAX_OFFSET);
    }

    /// How far the clock has moved since it was made.
    pub fn elapsed(&self) -> Duration {
        self.0.offset()
    }

    /// Every sleep taken on this clock so far, in order (a sleep until a passed instant is
    /// recorded as zero).
    pub fn sleeps(&self) -> Vec<Duration> {
        self.0.lock().sleeps.clone()
    }

    /// Returns the sleeps recorded so far and forgets them.
    pub fn take_sleeps(&self) -> Vec<Duration> {
        std::mem::take(&mut self.0.lock().sleeps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_moves_only_by_sleeps_and_advances() {
        let manual = ManualClock::new();
        let clock = manual.clock();
        let start = clock.now();
        let start_system = clock.system_now();
        clock.sleep(Duration::from_millis(1500)).await;
        clock.sleep_until(start + Duration::from_secs(2)).await;
        // Already passed: recorded as zero, the clock does not move back.
        clock.sleep_until(start).await;
        manual.advance(Duration::from_secs(10));
        assert_eq!(clock.now() - start, Duration::from_secs(12));
        assert_eq!(
            clock.system_now().duration_since(start_system).unwrap(),
            Duration::from_secs(12)
        );
        assert_eq!(
            manual.take_sleeps(),
            vec![
                Duration::from_millis(1500),
                Duration::from_millis(500),
                Duration::ZERO
            ]
        );
        assert!(manual.sleeps().is_empty());
        // Stops at a century instead of overflowing an instant.
        manual.advance(Duration::MAX);
        clock.sleep(Duration::MAX).await;
        assert_eq!(manual.elapsed(), MAX_OFFSET);
        assert!(clock.now() > start);
        assert!(clock.system_now() > start_system);
    }

    #[tokio::test(start_paused = true)]
    async fn the_real_clock_is_tokios() {
        let clock = Clock::real();
        let start = clock.now();
        clock.sleep(Duration::from_secs(30)).await;
        assert!(clock.now() - start >= Duration::from_secs(30));
        assert!(clock.deadline_after(Duration::MAX).is_none());
    }
}
