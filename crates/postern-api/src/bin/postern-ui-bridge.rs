//! The app's command set over standard input and output, one JSON object per line, so that the
//! web UI's tests run against the real core (in a browser, without the Tauri window).
//!
//! In:  `{"id": 7, "command": "inbox", "args": {"identity": "…"}}`
//! Out: `{"id": 7, "ok": …}` or `{"id": 7, "error": {"kind": "bad_input", "message": "…"}}`
//! and, whenever something changes, `{"event": …}` (what the app receives as the Tauri event
//! `postern://event`; see `Session::subscribe`).
//!
//! Calls run concurrently (a slow `start_node` does not hold up the rest); answers come in the
//! order they finish. The data directory and network come from the environment, as for the app
//! (`POSTERN_DATA_DIR`, `POSTERN_LOOPBACK`, `POSTERN_NETWORK_CONFIG`). It stops at end of input.

use std::sync::Arc;

use postern_api::{Session, SessionConfig};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

#[derive(Debug, Deserialize)]
struct Call {
    id: u64,
    command: String,
    #[serde(default)]
    args: Value,
}

#[tokio::main]
async fn main() {
    let config = match SessionConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("postern-ui-bridge: {e}");
            std::process::exit(e.kind.exit_code());
        }
    };
    let session = Arc::new(Session::new(Ok(config)));
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        let mut out = tokio::io::stdout();
        while let Some(v) = rx.recv().await {
            let mut line = v.to_string();
            line.push('\n');
            if out.write_all(line.as_bytes()).await.is_err() || out.flush().await.is_err() {
                break;
            }
        }
    });
    let mut events = session.subscribe();
    let forward = {
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) => {
                        if tx.send(json!({ "event": e })).is_err() {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(json!({ "event": { "kind": "lagged" } }));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    };
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut calls = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let call: Call = match serde_json::from_str(&line) {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(json!({"id": null, "error": {"kind": "bad_input", "message": format!("not a call: {e}")}}));
                continue;
            }
        };
        let (session, tx) = (session.clone(), tx.clone());
        calls.push(tokio::spawn(async move {
            let answer = match session.call(&call.command, call.args).await {
                Ok(v) => json!({"id": call.id, "ok": v}),
                Err(e) => json!({"id": call.id, "error": e}),
            };
            let _ = tx.send(answer);
        }));
    }
    for c in calls {
        let _ = c.await;
    }
    forward.abort();
    drop(tx);
    let _ = writer.await;
}
