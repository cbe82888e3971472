//! The UI's TypeScript is generated from the command set; the checked-in copy must be current.

use std::path::Path;

#[test]
fn the_checked_in_bindings_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/generated/api.ts");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    let want = postern_api::typescript();
    assert!(
        have == want,
        "{} is stale: run `cargo run -p postern-api --bin postern-bindings` and commit it",
        path.display()
    );
}

#[test]
fn every_command_and_error_kind_is_declared_once() {
    let ts = postern_api::typescript();
    for c in postern_api::COMMANDS {
        let entry = format!("  {c}: {{ args: ");
        assert_eq!(ts.matches(&entry).count(), 1, "{c} in Commands");
    }
    // Error kinds: one spelling everywhere (snake_case, as the CLI's JSON and exit codes say).
    let kinds = ts
        .lines()
        .find(|l| l.starts_with("export type ErrorKind = "))
        .expect("ErrorKind declared");
    for k in [
        "\"wrong_passphrase\"",
        "\"bad_input\"",
        "\"not_found\"",
        "\"internal\"",
    ] {
        assert!(kinds.contains(k), "{k} in {kinds}");
    }
    assert!(!kinds.contains("WrongPassphrase"), "{kinds}");
}
