//! The state database behind one small API: an embedded SQLite file (the default), or a
//! PostgreSQL server that several `serve` processes share.
//!
//! Statements are written once, in the dialect both accept (`?N` placeholders become `$N` on
//! PostgreSQL; the schema's `INTEGER`, `BLOB` and autoincrement keys become `BIGINT`, `BYTEA` and
//! `BIGSERIAL`). Values cross as four kinds (null, integer, text, bytes), the ones SQLite stores.
//!
//! Writers are serialised on both: SQLite's `BEGIN IMMEDIATE` takes the file's write lock;
//! on PostgreSQL a write transaction first takes one transaction-scoped advisory lock, so the
//! read-check-write of an answer runs alone across every process sharing the database, as it
//! does across the connections of one SQLite file.

#[cfg(feature = "postgres")]
mod postgresql;
pub(crate) mod schema;

use crate::{ProviderError, Result as ProviderResult};
use std::path::{Path, PathBuf};

/// Where the state lives: `--database PATH` or `--database postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL names a server; anything else is a SQLite path.
    pub fn parse(text: &str) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.to_string())
        } else {
            Database::Sqlite(PathBuf::from(text))
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            // The URL may hold a password.
            Database::Postgres(_) => f.write_str("Postgres([redacted])"),
        }
    }
}

/// What the database reported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// SQLite failed.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (the server's own message, when it sent one: "db error" alone tells an
    /// operator nothing).
    #[cfg(feature = "postgres")]
    #[error("{}", .0.as_db_error().map_or_else(|| .0.to_string(), |e| format!("{}: {}", e.code().code(), e.message())))]
    Postgres(#[from] ::postgres::Error),
    /// This build has no PostgreSQL client (the "postgres" feature is off).
    #[error("this build of the provider has no PostgreSQL support (built without the \"postgres\" feature)")]
    NoPostgres,
    /// A statement that must return a row returned none.
    #[error("no such row")]
    NoRow,
    /// A stored value is not of the kind the provider expects.
    #[error("column {column}: {why}")]
    Type {
        /// Its index in the row.
        column: usize,
        /// What was wrong.
        why: String,
    },
}

/// One value, as SQLite stores it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// A Rust value that can be bound to a statement.
pub(crate) trait ToValue {
    fn to_value(&self) -> Value;
}

/// A Rust value a column can be read as.
pub(crate) trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self, String>;
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                // Every integer the provider stores (times, counts, digits) fits an i64.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self, String> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).map_err(|_| format!("{i} is out of range")),
                    other => Err(format!("expected an integer, found {}", other.kind())),
                }
            }
        }
    )*};
}
int_values!(i64, u64, i32, u32, u16, u8, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, String> {
        i64::from_value(v).map(|i| i != 0)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("expected text, found {}", other.kind())),
        }
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(format!("expected bytes, found {}", other.kind())),
        }
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "an integer",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }
}

/// Binds values to a statement: `params![serial, now]`.
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        &[$(&$p as &dyn $crate::database::ToValue),*] as &[&dyn $crate::database::ToValue]
    };
}
pub(crate) use params;

/// One result row.
pub(crate) struct Row(Vec<Value>);

impl Row {
    /// Column `i` as `T`.
    pub(crate) fn get<T: FromValue>(&self, i: usize) -> crate::Result<T> {
        let v = self.0.get(i).ok_or_else(|| DbError::Type { column: i, why: "no such column".into() })?;
        Ok(T::from_value(v).map_err(|why| DbError::Type { column: i, why })?)
    }
}

/// `query_row(…).optional()`: no row becomes `None`.
pub(crate) trait OptionalRow<T> {
    fn optional(self) -> crate::Result<Option<T>>;
}

