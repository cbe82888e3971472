//! Helpers shared by the gateway's integration tests.
#![allow(dead_code)]

pub mod client;
pub mod dkim;
pub mod dns;
pub mod postfix;
