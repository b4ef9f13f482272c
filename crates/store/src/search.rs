//! Directory search: every criterion runs in SQL, with a count and one ordered page.
//!
//! The WHERE clause is built from the criteria actually given (an absent criterion adds nothing,
//! so each query keeps the indexes it can use instead of `($n IS NULL OR …)` terms that defeat
//! them). Everything is shared by both backends except the two ways of matching text, where the
//! dialects differ (see [`Dialect`]): substring of the folded name or city, and prefix of an
//! identifier or a postcode. The indexes behind them are in migration `0003_search.sql`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use facteur_domain::{IdentifierKind, Page, PageRequest, StructureId, StructureKind, StructureStatus};

use crate::directory::fold;
use crate::records::StructureRow;
use crate::{Backend, Result, Store, StructureRecord, with_pool};

/// Which structures a search may return at all (the other criteria narrow it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// Public structures only: the directory everyone may read.
    #[default]
    Public,
    /// Public structures and one more of any kind (an API caller's own structure).
    PublicAnd(StructureId),
    /// That one structure only.
    Only(StructureId),
    /// Every structure (the operator).
    All,
}

/// Directory search criteria, combined with AND; absent ones are ignored. Text is matched case-
/// and accent-insensitively: fragments anywhere in the name or city, prefixes of identifiers and
/// postcodes. Results are ordered by company name, then id.
#[derive(Debug, Clone, Default)]
pub struct StructureQuery {
    pub scope: Scope,
    /// Exact identifier (spaces ignored, letters upper-cased).
    pub identifier: Option<String>,
    /// Identifier starting with this.
    pub identifier_prefix: Option<String>,
    pub identifier_kind: Option<IdentifierKind>,
    /// Fragment of the name (company name or label).
    pub name: Option<String>,
    /// Fragment of the city.
    pub city: Option<String>,
    /// Postcode starting with this.
    pub postcode: Option<String>,
    /// One free text matched against a name or city fragment, or a postcode or identifier
    /// beginning (any of the four).
    pub free_text: Option<String>,
    /// Country code (`FR`…), exact.
    pub country: Option<String>,
    pub kind: Option<StructureKind>,
    pub status: Option<StructureStatus>,
    /// A structure listed whatever its status when `status` is set (the caller's own).
    pub status_exempt: Option<StructureId>,
    /// Only structures that may act as project owner (`AVEC_MOA` or `MOA_UNIQUEMENT`).
    pub with_moa: bool,
    /// Only structures that act only as project owner (`MOA_UNIQUEMENT`).
    pub moa_only: bool,
}

/// A page row with the number of matches, counted by the same query (`NULL` when not asked).
#[derive(sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    row: StructureRow,
    matches: Option<i64>,
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Text(String),
    Int(i64),
}

/// How each backend matches text.
///
/// - SQLite: a fragment of 3 characters or more is an FTS5 phrase over the trigram index
///   `structures_text` (exactly the rows containing it; `LIKE` with an `ESCAPE` clause is not
///   handed to FTS5, so it would scan); shorter fragments fall back to `LIKE`. Prefixes are `GLOB`,
///   which SQLite turns into a range on a BINARY-collated index (`LIKE` is case-insensitive there
///   and would not use it).
/// - PostgreSQL: `LIKE` everywhere; pg_trgm GIN indexes serve fragments and `text_pattern_ops`
///   indexes serve prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
}

/// How long a directory size read by the search is reused. The size only chooses between two
/// plans that give the same rows, so a stale one costs at most some speed.
const SIZE_TTL: Duration = Duration::from_secs(30);

/// The directory's size (largest structure id), read at most once per [`SIZE_TTL`] rather than
/// by a statement per search. Shared by the store's clones.
#[derive(Clone, Debug, Default)]
pub(crate) struct SizeCache(Arc<Mutex<Option<(Instant, u64)>>>);

impl SizeCache {
    fn get(&self) -> Option<u64> {
        let cached = *self.0.lock().unwrap_or_else(PoisonError::into_inner);
        cached.filter(|(at, _)| at.elapsed() < SIZE_TTL).map(|(_, size)| size)
    }

    fn set(&self, size: u64) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), size));
    }
}

/// Shortest fragment the trigram index can find.
const TRIGRAM: usize = 3;

