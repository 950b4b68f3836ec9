//! Users from the company's LDAP directory, so it does not re-create them: the provider binds with
//! a service account, finds a user by a filter (`(uid={user})` unless the operator says otherwise),
//! reads the e-mail attribute, and checks a portal sign-in by binding as the user found. A
//! directory user becomes known to the provider (a row without a local password) the first time a
//! token is given to them, they sign in, or a plugin asks about them.
//!
//! TLS: `ldaps://`, or `ldap://` with StartTLS, checked against the system's CA store or the
//! operator's CA file (rustls with ring, as the server). Plain `ldap://` without StartTLS is
//! accepted for a directory on a loopback address only (the service account's password and the
//! users' would cross the network in clear). The service account's password lives in a file of
//! its own (0600), never in the state.

use crate::database::{params, OptionalRow};
use crate::portal::accounts::User;
use crate::{files, Provider, ProviderError, Result};
use ldap3::{LdapConn, LdapConnSettings, Scope, SearchEntry};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The stored password of a user who signs in with the directory's (no local password).
pub(crate) const DIRECTORY_PASSWORD: &str = "directory";
/// The default search filter.
pub const DEFAULT_FILTER: &str = "(uid={user})";
/// Entries a lookup may return (more is an error: the filter is too wide).
const MAX_ENTRIES: i32 = 2;

/// Where the directory is and how users are found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySettings {
    /// `ldaps://HOST[:PORT]` or `ldap://HOST[:PORT]`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS.
    pub start_tls: bool,
    /// The service account's DN.
    pub bind_dn: String,
    /// A file (0600) holding the service account's password.
    pub bind_password_file: PathBuf,
    /// Where users are searched (subtree).
    pub base_dn: String,
    /// The search filter; `{user}` is replaced by the name, escaped (RFC 4515).
    pub filter: String,
    /// The attribute holding a user's e-mail address.
    pub mail_attribute: String,
    /// A PEM file of the CA certificates the directory's certificate is checked against (default:
    /// the system's).
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for the directory.
    pub timeout_s: u64,
}

impl DirectorySettings {
    /// Refuses settings that could not work or would send passwords in clear.
    pub fn check(&self) -> Result<()> {
        let invalid = |m: String| Err(ProviderError::Invalid(m));
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("", ""));
        let host = rest.split('/').next().unwrap_or("").rsplit_once(':').map_or(rest.split('/').next().unwrap_or(""), |(h, _)| h);
        match scheme {
            "ldaps" if !self.start_tls => {}
            "ldaps" => return invalid("StartTLS is for ldap:// URLs (ldaps:// is TLS already)".into()),
            "ldap" if self.start_tls => {}
            "ldap" if ["127.0.0.1", "localhost", "[::1]"].contains(&host) => {}
            "ldap" => {
                return invalid(format!("{}: a directory on another host needs ldaps:// or --start-tls (passwords would cross the network in clear)", self.url))
            }
            _ => return invalid(format!("{}: expected ldaps://HOST[:PORT] or ldap://HOST[:PORT]", self.url)),
        }
        if self.filter.matches("{user}").count() != 1 || !self.filter.starts_with('(') || !self.filter.ends_with(')') {
            return invalid(format!("filter {:?}: a parenthesised LDAP filter with {{user}} once, e.g. {DEFAULT_FILTER}", self.filter));
        }
        if self.bind_dn.is_empty() || self.base_dn.is_empty() || self.mail_attribute.is_empty() {
            return invalid("the bind DN, the base DN and the mail attribute must not be empty".into());
        }
        if !(1..=60).contains(&self.timeout_s) {
            return invalid("the directory timeout must be 1 to 60 seconds".into());
        }
        Ok(())
    }
}

/// A user found in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// Their entry's DN.
    pub dn: String,
    /// Their e-mail address, if the entry has one.
    pub email: Option<String>,
}

fn unreachable(settings: &DirectorySettings, e: ldap3::LdapError) -> ProviderError {
    ProviderError::Fault(format!("the directory at {}: {e}", settings.url))
}

