//! Saving the open workflow: autosave after a pause with retries, a local copy of unsaved
//! edits, edit conflicts between tabs (and their two ways out), and the save state the
//! status line says.

use leptos::prelude::*;

use super::document::{draft_key, Document};
use super::notice::Notice;
use super::workflow_list::WorkflowList;
use crate::ui::client;
use crate::ui::spawn_local;

/// How long after the last edit autosave waits before saving.
pub const AUTOSAVE_DELAY_MS: u32 = 800;
/// The longest wait between retries of a failed save.
pub const SAVE_RETRY_MAX_MS: u32 = 16_000;

/// The saving slice.
#[derive(Clone, Copy)]
pub struct Saving {
    pub saving: RwSignal<bool>,
    /// The last save failed; autosave keeps retrying.
    pub save_failed: RwSignal<bool>,
    /// A save was refused: the workflow was changed elsewhere and is now at this revision.
    /// Autosave stops until the user reloads or overwrites.
    pub conflict: RwSignal<Option<i64>>,
    document: Document,
    list: WorkflowList,
    notice: Notice,
}

impl Saving {
    pub fn new(document: Document, list: WorkflowList, notice: Notice) -> Self {
        let this = Saving {
            saving: RwSignal::new(false),
            save_failed: RwSignal::new(false),
            conflict: RwSignal::new(None),
            document,
            list,
            notice,
        };
        // Another workflow opened: the last one's conflict is not this one's.
        Effect::new(move |_| {
            document.opened.track();
            this.conflict.set(None);
        });
        this
    }

    /// After a conflict: drops this tab's edits and opens the server's copy.
    pub fn reload_theirs(&self) {
        let Some(id) = self.document.workflow_id.get_untracked() else {
            return;
        };
        let this = *self;
        spawn_local(async move {
            match client::load_workflow(&id).await {
                Ok(record) => {
                    client::local_remove(&draft_key(Some(&id)));
                    this.document.open_record(record);
                }
                Err(e) => this.notice.fail(e),
            }
        });
    }

    /// After a conflict: saves this tab's copy over the server's.
    pub fn overwrite_theirs(&self) {
        let Some(revision) = self.conflict.get_untracked() else {
            return;
        };
        self.document.server_revision.set(Some(revision));
        self.conflict.set(None);
        let this = *self;
        spawn_local(async move {
            this.save().await;
        });
    }

    /// Saves the open workflow (creating it on the server the first time); returns its id.
    pub async fn save(&self) -> Option<String> {
        // One save at a time: a second one waits, so a new workflow is created only once.
        while self.saving.get_untracked() {
            client::sleep_ms(50).await;
        }
        self.saving.set(true);
        if self.conflict.get_untracked().is_some() {
            // Nothing is saved over another tab's edit until the user chooses.
            self.saving.set(false);
            return None;
        }
        let id = self.document.workflow_id.get_untracked();
        let doc = self.document.doc.get_untracked();
        let revision = self.document.server_revision.get_untracked();
        let result = client::save_workflow(id.as_deref(), &doc, revision).await;
        self.saving.set(false);
        match result {
            Ok(record) => {
                self.document.workflow_id.set(Some(record.id.clone()));
                self.document.server_revision.set(Some(record.revision));
                // Only what was sent is saved: edits made meanwhile stay unsaved.
                if self.document.doc.get_untracked() == doc {
                    self.document.dirty.set(false);
                    client::local_remove(&draft_key(id.as_deref()));
                    client::local_remove(&draft_key(Some(&record.id)));
                }
                self.save_failed.set(false);
                self.notice.clear();
                self.list.refresh();
                Some(record.id)
            }
            Err(e) if e.is_conflict() => {
                self.conflict.set(Some(e.revision.unwrap_or_default()));
                self.save_failed.set(false);
                None
            }
            Err(e) => {
                self.save_failed.set(true);
                self.notice.fail(e);
                None
            }
        }
    }

    /// Saves the edits of `revision` once the user paused, retrying with backoff until the
    /// server has them (or a newer edit takes over).
    async fn autosave(&self, revision: u64) {
        client::sleep_ms(AUTOSAVE_DELAY_MS).await;
        let mut wait = 1_000;
        while self.document.revision.get_untracked() == revision
            && self.document.dirty.get_untracked()
            && self.conflict.get_untracked().is_none()
        {
            if self.save().await.is_some() {
                return;
            }
            client::sleep_ms(wait).await;
            wait = (wait * 2).min(SAVE_RETRY_MAX_MS);
        }
    }

    /// Keeps the local copy of unsaved edits, then saves them after a pause.
    pub fn edited(&self) {
        if !self.document.dirty.get_untracked() {
            return;
        }
        let key = draft_key(self.document.workflow_id.get_untracked().as_deref());
        let json = self
            .document
            .doc
            .with_untracked(|d| serde_json::to_string(d).unwrap_or_default());
        client::local_set(&key, &json);
        let this = *self;
        let revision = self.document.revision.get_untracked();
        spawn_local(async move { this.autosave(revision).await });
    }

    /// The open workflow's id once the server has what is on screen: saves first when there
    /// are unsaved edits (or it was never saved). `None` when that save failed.
    pub async fn saved_id(&self) -> Option<String> {
        match self.document.workflow_id.get_untracked() {
            Some(id) if !self.document.dirty.get_untracked() => Some(id),
            _ => self.save().await,
        }
    }

    /// The save state in words, as the status line shows it.
    pub fn save_state(&self, locale: crate::i18n::Locale) -> &'static str {
        if self.document.opened.get() == 0 {
            // Nothing is open yet (the page is loading it): nothing to say.
            ""
        } else if self.document.is_template() {
            td_string!(locale, status.template)
        } else if self.conflict.with(Option::is_some) {
            td_string!(locale, status.not_saved_conflict)
        } else if self.saving.get() {
            td_string!(locale, status.saving)
        } else if self.save_failed.get() && self.document.dirty.get() {
            td_string!(locale, status.retrying)
        } else if self.document.dirty.get() || self.document.workflow_id.with(Option::is_none) {
            td_string!(locale, status.unsaved)
        } else {
            td_string!(locale, status.saved)
        }
    }
}
