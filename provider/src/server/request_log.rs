//! The request log `serve` writes: one line per request — time, client address, method, path,
//! status, milliseconds — to a file beside the state (or stderr, or nowhere).
//!
//! Nothing secret reaches it: the query string is never written (`/validate/check?pass=…` carries
//! a code, a GET form its fields), and the one path segment that is a secret, the online
//! activation token of `/v1/activation/{token}`, is written as `[redacted]`. Lines go through a
//! bounded queue to a writer thread, so a slow disk never holds a request; when the queue is full,
//! lines are dropped and the next written line says how many.

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Lines waiting for the writer before new ones are dropped.
const QUEUE: usize = 16_384;

/// Where the log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Appended to this file (created 0600).
    File(PathBuf),
    /// Standard error.
    Stderr,
    /// Not written.
    Off,
}

impl Destination {
    /// `-` is stderr, `off` nothing, anything else a file.
    pub fn parse(text: &str) -> Self {
        match text {
            "-" => Destination::Stderr,
            "off" => Destination::Off,
            path => Destination::File(PathBuf::from(path)),
        }
    }
}

/// The sending end the middleware writes to.
#[derive(Clone)]
pub struct RequestLog {
    lines: Option<SyncSender<String>>,
    dropped: Arc<AtomicU64>,
}

impl RequestLog {
    /// Starts the writer thread for `destination`.
    pub fn start(destination: &Destination) -> crate::Result<Self> {
        let mut out: Box<dyn Write + Send> = match destination {
            Destination::Off => return Ok(RequestLog { lines: None, dropped: Arc::new(AtomicU64::new(0)) }),
            Destination::Stderr => Box::new(std::io::stderr()),
            Destination::File(path) => {
                use std::os::unix::fs::OpenOptionsExt;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| crate::ProviderError::Invalid(format!("request log {}: {e}", path.display())))?;
                Box::new(std::io::BufWriter::new(file))
            }
        };
        let (tx, rx) = sync_channel::<String>(QUEUE);
        std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || loop {
                match rx.recv_timeout(Duration::from_millis(500)) {
                    Ok(line) => {
                        let _ = out.write_all(line.as_bytes());
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        let _ = out.flush();
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        let _ = out.flush();
                        return;
                    }
                }
            })
            .map_err(|e| crate::ProviderError::Fault(format!("cannot start the request log: {e}")))?;
        Ok(RequestLog { lines: Some(tx), dropped: Arc::new(AtomicU64::new(0)) })
    }

    fn write(&self, line: String) {
        let Some(tx) = &self.lines else { return };
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        let line = if dropped > 0 { format!("({dropped} lines dropped: the log could not keep up)\n{line}") } else { line };
        if let Err(TrySendError::Full(_)) = tx.try_send(line) {
            self.dropped.fetch_add(1 + dropped, Ordering::Relaxed);
        }
    }
}

/// A path as the log shows it: no query, and the activation token replaced.
pub fn loggable_path(path: &str) -> String {
    let shown: String = path.chars().take(256).map(|c| if c.is_control() || c == ' ' { '?' } else { c }).collect();
    match shown.strip_prefix("/v1/activation/") {
        Some(rest) if !rest.is_empty() => "/v1/activation/[redacted]".into(),
        _ => shown,
    }
}

/// The middleware: times the request and queues its line.
pub async fn record(axum::extract::State(log): axum::extract::State<RequestLog>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "-".into());
    let method = request.method().as_str().to_string();
    let path = loggable_path(request.uri().path());
    let response = next.run(request).await;
    let at = httpdate::fmt_http_date(std::time::SystemTime::now());
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    log.write(format!("[{at}] {peer} {method} {path} {} {ms:.1}ms\n", response.status().as_u16()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_query_and_no_activation_token_reach_the_log() {
        assert_eq!(loggable_path("/v1/activation/0123456789abcdef0123456789abcdef"), "/v1/activation/[redacted]");
        assert_eq!(loggable_path("/validate/check"), "/validate/check");
        assert_eq!(loggable_path("/portal/a\nb"), "/portal/a?b");
        assert_eq!(loggable_path(&format!("/{}", "x".repeat(1000))).len(), 256);
    }
}
