#![doc = include_str!("../README.md")]

mod client;
mod reply;
mod server;

pub use client::{data_block, ReplyParseError, ReplyParser};
pub use reply::Reply;
pub use server::{
    CarryClaim, Envelope, Event, ServerConfig, ServerSession, SessionKind, CONTROL_VERBS,
    MAX_CARD_REQUESTS, MAX_COMMAND_LINE, MAX_TEXT_LINE,
};
