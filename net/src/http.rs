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
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect would carry the request (and its MAC header) to another host: never follow.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(TIMEOUT_S)))
            .tls_config(tls)
            .user_agent(concat!("softtoken/", env!("CARGO_PKG_VERSION")))
            .build();
        HttpTransport { agent: config.into() }
    }
}

impl Default for HttpTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl TransactionTransport for HttpTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        let with_headers = |mut b: ureq::RequestBuilder<ureq::typestate::WithoutBody>| {
            for (k, v) in &request.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            b
        };
        let result = match (request.method, &request.body) {
            (Method::Get, _) => with_headers(self.agent.get(&request.url)).call(),
            (Method::Delete, _) => with_headers(self.agent.delete(&request.url)).call(),
            (Method::Post, body) => {
                let mut b = self.agent.post(&request.url).content_type("application/json");
                for (k, v) in &request.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.send(body.as_deref().unwrap_or("{}"))
            }
        };
        // ureq's errors may name the URL; only the host is kept.
        let mut response = result.map_err(|e| format!("{} ({})", e.to_string().replace(&request.url, &crate::transport::redact_url(&request.url)), crate::transport::redact_url(&request.url)))?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(MAX_BODY).read_to_string().map_err(|e| format!("reading the response: {e}"))?;
        Ok(HttpResponse { status, body })
    }
}
