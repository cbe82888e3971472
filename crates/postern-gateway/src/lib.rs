//! Postern's gateway to ordinary email.
//!
//! A node with a public host name can carry its Postern contacts' mail out to ordinary
//! addresses and bring the replies back. This crate holds the parts that face the ordinary
//! mail world:
//!
//! - [`reply`]: reply addresses — `r-<token>@<gateway domain>`, a MAC with the gateway's secret
//!   over the Postern sender's route, an expiry and the correspondent they were issued to;
//! - [`recipient`]: which `RCPT TO` the gateway's public SMTP server takes (only those) — the
//!   open-relay refusal;
//! - [`outbound`]: the RFC 5322 message an ordinary recipient gets, DKIM-signed;
//! - [`deliver`]: MX lookup over ordinary DNS and SMTP delivery with opportunistic STARTTLS;
//! - [`inbound`]: the public SMTP server for replies (STARTTLS; SPF, DKIM, DMARC checked;
//!   sessions, time and size bounded), handing accepted mail to a [`ReplySink`].

#[cfg(feature = "net")]
pub mod deliver;
#[cfg(feature = "net")]
pub mod inbound;
#[cfg(feature = "net")]
pub mod outbound;
pub mod recipient;
pub mod reply;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "net")]
pub use deliver::{resolver, DeliveryOutcome, Dns, MxDelivery, Outgoing};
#[cfg(feature = "net")]
pub use inbound::{
    tls_acceptor, InboundChecks, InboundMail, PublicLimits, PublicServer, ReplySink,
};
#[cfg(feature = "net")]
pub use outbound::{DkimKey, OutboundError, OutboundMessage};
pub use recipient::{InboundPolicy, RecipientVerdict};
pub use reply::{mint_local_part, verify_local_part, NotAReplyAddress, ReplyRoute, ReplySecret};
