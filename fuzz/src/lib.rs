//! What the fuzz targets share: two fixed identities (checked-in keys, so that a crash found
//! once reproduces), and their addresses.

use std::sync::OnceLock;

use postern_crypto::IdentityKeys;
use postern_types::LocalPart;

fn load(name: &str, seed: &[u8], tsk: &[u8]) -> IdentityKeys {
    IdentityKeys::from_secrets(
        LocalPart::new(name).expect("name"),
        &format!("{name} (fuzz)"),
        seed,
        tsk,
    )
    .expect("fixture keys")
}

/// Alice, who sends.
pub fn alice() -> &'static IdentityKeys {
    static K: OnceLock<IdentityKeys> = OnceLock::new();
    K.get_or_init(|| {
        load(
            "alice",
            include_bytes!("../fixtures/alice.onion-seed"),
            include_bytes!("../fixtures/alice.tsk"),
        )
    })
}

/// Bob, who receives.
pub fn bob() -> &'static IdentityKeys {
    static K: OnceLock<IdentityKeys> = OnceLock::new();
    K.get_or_init(|| {
        load(
            "bob",
            include_bytes!("../fixtures/bob.onion-seed"),
            include_bytes!("../fixtures/bob.tsk"),
        )
    })
}
