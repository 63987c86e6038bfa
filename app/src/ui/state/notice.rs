//! The failure the status line shows: a refused request, a save that failed, a bad paste —
//! what went wrong, and the problems the server listed.

use leptos::prelude::*;

use crate::ui::client::ApiFailure;

/// The slice of the page's state that says what went wrong last (one owner: whoever failed
/// sets it; the status line shows it).
#[derive(Clone, Copy)]
pub struct Notice {
    pub failure: RwSignal<Option<ApiFailure>>,
}

impl Notice {
    pub fn new() -> Self {
        Notice {
            failure: RwSignal::new(None),
        }
    }

    /// Shows a failure from the server.
    pub fn fail(&self, failure: ApiFailure) {
        self.failure.set(Some(failure));
    }

    /// Shows a failure found in the browser (a field, a paste).
    pub fn say(&self, message: impl Into<String>) {
        self.fail(ApiFailure {
            message: message.into(),
            ..Default::default()
        });
    }

    pub fn clear(&self) {
        self.failure.set(None);
    }
}

impl Default for Notice {
    fn default() -> Self {
        Self::new()
    }
}
