//! The sealed form of an outgoing message while it waits in the outbox.

use data_encoding::BASE64;
use postern_mime::Attachment;
use serde::{Deserialize, Serialize};

use crate::CoreError;

#[derive(Debug, Serialize, Deserialize)]
struct StoredAttachment {
    name: String,
    content_type: String,
    data: String,
}

/// What the person wrote, as queued.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct QueuedDraft {
    pub subject: String,
    pub text: String,
    attachments: Vec<StoredAttachment>,
    /// Postern control headers (handshake, introduction, revocation).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

impl QueuedDraft {
    pub(crate) fn new(subject: &str, text: &str, attachments: &[Attachment]) -> Self {
        QueuedDraft {
            subject: subject.to_owned(),
            text: text.to_owned(),
            attachments: attachments
                .iter()
                .map(|a| StoredAttachment {
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    data: BASE64.encode(&a.data),
                })
                .collect(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_headers(mut self, headers: Vec<(String, String)>) -> Self {
        self.headers = headers;
        self
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Result<Self, CoreError> {
        serde_json::from_slice(b).map_err(|e| CoreError::Corrupt(format!("queued draft: {e}")))
    }

    pub(crate) fn attachments(&self) -> Result<Vec<Attachment>, CoreError> {
        self.attachments
            .iter()
            .map(|a| {
                Ok(Attachment {
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    data: BASE64
                        .decode(a.data.as_bytes())
                        .map_err(|e| CoreError::Corrupt(format!("queued attachment: {e}")))?,
                })
            })
            .collect()
    }
}
