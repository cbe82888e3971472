//! What a desktop or phone shell reads to show the app: the desktop entry and the AppStream
//! metainfo that `scripts/package-deb.sh` installs. They name this app (the desktop entry after
//! the window's app id, the metainfo after the app's identifier), say it fits a phone (Phosh's
//! and Plasma Mobile's form factors; AppStream's display length and touch), and pass the
//! freedesktop validators (`desktop-file-validate`, `appstreamcli validate`; the test command
//! installs both).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn conf() -> serde_json::Value {
    let conf = std::fs::read_to_string(root().join("src-tauri/tauri.conf.json")).expect("conf");
    serde_json::from_str(&conf).expect("json")
}

/// The app's identifier, from tauri.conf.json (the AppStream component's id).
fn identifier() -> String {
    conf()["identifier"]
        .as_str()
        .expect("identifier")
        .to_owned()
}

/// The binary's name.
fn binary() -> String {
    Path::new(env!("CARGO_BIN_EXE_postern-app"))
        .file_name()
        .and_then(|n| n.to_str())
        .expect("binary name")
        .to_owned()
}

/// The window's app id (Wayland) and class (X11), which a shell matches to a desktop entry of
/// that name: the identifier when Tauri is told to set a GTK app id, else the binary's name.
fn window_app_id() -> String {
    if conf()["app"]["enableGTKAppId"].as_bool() == Some(true) {
        identifier()
    } else {
        binary()
    }
}

/// The `[Desktop Entry]` group's keys.
fn desktop_entry(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).expect("desktop entry");
    let mut group = "";
    let mut keys = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            group = line;
            continue;
        }
        if group == "[Desktop Entry]" {
            let (k, v) = line.split_once('=').expect("key=value");
            keys.insert(k.to_owned(), v.to_owned());
        }
    }
    keys
}

fn list(v: &str) -> Vec<&str> {
    v.split(';').filter(|s| !s.is_empty()).collect()
}

/// Runs a validator; `None` where it is not installed.
fn validate(tool: &str, args: &[&str]) -> Option<(bool, String)> {
    let out = Command::new(tool).args(args).output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), text))
}

#[test]
fn the_desktop_entry_names_this_app_and_says_it_fits_a_phone() {
    let id = window_app_id();
    // Named after the window's app id, so the shell shows the running window with its icon.
    let path = root().join(format!("packaging/{id}.desktop"));
    let e = desktop_entry(&path);
    assert_eq!(e.get("Type").map(String::as_str), Some("Application"));
    assert_eq!(
        e.get("Exec").and_then(|x| x.split(' ').next()),
        Some(binary().as_str())
    );
    assert_eq!(
        e.get("Icon"),
        Some(&id),
        "the icons are installed under the app id"
    );
    assert_eq!(e.get("StartupWMClass"), Some(&id));
    assert!(list(&e["Categories"]).contains(&"Email"));
    assert!(
        list(&e["X-Purism-FormFactor"]).contains(&"Mobile"),
        "Phosh lists it on a phone"
    );
    assert!(
        list(&e["X-KDE-FormFactor"]).contains(&"handset"),
        "Plasma Mobile lists it"
    );
    match validate("desktop-file-validate", &[path.to_str().expect("path")]) {
        Some((ok, text)) => assert!(
            ok && text.trim().is_empty(),
            "desktop-file-validate: {text}"
        ),
        None => {
            eprintln!("skipped desktop-file-validate: not installed (scripts/test.sh installs it)")
        }
    }
}

#[test]
fn the_metainfo_declares_phone_screens_and_touch_and_validates() {
    let id = identifier();
    let path = root().join(format!("packaging/{id}.metainfo.xml"));
    let text = std::fs::read_to_string(&path).expect("metainfo");
    assert!(text.contains(&format!("<id>{id}</id>")));
    let desktop = window_app_id();
    assert!(text.contains(&format!(
        r#"<launchable type="desktop-id">{desktop}.desktop</launchable>"#
    )));
    let length = text
        .split(r#"<display_length compare="ge">"#)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .and_then(|n| n.trim().parse::<u32>().ok())
        .expect("a display length is required");
    assert!(length <= 360, "a 360 px wide phone is allowed ({length})");
    assert!(text.contains("<control>touch</control>"));
    match validate(
        "appstreamcli",
        &[
            "validate",
            "--no-net",
            "--pedantic",
            path.to_str().expect("path"),
        ],
    ) {
        Some((ok, text)) => assert!(ok, "appstreamcli validate: {text}"),
        None => {
            eprintln!("skipped appstreamcli validate: not installed (scripts/test.sh installs it)")
        }
    }
}
