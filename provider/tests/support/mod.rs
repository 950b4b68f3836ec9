//! Where an integration test keeps the provider's state: a SQLite file in a temporary directory,
//! or, when `SOFTTOKEN_TEST_POSTGRES` names a PostgreSQL server (`tests/postgres/start.sh` starts
//! one), a new database of its own on that server. The same tests run on both.
#![allow(dead_code)]

use softtoken_provider::{Database, Provider};
use std::path::PathBuf;

/// One test's state database and the key file that seals its secrets.
pub struct TestDb {
    /// `--database`'s value: the SQLite path or the postgres:// URL.
    pub database: String,
    /// `--kek-file`'s value.
    pub kek: PathBuf,
    /// The temporary directory (the key file, the SQLite file).
    pub dir: tempfile::TempDir,
}

/// The PostgreSQL server the tests use, if one is named.
pub fn postgres_server() -> Option<String> {
    std::env::var("SOFTTOKEN_TEST_POSTGRES").ok().filter(|s| !s.is_empty())
}

impl TestDb {
    /// A new, empty state.
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let kek = dir.path().join("state.kek");
        let database = match postgres_server() {
            None => dir.path().join("state.db").display().to_string(),
            Some(server) => {
                let name = format!(
                    "t_{}_{}",
                    std::process::id(),
                    dir.path().file_name().unwrap().to_string_lossy().to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "")
                );
                let mut admin = postgres::Client::connect(&server, postgres::NoTls).expect("the PostgreSQL server in SOFTTOKEN_TEST_POSTGRES");
                admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let (base, _) = server.rsplit_once('/').expect("a URL ending in /DATABASE");
                format!("{base}/{name}")
            }
        };
        TestDb { database, kek, dir }
    }

    /// Opens the provider on this state.
    pub fn open(&self) -> Provider {
        Provider::open_database(&Database::parse(&self.database), &self.kek).unwrap()
    }

    /// The command-line flags naming this state.
    pub fn args(&self) -> Vec<String> {
        vec!["--database".into(), self.database.clone(), "--kek-file".into(), self.kek.display().to_string()]
    }
}

impl TestDb {
    /// The first column of every row `sql` selects, as text (SQLite or PostgreSQL).
    pub fn query_strings(&self, sql: &str) -> Vec<String> {
        if postgres_server().is_none() {
            let db = rusqlite::Connection::open(&self.database).unwrap();
            let mut statement = db.prepare(sql).unwrap();
            return statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        }
        let mut client = postgres::Client::connect(&self.database, postgres::NoTls).unwrap();
        client.query(sql, &[]).unwrap().iter().map(|r| r.get(0)).collect()
    }

    /// Runs one statement on the database behind the provider's back (a damaged row).
    #[allow(dead_code)]
    pub fn execute(&self, sql: &str) {
        if postgres_server().is_none() {
            rusqlite::Connection::open(&self.database).unwrap().execute_batch(sql).unwrap();
            return;
        }
        postgres::Client::connect(&self.database, postgres::NoTls).unwrap().batch_execute(sql).unwrap();
    }

    /// What a copy of the database holds: the SQLite file and its log as bytes, or on PostgreSQL
    /// every token row as text and its stored secrets as bytes.
    pub fn stored_bytes(&self) -> Vec<u8> {
        if postgres_server().is_none() {
            let mut bytes = std::fs::read(&self.database).unwrap();
            bytes.extend(std::fs::read(format!("{}-wal", self.database)).unwrap_or_default());
            return bytes;
        }
        let mut client = postgres::Client::connect(&self.database, postgres::NoTls).unwrap();
        let mut bytes = Vec::new();
        for row in client.query("SELECT t::text, t.activation_code, t.seed FROM tokens t", &[]).unwrap() {
            bytes.extend(row.get::<_, String>(0).into_bytes());
            bytes.extend(row.get::<_, Vec<u8>>(1));
            bytes.extend(row.get::<_, Option<Vec<u8>>>(2).unwrap_or_default());
        }
        bytes
    }
}
