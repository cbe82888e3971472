#![doc = include_str!("../README.md")]

mod client;
mod reply;
mod server;
mod session_types;

pub use client::{data_block, ReplyParseError, ReplyParser};
pub use reply::Reply;
pub use server::ServerSession;
pub use session_types::{
    CarryClaim, Envelope, Event, ServerConfig, SessionKind, CONTROL_VERBS, MAX_CARD_REQUESTS,
    MAX_COMMAND_LINE, MAX_TEXT_LINE,
};
