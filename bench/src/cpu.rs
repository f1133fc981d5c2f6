//! The CPU time of this process (every thread), to the nanosecond: what a call costs the
//! client in CPU, whatever the wall clock says on a busy machine.

#![allow(unsafe_code)] // one libc call; std has no process CPU clock.

use std::time::Duration;

/// CPU time used by this process so far (`CLOCK_PROCESS_CPUTIME_ID`: user + system, all
/// threads).
pub fn process() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
