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

use std::cell::RefCell;
use std::path::PathBuf;

/// The advisory lock key every PostgreSQL write transaction takes ("softtkn" in ASCII).
const WRITE_LOCK: i64 = 0x0073_6f66_7474_6b6e;

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
    /// PostgreSQL failed.
    #[error("{0}")]
    Postgres(#[from] postgres::Error),
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
        &[$(&$p as &dyn $crate::store::ToValue),*] as &[&dyn $crate::store::ToValue]
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
    Postgres(RefCell<postgres::Client>),
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

impl postgres::types::ToSql for Value {
    fn to_sql(&self, ty: &postgres::types::Type, out: &mut bytes::BytesMut) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Value::Null => Ok(postgres::types::IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
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

fn postgres_row(row: &postgres::Row) -> Result<Row, DbError> {
    use postgres::types::Type;
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?.map(|n| Value::Int(n.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?.map(|n| Value::Int(n.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?.map(|b| Value::Int(b.into()))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::NAME || *ty == Type::BPCHAR {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(DbError::Type { column: i, why: format!("unsupported PostgreSQL type {ty}") });
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

/// `?N` placeholders as PostgreSQL's `$N` (the provider's statements hold no `?` in literals).
fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The schema's SQLite types as PostgreSQL's.
fn postgres_schema(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY").replace("INTEGER", "BIGINT").replace("BLOB", "BYTEA")
}

fn values(params: &[&dyn ToValue]) -> Vec<Value> {
    params.iter().map(|p| p.to_value()).collect()
}

impl Db {
    /// Connects to a PostgreSQL server (plain TCP or a Unix socket: the connection is not
    /// encrypted, so the server is expected on this host or a private network).
    pub(crate) fn connect_postgres(url: &str) -> Result<Db, DbError> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        client.batch_execute("SET client_min_messages = warning")?;
        Ok(Db::Postgres(RefCell::new(client)))
    }

    /// The SQLite connection, for what only SQLite has (pragmas).
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Postgres(_) => None,
        }
    }

    /// Runs schema statements (`CREATE … IF NOT EXISTS`), several separated by `;`.
    pub(crate) fn execute_schema(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(c) => Ok(c.borrow_mut().batch_execute(&postgres_schema(sql))?),
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<usize, DbError> {
        let values = values(params);
        match self {
            Db::Sqlite(c) => Ok(c.prepare_cached(sql)?.execute(rusqlite::params_from_iter(values.iter()))?),
            Db::Postgres(c) => {
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|v| v as _).collect();
                Ok(c.borrow_mut().execute(postgres_sql(sql).as_str(), &refs)? as usize)
            }
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
            Db::Postgres(c) => {
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|v| v as _).collect();
                c.borrow_mut().query(postgres_sql(sql).as_str(), &refs)?.iter().map(postgres_row).collect()
            }
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
            Db::Postgres(c) => c.borrow_mut().batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"))?,
        }
        Ok(Tx { db: self, open: true })
    }

    fn end(&self, statement: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(statement)?),
            Db::Postgres(c) => Ok(c.borrow_mut().batch_execute(statement)?),
        }
    }
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
    fn placeholders_and_types_for_postgres() {
        assert_eq!(postgres_sql("SELECT a FROM t WHERE b = ?1 AND c = ?12"), "SELECT a FROM t WHERE b = $1 AND c = $12");
        assert_eq!(postgres_schema("id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER, s BLOB"), "id BIGSERIAL PRIMARY KEY, n BIGINT, s BYTEA");
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
