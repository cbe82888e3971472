//! Lists as a person uses them: create, invite a contact, join, post, read, members, remove a
//! member (moderators), leave.
//! Each call changes the store in one transaction; what it sends waits in the outbox for the
//! node.

use postern_list::{BlobHash, Body, Frame, ListNode, MemberId, Post, SigningKey};
use postern_mime::Attachment;
use postern_store::ListRecord;
use rand::RngCore;
use serde::Serialize;
use zeroize::Zeroizing;

use super::content::{self, ListAttachmentView};
use super::{config, corrupt, ms, persist, queue_frame, restore};
use super::{INVITED, JOINING, LEFT, MEMBER};
use crate::{CoreError, ListTimers, Postern};

/// A list of one identity.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ListView {
    /// The list id, hex.
    pub id: String,
    pub name: String,
    /// `invited`, `joining`, `member`, `left` or `removed` (by a moderator).
    pub state: String,
    /// Who invited this identity (empty for the creator).
    pub inviter: String,
    /// Members in good standing (as far as this member knows).
    pub members: usize,
    /// Posts with text.
    pub posts: usize,
}

/// A member of a list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ListMemberView {
    /// The member's list key, hex (a list key says nothing of the member's identity).
    pub member: String,
    pub me: bool,
    /// The mail address of a neighbour (a member this one exchanges list mail with).
    pub neighbour: Option<String>,
}

/// A post with text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ListPostView {
    /// The author's list key, hex.
    pub author: String,
    /// The author's clock, Unix seconds.
    pub time: i64,
    pub subject: String,
    pub text: String,
    /// Its attachments, in order.
    pub attachments: Vec<ListAttachmentView>,
}

/// The largest attachment a list post may carry: it travels to each neighbour as one list
/// mail, which must stay under the mail size limit (25 MiB by default) once encoded.
pub const MAX_LIST_ATTACHMENT: usize = 10 * 1024 * 1024;

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

