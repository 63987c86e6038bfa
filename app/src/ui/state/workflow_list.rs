//! The saved workflows, as the workflows column lists them: the list, and whether it has
//! come from the server yet.

use leptos::prelude::*;

use super::notice::Notice;
use crate::model::api::WorkflowSummary;
use crate::ui::client;
use crate::ui::spawn_local;

/// The workflows-list slice.
#[derive(Clone, Copy)]
pub struct WorkflowList {
    /// The saved workflows (the workflows column).
    pub workflows: RwSignal<Vec<WorkflowSummary>>,
    /// The list has come from the server at least once (until then the column is busy).
    pub listed: RwSignal<bool>,
    notice: Notice,
}

impl WorkflowList {
    pub fn new(notice: Notice) -> Self {
        WorkflowList {
            workflows: RwSignal::new(Vec::new()),
            listed: RwSignal::new(false),
            notice,
        }
    }

    /// Reads the list from the server again.
    pub fn refresh(&self) {
        let this = *self;
        spawn_local(async move {
            match client::list_workflows().await {
                Ok(list) => {
                    this.workflows.set(list);
                    this.listed.set(true);
                }
                Err(e) => this.notice.fail(e),
            }
        });
    }
}
