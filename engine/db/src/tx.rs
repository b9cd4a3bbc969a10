//! One transaction type for both backends, so a component's transaction scripts are
//! written once.
//!
//! SQL is written in PostgreSQL's placeholder style (`$1`, `$2`, …) and handed to SQLite as
//! `?1`, `?2`, … (the same numbering). Where the dialects really differ (`FOR UPDATE`,
//! upserts that need another shape) a script asks [`Tx::dialect`] and passes the other
//! string: the difference is data, never a second copy of the logic.
//!
//! Parameters are anything both drivers can bind ([`Param`]: `i64`, `&str`, `String`,
//! `Vec<u8>`, `&[u8]`, `bool` and `Option`s of them). Integers are `i64` throughout: the
//! PostgreSQL schemas use `BIGINT`, and a 32-bit value would not bind to one. Rows come back
//! owned ([`Row`]), read with typed getters that report a mismatch as [`DbError::Decode`].

use crate::error::DbError;

/// Which SQL dialect a transaction speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value both drivers can bind.
pub trait Param: Sync {
    fn as_sqlite(&self) -> &dyn rusqlite::ToSql;
    fn as_postgres(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T> Param for T
where
    T: rusqlite::ToSql + postgres::types::ToSql + Sync,
{
    fn as_sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn as_postgres(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// A value read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// One row, owned.
#[derive(Clone, Debug, Default)]
pub struct Row {
    values: Vec<Value>,
}

/// Conversion of a [`Value`] into a Rust type.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Option<Self>;
    const WHAT: &'static str;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Option<i64> {
        match value {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
    const WHAT: &'static str = "an integer";
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Option<bool> {
        match value {
            Value::Int(v) => Some(*v != 0),
            _ => None,
        }
    }
    const WHAT: &'static str = "a boolean";
}

impl FromValue for String {
    fn from_value(value: &Value) -> Option<String> {
        match value {
            Value::Text(v) => Some(v.clone()),
            _ => None,
        }
    }
    const WHAT: &'static str = "text";
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Option<Vec<u8>> {
        match value {
            Value::Blob(v) => Some(v.clone()),
            _ => None,
        }
    }
    const WHAT: &'static str = "bytes";
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Option<T>> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
    const WHAT: &'static str = T::WHAT;
}

impl Row {
    /// Column `index` as `T`; [`DbError::Decode`] if it is absent or of another type.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T, DbError> {
        let value = self
            .values
            .get(index)
            .ok_or_else(|| DbError::Decode(format!("no column {index}")))?;
        T::from_value(value).ok_or_else(|| {
            DbError::Decode(format!("column {index} is {value:?}, expected {}", T::WHAT))
        })
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

pub(crate) enum Inner<'a> {
    Sqlite(rusqlite::Transaction<'a>),
    Postgres(postgres::Transaction<'a>, &'a mut Statements),
}

/// A PostgreSQL connection with the statements it has prepared, by SQL text. Without it
/// every statement is parsed and described by the server again, one extra round trip each
/// (SQLite's connections keep theirs: `prepare_cached`). Named statements outlive
/// transactions, rolled back ones included.
pub struct PgConnection {
    pub(crate) client: postgres::Client,
    pub(crate) statements: Statements,
}

/// Prepared statements of one connection; emptied when it would pass [`STATEMENTS_MAX`]
/// (statement texts built at run time must not grow it without bound).
#[derive(Default)]
pub struct Statements(std::collections::HashMap<String, postgres::Statement>);

const STATEMENTS_MAX: usize = 256;

impl PgConnection {
    /// Takes a new connection, planning every execution of a prepared statement for its
    /// own parameters (`plan_cache_mode = force_custom_plan`): after five executions
    /// PostgreSQL may switch to one generic plan, which for the outbox and the orders tables
    /// became a scan that slowed a 100,000-row import fourfold.
    pub(crate) fn new(mut client: postgres::Client) -> Result<PgConnection, postgres::Error> {
        client.batch_execute("SET plan_cache_mode = force_custom_plan")?;
        Ok(PgConnection {
            client,
            statements: Statements::default(),
        })
    }
}

/// A failed statement empties the cache: a table changed by another process's migration
/// makes its prepared statements fail ("cached plan must not change result type"), and the
/// next transaction then prepares them again.
fn forget_on_error<T>(
    statements: &mut Statements,
    result: Result<T, postgres::Error>,
) -> Result<T, postgres::Error> {
    if result.is_err() {
        statements.0.clear();
    }
    result
}

fn prepared(
    tx: &mut postgres::Transaction<'_>,
    statements: &mut Statements,
    sql: &str,
) -> Result<postgres::Statement, DbError> {
    if let Some(statement) = statements.0.get(sql) {
        return Ok(statement.clone());
    }
    let statement = tx.prepare(sql)?;
    if statements.0.len() >= STATEMENTS_MAX {
        statements.0.clear();
    }
    statements.0.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

/// A transaction in progress. Scripts get `&mut Tx` from [`crate::Db::write`] or
/// [`crate::Db::read`]; it commits when the script returns `Ok`, rolls back on `Err`.
pub struct Tx<'a> {
    pub(crate) inner: Inner<'a>,
    /// Whether this transaction wrote to the outbox: the relay is woken after its commit.
    pub(crate) emitted: bool,
    /// Handlers that run inside an emitting transaction ([`crate::Db::on_emit`]).
    pub(crate) hooks: Option<crate::outbox::Hooks>,
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tx({:?})", self.dialect())
    }
}

/// `$1` → `?1` outside quoted strings and identifiers: PostgreSQL's placeholders in
/// SQLite's explicit-index form, so numbering is kept whatever the order of use.
pub fn to_sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
            None => out.push(c),
        }
    }
    out
}

impl<'a> Tx<'a> {
    pub(crate) fn sqlite(tx: rusqlite::Transaction<'a>) -> Tx<'a> {
        Tx {
            inner: Inner::Sqlite(tx),
            emitted: false,
            hooks: None,
        }
    }

    pub(crate) fn postgres(
        tx: postgres::Transaction<'a>,
        statements: &'a mut Statements,
    ) -> Tx<'a> {
        Tx {
            inner: Inner::Postgres(tx, statements),
            emitted: false,
            hooks: None,
        }
    }