impl<T> OptionalRow<T> for crate::Result<T> {
    fn optional(self) -> crate::Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(crate::ProviderError::Db(DbError::NoRow)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A connection to the state database.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(postgresql::Client),
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn sqlite_row(row: &rusqlite::Row<'_>, columns: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    (0..columns)
        .map(|i| {
            Ok(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(x) => return Err(rusqlite::Error::InvalidColumnType(i, format!("{x}"), rusqlite::types::Type::Real)),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()
        .map(Row)
}

fn values(params: &[&dyn ToValue]) -> Vec<Value> {
    params.iter().map(|p| p.to_value()).collect()
}

impl Db {
    /// Opens the SQLite file at `path` (WAL, synchronous writes) with its schema made or brought
    /// up to date.
    pub(crate) fn open_sqlite(path: &Path) -> ProviderResult<Db> {
        let db = rusqlite::Connection::open(path)?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            db.pragma_update(None, "journal_mode", "WAL")?;
        }
        db.pragma_update(None, "synchronous", "FULL")?;
        schema::add_missing_columns(&db)?;
        let db = Db::Sqlite(db);
        schema::create(&db)?;
        Ok(db)
    }

    /// Connects to a PostgreSQL server (plain TCP or a Unix socket: the connection is not
    /// encrypted, so the server is expected on this host or a private network).
    pub(crate) fn connect_postgres(url: &str) -> Result<Db, DbError> {
        #[cfg(feature = "postgres")]
        return Ok(Db::Postgres(postgresql::Client::connect(url)?));
        #[cfg(not(feature = "postgres"))]
        {
            let _ = url;
            Err(DbError::NoPostgres)
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas).
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => None,
        }
    }

    /// Runs schema statements (`CREATE … IF NOT EXISTS`), several separated by `;`.
    pub(crate) fn execute_schema(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.execute_schema(sql),
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<usize, DbError> {
        let values = values(params);
        match self {
            Db::Sqlite(c) => Ok(c.prepare_cached(sql)?.execute(rusqlite::params_from_iter(values.iter()))?),
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.execute(sql, &values),
        }
    }

    /// Every row a query returns.
    pub(crate) fn query(&self, sql: &str, params: &[&dyn ToValue]) -> Result<Vec<Row>, DbError> {
        let values = values(params);
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let columns = stmt.column_count();
                let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), |r| sqlite_row(r, columns))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.query(sql, &values),
        }
    }

    /// The first row a query returns, read by `f`; `DbError::NoRow` when there is none.
    pub(crate) fn query_row<T>(&self, sql: &str, params: &[&dyn ToValue], f: impl FnOnce(&Row) -> crate::Result<T>) -> crate::Result<T> {
        let rows = self.query(sql, params)?;
        f(rows.first().ok_or(DbError::NoRow)?)
    }

    /// Every row a query returns, each read by `f`.
    pub(crate) fn query_map<T>(&self, sql: &str, params: &[&dyn ToValue], f: impl FnMut(&Row) -> crate::Result<T>) -> crate::Result<Vec<T>> {
        self.query(sql, params)?.iter().map(f).collect()
    }

    /// Begins a write transaction: writers queue here (SQLite's write lock, PostgreSQL's
    /// advisory lock), never mid-transaction. It rolls back unless committed.
    pub(crate) fn begin_write(&self) -> Result<Tx<'_>, DbError> {
        match self {
            Db::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.begin_write()?,
        }
        Ok(Tx { db: self, open: true })
    }

    /// Begins a transaction that locks only the rows it selects with [`Self::for_update`]
    /// (PostgreSQL; SQLite has one write lock, taken here as by [`Self::begin_write`]): checks of
    /// different tokens then run side by side.
    #[cfg(feature = "server")]
    pub(crate) fn begin_row_locks(&self) -> Result<Tx<'_>, DbError> {
        match self {
            Db::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.begin()?,
        }
        Ok(Tx { db: self, open: true })
    }

    /// What ends a SELECT over `tokens t` that locks its rows until the transaction ends
    /// (PostgreSQL's `FOR UPDATE OF t`; nothing on SQLite, whose transaction holds the write lock).
    #[cfg(feature = "server")]
    pub(crate) fn for_update(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "",
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => " FOR UPDATE OF t",
        }
    }

    fn end(&self, statement: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(statement)?),
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => c.batch(statement),
        }
    }
}

