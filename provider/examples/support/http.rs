//! What the provider's load programs share: a keep-alive HTTP/1.1 client connection, wrk's
//! figures for a URL (the peer load generator), and latency percentiles.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One keep-alive HTTP/1.1 connection that reconnects when the server went away.
pub struct Connection {
    port: u16,
    content_type: &'static str,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    /// A connection to the server on `port` that sends bodies of `content_type`.
    pub fn new(port: u16, content_type: &'static str) -> Self {
        Connection { port, content_type, stream: None }
    }

    /// One request; `Err` when the connection failed (the server was killed, or is restarting).
    pub fn request(&mut self, method: &str, path: &str, authorization: Option<&str>, body: &str) -> std::io::Result<(u16, Value)> {
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port))?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let result = self.exchange(method, path, authorization, body);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(&mut self, method: &str, path: &str, authorization: Option<&str>, body: &str) -> std::io::Result<(u16, Value)> {
        let reader = self.stream.as_mut().unwrap();
        let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        let request =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: {}\r\nContent-Length: {}\r\n\r\n{body}", self.content_type, body.len());
        reader.get_mut().write_all(request.as_bytes())?;
        let broken = |what: &str| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_string());
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(broken("closed"));
        }
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| broken("status line"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Err(broken("headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().map_err(|_| broken("content-length"))?;
                }
            }
        }
        let mut body = vec![0u8; length.min(1 << 20)];
        reader.read_exact(&mut body)?;
        Ok((status, serde_json::from_slice(&body).map_err(|_| broken("body"))?))
    }
}

/// wrk's figures for one URL: (requests/s, p50 ms, p99 ms, non-2xx or socket errors).
pub fn wrk(url: &str, connections: usize, seconds: u64, header: Option<&str>) -> Value {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency"]);
    if let Some(h) = header {
        cmd.args(["-H", h]);
    }
    let out = match cmd.arg(url).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).to_string(),
        Ok(o) => return json!({"error": String::from_utf8_lossy(&o.stderr).trim().to_string()}),
        Err(e) => return json!({"error": format!("wrk: {e}")}),
    };
    let ms = |v: &str| -> f64 {
        let (n, unit) = v.find(|c: char| c.is_ascii_alphabetic()).map_or((v, "ms"), |i| v.split_at(i));
        let n: f64 = n.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "s" => n * 1000.0,
            "m" => n * 60_000.0,
            _ => n,
        }
    };
    let field = |prefix: &str| out.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_string()));
    let errors = field("Non-2xx or 3xx responses:").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + field("Socket errors:").map_or(0, |v| v.split(',').filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok()).sum());
    json!({
        "requests_per_s": field("Requests/sec:").and_then(|v| v.parse::<f64>().ok()),
        "p50_ms": field("50%").map(|v| ms(&v)),
        "p99_ms": field("99%").map(|v| ms(&v)),
        "errors": errors,
    })
}

pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

/// Starts `softtoken-provider serve` on `port` (0: any) with `state_args` naming its state, the
/// limits raised (every client shares 127.0.0.1, and the run measures the server, not its rate
/// limiter: tests/server.rs checks the limiter); returns the process and its port.
pub fn serve(binary: &std::path::Path, state_args: &[String], port: u16) -> (Child, u16) {
    let mut child = Command::new(binary)
        .args(state_args)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--answers-per-address", "100000000", "--answers-per-identity", "100000000", "--max-connections-per-address", "4096"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the first line");
    let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {line:?}"));
    (child, addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port"))
}