    pub(crate) fn commit(self) -> Result<(), DbError> {
        match self.inner {
            Inner::Sqlite(tx) => Ok(tx.commit()?),
            Inner::Postgres(tx, _) => Ok(tx.commit()?),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres(..) => Dialect::Postgres,
        }
    }

    /// `postgres` on PostgreSQL, `sqlite` on SQLite: for the few statements whose text
    /// differs.
    pub fn pick<'s>(&self, postgres: &'s str, sqlite: &'s str) -> &'s str {
        match self.dialect() {
            Dialect::Postgres => postgres,
            Dialect::Sqlite => sqlite,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, DbError> {
        match &mut self.inner {
            Inner::Sqlite(tx) => {
                let mut stmt = tx.prepare_cached(&to_sqlite_placeholders(sql))?;
                let bound: Vec<&dyn rusqlite::ToSql> =
                    params.iter().map(|p| p.as_sqlite()).collect();
                Ok(stmt.execute(bound.as_slice())? as u64)
            }
            Inner::Postgres(tx, statements) => {
                let statement = prepared(tx, statements, sql)?;
                let bound: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p.as_postgres()).collect();
                let changed = tx.execute(&statement, &bound);
                Ok(forget_on_error(statements, changed)?)
            }
        }
    }

    /// Runs a query; every row.
    pub fn query(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, DbError> {
        match &mut self.inner {
            Inner::Sqlite(tx) => {
                let mut stmt = tx.prepare_cached(&to_sqlite_placeholders(sql))?;
                let columns = stmt.column_count();
                let bound: Vec<&dyn rusqlite::ToSql> =
                    params.iter().map(|p| p.as_sqlite()).collect();
                let mut rows = stmt.query(bound.as_slice())?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(sqlite_row(row, columns)?);
                }
                Ok(out)
            }
            Inner::Postgres(tx, statements) => {
                let statement = prepared(tx, statements, sql)?;
                let bound: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p.as_postgres()).collect();
                let rows = tx.query(&statement, &bound);
                forget_on_error(statements, rows)?
                    .iter()
                    .map(postgres_row)
                    .collect()
            }
        }
    }

