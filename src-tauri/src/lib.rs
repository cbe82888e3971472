//! The Postern app: a thin Tauri 2 shell. The web UI's one command, `call`, goes to
//! `postern-api`, which holds the command set; what changes comes back as the Tauri event
//! `postern://event`. No behaviour lives here.

use postern_api::{ApiError, Session, SessionConfig};
use serde_json::Value;
use tauri::{Emitter, Manager, State};
use tauri_plugin_notification::NotificationExt;

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
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            // Before the system sleeps the node stops cleanly; on waking it starts again and
            // pulls from the carriers (logind's PrepareForSleep; see postern-api).
            #[cfg(target_os = "linux")]
            {
                let handle = app.handle().clone();
                tauri::async_runtime::spawn(async move {
                    let session = handle.state::<Session>();
                    if let Err(e) = session.follow_system_sleep(None).await {
                        eprintln!(
                            "Postern will not pause for the system's sleep: {}",
                            e.message
                        );
                    }
                });
            }
            let mut events = app.state::<Session>().subscribe();
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                use tokio::sync::broadcast::error::RecvError;
                loop {
                    let e = match events.recv().await {
                        Ok(e) => e,
                        Err(RecvError::Lagged(_)) => serde_json::json!({ "kind": "lagged" }),
                        Err(RecvError::Closed) => break,
                    };
                    // What a notification may say was decided by the core (its settings).
                    if e["kind"] == "notification" {
                        let (title, body) = (e["title"].as_str(), e["body"].as_str());
                        let shown = handle
                            .notification()
                            .builder()
                            .title(title.unwrap_or("Postern"))
                            .body(body.unwrap_or_default())
                            .show();
                        if let Err(err) = shown {
                            eprintln!("Postern could not show a notification: {err}");
                        }
                        continue;
                    }
                    let _ = handle.emit("postern://event", e);
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![call])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Postern could not start its window: {e}");
        std::process::exit(1);
    }
}
