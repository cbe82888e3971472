//! A draft to an ordinary address (name@domain) goes through a gateway contact. Which one, and
//! the recipient's OpenPGP key if the writer gave it, are kept in the draft as
//! `Postern-Gateway: via=<gateway>[; key=<base64>]`; when it is sent, it is queued to the
//! gateway as `gateway-out` mail and filed in Sent as to the ordinary address
//! (`docs/protocol.md` §19).

use postern_mime::{Letter, OutsiderKey};
use postern_store::{IdentityRecord, MessageRecord};

use super::drafts::DraftInput;
use crate::gateway::{fields, KIND_OUT};
use crate::{CoreError, Postern};

/// The recipient's key as the writer gave it (armored or binary).
pub(crate) fn parse_key(to: &str, bytes: &[u8]) -> Result<OutsiderKey, CoreError> {
    OutsiderKey::parse(bytes).map_err(|e| CoreError::BadDraft(format!("{to}'s key: {e}")))
}

/// Where a draft to an ordinary address goes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Route {
    /// The gateway contact's address.
    pub(crate) via: Option<String>,
    /// The recipient's public key (binary).
    key: Option<Vec<u8>>,
}

impl Route {
    /// The route a stored draft (or a sent message) carries.
    pub(crate) fn of(letter: &Letter) -> Route {
        let Some(header) = letter.gateway.as_deref() else {
            return Route::default();
        };
        let f = fields(header);
        let get = |k: &str| f.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        Route {
            via: get("via").filter(|v| !v.is_empty()),
            key: get("key").and_then(|v| {
                let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                data_encoding::BASE64.decode(compact.as_bytes()).ok()
            }),
        }
    }

    /// The route of a draft being saved: what the writer gave, else what the stored draft had.
    /// `via` names a contact of the writing identity; an empty one clears it.
    pub(crate) fn for_draft(
        p: &Postern,
        me: &IdentityRecord,
        d: &DraftInput,
        old: Option<&MessageRecord>,
        key: Option<OutsiderKey>,
    ) -> Result<Route, CoreError> {
        let before = old
            .and_then(|o| Letter::parse(o.inner.as_deref().unwrap_or_default()).ok())
            .map(|l| Route::of(&l))
            .unwrap_or_default();
        let via = match d.via_gateway.as_deref().map(str::trim) {
            Some("") => None,
            Some(name) => Some(
                p.store
                    .contact(me.id, name)
                    .map_err(|_| CoreError::ContactNotFound(name.to_owned()))?
                    .address,
            ),
            None => before.via,
        };
        let key = match key {
            Some(k) => Some(
                k.to_bytes()
                    .map_err(|e| CoreError::BadDraft(e.to_string()))?,
            ),
            None => before.key,
        };
        Ok(Route { via, key })
    }

    /// The header that keeps it in the draft.
    pub(crate) fn header(&self) -> Option<(String, String)> {
        let via = self.via.as_deref()?;
        let mut value = format!("via={via}");
        if let Some(key) = &self.key {
            value.push_str("; key=");
            value.push_str(&data_encoding::BASE64.encode(key));
        }
        Some(("Postern-Gateway".into(), value))
    }

    /// The given key's fingerprint.
    pub(crate) fn key_fingerprint(&self) -> Option<String> {
        self.key
            .as_deref()
            .and_then(|k| OutsiderKey::parse(k).ok())
            .map(|k| k.fingerprint())
    }

    /// For sending to `to`: the gateway contact it is queued to (checked like any recipient)
    /// and the headers that hand it over.
    pub(crate) fn out(
        &self,
        p: &Postern,
        me: &IdentityRecord,
        to: &str,
    ) -> Result<(String, Vec<(String, String)>), CoreError> {
        let via = self.via.as_deref().ok_or_else(|| {
            CoreError::BadDraft(format!(
                "{to} is an ordinary email address: choose the gateway it goes through (a \
                 contact who runs one)"
            ))
        })?;
        let gateway = p
            .store
            .contact(me.id, via)
            .map_err(|_| CoreError::ContactNotFound(via.to_owned()))?
            .address;
        p.refuse_own_revoked(me)?;
        p.refuse_revoked(me, &gateway)?;
        let mut route = format!("to={to}");
        if let Some(key) = &self.key {
            route.push_str("; key=");
            route.push_str(&data_encoding::BASE64.encode(key));
        }
        Ok((
            gateway,
            vec![
                ("Postern-Kind".into(), KIND_OUT.into()),
                ("Postern-Gateway".into(), route),
            ],
        ))
    }
}
