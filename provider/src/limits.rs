//! Rate limits shared by the server (answers, requests per address) and the portal (sign-ins).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Token buckets by key: each key may take `burst` at once and gets `burst` back per minute.
pub(crate) struct RateLimit {
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Keys kept before full buckets are dropped (a flood of distinct keys cannot grow the map).
const MAX_BUCKETS: usize = 100_000;

impl RateLimit {
    pub(crate) fn new(per_minute: u32) -> Self {
        RateLimit { burst: f64::from(per_minute.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// A bucket's tokens at `now`: what it held at `at`, refilled at `burst` a minute, at most `burst`.
    fn refilled(&self, tokens: f64, at: Instant, now: Instant) -> f64 {
        (tokens + now.duration_since(at).as_secs_f64() * self.burst / 60.0).min(self.burst)
    }

    /// Whether `key` could take a token now (nothing is taken).
    pub(crate) fn available(&self, key: &str) -> bool {
        let now = Instant::now();
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets.get(key).is_none_or(|&(tokens, at)| self.refilled(tokens, at, now) >= 1.0)
    }

    /// Takes one token for `key`, or refuses when its bucket is empty.
    pub(crate) fn take(&self, key: &str) -> std::result::Result<(), ()> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            buckets.retain(|_, (tokens, at)| self.refilled(*tokens, *at, now) < self.burst);
            if buckets.len() >= MAX_BUCKETS {
                return Err(());
            }
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((self.burst, now));
        *tokens = self.refilled(*tokens, *at, now);
        *at = now;
        if *tokens < 1.0 {
            return Err(());
        }
        *tokens -= 1.0;
        Ok(())
    }
}
