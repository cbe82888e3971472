//! Full-text search (SQLite FTS5) over decrypted mail, inside the encrypted store: subject, body,
//! sender name and address, attachment names. Ranked by BM25, with a snippet of the best
//! matching column.
//!
//! What a person types, made into an FTS5 query that cannot be a syntax error:
//! - words: all must match (`lunch friday`), case and accents aside;
//! - `"a phrase"`: those words in that order;
//! - `prefix*`: any word starting so;
//! - `from:alice`: the sender's name or address has that word (prefix allowed: `from:ali*`).

use rusqlite::params;

use crate::{Store, StoreError};

/// Marks around a matching word in a snippet (never in mail: control characters are not kept
/// in indexed text).
pub const HIT_START: char = '\u{2}';
/// See [`HIT_START`].
pub const HIT_END: char = '\u{3}';

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The message.
    pub message_id: i64,
    /// A piece of the best-matching text, matches between `HIT_START` and `HIT_END`.
    pub snippet: String,
    /// BM25 rank (lower is better).
    pub rank: f64,
}

/// What to index of one message.
#[derive(Debug, Clone, Default)]
pub struct SearchText<'a> {
    /// Subject.
    pub subject: &'a str,
    /// Plain-text body.
    pub body: &'a str,
    /// Sender's name.
    pub sender_name: &'a str,
    /// Sender's address.
    pub sender: &'a str,
    /// Attachment names, space-separated.
    pub attachment_names: &'a str,
}

fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

fn quoted(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// A person's query as FTS5 syntax; `None` if it has nothing to search for.
pub fn fts_query(text: &str) -> Option<String> {
    let mut terms = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (token, after) = if let Some(r) = rest.strip_prefix('"') {
            match r.find('"') {
                Some(end) => (format!("\"{}\"", &r[..end]), &r[end + 1..]),
                None => (format!("\"{r}\""), ""),
            }
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        };
        rest = after.trim_start();
        if let Some(phrase) = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            let words: Vec<&str> = phrase.split_whitespace().collect();
            if !words.is_empty() {
                terms.push(quoted(&words.join(" ")));
            }
            continue;
        }
        let (column, word) = match token.split_once(':') {
            Some((c, w)) if c.eq_ignore_ascii_case("from") => (Some("from"), w),
            _ => (None, token.as_str()),
        };
        let prefix = word.ends_with('*');
        let core: String = word
            .trim_end_matches('*')
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '@' | '-' | '_' | '\''))
            .collect();
        // Split on what the tokenizer splits on: every piece must match.
        let pieces: Vec<&str> = core
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
            .collect();
        if pieces.is_empty() {
            continue;
        }
        let n = pieces.len();
        let expr = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let star = if prefix && i + 1 == n { " *" } else { "" };
                format!("{}{star}", quoted(p))
            })
            .collect::<Vec<_>>()
            .join(" ");
        terms.push(match column {
            Some(_) => format!("{{sender_name sender}} : ({expr})"),
            None => format!("({expr})"),
        });
    }
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

impl Store {
    /// Index a stored message (replacing what was indexed for it).
    pub fn index_message(
        &mut self,
        message_id: i64,
        identity_id: i64,
        t: &SearchText<'_>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM message_search WHERE rowid = ?1", [message_id])?;
        self.conn.execute(
            "INSERT INTO message_search
               (rowid, subject, body, sender_name, sender, attachment_names, identity_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                message_id,
                clean(t.subject),
                clean(t.body),
                clean(t.sender_name),
                t.sender,
                clean(t.attachment_names),
                identity_id
            ],
        )?;
        Ok(())
    }

    /// Messages not indexed yet (stored before search existed), oldest first.
    pub fn unindexed_messages(&self, limit: usize) -> Result<Vec<i64>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT id FROM messages WHERE id NOT IN (SELECT rowid FROM message_search)
             ORDER BY id LIMIT ?1",
        )?;
        let rows = st.query_map([limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Search one identity's mail (or everyone's, with `None`), best first.
    pub fn search(
        &self,
        identity_id: Option<i64>,
        query: &str,
        limit: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let Some(q) = fts_query(query) else {
            return Ok(Vec::new());
        };
        // Rank first, then make snippets for the results only: in one query SQLite would make
        // a snippet for every match before sorting them.
        let ranked: Vec<(i64, f64)> = {
            let mut st = self.conn.prepare_cached(
                "SELECT rowid, rank FROM message_search
                 WHERE message_search MATCH ?1 AND rank MATCH 'bm25(4.0, 1.0, 3.0, 2.0, 2.0)'
                   AND (?2 IS NULL OR identity_id = ?2)
                 ORDER BY rank LIMIT ?3",
            )?;
            let rows = st.query_map(params![q, identity_id, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut st = self.conn.prepare_cached(
            "SELECT snippet(message_search, -1, char(2), char(3), '…', 12) FROM message_search
             WHERE message_search MATCH ?1 AND rowid = ?2",
        )?;
        let mut hits = Vec::with_capacity(ranked.len());
        for (message_id, rank) in ranked {
            let snippet: String = st.query_row(params![q, message_id], |r| r.get(0))?;
            hits.push(SearchHit {
                message_id,
                snippet,
                rank,
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_fts5_that_cannot_break() {
        assert_eq!(fts_query("lunch").as_deref(), Some("(\"lunch\")"));
        assert_eq!(
            fts_query("lunch friday").as_deref(),
            Some("(\"lunch\") AND (\"friday\")")
        );
        assert_eq!(
            fts_query("\"usual place\"").as_deref(),
            Some("\"usual place\"")
        );
        assert_eq!(fts_query("lun*").as_deref(), Some("(\"lun\" *)"));
        assert_eq!(
            fts_query("from:bob").as_deref(),
            Some("{sender_name sender} : (\"bob\")")
        );
        assert_eq!(fts_query("  ").as_deref(), None);
        assert_eq!(fts_query("\"").as_deref(), None);
        // FTS5 operators and punctuation are only text.
        assert_eq!(
            fts_query("NEAR( OR").as_deref(),
            Some("(\"NEAR\") AND (\"OR\")")
        );
        assert_eq!(fts_query("a\"b").as_deref(), Some("(\"ab\")"));
    }
}
