//! Searching mail: ranked results with snippets, per identity unless asked for all.

use postern_store::{HIT_END, HIT_START};
use serde::Serialize;

use super::api::MessageSummary;
use crate::{CoreError, Postern};

/// Most results of one search.
pub const MAX_RESULTS: usize = 200;

/// A piece of a snippet: matching words have `hit` set.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SnippetPart {
    /// The text.
    pub text: String,
    /// Whether it matched the query.
    pub hit: bool,
}

/// One search result: the message, and where it matched.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchResult {
    /// The message.
    #[serde(flatten)]
    pub message: MessageSummary,
    /// A piece of the best-matching text.
    pub snippet: Vec<SnippetPart>,
    /// Relevance (higher is better).
    pub score: f64,
}

fn parts(snippet: &str) -> Vec<SnippetPart> {
    let mut out = Vec::new();
    let mut hit = false;
    let mut text = String::new();
    for c in snippet.chars() {
        if c == HIT_START || c == HIT_END {
            if !text.is_empty() {
                out.push(SnippetPart {
                    text: std::mem::take(&mut text),
                    hit,
                });
            }
            hit = c == HIT_START;
        } else {
            text.push(c);
        }
    }
    if !text.is_empty() {
        out.push(SnippetPart { text, hit });
    }
    out
}

impl Postern {
    /// Search mail: `identity`'s (or, with `None`, every identity's — only when asked), best
    /// first. The query: words (all must match), `"a phrase"`, `prefix*`, `from:name`.
    pub fn search(
        &self,
        identity: Option<&str>,
        query: &str,
        limit: usize,
    ) -> Result<Vec<SearchResult>, CoreError> {
        let id = identity
            .map(|i| self.find_identity(i))
            .transpose()?
            .map(|r| r.id);
        let hits = self.store.search(id, query, limit.min(MAX_RESULTS))?;
        let mut out = Vec::with_capacity(hits.len());
        for h in hits {
            let m = match self.record(h.message_id) {
                Ok(m) => m,
                Err(CoreError::MessageNotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            out.push(SearchResult {
                message: self.summary(&m),
                snippet: parts(&h.snippet),
                score: -h.rank,
            });
        }
        Ok(out)
    }

    /// Index mail stored before search existed (or by an older Postern). Returns how many.
    pub(crate) fn index_missing(&mut self) -> Result<usize, CoreError> {
        let mut done = 0;
        loop {
            let ids = self.store.unindexed_messages(256)?;
            if ids.is_empty() {
                return Ok(done);
            }
            for id in ids {
                let m = self.record(id)?;
                let letter = postern_mime::Letter::parse(m.inner.as_deref().unwrap_or_default());
                let names: Vec<String> = match &letter {
                    Ok(l) if self.store.message_attachments(id)?.is_empty() => {
                        l.attachments.iter().map(|a| a.name.clone()).collect()
                    }
                    _ => self
                        .store
                        .message_attachments(id)?
                        .into_iter()
                        .map(|a| a.name)
                        .collect(),
                };
                let body = letter.map(|l| l.text).unwrap_or_default();
                self.store.index_message(
                    id,
                    m.identity_id,
                    &postern_store::SearchText {
                        subject: &m.subject,
                        body: &body,
                        sender_name: &m.sender_name,
                        sender: &m.sender,
                        attachment_names: &names.join(" "),
                    },
                )?;
                done += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_split_into_hits_and_the_rest() {
        let s = format!("the {HIT_START}usual{HIT_END} place");
        assert_eq!(
            parts(&s),
            vec![
                SnippetPart {
                    text: "the ".into(),
                    hit: false
                },
                SnippetPart {
                    text: "usual".into(),
                    hit: true
                },
                SnippetPart {
                    text: " place".into(),
                    hit: false
                },
            ]
        );
    }
}