/// Matches (counted through the trigram index) from which a page is better read by walking the
/// names in order and testing each row (SQLite) than by sorting every match: `end` is the page's
/// last row (offset + limit), `rows` the directory's size. Sorting costs a table read per match
/// (about 3 µs); the walk reads the covering index `structures_name_walk` (migration 0005, about
/// 0.2 µs a row) and stops after about `end × rows / matches` rows; the two meet where `matches²`
/// is `end × rows / 16` (measured on 100,000 structures: either way a few milliseconds there).
fn walk_threshold(end: u64, rows: u64) -> u64 {
    (end.saturating_mul(rows) / 16).isqrt().max(1)
}

/// `text` as an FTS5 phrase (double quotes doubled), matching rows that contain it.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A LIKE pattern matching `text` literally (wildcards escaped with `\`), anywhere or as a prefix.
pub(crate) fn like_pattern(text: &str, anywhere: bool) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    if anywhere {
        p.push('%');
    }
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A GLOB pattern matching `text` as a prefix (`*`, `?`, `[` taken literally).
fn glob_prefix(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        match c {
            '*' => p.push_str("[*]"),
            '?' => p.push_str("[?]"),
            '[' => p.push_str("[[]"),
            c => p.push(c),
        }
    }
    p.push('*');
    p
}

/// Identifiers are stored without spaces and upper-cased.
fn identifier_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The WHERE clause of a query and its arguments, `$1`… in order.
struct Filter {
    dialect: Dialect,
    /// Placeholders taken before this filter's own (it is then part of a larger statement).
    first: usize,
    /// Fragments go through the trigram index (SQLite); otherwise each row is tested with `LIKE`.
    trigrams: bool,
    clauses: Vec<String>,
    args: Vec<Arg>,
    /// A clause that can be read as a join on the trigram index (SQLite: `(index of the clause,
    /// the MATCH term of the join)`). A capped count then walks the index lazily and stops at the
    /// cap, instead of materialising every match first as `id IN (…)` does.
    joinable: Option<(usize, String)>,
    /// The joinable term is only part of its clause (the one-box search: a name or city fragment,
    /// or a postcode or identifier beginning), so a join counts some of the matches only: enough
    /// to tell a dense fragment (see [`walk_threshold`]), not a total.
    partial_join: bool,
}

impl Filter {
    fn new(dialect: Dialect, trigrams: bool, first: usize) -> Self {
        Self {
            dialect,
            first,
            trigrams: trigrams && dialect == Dialect::Sqlite,
            clauses: Vec::new(),
            args: Vec::new(),
            joinable: None,
            partial_join: false,
        }
    }

