//! The PostgreSQL side of [`super::Db`] (feature "postgres"): the statements and schema written
//! for SQLite, adapted, and the four value kinds carried across.

use super::{DbError, Row, Value};
use postgres::types::{IsNull, ToSql, Type};
use std::cell::RefCell;

/// The advisory lock key every PostgreSQL write transaction takes ("softtkn" in ASCII).
const WRITE_LOCK: i64 = 0x0073_6f66_7474_6b6e;

/// Statements prepared on one connection, kept at most (the provider has a few dozen).
const MAX_PREPARED: usize = 256;

/// One connection to the server, with the statements it prepared: each statement is parsed and
/// planned once per connection instead of once per request.
pub(crate) struct Client(Box<Connection>);

struct Connection {
    client: RefCell<postgres::Client>,
    prepared: RefCell<std::collections::HashMap<String, postgres::Statement>>,
}

impl Client {
    pub(crate) fn connect(url: &str) -> Result<Client, DbError> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        client.batch_execute("SET client_min_messages = warning")?;
        Ok(Client(Box::new(Connection { client: RefCell::new(client), prepared: RefCell::new(std::collections::HashMap::new()) })))
    }

    /// `sql` prepared on this connection (once).
    fn prepared(&self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(statement) = self.0.prepared.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.0.client.borrow_mut().prepare(&postgres_sql(sql))?;
        let mut cache = self.0.prepared.borrow_mut();
        if cache.len() >= MAX_PREPARED {
            cache.clear();
        }
        cache.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    pub(crate) fn execute_schema(&self, sql: &str) -> Result<(), DbError> {
        self.batch(&postgres_schema(sql))
    }

    pub(crate) fn batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.client.borrow_mut().batch_execute(sql)?)
    }

    pub(crate) fn begin_write(&self) -> Result<(), DbError> {
        self.batch(&format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
    }

    #[cfg(feature = "server")]
    pub(crate) fn begin(&self) -> Result<(), DbError> {
        self.batch("BEGIN")
    }

    pub(crate) fn execute(&self, sql: &str, values: &[Value]) -> Result<usize, DbError> {
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        let statement = self.prepared(sql)?;
        Ok(self.0.client.borrow_mut().execute(&statement, &refs)? as usize)
    }

    pub(crate) fn query(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>, DbError> {
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        let statement = self.prepared(sql)?;
        self.0.client.borrow_mut().query(&statement, &refs)?.iter().map(postgres_row).collect()
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn postgres_row(row: &postgres::Row) -> Result<Row, DbError> {
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

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_and_types_for_postgres() {
        assert_eq!(super::postgres_sql("SELECT a FROM t WHERE b = ?1 AND c = ?12"), "SELECT a FROM t WHERE b = $1 AND c = $12");
        assert_eq!(super::postgres_schema("id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER, s BLOB"), "id BIGSERIAL PRIMARY KEY, n BIGINT, s BYTEA");
    }
}
