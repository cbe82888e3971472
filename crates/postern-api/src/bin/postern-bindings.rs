//! Write the UI's generated TypeScript (`ui/src/generated/api.ts`), or check it (`--check`).

use std::path::PathBuf;

fn main() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/generated/api.ts");
    let want = postern_api::typescript();
    if std::env::args().any(|a| a == "--check") {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            eprintln!(
                "{} is stale: run `cargo run -p postern-api --bin postern-bindings`",
                path.display()
            );
            std::process::exit(1);
        }
        return;
    }
    if let Some(dir) = path.parent() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            std::process::exit(1);
        }
    }
    if let Err(e) = std::fs::write(&path, want) {
        eprintln!("cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    println!("wrote {}", path.display());
}
