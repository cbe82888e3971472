#![doc = include_str!("../README.md")]

mod commands;
mod error;
mod session;

pub use commands::COMMANDS;
pub use error::ApiError;
pub use session::{NodeStatus, Session, SessionConfig};
