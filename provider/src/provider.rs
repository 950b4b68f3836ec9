//! The provider: its state database, the key that seals the secrets in it, and the random
//! generator. What it does lives by concern — tokens ([`crate::tokens`]), what the apps speak
//! ([`crate::protocol`]), the portal ([`crate::portal`]) — each as `impl Provider` over this.

use crate::database::{self, Database, Db};
use crate::{files, random, sealed, Result};
use std::path::Path;

/// The provider over its state database (SQLite or PostgreSQL).
pub struct Provider {
    pub(crate) db: Db,
    pub(crate) rng: ring::rand::SystemRandom,
    pub(crate) kek: sealed::Kek,
    /// A random seed sealed like a real one: requests naming an unknown serial unseal it and check
    /// their MAC against it, so they take as long as requests naming a known one.
    pub(crate) decoy_seed: Vec<u8>,
}

impl Provider {
    /// Opens (creating if needed) the state database at `path`, in WAL mode, with its secrets
    /// sealed by the key in `<path>.kek` (created if neither exists yet).
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_kek(path, &sealed::default_kek_path(path))
    }

    /// Opens the state database at `path` with the key-encryption key in `kek_path`. A database
    /// written before secrets were sealed has them sealed now, in one transaction.
    pub fn open_with_kek(path: &Path, kek_path: &Path) -> Result<Self> {
        files::ensure("state file", path)?;
        let db = database::retry_busy(|| Db::open_sqlite(path))?;
        Self::settle(db, kek_path)
    }

    /// Opens the state `database` (a SQLite file or a PostgreSQL server) with the key-encryption
    /// key in `kek_path`. On PostgreSQL the schema is made under the write lock, so servers
    /// starting together do not race.
    pub fn open_database(database: &Database, kek_path: &Path) -> Result<Self> {
        match database {
            Database::Sqlite(path) => Self::open_with_kek(path, kek_path),
            Database::Postgres(url) => {
                let db = Db::connect_postgres(url)?;
                // A database already at this build's schema is not touched: `ALTER TABLE` locks a
                // table whole even when its column exists, and would wait on (and deadlock with)
                // the row locks of checks under way on other connections.
                if !database::schema::is_current(&db) {
                    let tx = db.begin_write()?;
                    database::schema::create(&tx)?;
                    database::schema::mark_current(&tx)?;
                    tx.commit()?;
                }
                Self::settle(db, kek_path)
            }
        }
    }

    fn settle(db: Db, kek_path: &Path) -> Result<Self> {
        let kek = sealed::rotation::settle(&db, kek_path)?;
        sealed::rotation::seal_legacy(&db, &kek)?;
        sealed::rotation::hash_legacy_link_tokens(&db)?;
        let rng = ring::rand::SystemRandom::new();
        let mut decoy = zeroize::Zeroizing::new([0u8; 32]);
        random::fill(&rng, &mut decoy[..])?;
        let decoy_seed = kek.seal(sealed::Sealed::Seed, sealed::DECOY_SERIAL, &decoy[..])?;
        Ok(Provider { db, rng, kek, decoy_seed })
    }

    /// The address the last `serve` announced (apps reach the provider there).
    pub fn public_url(&self) -> Result<Option<String>> {
        use crate::database::{params, OptionalRow};
        self.db.query_row("SELECT value FROM meta WHERE name = 'public_url'", params![], |r| r.get(0)).optional()
    }

    /// Records the address `serve` announces.
    pub fn set_public_url(&self, url: &str) -> Result<()> {
        use crate::database::params;
        self.db.execute("INSERT INTO meta (name, value) VALUES ('public_url', ?1) ON CONFLICT(name) DO UPDATE SET value = excluded.value", params![url])?;
        Ok(())
    }

    /// The key that seals this state's secrets.
    pub fn kek(&self) -> &sealed::Kek {
        &self.kek
    }
}

/// The provider a unit test works on: a SQLite file in `dir`, or a new database on the
/// PostgreSQL server `SOFTTOKEN_TEST_POSTGRES` names (`tests/postgres/start.sh` starts one).
#[cfg(test)]
pub(crate) fn test_provider(dir: &Path) -> Provider {
    let kek = dir.join("state.kek");
    let Some(server) = std::env::var("SOFTTOKEN_TEST_POSTGRES").ok().filter(|s| !s.is_empty()) else {
        return Provider::open_database(&Database::Sqlite(dir.join("state.db")), &kek).unwrap();
    };
    let name = format!("u_{}", random::hex(&ring::rand::SystemRandom::new(), 8).unwrap());
    postgres::Client::connect(&server, postgres::NoTls).unwrap().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);
    Provider::open_database(&Database::Postgres(url), &kek).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProviderError;

    #[cfg(unix)]
    #[test]
    fn the_state_file_holding_seeds_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        Provider::open(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(Provider::open(&path), Err(ProviderError::Invalid(m)) if m.contains("other users")));
    }
}
