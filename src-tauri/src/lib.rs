//! The Postern app: a thin Tauri 2 shell. The web UI's one command, `call`, goes to
//! `postern-api`, which holds the command set; no behaviour lives here.

use postern_api::{ApiError, Session, SessionConfig};
use serde_json::Value;
use tauri::State;

/// Every command of the app: `command` names one of `postern_api::COMMANDS`.
#[tauri::command]
async fn call(
    session: State<'_, Session>,
    command: String,
    args: Value,
) -> Result<Value, ApiError> {
    session.call(&command, args).await
}

/// Start the app (desktop `main`, and the mobile entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    // A configuration that cannot be read is not replaced by a default: the app starts and
    // every command answers with that error, which the first screen shows.
    let session = Session::new(SessionConfig::from_env());
    let result = tauri::Builder::default()
        .manage(session)
        .invoke_handler(tauri::generate_handler![call])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Postern could not start its window: {e}");
        std::process::exit(1);
    }
}
