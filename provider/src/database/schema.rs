//! Every table of the provider's state, in one place, for SQLite and PostgreSQL alike (the
//! statements are written in the SQL both accept; [`super::Db::execute_schema`] adapts the few
//! words that differ). Tables are made when missing; columns added since the first release are
//! added to older SQLite files by [`add_missing_columns`].

use super::{params, Db};
use crate::Result;

/// The schema this build makes, recorded in `meta` once made (bumped with every change of it).
const SCHEMA_VERSION: &str = "2026-12-portal-3";

/// Whether the database already has this build's schema (a read, no lock taken).
pub(crate) fn is_current(db: &Db) -> bool {
    let version: crate::Result<String> = db.query_row("SELECT value FROM meta WHERE name = 'schema_version'", params![], |r| r.get(0));
    version.is_ok_and(|v| v == SCHEMA_VERSION)
}

/// Records that the database has this build's schema.
pub(crate) fn mark_current(db: &Db) -> Result<()> {
    db.execute("INSERT INTO meta (name, value) VALUES ('schema_version', ?1) ON CONFLICT(name) DO UPDATE SET value = excluded.value", params![SCHEMA_VERSION])?;
    Ok(())
}

/// Makes the tables that do not exist yet (the same schema on SQLite and PostgreSQL).
pub(crate) fn create(db: &Db) -> Result<()> {
    db.execute_schema(
        "CREATE TABLE IF NOT EXISTS tokens (
            serial TEXT PRIMARY KEY,
            activation_code BLOB NOT NULL,
            policy TEXT,
            digits INTEGER NOT NULL,
            period INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            registration_code TEXT,
            seed BLOB,
            completed_at INTEGER,
            activation_token TEXT,
            push_token TEXT,
            unregistered_at INTEGER,
            kind TEXT NOT NULL DEFAULT 'entrust',
            algorithm TEXT,
            counter INTEGER,
            last_step INTEGER,
            fail_count INTEGER NOT NULL DEFAULT 0,
            online INTEGER NOT NULL DEFAULT 0,
            pin_hash TEXT,
            disabled INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX IF NOT EXISTS tokens_by_activation_token ON tokens(activation_token);
        CREATE TABLE IF NOT EXISTS transactions (
            id TEXT PRIMARY KEY,
            serial TEXT NOT NULL REFERENCES tokens(serial),
            summary TEXT NOT NULL,
            details TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            number INTEGER,
            state TEXT NOT NULL,
            wrong_codes INTEGER NOT NULL DEFAULT 0,
            offline INTEGER NOT NULL DEFAULT 0,
            seq INTEGER
        );
        CREATE INDEX IF NOT EXISTS transactions_by_seq ON transactions(seq);
        CREATE INDEX IF NOT EXISTS transactions_by_serial ON transactions(serial, state);
        CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            transaction_id TEXT NOT NULL,
            serial TEXT NOT NULL,
            response TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    db.execute_schema(ACCOUNTS)?;
    db.execute_schema(AUTHENTICATORS)?;
    db.execute_schema(WAKE_UPS)?;
    db.execute_schema(VALIDATE)?;
    if db.sqlite().is_none() {
        // A PostgreSQL database made by an earlier build (SQLite files: `add_missing_columns`).
        db.execute_schema(
            &TOKEN_COLUMNS_SINCE_VALIDATE.iter().map(|(name, kind)| format!("ALTER TABLE tokens ADD COLUMN IF NOT EXISTS {name} {kind};")).collect::<String>(),
        )?;
        db.execute_schema("ALTER TABLE users ADD COLUMN IF NOT EXISTS directory_dn TEXT;")?;
    }
    Ok(())
}

/// The columns of `tokens` added with the validate API: the token's kind (`entrust`, `totp`,
/// `hotp`), its hash algorithm, the next HOTP counter, the last time step accepted (replays are
/// refused), the failed checks in a row, whether its app is online (gets push challenges), the
/// token PIN's Argon2id hash (typed before the code where the operator's `otppin` says so), and
/// whether an administrator disabled it (its codes and pushes are refused until enabled).
const TOKEN_COLUMNS_SINCE_VALIDATE: [(&str, &str); 8] = [
    ("kind", "TEXT NOT NULL DEFAULT 'entrust'"),
    ("algorithm", "TEXT"),
    ("counter", "INTEGER"),
    ("last_step", "INTEGER"),
    ("fail_count", "INTEGER NOT NULL DEFAULT 0"),
    ("online", "INTEGER NOT NULL DEFAULT 0"),
    ("pin_hash", "TEXT"),
    ("disabled", "INTEGER NOT NULL DEFAULT 0"),
];

/// The validate API's state: challenges (one transaction id over one or more of a user's tokens;
/// a push challenge names the transaction the app answers), the operator's API tokens (stored
/// hashed) and the audit log (append-only).
const VALIDATE: &str = "CREATE TABLE IF NOT EXISTS challenges (
        transaction_id TEXT NOT NULL,
        serial TEXT NOT NULL,
        user_name TEXT,
        push_id TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        PRIMARY KEY (transaction_id, serial)
    );
    CREATE TABLE IF NOT EXISTS api_tokens (
        id_hash TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        address TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        user_name TEXT,
        serial TEXT,
        decision TEXT NOT NULL,
        message TEXT NOT NULL
    );";

