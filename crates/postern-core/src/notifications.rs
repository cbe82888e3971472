//! What a desktop notification says about an event, if anything. By default it shows neither
//! who wrote nor what about ("New mail"), and contact requests make none: a notification is on
//! the screen for anyone nearby, and notification daemons keep a history. The person can choose
//! to show the sender's name, the subject, and requests.

use serde::{Deserialize, Serialize};

use crate::mail::{INBOX, REQUESTS};
use crate::{CoreError, EventView, Postern};

/// What notifications may show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct NotificationSettings {
    /// The sender's display name (never the address).
    pub show_sender: bool,
    /// The subject.
    pub show_subject: bool,
    /// Notify for contact requests (mail from people not in the address book) too.
    pub requests: bool,
}

/// A notification to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notification {
    /// The title line.
    pub title: String,
    /// The text under it.
    pub body: String,
}

const SETTING: &str = "notifications";

impl Postern {
    /// What notifications may show on this device.
    pub fn notification_settings(&self) -> Result<NotificationSettings, CoreError> {
        Ok(match self.store.setting(SETTING)? {
            Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
            None => NotificationSettings::default(),
        })
    }

    /// Change what notifications may show.
    pub fn set_notification_settings(&mut self, s: NotificationSettings) -> Result<(), CoreError> {
        let bytes = serde_json::to_vec(&s).map_err(|e| CoreError::Corrupt(e.to_string()))?;
        Ok(self.store.set_setting(SETTING, &bytes)?)
    }

    /// The notification for `event`, if it deserves one under the settings.
    pub fn notification_for(&self, event: &EventView) -> Result<Option<Notification>, CoreError> {
        if event.kind != postern_store::event_kind::MESSAGE {
            return Ok(None);
        }
        let settings = self.notification_settings()?;
        let request = match event.detail.as_str() {
            INBOX => false,
            REQUESTS if settings.requests => true,
            _ => return Ok(None),
        };
        let Some(id) = event.reference else {
            return Ok(None);
        };
        let m = match self.record(id) {
            Ok(m) => m,
            // Deleted since: nothing to tell.
            Err(CoreError::MessageNotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        // Moved or declined since.
        if m.folder != event.detail {
            return Ok(None);
        }
        let title = if request {
            "New contact request"
        } else {
            "New mail"
        };
        let mut body = Vec::new();
        if settings.show_sender && !m.sender_name.is_empty() {
            body.push(format!(
                "From {}",
                postern_types::for_terminal(&m.sender_name)
            ));
        }
        if settings.show_subject && !m.subject.is_empty() {
            body.push(postern_types::for_terminal(&m.subject).into_owned());
        }
        Ok(Some(Notification {
            title: title.into(),
            body: if body.is_empty() {
                "Open Postern to read it.".into()
            } else {
                body.join(": ")
            },
        }))
    }
}
