//! The one thing the protocol needs from a platform: send an HTTP request, return status and body.

/// HTTP methods the protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST with a JSON body.
    Post,
    /// DELETE.
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// A request to the provider. It carries MACs and registration codes, never a seed. MACs travel
/// in the `Authorization` header, never in the URL (URLs end up in logs and error messages).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// GET, POST or DELETE.
    pub method: Method,
    /// The whole URL (https, or http on loopback).
    pub url: String,
    /// Extra headers to send, e.g. `Authorization`.
    pub headers: Vec<(String, String)>,
    /// A JSON body (POST only), sent as `application/json`.
    pub body: Option<String>,
    /// False only for a privacyIDEA token whose enrollment asked not to check the server's TLS
    /// certificate and whose user accepted that (`docs/privacyidea.md`); true everywhere else.
    pub tls_verify: bool,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold an activation token and the headers a MAC: neither is printed.
        f.debug_struct("HttpRequest").field("method", &self.method).field("url", &redact_url(&self.url)).finish_non_exhaustive()
    }
}

/// A URL as error messages may show it: scheme and host only (paths may hold bearer tokens).
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}/…", rest.split(['/', '?', '#']).next().unwrap_or("")),
        None => "(address)".into(),
    }
}

/// The provider's reply: any status, the body as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// The body (JSON).
    pub body: String,
}

/// Sends requests to providers (the platform's HTTP stack, or [`crate::http::HttpTransport`]).
/// An `Err` means no HTTP answer arrived (no network, TLS failure, timeout); an HTTP error status
/// is an `Ok` response.
pub trait TransactionTransport: Send + Sync {
    /// Sends one request and waits for its response.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String>;
}

/// The transport of an app that has set none: every request fails with a clear reason.
pub struct NoTransport;

impl TransactionTransport for NoTransport {
    fn send(&self, _request: &HttpRequest) -> Result<HttpResponse, String> {
        Err("no transport: the app has not set one (set_transport)".into())
    }
}
