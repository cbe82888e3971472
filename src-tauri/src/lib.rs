//! The Postern app: a thin Tauri 2 shell. Every command forwards to `postern-core` and returns
//! its view (or its error, with the kind the UI turns into a sentence). No behaviour lives here.

mod commands;
mod error;
mod shell;

use shell::Shell;

/// Start the app (desktop `main`, and the mobile entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let shell = Shell::from_env();
    let result = tauri::Builder::default()
        .manage(shell)
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::init_store,
            commands::unlock,
            commands::identities,
            commands::create_identity,
            commands::start_node,
            commands::node_status,
            commands::inbox,
            commands::requests,
            commands::read_message,
            commands::accept_request,
            commands::send,
            commands::outbox,
            commands::contacts,
            commands::introduce,
            commands::create_invite,
            commands::read_scanned,
            commands::scan_image,
            commands::scan_frame,
            commands::accept_scanned,
            commands::carriers,
            commands::set_carrier_mode,
            commands::set_carrier_policy,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Postern could not start its window: {e}");
        std::process::exit(1);
    }
}