/// Whether SQLite refused for a lock another connection holds ("database is locked").
fn is_busy(e: &ProviderError) -> bool {
    matches!(e, ProviderError::Db(DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _))) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// Runs `step` again when SQLite refuses it as busy. The busy timeout waits out another writer,
/// but in a few WAL cases SQLite refuses at once (another connection recovering the log after a
/// crash, or closing the last connection): `step` must have written nothing when it is refused.
pub(crate) fn retry_busy<T>(mut step: impl FnMut() -> ProviderResult<T>) -> ProviderResult<T> {
    for pause_ms in [5, 25, 100, 400, 1600] {
        match step() {
            Err(e) if is_busy(&e) => std::thread::sleep(std::time::Duration::from_millis(pause_ms)),
            done => return done,
        }
    }
    step()
}

/// Begins a write transaction: writers queue here, never mid-transaction (see [`Db::begin_write`]).
pub(crate) fn begin_write(db: &Db) -> ProviderResult<Tx<'_>> {
    retry_busy(|| Ok(db.begin_write()?))
}

/// Begins a transaction that locks the rows it selects (see [`Db::begin_row_locks`]).
#[cfg(feature = "server")]
pub(crate) fn begin_row_locks(db: &Db) -> ProviderResult<Tx<'_>> {
    retry_busy(|| Ok(db.begin_row_locks()?))
}

/// An open write transaction; statements run through it as through the connection.
pub(crate) struct Tx<'a> {
    db: &'a Db,
    open: bool,
}

impl Tx<'_> {
    /// Makes the transaction's writes durable and visible.
    pub(crate) fn commit(mut self) -> Result<(), DbError> {
        self.open = false;
        self.db.end("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves the connection's transaction open; the next BEGIN then
            // fails loudly rather than writing half a change.
            let _ = self.db.end("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_a_postgres_url_or_a_sqlite_path() {
        assert_eq!(Database::parse("postgres://u:secret@h/db"), Database::Postgres("postgres://u:secret@h/db".into()));
        assert!(!format!("{:?}", Database::parse("postgresql://u:secret@h/db")).contains("secret"));
        assert_eq!(Database::parse("state.db"), Database::Sqlite("state.db".into()));
    }

    #[test]
    fn values_round_trip_through_sqlite() {
        let db = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.execute_schema("CREATE TABLE t (n INTEGER, s TEXT, b BLOB)").unwrap();
        db.execute("INSERT INTO t VALUES (?1, ?2, ?3)", params![-5i64, "x", vec![1u8, 2]]).unwrap();
        db.execute("INSERT INTO t VALUES (?1, ?2, ?3)", params![None::<i64>, None::<String>, None::<Vec<u8>>]).unwrap();
        let rows = db
            .query_map("SELECT n, s, b FROM t ORDER BY n IS NULL", params![], |r| {
                Ok((r.get::<Option<i64>>(0)?, r.get::<Option<String>>(1)?, r.get::<Option<Vec<u8>>>(2)?))
            })
            .unwrap();
        assert_eq!(rows, vec![(Some(-5), Some("x".into()), Some(vec![1, 2])), (None, None, None)]);
        assert!(matches!(db.query_row("SELECT n FROM t WHERE n = 7", params![], |r| r.get::<i64>(0)), Err(crate::ProviderError::Db(DbError::NoRow))));
        assert!(db.query_row("SELECT n FROM t WHERE n = -5", params![], |r| r.get::<u64>(0)).is_err(), "a negative is no u64");
        {
            let tx = db.begin_write().unwrap();
            tx.execute("DELETE FROM t", params![]).unwrap();
        } // dropped: rolled back
        assert_eq!(db.query_row("SELECT COUNT(*) FROM t", params![], |r| r.get::<i64>(0)).unwrap(), 2);
    }
}
