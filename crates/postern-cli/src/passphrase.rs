//! Getting the passphrase: from `POSTERN_PASSPHRASE` (for scripts) or a terminal prompt.

use std::io::IsTerminal;

use zeroize::Zeroizing;

use crate::CliError;

/// Environment variable scripts use to pass the passphrase.
pub(crate) const ENV: &str = "POSTERN_PASSPHRASE";
/// Set to `1`: read the passphrase from the first line of standard input instead.
pub(crate) const ENV_STDIN: &str = "POSTERN_PASSPHRASE_STDIN";

fn from_env() -> Option<Zeroizing<String>> {
    if std::env::var(ENV_STDIN).as_deref() == Ok("1") {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().read_line(&mut line).ok()?;
        let end = line.trim_end_matches(['\r', '\n']).len();
        line.truncate(end);
        return Some(line);
    }
    std::env::var(ENV).ok().map(Zeroizing::new)
}

/// A long-running command (the node) must not keep the passphrase in its environment, where
/// `/proc/PID/environ` shows it for the process's whole life: if it came from `ENV`, run this
/// same program again in this process (exec), without `ENV`, handing the passphrase over a
/// pipe on standard input. Returns only if there was nothing to do; an error if exec failed.
pub(crate) fn leave_the_environment() -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let Some(pass) = std::env::var_os(ENV) else {
        return Ok(());
    };
    let io = |what: &str, e: std::io::Error| CliError::Io(format!("{what}: {e}"));
    let exe = std::env::current_exe().map_err(|e| io("cannot find this program", e))?;
    let (reader, mut writer) = std::io::pipe().map_err(|e| io("cannot make a pipe", e))?;
    writer
        .write_all(pass.as_encoded_bytes())
        .and_then(|()| writer.write_all(b"\n"))
        .map_err(|e| io("cannot pass the passphrase on", e))?;
    drop(writer);
    drop(pass);
    let e = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env_remove(ENV)
        .env(ENV_STDIN, "1")
        .stdin(reader)
        .exec();
    Err(io(
        "cannot restart without the passphrase in the environment",
        e,
    ))
}

fn no_terminal() -> CliError {
    CliError::Usage(format!(
        "a passphrase is needed: run in a terminal, or set {ENV} for scripts"
    ))
}

/// The passphrase of an existing store.
pub(crate) fn existing() -> Result<Zeroizing<String>, CliError> {
    if let Some(p) = from_env() {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal());
    }
    rpassword::prompt_password("Passphrase: ")
        .map(Zeroizing::new)
        .map_err(|e| CliError::Io(format!("cannot read the passphrase: {e}")))
}

/// A passphrase for a new store, asked twice.
pub(crate) fn new() -> Result<Zeroizing<String>, CliError> {
    if let Some(p) = from_env() {
        if p.is_empty() {
            return Err(CliError::Usage(format!("{ENV} is empty")));
        }
        return Ok(p);
    }
    ask_twice()
}

/// Environment variable scripts use to pass the new passphrase to `postern passphrase`.
pub(crate) const ENV_NEW: &str = "POSTERN_NEW_PASSPHRASE";

/// The passphrase replacing the current one: from `ENV_NEW`, or asked twice.
pub(crate) fn replacement() -> Result<Zeroizing<String>, CliError> {
    if let Ok(p) = std::env::var(ENV_NEW) {
        if p.is_empty() {
            return Err(CliError::Usage(format!("{ENV_NEW} is empty")));
        }
        return Ok(Zeroizing::new(p));
    }
    ask_twice()
}

fn ask_twice() -> Result<Zeroizing<String>, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal());
    }
    let read = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| CliError::Io(format!("cannot read the passphrase: {e}")))
    };
    let first = read("New passphrase: ")?;
    if first.is_empty() {
        return Err(CliError::Usage("the passphrase must not be empty".into()));
    }
    let second = read("Repeat it: ")?;
    if *first != *second {
        return Err(CliError::Usage(
            "the two passphrases differ; nothing was changed".into(),
        ));
    }
    Ok(first)
}

/// Ask a yes/no question on the terminal. Without a terminal the answer is no.
pub(crate) fn confirm(question: &str) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::Io(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// Environment variable scripts use to pass a backup's passphrase.
pub(crate) const ENV_BACKUP: &str = "POSTERN_BACKUP_PASSPHRASE";

/// The passphrase sealing a new backup: from `ENV_BACKUP`, or asked twice.
pub(crate) fn new_backup() -> Result<Zeroizing<String>, CliError> {
    if let Ok(p) = std::env::var(ENV_BACKUP) {
        if p.is_empty() {
            return Err(CliError::Usage(format!("{ENV_BACKUP} is empty")));
        }
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "a backup passphrase is needed: run in a terminal, or set {ENV_BACKUP} for scripts"
        )));
    }
    eprintln!("The backup gets a passphrase of its own (it is needed to restore it).");
    ask_twice()
}

/// The passphrase of an existing backup: from `ENV_BACKUP`, or asked once.
pub(crate) fn backup() -> Result<Zeroizing<String>, CliError> {
    if let Ok(p) = std::env::var(ENV_BACKUP) {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "the backup's passphrase is needed: run in a terminal, or set {ENV_BACKUP} for scripts"
        )));
    }
    rpassword::prompt_password("Backup passphrase: ")
        .map(Zeroizing::new)
        .map_err(|e| CliError::Io(format!("cannot read the passphrase: {e}")))
}
