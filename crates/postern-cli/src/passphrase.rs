//! Getting the passphrase: from `POSTERN_PASSPHRASE` (for scripts) or a terminal prompt.

use std::io::IsTerminal;

use zeroize::Zeroizing;

use crate::CliError;

/// Environment variable scripts use to pass the passphrase.
pub(crate) const ENV: &str = "POSTERN_PASSPHRASE";

fn from_env() -> Option<Zeroizing<String>> {
    std::env::var(ENV).ok().map(Zeroizing::new)
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
            "the two passphrases differ; nothing was created".into(),
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
