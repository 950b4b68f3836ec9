//! [`HttpTransport`]: the Rust HTTP client (ureq with rustls and ring; HTTP/1.1) for the CLI and
//! desktop use. Certificates are checked against Mozilla's roots, or against the roots given.

use crate::transport::{HttpRequest, HttpResponse, Method, TransactionTransport};
use std::time::Duration;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// Seconds a whole request may take.
pub const TIMEOUT_S: u64 = 15;
/// Largest response body read.
const MAX_BODY: u64 = 1024 * 1024;

/// ureq behind the [`TransactionTransport`] trait.
pub struct HttpTransport {
    agent: ureq::Agent,
    /// The same without certificate checks, for the requests that ask for it (a privacyIDEA
    /// token the user enrolled with `sslverify=0` accepted).
    unverified: ureq::Agent,
}

impl HttpTransport {
    /// Trusts Mozilla's root certificates (webpki-roots).
    pub fn new() -> Self {
        Self::with_tls(TlsConfig::builder().build())
    }

    /// Trusts only the certificates in `pem` (a company CA, or a provider's self-signed one).
    pub fn with_root_certificates(pem: &[u8]) -> Result<Self, String> {
        let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot read the certificates: {e}"))?;
        if certs.is_empty() {
            return Err("no certificate in the PEM file".into());
        }
        Ok(Self::with_tls(TlsConfig::builder().root_certs(RootCerts::new_with_certs(&certs)).build()))
    }

    fn with_tls(tls: TlsConfig) -> Self {
        let unverified = TlsConfig::builder().disable_verification(true).build();
        HttpTransport { agent: Self::agent(tls), unverified: Self::agent(unverified) }
    }

    fn agent(tls: TlsConfig) -> ureq::Agent {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect would carry the request (and its MAC header) to another host: never follow.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(TIMEOUT_S)))
            .tls_config(tls)
            .user_agent(concat!("softtoken/", env!("CARGO_PKG_VERSION")))
            .build();
        config.into()
    }
}

impl Default for HttpTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl TransactionTransport for HttpTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        let agent = if request.tls_verify { &self.agent } else { &self.unverified };
        let with_headers = |mut b: ureq::RequestBuilder<ureq::typestate::WithoutBody>| {
            for (k, v) in &request.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            b
        };
        let result = match (request.method, &request.body) {
            (Method::Get, _) => with_headers(agent.get(&request.url)).call(),
            (Method::Delete, _) => with_headers(agent.delete(&request.url)).call(),
            (Method::Post, body) => {
                let mut b = agent.post(&request.url).content_type("application/json");
                for (k, v) in &request.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.send(body.as_deref().unwrap_or("{}"))
            }
        };
        // ureq's errors may name the URL; only the host is kept.
        let mut response = result.map_err(|e| {
            format!("{} ({})", e.to_string().replace(&request.url, &crate::transport::redact_url(&request.url)), crate::transport::redact_url(&request.url))
        })?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(MAX_BODY).read_to_string().map_err(|e| format!("reading the response: {e}"))?;
        Ok(HttpResponse { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_redirect_is_not_followed_and_the_mac_header_stays_here() {
        // The attack: a provider (or someone on its path) answers 302 to another host; ureq
        // followed it, carrying the request to wherever the Location pointed.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let other_addr = other.local_addr().unwrap();
        other.set_nonblocking(true).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            write!(s, "HTTP/1.1 302 Found\r\nLocation: http://{other_addr}/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
            request
        });
        let t = HttpTransport::new();
        let r = t
            .send(&HttpRequest {
                method: Method::Get,
                url: format!("http://{addr}/v1/identities/1/transactions"),
                headers: vec![("Authorization".into(), "Softtoken-MAC at=1, mac=x".into())],
                body: None,
                tls_verify: true,
            })
            .unwrap();
        assert_eq!(r.status, 302, "returned as it came, not followed");
        let seen = server.join().unwrap();
        assert!(seen.to_ascii_lowercase().contains("authorization: softtoken-mac at=1, mac=x"), "{seen}");
        assert!(other.accept().is_err(), "nothing reached the other host");
    }
}
