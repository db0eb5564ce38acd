//! Customer history: every contact of a customer (`customer_id` on a request) is stored with its time,
//! sentiment, categories, priority and risk score — never the raw text (the masked text only with
//! `--store-text masked`). From the contacts in order: `consecutive_negative` (negative contacts in a row,
//! reset by a contact that is not negative), `high_risk` (at least `history.high_risk_after` in a row) and
//! `risk_score` (exponentially weighted mean of the contacts' risk scores: `decay × old + (1 − decay) ×
//! new`).
//!
//! Backends implement [`HistoryStore`]: [`SqliteStore`] (default, `DATA_DIR/history.sqlite`) and, with the
//! `postgres` cargo feature, [`PostgresStore`] (`--database-url`). [`History`] runs a store on its own
//! thread, so the analysis never waits on the database lock and the async server never blocks on it.

use super::policy::HistoryRules;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("customer history database {path}: {msg}")]
    Open { path: String, msg: String },
    #[error("customer history: {0}")]
    Db(String),
    #[error("invalid customer id: {0}")]
    BadId(String),
    #[error("customer history store has stopped")]
    Stopped,
}

impl From<rusqlite::Error> for HistoryError {
    fn from(e: rusqlite::Error) -> Self {
        HistoryError::Db(e.to_string())
    }
}

/// A customer's state, as it appears in an analysis (`customer`) and in `xinsheng customer ID`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CustomerState {
    pub id: String,
    pub contacts: u64,
    pub consecutive_negative: u32,
    pub high_risk: bool,
    pub risk_score: f64,
    /// Time of the last contact (Unix milliseconds).
    pub last_contact_ms: i64,
}

/// One contact as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub at_ms: i64,
    pub sentiment: String,
    pub negative: bool,
    pub categories: Vec<String>,
    pub priority: String,
    pub risk_score: f64,
    /// Only with `--store-text masked`: the PII-masked text.
    pub masked_text: Option<String>,
    /// Where the contact came from, when a replay could send it again (`label` rows:
    /// `label:<input hash>:<row>`): a contact whose source is already stored is not stored twice.
    pub source: Option<String>,
}

/// What to keep of a contact's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreText {
    /// No text at all (default).
    None,
    /// The PII-masked text.
    Masked,
}