impl Postern {
    /// The identity's list named `selector` (its name, or a prefix of its id in hex).
    fn find_list(&self, identity_id: i64, selector: &str) -> Result<ListRecord, CoreError> {
        let sel = selector.trim().to_ascii_lowercase();
        let lists = self.store.lists(identity_id)?;
        let found: Vec<&ListRecord> = lists
            .iter()
            .filter(|l| {
                l.name.to_lowercase() == sel
                    || (sel.len() >= 4 && hex(&l.list_id).starts_with(&sel))
            })
            .collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(CoreError::ListNotFound(selector.to_owned())),
            _ => Err(CoreError::List(format!(
                "{selector:?} names more than one list; give its id"
            ))),
        }
    }

    fn list_view(&self, rec: &ListRecord) -> Result<ListView, CoreError> {
        let posts = self.store.list_posts_of_kind(rec.id, "text")?.len();
        let members = if rec.state == MEMBER {
            restore(
                &self.store,
                rec,
                &ListTimers::default(),
                self.clock.now_unix(),
            )?
            .members()
            .len()
        } else {
            0
        };
        Ok(ListView {
            id: hex(&rec.list_id),
            name: rec.name.clone(),
            state: rec.state.clone(),
            inviter: rec.inviter.clone(),
            members,
            posts,
        })
    }

    /// The identity's lists.
    pub fn lists(&self, identity: &str) -> Result<Vec<ListView>, CoreError> {
        let me = self.find_identity(identity)?;
        self.store
            .lists(me.id)?
            .iter()
            .map(|l| self.list_view(l))
            .collect()
    }

    /// Creates a list; the identity is its creator and moderator.
    pub fn list_create(&mut self, identity: &str, name: &str) -> Result<ListView, CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let name = name.trim();
        if name.is_empty() || name.len() > postern_list::post::MAX_NAME {
            return Err(CoreError::List(
                "a list's name is 1 to 200 bytes".to_owned(),
            ));
        }
        if self.find_list(me.id, name).is_ok() {
            return Err(CoreError::List(format!("a list named {name:?} exists")));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let now = self.clock.now_unix();
        let mut node = ListNode::create(
            config(&ListTimers::default()),
            SigningKey::from_bytes(&key),
            name,
            nonce,
            Vec::new(),
            ms(now),
        );
        let charter = node
            .charter()
            .ok_or_else(|| CoreError::List("no charter".into()))?;
        let row = self.store.in_transaction(|s| -> Result<i64, CoreError> {
            let row = s.insert_list(
                me.id,
                &node.list().0,
                name,
                &charter.encode(),
                MEMBER,
                "",
                None,
                now,
            )?;
            s.set_list_state(row, MEMBER, Some(key.as_slice()), None)?;
            let rec = s.list(row)?;
            persist(s, &rec, &mut node, now)?;
            Ok(row)
        })?;
        self.list_view(&self.store.list(row)?)
    }

    /// Invites a contact: it may accept, and this member will sponsor it and be its first link.
    pub fn list_invite(
        &mut self,
        identity: &str,
        list: &str,
        contact: &str,
    ) -> Result<(), CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let rec = self.find_list(me.id, list)?;
        if rec.state != MEMBER {
            return Err(CoreError::List(format!(
                "only a member can invite (this list is {})",
                rec.state
            )));
        }
        let contact = self.list_contact(me.id, contact)?;
        let now = self.clock.now_unix();
        let node = restore(&self.store, &rec, &ListTimers::default(), now)?;
        let charter: Post =
            Post::decode(&rec.charter).map_err(|_| CoreError::Corrupt("list charter".into()))?;
        let frame = Frame::Invite {
            charter,
            sponsor: node.me(),
        };
        self.store.in_transaction(|s| -> Result<(), CoreError> {
            s.add_list_invite(rec.id, &contact, now)?;
            queue_frame(s, me.id, &contact, &frame, now)?;
            Ok(())
        })
    }

    /// Accepts an invitation: a new list key is made and sent to the inviter to sponsor.
    pub fn list_join(&mut self, identity: &str, list: &str) -> Result<ListView, CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let rec = self.find_list(me.id, list)?;
        if rec.state != INVITED {
            return Err(CoreError::List(format!(
                "there is no invitation to join (this list is {})",
                rec.state
            )));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        let member = MemberId::of(&SigningKey::from_bytes(&key));
        let list_id = postern_list::ListId(
            rec.list_id
                .as_slice()
                .try_into()
                .map_err(|_| CoreError::Corrupt("list id".into()))?,
        );
        let now = self.clock.now_unix();
        self.store.in_transaction(|s| -> Result<(), CoreError> {
            s.set_list_state(rec.id, JOINING, Some(key.as_slice()), None)?;
            queue_frame(
                s,
                me.id,
                &rec.inviter,
                &Frame::Accept {
                    list: list_id,
                    member,
                },
                now,
            )?;
            Ok(())
        })?;
        self.list_view(&self.store.list(rec.id)?)
    }

    /// Posts to a list.
    pub fn list_post(
        &mut self,
        identity: &str,
        list: &str,
        subject: &str,
        text: &str,
    ) -> Result<String, CoreError> {
        self.list_post_with(identity, list, subject, text, &[])
    }

    /// Posts to a list with attachments (at most 16, each at most `MAX_LIST_ATTACHMENT`). The
    /// post names them; each travels once per link, to members who do not have it yet.
    pub fn list_post_with(
        &mut self,
        identity: &str,
        list: &str,
        subject: &str,
        text: &str,
        attachments: &[Attachment],
    ) -> Result<String, CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let rec = self.member_list(me.id, list)?;
        if attachments.len() > postern_list::post::MAX_BLOBS {
            return Err(CoreError::List(format!(
                "{} attachments; a post carries at most {}",
                attachments.len(),
                postern_list::post::MAX_BLOBS
            )));
        }
        if let Some(big) = attachments
            .iter()
            .find(|a| a.data.len() > MAX_LIST_ATTACHMENT)
        {
            return Err(CoreError::List(format!(
                "{:?} is {} bytes; a list carries attachments of at most {} MiB",
                big.name,
                big.data.len(),
                MAX_LIST_ATTACHMENT / (1024 * 1024)
            )));
        }
        let named: Vec<content::Named<'_>> = attachments
            .iter()
            .map(|a| content::Named {
                hash: BlobHash::of(&a.data).0,
                name: &a.name,
                content_type: &a.content_type,
            })
            .collect();
        let body = content::build(subject, text, &named);
        let blobs: Vec<std::sync::Arc<[u8]>> = attachments
            .iter()
            .map(|a| std::sync::Arc::from(a.data.as_slice()))
            .collect();
        let now = self.clock.now_unix();
        self.store.in_transaction(|s| -> Result<String, CoreError> {
            let mut node = restore(s, &rec, &ListTimers::default(), now)?;
            let id = node
                .post(ms(now), body, blobs)
                .map_err(|e| CoreError::List(e.to_string()))?;
            persist(s, &rec, &mut node, now)?;
            Ok(hex(&id.0))
        })
    }

    /// A list's members in good standing.
    pub fn list_members(
        &self,
        identity: &str,
        list: &str,
    ) -> Result<Vec<ListMemberView>, CoreError> {
        let me = self.find_identity(identity)?;
        let rec = self.member_list(me.id, list)?;
        let node = restore(
            &self.store,
            &rec,
            &ListTimers::default(),
            self.clock.now_unix(),
        )?;
        let links = self.store.list_links(rec.id)?;
        let mut members: Vec<ListMemberView> = node
            .members()
            .into_iter()
            .map(|m| ListMemberView {
                member: hex(&m.0),
                me: m == node.me(),
                neighbour: links
                    .iter()
                    .find(|(k, _)| k.as_slice() == m.0)
                    .map(|(_, a)| a.clone()),
            })
            .collect();
        members.sort_by(|a, b| b.me.cmp(&a.me).then(a.member.cmp(&b.member)));
        Ok(members)
    }

    /// A list's posts with text, oldest first.
    pub fn list_posts(&self, identity: &str, list: &str) -> Result<Vec<ListPostView>, CoreError> {
        let me = self.find_identity(identity)?;
        let rec = self.find_list(me.id, list)?;
        let mut out = Vec::new();
        for (bytes, _) in self.store.list_posts_of_kind(rec.id, "text")? {
            let post = Post::decode(&bytes).map_err(|_| CoreError::Corrupt("list post".into()))?;
            if let Body::Text { content, blobs } = &post.body {
                let (subject, text, attachments) = content::read(content, blobs, |h| {
                    self.store.has_list_blob(rec.id, h).unwrap_or(false)
                });
                out.push(ListPostView {
                    author: hex(&post.author.0),
                    time: i64::try_from(post.time / 1000).unwrap_or(i64::MAX),
                    subject,
                    text,
                    attachments,
                });
            }
        }
        Ok(out)
    }

    /// Saves the attachments of a list's posts that this member holds into `dir`, each once,
    /// under its name made safe (as `save_attachments` does for mail: never over an existing
    /// file). Returns the paths written.
    pub fn save_list_attachments(
        &self,
        identity: &str,
        list: &str,
        dir: &std::path::Path,
    ) -> Result<Vec<std::path::PathBuf>, CoreError> {
        let mut saved = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for post in self.list_posts(identity, list)? {
            for a in post.attachments {
                if !a.held || !seen.insert(a.hash.clone()) {
                    continue;
                }
                let hash = data_encoding::HEXLOWER
                    .decode(a.hash.as_bytes())
                    .map_err(|_| corrupt("attachment hash"))?;
                let (path, mut file) = crate::mail::reading::create_in(dir, &a.name)?;
                self.store.copy_blob(&hash, &mut file)?;
                saved.push(path);
            }
        }
        Ok(saved)
    }

    /// A moderator removes a member (named by its list key in hex, or the start of it): the
    /// removal travels like a post, and every member drops the member's later posts.
    pub fn list_remove(
        &mut self,
        identity: &str,
        list: &str,
        member: &str,
    ) -> Result<(), CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let rec = self.member_list(me.id, list)?;
        let now = self.clock.now_unix();
        let sel = member.trim().to_ascii_lowercase();
        self.store.in_transaction(|s| -> Result<(), CoreError> {
            let mut node = restore(s, &rec, &ListTimers::default(), now)?;
            let found: Vec<MemberId> = node
                .members()
                .into_iter()
                .filter(|m| sel.len() >= 8 && hex(&m.0).starts_with(&sel))
                .collect();
            let [target] = found.as_slice() else {
                return Err(CoreError::List(format!(
                    "{member:?} names no member, or more than one (give at least 8 hex digits of its key)"
                )));
            };
            if *target == node.me() {
                return Err(CoreError::List("to leave a list, leave it".into()));
            }
            node.remove(ms(now), *target)
                .map_err(|e| CoreError::List(e.to_string()))?;
            persist(s, &rec, &mut node, now)
        })
    }

    /// Leaves a list: the last post under this member's list key, which revokes it.
    pub fn list_leave(&mut self, identity: &str, list: &str) -> Result<ListView, CoreError> {
        let me = self.find_identity(identity)?;
        let rec = self.find_list(me.id, list)?;
        let now = self.clock.now_unix();
        if rec.state != MEMBER {
            self.store.set_list_state(rec.id, LEFT, None, None)?;
        } else {
            self.store.in_transaction(|s| -> Result<(), CoreError> {
                let mut node = restore(s, &rec, &ListTimers::default(), now)?;
                node.leave(ms(now))
                    .map_err(|e| CoreError::List(e.to_string()))?;
                persist(s, &rec, &mut node, now)?;
                s.set_list_state(rec.id, LEFT, None, None)?;
                Ok(())
            })?;
        }
        self.list_view(&self.store.list(rec.id)?)
    }

    /// A contact's address, by address or display name.
    fn list_contact(&self, identity_id: i64, selector: &str) -> Result<String, CoreError> {
        let sel = selector.trim();
        let contacts = self.store.contacts(identity_id)?;
        let found: Vec<_> = contacts
            .iter()
            .filter(|c| c.address == sel || c.display_name == sel)
            .collect();
        match found.as_slice() {
            [one] => Ok(one.address.clone()),
            _ => Err(CoreError::ContactNotFound(sel.to_owned())),
        }
    }

    fn member_list(&self, identity_id: i64, list: &str) -> Result<ListRecord, CoreError> {
        let rec = self.find_list(identity_id, list)?;
        if rec.state != MEMBER {
            return Err(CoreError::List(format!(
                "not a member of {} (it is {})",
                rec.name, rec.state
            )));
        }
        Ok(rec)
    }
}