    /// Inserts one row and answers its id column `id` (`None` if an `ON CONFLICT DO NOTHING`
    /// skipped it). `sql` is an `INSERT` without `RETURNING`; on PostgreSQL `RETURNING id` is
    /// added, on SQLite the row's rowid is read back, so `id` must be the table's
    /// `INTEGER PRIMARY KEY` there. (SQLite re-prepares a cached statement with `RETURNING`
    /// on every run; a plain `INSERT` stays prepared.)
    pub fn insert_id(
        &mut self,
        sql: &str,
        id: &str,
        params: &[&dyn Param],
    ) -> Result<Option<i64>, DbError> {
        match &mut self.inner {
            Inner::Sqlite(_) => {
                let changed = self.execute(sql, params)?;
                match &self.inner {
                    Inner::Sqlite(tx) if changed == 1 => Ok(Some(tx.last_insert_rowid())),
                    _ => Ok(None),
                }
            }
            Inner::Postgres(..) => {
                let sql = format!("{sql} RETURNING {id}");
                self.query_opt(&sql, params)?.map(|r| r.get(0)).transpose()
            }
        }
    }

    /// The first row, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row; [`DbError::Decode`] if there is none.
    pub fn query_one(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| DbError::Decode(format!("no row from {sql:?}")))
    }

    /// Runs several statements without parameters (migrations).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match &mut self.inner {
            Inner::Sqlite(tx) => Ok(tx.execute_batch(sql)?),
            Inner::Postgres(tx, statements) => {
                // Migrations change tables: what was prepared before may describe them wrong.
                statements.0.clear();
                Ok(tx.batch_execute(sql)?)
            }
        }
    }

    /// Serialises this transaction against every other that takes the same `key` until
    /// it ends. On SQLite every write transaction is already serialised (`BEGIN
    /// IMMEDIATE`), so this does nothing there; on PostgreSQL it is an advisory lock.
    pub fn lock(&mut self, scope: &str, id: i64) -> Result<(), DbError> {
        if let Inner::Postgres(..) = self.inner {
            let key = lock_key(scope, id);
            self.execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
        }
        Ok(())
    }
}

/// A stable 64-bit key for (scope, id): FNV-1a of the scope, mixed with the id.
fn lock_key(scope: &str, id: i64) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in scope.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash ^ (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) as i64
}

fn sqlite_row(row: &rusqlite::Row<'_>, columns: usize) -> Result<Row, DbError> {
    use rusqlite::types::ValueRef;
    let mut values = Vec::with_capacity(columns);
    for i in 0..columns {
        values.push(match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            ValueRef::Real(r) => {
                return Err(DbError::Decode(format!(
                    "column {i} is a float ({r}); crossdock stores no floats"
                )));
            }
        });
    }
    Ok(Row { values })
}

fn postgres_row(row: &postgres::Row) -> Result<Row, DbError> {
    use postgres::types::Type;
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
        } else if [Type::TEXT, Type::VARCHAR, Type::NAME, Type::BPCHAR].contains(ty) {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(DbError::Decode(format!(
                "column {} has type {ty}, which crossdock does not read",
                column.name()
            )));
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row { values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_outside_quotes_only() {
        let cases = [
            ("SELECT $1, $2", "SELECT ?1, ?2"),
            ("WHERE a = $2 AND b = $1", "WHERE a = ?2 AND b = ?1"),
            ("SELECT '$1', \"$2\" , $3", "SELECT '$1', \"$2\" , ?3"),
            ("SELECT 'it''s $1', $10", "SELECT 'it''s $1', ?10"),
            ("SELECT $ , $a", "SELECT $ , $a"),
        ];
        for (pg, sqlite) in cases {
            assert_eq!(to_sqlite_placeholders(pg), sqlite, "{pg}");
        }
    }

    #[test]
    fn lock_keys_differ_by_scope_and_id() {
        assert_ne!(lock_key("rating", 1), lock_key("rating", 2));
        assert_ne!(lock_key("rating", 1), lock_key("identity", 1));
        assert_eq!(lock_key("rating", 7), lock_key("rating", 7));
    }
}