    /// The placeholder of a new argument.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.first + self.args.len())
    }

    fn text(&mut self, s: impl Into<String>) -> String {
        self.arg(Arg::Text(s.into()))
    }

    /// `column` (a folded copy) contains `fragment`.
    fn fragment(&mut self, column: &str, fragment: &str) -> String {
        let folded = fold(fragment);
        if self.trigrams && folded.chars().count() >= TRIGRAM {
            let p = self.text(fts_phrase(&folded));
            if self.joinable.is_none() {
                self.joinable = Some((self.clauses.len(), format!("structures_text.{column} MATCH {p}")));
            }
            format!("id IN (SELECT rowid FROM structures_text WHERE {column} MATCH {p})")
        } else {
            let p = self.text(like_pattern(&folded, true));
            format!("structures.{column} LIKE {p} ESCAPE '\\'")
        }
    }

    /// `column` starts with `prefix`.
    fn prefix(&mut self, column: &str, prefix: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => {
                let p = self.text(glob_prefix(prefix));
                format!("{column} GLOB {p}")
            }
            Dialect::Postgres => {
                let p = self.text(like_pattern(prefix, false));
                format!("{column} LIKE {p} ESCAPE '\\'")
            }
        }
    }

    /// One text against everything people type in a single box: a name or city fragment, or
    /// the beginning of a postcode or of an identifier (spaces ignored for the identifier).
    fn free_text(&mut self, text: &str) -> String {
        let folded = fold(text);
        let postcode = self.prefix("postcode", text.trim());
        let identifier = self.prefix("identifier", &identifier_text(text));
        if self.trigrams && folded.chars().count() >= TRIGRAM {
            // The phrase without a column filter matches in any indexed column: name or city.
            let p = self.text(fts_phrase(&folded));
            if self.joinable.is_none() {
                self.joinable = Some((self.clauses.len(), format!("structures_text MATCH {p}")));
                self.partial_join = true;
            }
            format!(
                "(id IN (SELECT rowid FROM structures_text WHERE structures_text MATCH {p}) OR {postcode} OR {identifier})"
            )
        } else {
            let name = self.fragment("name_search", text);
            let city = self.fragment("city_search", text);
            format!("({name} OR {city} OR {postcode} OR {identifier})")
        }
    }

    /// The filter of `q`; `trigrams`: match fragments through the trigram index (SQLite).
    fn build(dialect: Dialect, q: &StructureQuery, trigrams: bool) -> Self {
        Self::build_after(dialect, q, trigrams, 0)
    }

    /// [`Filter::build`], numbering its placeholders after the `first` ones of an outer statement.
    fn build_after(dialect: Dialect, q: &StructureQuery, trigrams: bool, first: usize) -> Self {
        let mut f = Self::new(dialect, trigrams, first);
        let public = StructureKind::Public.as_str();
        let scope = match q.scope {
            Scope::Public => Some(format!("kind = '{public}'")),
            Scope::PublicAnd(id) => {
                let p = f.arg(Arg::Int(id.0));
                Some(format!("(kind = '{public}' OR id = {p})"))
            }
            Scope::Only(id) => {
                let p = f.arg(Arg::Int(id.0));
                Some(format!("id = {p}"))
            }
            Scope::All => None,
        };
        f.clauses.extend(scope);
        if let Some(v) = nonblank(&q.identifier) {
            let p = f.text(identifier_text(v));
            f.clauses.push(format!("identifier = {p}"));
        }
        if let Some(v) = nonblank(&q.identifier_prefix) {
            let c = f.prefix("identifier", &identifier_text(v));
            f.clauses.push(c);
        }
        if let Some(k) = q.identifier_kind {
            let p = f.text(k.as_str());
            f.clauses.push(format!("identifier_kind = {p}"));
        }
        if let Some(v) = nonblank(&q.name) {
            let c = f.fragment("name_search", v);
            f.clauses.push(c);
        }
        if let Some(v) = nonblank(&q.city) {
            let c = f.fragment("city_search", v);
            f.clauses.push(c);
        }
        if let Some(v) = nonblank(&q.postcode) {
            let c = f.prefix("postcode", v);
            f.clauses.push(c);
        }
        if let Some(v) = nonblank(&q.free_text) {
            let c = f.free_text(v);
            f.clauses.push(c);
        }
        if let Some(v) = nonblank(&q.country) {
            let p = f.text(v.to_ascii_uppercase());
            f.clauses.push(format!("country = {p}"));
        }
        if let Some(k) = q.kind {
            let p = f.text(k.as_str());
            f.clauses.push(format!("kind = {p}"));
        }
        if let Some(s) = q.status {
            let p = f.text(s.as_str());
            match q.status_exempt {
                Some(id) => {
                    let i = f.arg(Arg::Int(id.0));
                    f.clauses.push(format!("(status = {p} OR id = {i})"));
                }
                None => f.clauses.push(format!("status = {p}")),
            }
        }
        if q.moa_only {
            f.clauses.push("moa = 'MOA_UNIQUEMENT'".to_owned());
        } else if q.with_moa {
            f.clauses.push("moa IN ('AVEC_MOA', 'MOA_UNIQUEMENT')".to_owned());
        }
        f
    }

    fn where_clause(&self) -> String {
        Self::join_where(&self.clauses)
    }

    fn join_where(clauses: &[String]) -> String {
        if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        }
    }

    /// `SELECT COUNT(*)` of the matches, stopping at `cap` when there is one.
    fn count_sql(&self, cap: Option<u32>) -> String {
        match (cap, &self.joinable) {
            (Some(cap), Some(_)) if !self.partial_join => self.join_count_sql(cap),
            (Some(cap), _) => self.capped_count_sql(cap),
            (None, _) => format!("SELECT COUNT(*) FROM structures{}", self.where_clause()),
        }
    }

    /// `SELECT COUNT(*)` of the rows the trigram index finds for the joinable term alone (no other
    /// clause, no table read), stopping at `cap`: how common the fragment is.
    fn text_count_sql(&self, cap: u32) -> String {
        match &self.joinable {
            Some((_, term)) => {
                format!("SELECT COUNT(*) FROM (SELECT 1 FROM structures_text WHERE {term} LIMIT {cap}) AS m")
            }
            None => self.join_count_sql(cap),
        }
    }

    /// `SELECT COUNT(*)` of the rows the joinable term finds with the other clauses, stopping at
    /// `cap`: the matches, or some of them when the join is partial.
    fn join_count_sql(&self, cap: u32) -> String {
        match &self.joinable {
            Some((i, term)) => {
                let mut clauses = self.clauses.clone();
                clauses[*i].clone_from(term);
                format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM structures_text JOIN structures \
                     ON structures.id = structures_text.rowid{} LIMIT {cap}) AS m",
                    Self::join_where(&clauses)
                )
            }
            None => self.capped_count_sql(cap),
        }
    }

    /// `SELECT COUNT(*)` of the matches read from the table, stopping at `cap`.
    fn capped_count_sql(&self, cap: u32) -> String {
        format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM structures{} LIMIT {cap}) AS m",
            self.where_clause()
        )
    }
}