/// The portal's accounts and their sessions.
const ACCOUNTS: &str = "CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        password TEXT NOT NULL,
        admin INTEGER NOT NULL,
        email TEXT,
        created_at INTEGER NOT NULL,
        directory_dn TEXT
    );
    CREATE TABLE IF NOT EXISTS sessions (
        id_hash TEXT PRIMARY KEY,
        \"user\" TEXT NOT NULL REFERENCES users(name),
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );";

/// The authenticators users add in the portal.
const AUTHENTICATORS: &str = "CREATE TABLE IF NOT EXISTS authenticators (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL REFERENCES users(name),
        serial TEXT REFERENCES tokens(serial),
        created_at INTEGER NOT NULL,
        assigned_by TEXT
    );
    CREATE INDEX IF NOT EXISTS authenticators_by_owner ON authenticators(owner);";

/// Web Push wake-ups sent, and what came of them.
const WAKE_UPS: &str = "CREATE TABLE IF NOT EXISTS wake_ups (
        transaction_id TEXT NOT NULL,
        serial TEXT NOT NULL,
        endpoint_host TEXT NOT NULL,
        outcome TEXT NOT NULL,
        at INTEGER NOT NULL
    );";

/// Adds the columns added since (online activation, offline transactions, push order, the validate
/// API's token columns) to a state
/// file made by an earlier build.
pub(crate) fn add_missing_columns(db: &rusqlite::Connection) -> Result<()> {
    let tokens: Vec<(&str, &str)> =
        [("activation_token", "TEXT"), ("push_token", "TEXT"), ("unregistered_at", "INTEGER")].into_iter().chain(TOKEN_COLUMNS_SINCE_VALIDATE).collect();
    let tables: [(&str, &[(&str, &str)]); 3] =
        [("tokens", &tokens), ("transactions", &[("offline", "INTEGER NOT NULL DEFAULT 0"), ("seq", "INTEGER")]), ("users", &[("directory_dn", "TEXT")])];
    for (table, wanted) in tables {
        let mut stmt = db.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
        let columns: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        if columns.is_empty() {
            continue; // a new file: CREATE TABLE makes them
        }
        for (name, kind) in wanted {
            if !columns.iter().any(|c| c == name) {
                db.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {name} {kind}"))?;
                if *name == "seq" {
                    // Numbered in the order they were made, as rowid kept it.
                    db.execute_batch("UPDATE transactions SET seq = rowid")?;
                }
                if *name == "offline" {
                    // Offline transactions made before the column have 10-digit ids.
                    db.execute_batch("UPDATE transactions SET offline = 1 WHERE length(id) = 10")?;
                }
            }
        }
    }
    Ok(())
}
