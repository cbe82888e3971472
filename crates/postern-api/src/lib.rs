#![doc = include_str!("../README.md")]

mod args;
mod bindings;
mod commands;
mod devices;
mod error;
mod handlers;
mod session;
#[cfg(target_os = "linux")]
mod system_sleep;

pub use bindings::typescript;
pub use commands::COMMANDS;
pub use error::ApiError;
pub use session::{NodeStatus, Session, SessionConfig};
#[cfg(target_os = "linux")]
pub use system_sleep::SLEEP_GRACE;
