//! Changing a run in progress — cancel it, change its faults, crash its orchestrator — at
//! the process that owns it, wherever the request arrived: the store says who owns the run,
//! the change goes to that process's driver (here, or through [`super::peers`]), and it is
//! answered only once the change is durable in the run's history. A process that lost the
//! run meanwhile answers so, and the change goes to the new owner; a run between owners (its
//! owner's lease ran out, nobody has claimed it yet) is waited for. Never "accepted" and
//! then lost: either the change is in the run's history, or the caller hears it was not
//! confirmed ([`ControlError::Unconfirmed`]).

use std::time::Duration;

use app::model::RunStatus;

use super::core::Input;
use super::peers::{Answer, Control, Target};
use super::Engine;
use crate::store::StoreError;

/// How long a change waits for the run's owner to confirm it, in all (a takeover in
/// between included) before the caller hears it was not confirmed.
pub const CONTROL_PATIENCE: Duration = Duration::from_secs(8);
/// How long to wait before asking again, when the run's owner did not take the change
/// (it lost the run, or it is being taken over).
const ASK_AGAIN_AFTER: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no run with id {0:?}")]
    NotFound(String),
    #[error("run {run:?} has already ended ({status})")]
    Ended { run: String, status: &'static str },
    #[error("run {run:?}: {why}; the change was not applied — try again")]
    Unconfirmed { run: String, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Control {
    fn input(self) -> Input {
        match self {
            Control::Cancel => Input::Cancel,
            Control::Faults { faults } => Input::SetFaults(faults),
            Control::CrashOrchestrator {
                for_ms,
                standby_lease_ms,
            } => Input::CrashOrchestrator {
                for_ms,
                standby_lease_ms,
            },
            Control::Message { name, data } => Input::Message { name, data },
            Control::ChildEnded {
                run,
                status,
                diagnosis,
                wrote,
            } => Input::ChildEnded {
                run,
                status,
                diagnosis,
                wrote,
            },
        }
    }
}

impl Engine {
    /// Applies `control` to run `run_id` at the process that owns it; returns once the
    /// change is durable in the run's history. Gives up after [`CONTROL_PATIENCE`], even
    /// when the store itself does not answer (a link that stalls).
    pub async fn control(&self, run_id: &str, control: Control) -> Result<(), ControlError> {
        let deadline = tokio::time::Instant::now() + CONTROL_PATIENCE;
        match tokio::time::timeout_at(deadline, self.control_until(run_id, control, deadline)).await
        {
            Ok(done) => done,
            Err(_) => Err(ControlError::Unconfirmed {
                run: run_id.to_string(),
                why: "neither the store nor the run's owner answered in time".into(),
            }),
        }
    }

    async fn control_until(
        &self,
        run_id: &str,
        control: Control,
        deadline: tokio::time::Instant,
    ) -> Result<(), ControlError> {
        let mut why = String::from("its owner did not answer");
        loop {
            let run = self
                .store
                .get_run(run_id)
                .await?
                .ok_or_else(|| ControlError::NotFound(run_id.to_string()))?;
            if run.status.is_final() {
                return Err(ended(run_id, run.status));
            }
            let answer = match run.owner.as_deref() {
                Some(owner) if owner == self.process() => {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    self.control_here(run_id, control.clone(), left).await
                }
                Some(owner) => {
                    let target = Target::Run {
                        run: run_id.to_string(),
                        control: control.clone(),
                    };
                    self.peers.ask(owner, target).await
                }
                None => Answer::NotHere,
            };
            match answer {
                Answer::Applied => return Ok(()),
                Answer::Ended => {
                    // Ended before the change: the store says how.
                    if let Some(run) = self.store.get_run(run_id).await? {
                        if run.status.is_final() {
                            return Err(ended(run_id, run.status));
                        }
                    }
                }
                Answer::Fenced => why = "its owner lost it to another process".into(),
                Answer::NotHere => {
                    why = match &run.owner {
                        Some(owner) => {
                            format!("{owner} does not drive it (it is being taken over)")
                        }
                        None => "no process drives it yet".into(),
                    }
                }
                Answer::Unreachable => {
                    why = format!(
                        "its owner {} did not answer",
                        run.owner.as_deref().unwrap_or("?")
                    )
                }
            }
            if tokio::time::Instant::now() + ASK_AGAIN_AFTER >= deadline {
                return Err(ControlError::Unconfirmed {
                    run: run_id.to_string(),
                    why,
                });
            }
            tokio::time::sleep(ASK_AGAIN_AFTER).await;
        }
    }

    /// Applies `control` to a run driven here and waits (at most `within`) until it is
    /// durable.
    pub async fn control_here(&self, run_id: &str, control: Control, within: Duration) -> Answer {
        if !self.lease.holds() {
            // Fenced itself: it may be losing its runs; the change must go to whoever holds
            // them next.
            return Answer::NotHere;
        }
        let Some(answer) = self.inboxes.control(run_id, control.input()) else {
            return Answer::NotHere;
        };
        match tokio::time::timeout(within, answer).await {
            Ok(Ok(answer)) => answer,
            // The driver stopped before the change was durable (shutdown).
            Ok(Err(_)) => Answer::NotHere,
            Err(_) => Answer::Unreachable,
        }
    }
}

fn ended(run: &str, status: RunStatus) -> ControlError {
    ControlError::Ended {
        run: run.to_string(),
        status: status.as_str(),
    }
}
