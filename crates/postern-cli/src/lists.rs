//! `postern list …`: mailing lists. What a command sends waits in the outbox for `postern run`.

use std::io::Read;

use postern_core::{ListMemberView, ListPostView, ListView};

use crate::args::{Cli, ListCommand};
use crate::output::{print_json, when, Output};
use crate::{open, CliError};

/// Largest post text read from standard input (a post's content is at most 256 KiB).
const MAX_STDIN: u64 = 256 * 1024;

pub(crate) fn run(cli: &Cli, cmd: &ListCommand, out: &Output) -> Result<(), CliError> {
    let mut p = open(cli)?;
    match cmd {
        ListCommand::Show { identity } => show(out, &p.lists(identity)?),
        ListCommand::Create { identity, name } => {
            let view = p.list_create(identity, name)?;
            one(out, &view, "Created");
        }
        ListCommand::Invite {
            identity,
            list,
            contact,
        } => {
            p.list_invite(identity, list, contact)?;
            out.done("Invitation queued; it goes out when `postern run` runs.");
        }
        ListCommand::Join { identity, list } => {
            let view = p.list_join(identity, list)?;
            one(out, &view, "Asked to join");
        }
        ListCommand::Post {
            identity,
            list,
            subject,
            text,
            attach,
        } => {
            let text = match text {
                Some(t) => t.clone(),
                None => {
                    let mut t = String::new();
                    std::io::stdin()
                        .take(MAX_STDIN + 1)
                        .read_to_string(&mut t)
                        .map_err(|e| CliError::Io(format!("reading the post: {e}")))?;
                    t
                }
            };
            let limit = crate::mail::AttachmentLimit {
                bytes: postern_core::MAX_LIST_ATTACHMENT as u64,
                carrier: "a list carries",
            };
            let attachments = crate::mail::attachments_from(attach, &limit)?;
            let id = p.list_post_with(identity, list, subject, &text, &attachments)?;
            if out.json() {
                print_json(&serde_json::json!({ "post": id }));
            } else {
                say!(
                    "Posted ({}); it goes out when `postern run` runs.",
                    &id[..16]
                );
            }
        }
        ListCommand::Read {
            identity,
            list,
            save_attachments,
        } => {
            posts(out, &p.list_posts(identity, list)?);
            if let Some(dir) = save_attachments {
                for path in p.save_list_attachments(identity, list, dir)? {
                    if !out.json() {
                        say!("Saved {}", path.display());
                    }
                }
            }
        }
        ListCommand::Members { identity, list } => members(out, &p.list_members(identity, list)?),
        ListCommand::Remove {
            identity,
            list,
            member,
        } => {
            p.list_remove(identity, list, member)?;
            out.done("Removed; the removal goes out when `postern run` runs.");
        }
        ListCommand::Leave { identity, list } => {
            let view = p.list_leave(identity, list)?;
            one(out, &view, "Left");
        }
    }
    Ok(())
}

fn one(out: &Output, view: &ListView, what: &str) {
    if out.json() {
        return print_json(view);
    }
    say!(
        "{what} list {:?} ({}), {}.",
        view.name,
        &view.id[..16],
        view.state
    );
}

fn show(out: &Output, lists: &[ListView]) {
    if out.json() {
        return print_json(&lists);
    }
    if lists.is_empty() {
        say!("No lists.");
    }
    for l in lists {
        let from = if l.inviter.is_empty() {
            String::new()
        } else {
            format!("  invited by {}", l.inviter)
        };
        say!(
            "{}  {:<24} {:<8} {} members, {} posts{from}",
            &l.id[..16],
            l.name,
            l.state,
            l.members,
            l.posts
        );
    }
}

fn posts(out: &Output, posts: &[ListPostView]) {
    if out.json() {
        return print_json(&posts);
    }
    if posts.is_empty() {
        say!("No posts yet.");
    }
    for p in posts {
        say!("{}  {}  {}", when(p.time), &p.author[..16], p.subject);
        for line in p.text.lines() {
            say!("    {line}");
        }
        for a in &p.attachments {
            let state = if a.held {
                ""
            } else if a.too_large {
                "  (too large for a list, not fetched)"
            } else {
                "  (on its way)"
            };
            say!(
                "    [attachment] {} ({}, {} bytes){state}",
                a.name,
                a.content_type,
                a.size
            );
        }
    }
}

fn members(out: &Output, members: &[ListMemberView]) {
    if out.json() {
        return print_json(&members);
    }
    for m in members {
        let who = match (&m.neighbour, m.me) {
            (_, true) => "you".to_owned(),
            (Some(a), _) => format!("neighbour {a}"),
            (None, _) => String::new(),
        };
        say!("{}  {who}", &m.member[..16]);
    }
}
