//! `send`, `reply`, `inbox`, `read`, `outbox`, `requests`.

use std::path::{Path, PathBuf};

use postern_core::{Attachment, Postern};

use crate::args::SendArgs;
use crate::output::Output;
use crate::CliError;

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Io(format!("cannot read {}: {e}", path.display())))
}

/// A MIME type from the file name; `application/octet-stream` when unsure.
fn guess_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// The text of a message: given, from a file, or from standard input.
pub(crate) fn text_of(body: Option<&str>, file: Option<&Path>) -> Result<String, CliError> {
    Ok(match (body, file) {
        (Some(t), _) => t.to_owned(),
        (None, Some(f)) => String::from_utf8(read_file(f)?)
            .map_err(|_| CliError::Usage(format!("{} is not UTF-8 text", f.display())))?,
        (None, None) => crate::read_stdin()?,
    })
}

/// Reply to message `id` with `text` above the quoted original, and send it.
pub(crate) fn reply(
    p: &mut Postern,
    id: i64,
    all: bool,
    text: &str,
) -> Result<postern_core::OutboxView, CliError> {
    let d = p.reply(id, all)?;
    let saved = p.save_draft(
        &postern_core::DraftInput {
            id: Some(d.id),
            identity: d.identity.clone(),
            to: d.to.clone(),
            subject: d.subject.clone(),
            text: format!("{}{}", text.trim_end(), d.text),
            ..Default::default()
        },
        &[],
    )?;
    match p.send_draft(saved.id) {
        Ok(o) => Ok(o),
        Err(e) => {
            // Nothing half-done: the reply is not left behind as a draft.
            let _ = p.discard_draft(saved.id);
            Err(e.into())
        }
    }
}

pub(crate) fn send(p: &mut Postern, a: &SendArgs, out: &Output) -> Result<(), CliError> {
    let text = text_of(a.body.as_deref(), a.body_file.as_deref())?;
    let attachments = attachments_from(&a.attach, &mail_attachment_limit())?;
    let queued = match &a.via_gateway {
        Some(gateway) => {
            let key = a.to_key.as_deref().map(read_file).transpose()?;
            let q = p.send_via_gateway(
                &a.from,
                gateway,
                &a.to,
                &a.subject,
                &text,
                &attachments,
                key.as_deref(),
            )?;
            if !out.json() {
                if key.is_some() {
                    eprintln!(
                        "Note: the gateway {gateway} reads this message to deliver it, and \
                         encrypts it to {}'s key (PGP/MIME): it is not end-to-end encrypted.",
                        a.to.trim()
                    );
                } else {
                    eprintln!(
                        "Note: this message leaves the gateway {gateway} as ordinary email, not \
                         end-to-end encrypted: the gateway and {}'s mail servers can read it \
                         (unless the gateway knows their OpenPGP key; --to-key gives it).",
                        a.to.trim()
                    );
                }
            }
            q
        }
        None => p.send(&a.from, &a.to, &a.subject, &text, &attachments)?,
    };
    out.queued(&queued);
    Ok(())
}

/// How large a mail's attachment can be: what the whole message may be.
pub(crate) fn mail_attachment_limit() -> AttachmentLimit {
    AttachmentLimit {
        bytes: postern_core::NodeConfig::default().smtp.max_message_size as u64,
        carrier: "a message carries",
    }
}

/// The largest file `--attach` takes, and what carries it (for the refusal).
pub(crate) struct AttachmentLimit {
    pub(crate) bytes: u64,
    pub(crate) carrier: &'static str,
}

/// Files given with `--attach`, read, each named after its file. A file over `limit` is
/// refused by its size before any of it is read.
pub(crate) fn attachments_from(
    paths: &[PathBuf],
    limit: &AttachmentLimit,
) -> Result<Vec<Attachment>, CliError> {
    let mut attachments = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        let len = std::fs::metadata(path)
            .map_err(|e| CliError::Io(format!("cannot read {}: {e}", path.display())))?
            .len();
        if len > limit.bytes {
            return Err(CliError::Usage(format!(
                "{name:?} is {len} bytes; {} attachments of at most {} MiB",
                limit.carrier,
                limit.bytes / (1024 * 1024)
            )));
        }
        attachments.push(Attachment {
            content_type: guess_type(&name).to_owned(),
            name,
            data: read_file(path)?,
        });
    }
    Ok(attachments)
}

pub(crate) fn save_attachments(p: &Postern, id: i64, dir: &Path) -> Result<Vec<String>, CliError> {
    Ok(p.save_attachments(id, dir)?
        .into_iter()
        .map(|path| path.display().to_string())
        .collect())
}
