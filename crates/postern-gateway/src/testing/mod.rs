//! The ordinary mail world on loopback, for tests and benchmarks (feature `testing`): a DNS
//! server answering from a fixed zone, Debian's Postfix as a real MTA, a bare SMTP client for
//! probing, and the fixture DKIM key with an independent verifier. Never on the product's path.
#![allow(clippy::expect_used, missing_docs)]

pub mod client;
pub mod dkim;
pub mod dns;
pub mod postfix;
