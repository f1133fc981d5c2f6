//! A counting global allocator: the peak of live heap bytes while a measurement runs.
//!
//! Counting is off except between [`start`] and [`stop`], so the other benchmarks pay one
//! relaxed load per allocation. While it is on, the count is the net change since [`start`]
//! (memory freed that was allocated before counts negative), and the peak is its maximum:
//! the most heap the measured code held at once beyond what was live when it began.

#![allow(unsafe_code)] // `GlobalAlloc` is an unsafe trait; this only forwards to `System`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

/// The system allocator, counted when [`start`] says so.
pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn record(delta: isize) {
    if ON.load(Relaxed) {
        let now = CURRENT.fetch_add(delta, Relaxed) + delta;
        PEAK.fetch_max(now, Relaxed);
    }
}

// SAFETY: every method forwards to `System` unchanged; the counting touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) };
        record(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// Starts counting from zero.
pub fn start() {
    CURRENT.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    ON.store(true, Relaxed);
}

/// The bytes live now above the level at [`start`].
pub fn live() -> u64 {
    CURRENT.load(Relaxed).max(0) as u64
}

/// Stops counting; returns the peak of live bytes above the level at [`start`].
pub fn stop() -> u64 {
    ON.store(false, Relaxed);
    PEAK.load(Relaxed).max(0) as u64
}