/// A connection to the directory, TLS as the settings say.
fn connect(settings: &DirectorySettings) -> Result<LdapConn> {
    let timeout = Duration::from_secs(settings.timeout_s);
    let mut options = LdapConnSettings::new().set_conn_timeout(timeout).set_starttls(settings.start_tls);
    if let Some(ca) = &settings.ca_file {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(ca).map_err(|e| ProviderError::Invalid(format!("CA file {}: {e}", ca.display())))?;
        for cert in certs {
            let cert = cert.map_err(|e| ProviderError::Invalid(format!("CA file {}: {e}", ca.display())))?;
            roots.add(cert).map_err(|e| ProviderError::Invalid(format!("CA file {}: {e}", ca.display())))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| ProviderError::Fault(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        options = options.set_config(Arc::new(config));
    }
    let mut conn = LdapConn::with_settings(options, &settings.url).map_err(|e| unreachable(settings, e))?;
    conn.with_timeout(timeout);
    Ok(conn)
}

/// Binds as the service account.
fn bind_service(conn: &mut LdapConn, settings: &DirectorySettings) -> Result<()> {
    let password = files::read("the directory's password file", &settings.bind_password_file)?;
    let password =
        std::str::from_utf8(&password).map_err(|_| ProviderError::Invalid("the directory's password file is not UTF-8".into()))?.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(ProviderError::Invalid("the directory's password file is empty".into()));
    }
    conn.with_timeout(Duration::from_secs(settings.timeout_s));
    conn.simple_bind(&settings.bind_dn, password)
        .map_err(|e| unreachable(settings, e))?
        .success()
        .map_err(|e| ProviderError::Fault(format!("the directory refused the service account {}: {e}", settings.bind_dn)))?;
    Ok(())
}

/// Finds `name` in the directory.
fn find(conn: &mut LdapConn, settings: &DirectorySettings, name: &str) -> Result<Option<DirectoryUser>> {
    let filter = settings.filter.replace("{user}", &ldap3::ldap_escape(name));
    conn.with_timeout(Duration::from_secs(settings.timeout_s));
    let (entries, _) = conn
        .search(&settings.base_dn, Scope::Subtree, &filter, vec![settings.mail_attribute.as_str()])
        .map_err(|e| unreachable(settings, e))?
        .success()
        .map_err(|e| ProviderError::Fault(format!("the directory's search under {}: {e}", settings.base_dn)))?;
    if entries.len() >= MAX_ENTRIES as usize {
        return Err(ProviderError::Refused(format!("{} directory entries match the user {name}: the filter must find one", entries.len())));
    }
    Ok(entries.into_iter().next().map(|e| {
        let entry = SearchEntry::construct(e);
        let email = entry.attrs.get(&settings.mail_attribute).and_then(|v| v.first()).cloned();
        DirectoryUser { dn: entry.dn, email }
    }))
}

impl Provider {
    /// The directory's settings, if the operator set one.
    pub fn directory(&self) -> Result<Option<DirectorySettings>> {
        let stored: Option<String> = self.db.query_row("SELECT value FROM meta WHERE name = 'directory'", params![], |r| r.get(0)).optional()?;
        stored.map(|s| serde_json::from_str(&s).map_err(|e| ProviderError::Fault(format!("stored directory settings: {e}")))).transpose()
    }

    /// Sets the directory, after checking that the service account can bind.
    pub fn set_directory(&self, settings: &DirectorySettings) -> Result<()> {
        settings.check()?;
        let mut conn = connect(settings)?;
        bind_service(&mut conn, settings)?;
        let _ = conn.unbind();
        let json = serde_json::to_string(settings).map_err(|e| ProviderError::Fault(e.to_string()))?;
        self.db.execute("INSERT INTO meta (name, value) VALUES ('directory', ?1) ON CONFLICT(name) DO UPDATE SET value = excluded.value", params![json])?;
        Ok(())
    }

    /// Forgets the directory (users it brought stay known, and can no longer sign in).
    pub fn clear_directory(&self) -> Result<()> {
        self.db.execute("DELETE FROM meta WHERE name = 'directory'", params![])?;
        Ok(())
    }

    /// Looks `name` up in the directory (`None` without a directory, or when it has no such user).
    pub fn directory_user(&self, name: &str) -> Result<Option<DirectoryUser>> {
        let Some(settings) = self.directory()? else { return Ok(None) };
        let mut conn = connect(&settings)?;
        bind_service(&mut conn, &settings)?;
        let found = find(&mut conn, &settings, name);
        let _ = conn.unbind();
        found
    }

    /// Whether `password` is the directory password of `name` (a bind as their entry). An empty
    /// password is never tried: LDAP takes it as an anonymous bind, which "succeeds".
    pub fn directory_password_matches(&self, name: &str, password: &str) -> Result<bool> {
        let Some(settings) = self.directory()? else { return Ok(false) };
        if password.is_empty() {
            return Ok(false);
        }
        let mut conn = connect(&settings)?;
        bind_service(&mut conn, &settings)?;
        let Some(user) = find(&mut conn, &settings, name)? else { return Ok(false) };
        conn.with_timeout(Duration::from_secs(settings.timeout_s));
        let bound = conn.simple_bind(&user.dn, password).map_err(|e| unreachable(&settings, e))?;
        let _ = conn.unbind();
        Ok(bound.rc == 0)
    }

    /// A user by name: one of the portal's, or one of the directory's (made known to the provider
    /// now, with its e-mail address and no local password). A directory user is returned under
    /// the name first seen for their entry.
    pub fn known_user(&self, name: &str, now: u64) -> Result<Option<User>> {
        if let Some(user) = self.user(name)? {
            return Ok(Some(user));
        }
        if crate::portal::accounts::check_user_name(name).is_err() {
            return Ok(None);
        }
        let Some(found) = self.directory_user(name)? else { return Ok(None) };
        // One user per directory entry: a name typed in another case (the directory matches
        // names without case) is the user first seen with that entry.
        let known: Option<String> = self.db.query_row("SELECT name FROM users WHERE directory_dn = ?1", params![found.dn], |r| r.get(0)).optional()?;
        if let Some(known) = known {
            return self.user(&known);
        }
        self.db.execute(
            "INSERT INTO users (name, password, admin, email, created_at, directory_dn) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO NOTHING",
            params![name, DIRECTORY_PASSWORD, false, found.email, now as i64, found.dn],
        )?;
        self.user(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> DirectorySettings {
        DirectorySettings {
            url: url.into(),
            start_tls: false,
            bind_dn: "cn=svc,dc=example,dc=org".into(),
            bind_password_file: "/nonexistent".into(),
            base_dn: "dc=example,dc=org".into(),
            filter: DEFAULT_FILTER.into(),
            mail_attribute: "mail".into(),
            ca_file: None,
            timeout_s: 5,
        }
    }

    #[test]
    fn a_remote_directory_without_tls_is_refused() {
        // The service account's password and every user's would cross the network in clear.
        assert!(settings("ldap://ldap.example.org").check().is_err());
        assert!(settings("ldap://127.0.0.1:389").check().is_ok());
        assert!(settings("ldaps://ldap.example.org").check().is_ok());
        assert!(DirectorySettings { start_tls: true, ..settings("ldap://ldap.example.org:389") }.check().is_ok());
        assert!(settings("http://ldap.example.org").check().is_err());
    }

    #[test]
    fn a_filter_must_name_the_user_once() {
        for bad in ["uid={user}", "(uid=alice)", "(|(uid={user})(mail={user}))"] {
            assert!(DirectorySettings { filter: bad.into(), ..settings("ldaps://h") }.check().is_err(), "{bad}");
        }
        assert!(DirectorySettings { filter: "(&(objectClass=person)(sAMAccountName={user}))".into(), ..settings("ldaps://h") }.check().is_ok());
    }

    #[test]
    fn a_user_name_cannot_widen_the_directory_search() {
        // LDAP filter injection: a name with filter characters is escaped, never read as a filter.
        let escaped = ldap3::ldap_escape("*)(uid=*");
        assert_eq!(escaped, "\\2a\\29\\28uid=\\2a");
        assert_eq!(DEFAULT_FILTER.replace("{user}", &escaped), "(uid=\\2a\\29\\28uid=\\2a)");
    }
}
