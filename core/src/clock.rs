//! The time codes, attempts delays and the idle lock are computed at: the system's, or a test's.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current Unix time, injectable for tests and for UIs that simulate time.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn unix_time(&self) -> u64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_time(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn unix_time(&self) -> u64 {
        self.0
    }
}