fn nonblank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Binds every argument of a [`Filter`] in order (works for any sqlx query type and backend).
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    fn dialect(&self) -> Dialect {
        match self.backend() {
            Backend::Sqlite => Dialect::Sqlite,
            Backend::Postgres => Dialect::Postgres,
        }
    }

    /// Searches the directory: one page of the matches ordered by company name then id, and
    /// their number (at most the request's cap).
    ///
    /// Two ways to read the page. Usually the filter narrows the rows first (indexes, or the
    /// trigram index for fragments) and the matches are sorted; the page is read first and the
    /// count is a second query only when the page does not tell it. A fragment in so many names
    /// that sorting them would cost more (see [`walk_threshold`]), with no identifier or postcode
    /// to narrow it, is read the other way round: the name-ordered covering index is walked and
    /// each entry tested, which stops as soon as the page is full (SQLite; PostgreSQL plans this
    /// choice itself).
    pub async fn search_structures(&self, query: &StructureQuery, page: PageRequest) -> Result<Page<StructureRecord>> {
        // The SQL text is made of this module's fixed fragments and numbered placeholders only:
        // every piece of the caller's text is a bound argument.
        let f = Filter::build(self.dialect(), query, true);
        let walkable = f.joinable.is_some()
            && nonblank(&query.identifier).is_none()
            && nonblank(&query.identifier_prefix).is_none()
            && nonblank(&query.postcode).is_none();
        if walkable {
            let end = page.offset().saturating_add(page.limit());
            let threshold = walk_threshold(end, self.directory_size().await?);
            // The trigram index alone tells how common the fragment is (no table read).
            let limit = u32::try_from(threshold).unwrap_or(u32::MAX);
            if self.count(&f.text_count_sql(limit), &f).await? < threshold {
                // Few matches: one query sorts them and counts them.
                let count = Some(("COUNT(*) OVER ()", &[][..]));
                let (rows, counted) = self.page_rows(&f, "", count, &page).await?;
                let matches = match counted {
                    Some(n) => n,
                    None => self.count(&f.count_sql(page.cap()), &f).await?,
                };
                let items = rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
                return Ok(Page::new(items, page.total(matches), &page));
            }
            // Many: the page walks the names in order; the join counts the matches up to the cap
            // in the same statement (a constant subquery, run once), only some of them when it is
            // partial (the total when already at the cap; otherwise the whole filter is counted).
            let walk = Filter::build(self.dialect(), query, false);
            let counter = Filter::build_after(self.dialect(), query, true, walk.args.len() + 2);
            let cap = page.cap().unwrap_or(u32::MAX);
            let found = format!("({})", counter.join_count_sql(cap));
            let hint = " INDEXED BY structures_name_walk";
            let count = Some((found.as_str(), counter.args.as_slice()));
            let (rows, counted) = self.page_rows(&walk, hint, count, &page).await?;
            let found = match counted {
                Some(n) => n,
                None => self.count(&f.join_count_sql(cap), &f).await?,
            };
            let matches = if f.partial_join && found < u64::from(cap) {
                self.count(&f.count_sql(page.cap()), &f).await?
            } else {
                found
            };
            let items = rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
            return Ok(Page::new(items, page.total(matches), &page));
        }
        let (rows, _) = self.page_rows(&f, "", None, &page).await?;
        let (limit, offset) = (page.limit(), page.offset());
        let fetched = u64::try_from(rows.len()).unwrap_or(u64::MAX);
        let matches = if fetched > 0 && fetched < limit {
            offset + fetched
        } else {
            self.count(&f.count_sql(page.cap()), &f).await?
        };
        let items = rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
        Ok(Page::new(items, page.total(matches), &page))
    }

    /// The directory's size (its largest id), from [`SizeCache`] when read recently.
    async fn directory_size(&self) -> Result<u64> {
        if let Some(size) = self.directory_size.get() {
            return Ok(size);
        }
        let max: i64 = with_pool!(self, |db| sqlx::query_scalar(
            "SELECT COALESCE(MAX(id), 0) FROM structures"
        )
        .fetch_one(db)
        .await?);
        let size = u64::try_from(max).unwrap_or(0);
        self.directory_size.set(size);
        Ok(size)
    }

    /// The rows of `page` among the matches of `f`, ordered by name (`hint` follows the table
    /// name), and their number when `count` gives it: an SQL expression and its own arguments
    /// (numbered after the page's), read by the same statement. The number is `None` without
    /// `count`, or when the page is empty but not the first (nothing tells it then).
    async fn page_rows(
        &self,
        f: &Filter,
        hint: &str,
        count: Option<(&str, &[Arg])>,
        page: &PageRequest,
    ) -> Result<(Vec<StructureRow>, Option<u64>)> {
        let (limit, offset) = (page.limit(), page.offset());
        if limit == 0 {
            return Ok((Vec::new(), None));
        }
        let (matches, extra) = count.unwrap_or(("CAST(NULL AS BIGINT)", &[]));
        let n = f.args.len();
        let select = format!(
            "SELECT {}, {matches} AS matches FROM structures{hint}{} ORDER BY company_name, id LIMIT ${} OFFSET ${}",
            crate::directory::STRUCTURE_COLS,
            f.where_clause(),
            n + 1,
            n + 2
        );
        let rows: Vec<CountedRow> = with_pool!(self, |db| bind_args!(
            bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(select.as_str())), &f.args)
                .bind(to_i64(limit))
                .bind(to_i64(offset)),
            extra
        )
        .fetch_all(db)
        .await?);
        let counted = match (count, rows.first()) {
            (None, _) => None,
            (Some(_), Some(r)) => r.matches.map(|m| u64::try_from(m).unwrap_or(0)),
            (Some(_), None) if offset == 0 => Some(0),
            (Some(_), None) => None,
        };
        Ok((rows.into_iter().map(|r| r.row).collect(), counted))
    }

    /// Runs a count of `f` (`count`: one of its count statements).
    async fn count(&self, count: &str, f: &Filter) -> Result<u64> {
        let total: i64 = with_pool!(self, |db| bind_args!(
            sqlx::query_scalar(sqlx::AssertSqlSafe(count)),
            &f.args
        )
        .fetch_one(db)
        .await?);
        Ok(u64::try_from(total).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_take_text_literally() {
        assert_eq!(like_pattern("50%_a\\", true), "%50\\%\\_a\\\\%");
        assert_eq!(like_pattern("75", false), "75%");
        assert_eq!(glob_prefix("7*5?[x"), "7[*]5[?][[]x*");
        assert_eq!(fts_phrase("l'\"x\""), "\"l'\"\"x\"\"\"");
    }

    #[test]
    fn absent_criteria_add_nothing_and_short_fragments_scan() {
        let f = Filter::build(Dialect::Sqlite, &StructureQuery::default(), true);
        assert_eq!(f.where_clause(), " WHERE kind = 'PUBLIQUE'");
        assert!(f.args.is_empty());
        let q = StructureQuery {
            name: Some(" Évry ".into()),
            city: Some("ly".into()),
            ..StructureQuery::default()
        };
        let f = Filter::build(Dialect::Sqlite, &q, true);
        assert!(
            f.where_clause().contains("name_search MATCH $1"),
            "{}",
            f.where_clause()
        );
        assert!(f.where_clause().contains("city_search LIKE $2"), "{}", f.where_clause());
        assert_eq!(f.args, vec![Arg::Text("\"evry\"".into()), Arg::Text("%ly%".into())]);
        let f = Filter::build(Dialect::Postgres, &q, true);
        assert!(f.where_clause().contains("name_search LIKE $1"), "{}", f.where_clause());
    }
}