/// Checks a customer id: 1 to 128 bytes, no control characters.
pub fn check_id(id: &str) -> Result<(), HistoryError> {
    if id.is_empty() || id.len() > 128 {
        return Err(HistoryError::BadId(
            "must be 1 to 128 bytes long".to_string(),
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(HistoryError::BadId(
            "must not contain control characters".to_string(),
        ));
    }
    Ok(())
}

/// The state after one more contact.
pub fn next_state(
    prev: Option<&CustomerState>,
    id: &str,
    c: &Contact,
    rules: &HistoryRules,
) -> CustomerState {
    let (contacts, run, score) = match prev {
        Some(p) => (
            p.contacts + 1,
            if c.negative {
                p.consecutive_negative + 1
            } else {
                0
            },
            rules.decay * p.risk_score + (1.0 - rules.decay) * c.risk_score,
        ),
        None => (1, u32::from(c.negative), c.risk_score),
    };
    CustomerState {
        id: id.to_string(),
        contacts,
        consecutive_negative: run,
        high_risk: run >= rules.high_risk_after,
        risk_score: (score * 10_000.0).round() / 10_000.0,
        last_contact_ms: c.at_ms,
    }
}

/// A place customer contacts are kept.
pub trait HistoryStore: Send {
    /// Stores a contact and returns the customer's new state.
    fn record(
        &mut self,
        id: &str,
        contact: &Contact,
        rules: &HistoryRules,
    ) -> Result<CustomerState, HistoryError>;
    /// The customer's state, or `None` for an unknown customer.
    fn get(&mut self, id: &str) -> Result<Option<CustomerState>, HistoryError>;
    /// Every customer with at least `min_negative` negative contacts in a row, by id (`high_risk` filled in
    /// from `rules`).
    fn list(
        &mut self,
        rules: &HistoryRules,
        min_negative: u32,
    ) -> Result<Vec<CustomerState>, HistoryError>;
    /// Every customer at or above `high_risk_after` negative contacts in a row, by id.
    fn high_risk(&mut self, rules: &HistoryRules) -> Result<Vec<CustomerState>, HistoryError> {
        self.list(rules, rules.high_risk_after)
    }
    /// A customer's contacts, oldest first.
    fn contacts(&mut self, id: &str) -> Result<Vec<Contact>, HistoryError>;
}

const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY,
    contacts INTEGER NOT NULL,
    consecutive_negative INTEGER NOT NULL,
    risk_score REAL NOT NULL,
    last_contact_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    sentiment TEXT NOT NULL,
    negative INTEGER NOT NULL,
    categories TEXT NOT NULL,
    priority TEXT NOT NULL,
    risk_score REAL NOT NULL,
    masked_text TEXT,
    source TEXT
);
CREATE INDEX IF NOT EXISTS contacts_customer ON contacts (customer_id, seq);
";

/// Added after the first schema: a database made before it gets the column here.
const SQLITE_SOURCE_INDEX: &str =
    "CREATE UNIQUE INDEX IF NOT EXISTS contacts_source ON contacts (source) WHERE source IS NOT NULL;";

/// SQLite history in one file (WAL mode, so a reader and the writer do not block each other).
pub struct SqliteStore {
    conn: rusqlite::Connection,
}

impl SqliteStore {
    /// Opens (creating it and its directory when missing) the database file.
    pub fn open(path: &Path) -> Result<SqliteStore, HistoryError> {
        let open_err = |msg: String| HistoryError::Open {
            path: path.display().to_string(),
            msg,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let conn = rusqlite::Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| open_err(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_err(e.to_string()))?;
        conn.execute_batch(SQLITE_SCHEMA)
            .map_err(|e| open_err(e.to_string()))?;
        let has_source: bool = conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info('contacts') WHERE name = 'source'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| open_err(e.to_string()))?;
        if !has_source {
            conn.execute_batch("ALTER TABLE contacts ADD COLUMN source TEXT;")
                .map_err(|e| open_err(e.to_string()))?;
        }
        conn.execute_batch(SQLITE_SOURCE_INDEX)
            .map_err(|e| open_err(e.to_string()))?;
        Ok(SqliteStore { conn })
    }

    fn state_of(
        tx: &rusqlite::Connection,
        id: &str,
        rules: Option<&HistoryRules>,
    ) -> Result<Option<CustomerState>, HistoryError> {
        use rusqlite::OptionalExtension;
        let row = tx
            .query_row(
                "SELECT contacts, consecutive_negative, risk_score, last_contact_ms
                 FROM customers WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, f64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.map(|(contacts, run, score, last)| CustomerState {
            id: id.to_string(),
            contacts: contacts as u64,
            consecutive_negative: run as u32,
            high_risk: rules.is_some_and(|r| run as u32 >= r.high_risk_after),
            risk_score: score,
            last_contact_ms: last,
        }))
    }
}

impl HistoryStore for SqliteStore {
    fn record(
        &mut self,
        id: &str,
        c: &Contact,
        rules: &HistoryRules,
    ) -> Result<CustomerState, HistoryError> {
        check_id(id)?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let prev = SqliteStore::state_of(&tx, id, Some(rules))?;
        if let (Some(source), Some(prev)) = (&c.source, &prev) {
            let seen: bool = tx.query_row(
                "SELECT COUNT(*) > 0 FROM contacts WHERE source = ?1",
                [source],
                |r| r.get(0),
            )?;
            if seen {
                return Ok(prev.clone());
            }
        }
        let next = next_state(prev.as_ref(), id, c, rules);
        tx.execute(
            "INSERT INTO contacts (customer_id, at_ms, sentiment, negative, categories, priority,
                                   risk_score, masked_text, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                id,
                c.at_ms,
                c.sentiment,
                c.negative,
                c.categories.join(","),
                c.priority,
                c.risk_score,
                c.masked_text,
                c.source
            ],
        )?;
        tx.execute(
            "INSERT INTO customers (id, contacts, consecutive_negative, risk_score, last_contact_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET contacts = ?2, consecutive_negative = ?3,
                 risk_score = ?4, last_contact_ms = ?5",
            rusqlite::params![
                id,
                next.contacts as i64,
                next.consecutive_negative as i64,
                next.risk_score,
                next.last_contact_ms
            ],
        )?;
        tx.commit()?;
        Ok(next)
    }

    fn get(&mut self, id: &str) -> Result<Option<CustomerState>, HistoryError> {
        check_id(id)?;
        // `high_risk` needs the rule; callers go through `History`, which fills it in.
        SqliteStore::state_of(&self.conn, id, None)
    }

    fn list(
        &mut self,
        rules: &HistoryRules,
        min_negative: u32,
    ) -> Result<Vec<CustomerState>, HistoryError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, contacts, consecutive_negative, risk_score, last_contact_ms
             FROM customers WHERE consecutive_negative >= ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([min_negative as i64], |r| {
            let run = r.get::<_, i64>(2)? as u32;
            Ok(CustomerState {
                id: r.get(0)?,
                contacts: r.get::<_, i64>(1)? as u64,
                consecutive_negative: run,
                high_risk: run >= rules.high_risk_after,
                risk_score: r.get(3)?,
                last_contact_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn contacts(&mut self, id: &str) -> Result<Vec<Contact>, HistoryError> {
        let mut stmt = self.conn.prepare(
            "SELECT at_ms, sentiment, negative, categories, priority, risk_score, masked_text, source
             FROM contacts WHERE customer_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([id], |r| {
            let cats: String = r.get(3)?;
            Ok(Contact {
                at_ms: r.get(0)?,
                sentiment: r.get(1)?,
                negative: r.get(2)?,
                categories: split_categories(&cats),
                priority: r.get(4)?,
                risk_score: r.get(5)?,
                masked_text: r.get(6)?,
                source: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

fn split_categories(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(feature = "postgres")]
pub use pg::PostgresStore;

#[cfg(feature = "postgres")]
mod pg {
    use super::*;

    const PG_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS xinsheng_customers (
        id TEXT PRIMARY KEY,
        contacts BIGINT NOT NULL,
        consecutive_negative INTEGER NOT NULL,
        risk_score DOUBLE PRECISION NOT NULL,
        last_contact_ms BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS xinsheng_contacts (
        seq BIGSERIAL PRIMARY KEY,
        customer_id TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        sentiment TEXT NOT NULL,
        negative BOOLEAN NOT NULL,
        categories TEXT NOT NULL,
        priority TEXT NOT NULL,
        risk_score DOUBLE PRECISION NOT NULL,
        masked_text TEXT
    );
    CREATE INDEX IF NOT EXISTS xinsheng_contacts_customer ON xinsheng_contacts (customer_id, seq);
    ALTER TABLE xinsheng_contacts ADD COLUMN IF NOT EXISTS source TEXT;
    CREATE UNIQUE INDEX IF NOT EXISTS xinsheng_contacts_source ON xinsheng_contacts (source);
    ";

    impl From<postgres::Error> for HistoryError {
        fn from(e: postgres::Error) -> Self {
            HistoryError::Db(e.to_string())
        }
    }

    /// PostgreSQL history (tables `xinsheng_customers`, `xinsheng_contacts`, created when missing).
    pub struct PostgresStore {
        client: postgres::Client,
    }

    /// The URL without its password, for messages.
    fn redact(url: &str) -> String {
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &url[s + 3..at];
                let user = creds.split(':').next().unwrap_or("");
                format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
            }
            _ => url.to_string(),
        }
    }

    impl PostgresStore {
        pub fn connect(url: &str) -> Result<PostgresStore, HistoryError> {
            let open_err = |e: postgres::Error| HistoryError::Open {
                path: redact(url),
                msg: e.to_string(),
            };
            let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(open_err)?;
            client.batch_execute(PG_SCHEMA).map_err(open_err)?;
            Ok(PostgresStore { client })
        }

        fn row_state(r: &postgres::Row, high_risk_after: Option<u32>) -> CustomerState {
            let run = r.get::<_, i32>(2) as u32;
            CustomerState {
                id: r.get(0),
                contacts: r.get::<_, i64>(1) as u64,
                consecutive_negative: run,
                high_risk: high_risk_after.is_some_and(|h| run >= h),
                risk_score: r.get(3),
                last_contact_ms: r.get(4),
            }
        }
    }

    impl HistoryStore for PostgresStore {
        fn record(
            &mut self,
            id: &str,
            c: &Contact,
            rules: &HistoryRules,
        ) -> Result<CustomerState, HistoryError> {
            check_id(id)?;
            let mut tx = self.client.transaction()?;
            // Create the row first so that FOR UPDATE can lock it even for a new customer.
            tx.execute(
                "INSERT INTO xinsheng_customers VALUES ($1, 0, 0, 0, 0) ON CONFLICT (id) DO NOTHING",
                &[&id],
            )?;
            let row = tx.query_one(
                "SELECT id, contacts, consecutive_negative, risk_score, last_contact_ms
                 FROM xinsheng_customers WHERE id = $1 FOR UPDATE",
                &[&id],
            )?;
            let prev = PostgresStore::row_state(&row, Some(rules.high_risk_after));
            if let Some(source) = &c.source {
                let seen = tx.query_opt(
                    "SELECT 1 FROM xinsheng_contacts WHERE source = $1",
                    &[source],
                )?;
                if seen.is_some() {
                    tx.commit()?;
                    return Ok(prev);
                }
            }
            let next = next_state((prev.contacts > 0).then_some(&prev), id, c, rules);
            tx.execute(
                "INSERT INTO xinsheng_contacts (customer_id, at_ms, sentiment, negative, categories,
                                                priority, risk_score, masked_text, source)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &id,
                    &c.at_ms,
                    &c.sentiment,
                    &c.negative,
                    &c.categories.join(","),
                    &c.priority,
                    &c.risk_score,
                    &c.masked_text,
                    &c.source,
                ],
            )?;
            tx.execute(
                "UPDATE xinsheng_customers SET contacts = $2, consecutive_negative = $3,
                     risk_score = $4, last_contact_ms = $5 WHERE id = $1",
                &[
                    &id,
                    &(next.contacts as i64),
                    &(next.consecutive_negative as i32),
                    &next.risk_score,
                    &next.last_contact_ms,
                ],
            )?;
            tx.commit()?;
            Ok(next)
        }

        fn get(&mut self, id: &str) -> Result<Option<CustomerState>, HistoryError> {
            check_id(id)?;
            let row = self.client.query_opt(
                "SELECT id, contacts, consecutive_negative, risk_score, last_contact_ms
                 FROM xinsheng_customers WHERE id = $1 AND contacts > 0",
                &[&id],
            )?;
            Ok(row.map(|r| PostgresStore::row_state(&r, None)))
        }

        fn list(
            &mut self,
            rules: &HistoryRules,
            min_negative: u32,
        ) -> Result<Vec<CustomerState>, HistoryError> {
            let rows = self.client.query(
                "SELECT id, contacts, consecutive_negative, risk_score, last_contact_ms
                 FROM xinsheng_customers WHERE consecutive_negative >= $1 ORDER BY id",
                &[&(min_negative as i32)],
            )?;
            Ok(rows
                .iter()
                .map(|r| PostgresStore::row_state(r, Some(rules.high_risk_after)))
                .collect())
        }

        fn contacts(&mut self, id: &str) -> Result<Vec<Contact>, HistoryError> {
            let rows = self.client.query(
                "SELECT at_ms, sentiment, negative, categories, priority, risk_score, masked_text,
                        source
                 FROM xinsheng_contacts WHERE customer_id = $1 ORDER BY seq",
                &[&id],
            )?;
            Ok(rows
                .iter()
                .map(|r| Contact {
                    at_ms: r.get(0),
                    sentiment: r.get(1),
                    negative: r.get(2),
                    categories: split_categories(r.get::<_, &str>(3)),
                    priority: r.get(4),
                    risk_score: r.get(5),
                    masked_text: r.get(6),
                    source: r.get(7),
                })
                .collect())
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn redacts_the_password() {
            assert_eq!(
                super::redact("postgres://u:secret@localhost/db"),
                "postgres://u:***@localhost/db"
            );
            assert_eq!(super::redact("host=/tmp user=x"), "host=/tmp user=x");
        }
    }
}

/// Where the history lives.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// `DATA_DIR/history.sqlite`.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (needs the `postgres` feature).
    Postgres(String),
}

impl Backend {
    /// `--database-url` when given, else SQLite under `data_dir`.
    pub fn choose(data_dir: &Path, database_url: Option<&str>) -> Backend {
        match database_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => Backend::Postgres(url.to_string()),
            None => Backend::Sqlite(data_dir.join("history.sqlite")),
        }
    }

    /// Opens the store.
    pub fn open(&self) -> Result<Box<dyn HistoryStore>, HistoryError> {
        match self {
            Backend::Sqlite(path) => Ok(Box::new(SqliteStore::open(path)?)),
            #[cfg(feature = "postgres")]
            Backend::Postgres(url) => Ok(Box::new(PostgresStore::connect(url)?)),
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres(_) => Err(HistoryError::Open {
                path: "--database-url".into(),
                msg: "this build has no PostgreSQL support (build with `--features postgres`)"
                    .into(),
            }),
        }
    }
}

type Job = Box<dyn FnOnce(&mut dyn HistoryStore) + Send>;

/// A store on its own thread (opened on first use): callers send jobs and wait for the answer, from
/// plain threads ([`History::call`]) or async code ([`History::call_async`]).
pub struct History {
    tx: mpsc::Sender<Job>,
    rules: HistoryRules,
    pub store_text: StoreText,
}

impl History {
    /// Starts the store thread. The store is opened lazily, so a server that never sees a customer id
    /// never creates the database; an open failure is reported to every call.
    pub fn start(backend: Backend, rules: HistoryRules, store_text: StoreText) -> History {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("xinsheng-history".into())
            .spawn(move || {
                let mut store: Option<Box<dyn HistoryStore>> = None;
                for job in rx {
                    if store.is_none() {
                        match backend.open() {
                            Ok(s) => store = Some(s),
                            Err(e) => {
                                let mut failed = FailedStore(e.to_string());
                                job(&mut failed);
                                continue;
                            }
                        }
                    }
                    if let Some(s) = store.as_mut() {
                        job(s.as_mut());
                    }
                }
            })
            .expect("spawn the history thread");
        History {
            tx,
            rules,
            store_text,
        }
    }

    pub fn rules(&self) -> &HistoryRules {
        &self.rules
    }

    fn job<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn HistoryStore, &HistoryRules) -> Result<T, HistoryError> + Send + 'static,
        reply: impl FnOnce(Result<T, HistoryError>) + Send + 'static,
    ) -> Result<(), HistoryError> {
        let rules = self.rules.clone();
        self.tx
            .send(Box::new(move |s: &mut dyn HistoryStore| {
                reply(f(s, &rules))
            }))
            .map_err(|_| HistoryError::Stopped)
    }

    /// Runs `f` on the store thread and waits (blocking) for its result.
    pub fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn HistoryStore, &HistoryRules) -> Result<T, HistoryError> + Send + 'static,
    ) -> Result<T, HistoryError> {
        let (tx, rx) = mpsc::channel();
        self.job(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.recv().map_err(|_| HistoryError::Stopped)?
    }

    /// Runs `f` on the store thread; the async caller waits without blocking its runtime thread.
    pub async fn call_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn HistoryStore, &HistoryRules) -> Result<T, HistoryError> + Send + 'static,
    ) -> Result<T, HistoryError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.job(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.await.map_err(|_| HistoryError::Stopped)?
    }

    /// `get`, with `high_risk` filled in from the rule.
    pub fn customer(&self, id: &str) -> Result<Option<CustomerState>, HistoryError> {
        let id = id.to_string();
        self.call(move |s, rules| get_with_rule(s, &id, rules))
    }

    pub async fn customer_async(&self, id: &str) -> Result<Option<CustomerState>, HistoryError> {
        let id = id.to_string();
        self.call_async(move |s, rules| get_with_rule(s, &id, rules))
            .await
    }

    /// Every customer, or only the high-risk ones, by id.
    pub fn list(&self, high_risk: bool) -> Result<Vec<CustomerState>, HistoryError> {
        self.call(move |s, rules| list_with_rule(s, rules, high_risk))
    }

    pub async fn list_async(&self, high_risk: bool) -> Result<Vec<CustomerState>, HistoryError> {
        self.call_async(move |s, rules| list_with_rule(s, rules, high_risk))
            .await
    }

    pub fn record(&self, id: &str, c: Contact) -> Result<CustomerState, HistoryError> {
        let id = id.to_string();
        self.call(move |s, rules| s.record(&id, &c, rules))
    }

    pub async fn record_async(&self, id: &str, c: Contact) -> Result<CustomerState, HistoryError> {
        let id = id.to_string();
        self.call_async(move |s, rules| s.record(&id, &c, rules))
            .await
    }
}

fn get_with_rule(
    s: &mut dyn HistoryStore,
    id: &str,
    rules: &HistoryRules,
) -> Result<Option<CustomerState>, HistoryError> {
    Ok(s.get(id)?.map(|mut c| {
        c.high_risk = c.consecutive_negative >= rules.high_risk_after;
        c
    }))
}

fn list_with_rule(
    s: &mut dyn HistoryStore,
    rules: &HistoryRules,
    high_risk: bool,
) -> Result<Vec<CustomerState>, HistoryError> {
    s.list(rules, if high_risk { rules.high_risk_after } else { 0 })
}

/// Stands in for a store that could not be opened: every call fails with the open error.
struct FailedStore(String);

impl HistoryStore for FailedStore {
    fn record(
        &mut self,
        _: &str,
        _: &Contact,
        _: &HistoryRules,
    ) -> Result<CustomerState, HistoryError> {
        Err(HistoryError::Db(self.0.clone()))
    }
    fn get(&mut self, _: &str) -> Result<Option<CustomerState>, HistoryError> {
        Err(HistoryError::Db(self.0.clone()))
    }
    fn list(&mut self, _: &HistoryRules, _: u32) -> Result<Vec<CustomerState>, HistoryError> {
        Err(HistoryError::Db(self.0.clone()))
    }
    fn contacts(&mut self, _: &str) -> Result<Vec<Contact>, HistoryError> {
        Err(HistoryError::Db(self.0.clone()))
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Shared checks of a store, run against SQLite here and against a real PostgreSQL server in
/// `tests/history_postgres.rs`.
pub fn exercise_store(store: &mut dyn HistoryStore, prefix: &str) -> Result<(), String> {
    let rules = super::policy::Policy::builtin().history;
    let id = format!("{prefix}-c1");
    let contact = |negative: bool, score: f64| Contact {
        at_ms: now_ms(),
        sentiment: if negative { "negative" } else { "neutral" }.into(),
        negative,
        categories: vec!["process".into(), "price".into()],
        priority: if negative { "B" } else { "C" }.into(),
        risk_score: score,
        masked_text: None,
        source: None,
    };
    let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };
    check(
        store.get(&id).map_err(|e| e.to_string())?.is_none(),
        "unknown customer is None",
    )?;
    let s = store
        .record(&id, &contact(true, 0.8), &rules)
        .map_err(|e| e.to_string())?;
    check(
        s.contacts == 1 && s.consecutive_negative == 1 && !s.high_risk,
        "first contact",
    )?;
    check((s.risk_score - 0.8).abs() < 1e-9, "first score")?;
    store
        .record(&id, &contact(true, 0.6), &rules)
        .map_err(|e| e.to_string())?;
    let s = store
        .record(&id, &contact(true, 0.4), &rules)
        .map_err(|e| e.to_string())?;
    check(
        s.contacts == 3 && s.consecutive_negative == 3 && s.high_risk,
        "three negatives",
    )?;
    // 0.8 → 0.5·0.8 + 0.5·0.6 = 0.7 → 0.5·0.7 + 0.5·0.4 = 0.55
    check((s.risk_score - 0.55).abs() < 1e-9, "rolling score")?;
    let got = store.get(&id).map_err(|e| e.to_string())?.ok_or("stored")?;
    check(
        got.contacts == 3 && got.consecutive_negative == 3,
        "get after record",
    )?;
    let listed = store.high_risk(&rules).map_err(|e| e.to_string())?;
    check(
        listed.iter().any(|c| c.id == id && c.high_risk),
        "listed as high risk",
    )?;
    let contacts = store.contacts(&id).map_err(|e| e.to_string())?;
    check(
        contacts.len() == 3 && contacts[0].categories == ["process", "price"],
        "contacts kept",
    )?;
    check(
        contacts.iter().all(|c| c.masked_text.is_none()),
        "no text stored",
    )?;
    let s = store
        .record(&id, &contact(false, 0.1), &rules)
        .map_err(|e| e.to_string())?;
    check(
        s.consecutive_negative == 0 && !s.high_risk && s.contacts == 4,
        "reset by a calm contact",
    )?;
    let listed = store.high_risk(&rules).map_err(|e| e.to_string())?;
    check(!listed.iter().any(|c| c.id == id), "no longer high risk")?;
    let all = store.list(&rules, 0).map_err(|e| e.to_string())?;
    check(
        all.iter()
            .any(|c| c.id == id && !c.high_risk && c.contacts == 4),
        "listed among all customers",
    )?;
    // A contact replayed with the same source is stored once.
    let replayed = Contact {
        source: Some(format!("{prefix}-label:row-7")),
        ..contact(true, 0.9)
    };
    let first = store
        .record(&id, &replayed, &rules)
        .map_err(|e| e.to_string())?;
    let again = store
        .record(&id, &replayed, &rules)
        .map_err(|e| e.to_string())?;
    check(
        first.contacts == 5 && first.consecutive_negative == 1,
        "sourced contact stored",
    )?;
    check(again == first, "replayed contact not stored again")?;
    let contacts = store.contacts(&id).map_err(|e| e.to_string())?;
    check(
        contacts.len() == 5 && contacts[4].source == replayed.source,
        "one row for the replayed contact",
    )?;
    check(store.get("").is_err(), "empty id is an error")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_store_follows_the_rule() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(&dir.path().join("sub/history.sqlite")).unwrap();
        exercise_store(&mut s, "t").unwrap();
    }

    #[test]
    fn sqlite_state_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        let rules = super::super::policy::Policy::builtin().history;
        for i in 0..3 {
            let mut s = SqliteStore::open(&path).unwrap();
            let c = Contact {
                at_ms: i,
                sentiment: "negative".into(),
                negative: true,
                categories: vec![],
                priority: "B".into(),
                risk_score: 0.7,
                masked_text: Some("我是张*".into()),
                source: None,
            };
            let st = s.record("客户-1", &c, &rules).unwrap();
            assert_eq!(st.high_risk, i == 2);
        }
        let mut s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.get("客户-1").unwrap().unwrap().consecutive_negative, 3);
        assert_eq!(
            s.contacts("客户-1").unwrap()[0].masked_text.as_deref(),
            Some("我是张*")
        );
    }

    #[test]
    fn a_database_from_before_sources_gets_the_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            assert!(SQLITE_SCHEMA.contains(",\n    source TEXT"));
            conn.execute_batch(&SQLITE_SCHEMA.replace(",\n    source TEXT", ""))
                .unwrap();
            conn.execute(
                "INSERT INTO contacts (customer_id, at_ms, sentiment, negative, categories, priority,
                                       risk_score) VALUES ('c', 1, 'negative', 1, '', 'B', 0.5)",
                [],
            )
            .unwrap();
        }
        let mut s = SqliteStore::open(&path).unwrap();
        let old = s.contacts("c").unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].source, None);
        exercise_store(&mut s, "migrated").unwrap();
    }

    #[test]
    fn history_thread_and_bad_location() {
        let dir = tempfile::tempdir().unwrap();
        let rules = super::super::policy::Policy::builtin().history;
        let h = History::start(
            Backend::choose(dir.path(), None),
            rules.clone(),
            StoreText::None,
        );
        assert_eq!(h.customer("x").unwrap(), None);
        // A data dir that is a file cannot hold the database: a clear error, no panic.
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let h = History::start(Backend::choose(&file, None), rules, StoreText::None);
        let e = h.customer("x").unwrap_err().to_string();
        assert!(e.contains("history.sqlite"), "{e}");
        assert!(check_id(&"x".repeat(129)).is_err());
        assert!(check_id("a\nb").is_err());
    }
}
