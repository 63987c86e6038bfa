//! This process among those sharing the store: its lease, kept on a schedule of its own;
//! fencing itself when the lease cannot be renewed in time; and taking over the runs of
//! processes whose lease ran out.
//!
//! - **The lease** is renewed [`RENEWALS_PER_LEASE`] times per lease by a task of its own
//!   (on a connection of its own with PostgreSQL), each renewal given at most the time to
//!   the next: whatever claims, resumes or writes are pending, renewals keep their
//!   schedule. A renewal sent at `t` that succeeds holds the lease until `t + lease` at
//!   least (the store counts from when it ran the statement, which is later).
//! - **Self-fencing** (only where others can take runs over, on a shared store): once less
//!   than a quarter of the lease is left unrenewed ([`Lease::holds`]), the process stops
//!   acting on its runs — drivers write nothing and do nothing until a renewal succeeds —
//!   so it is out of the way before anyone may claim its runs. New runs and changes to runs
//!   are refused meanwhile; readiness and the metrics say so. A renewal that succeeds again
//!   lets the drivers go on; those whose runs were claimed meanwhile find their next write
//!   refused (fencing) and stop.
//! - **Claims** run on their own schedule too, at most [`CLAIM_BATCH`] runs per tick and
//!   only while the lease holds. Each claimed run is resumed in its own task: a resume that
//!   fails (its history could not be read) is tried again with backoff, then the run is
//!   released (unowned: any process, this one too, claims it again) — never left owned and
//!   undriven.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use app::model::{RunEvent, Takeover};
use tokio::sync::watch;
use tokio::time::Instant;

use super::core::{Input, RunCore};
use super::{stopped, Engine, Ties};
use crate::store::{replay_history, Claimed, StoreError};

/// How long a process's lease lasts unless renewed: after a process dies, its runs wait at
/// most this long (plus a claim interval) before another process resumes them.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5);
/// Leases are renewed, and expired ones looked for, this many times per lease.
pub const RENEWALS_PER_LEASE: u32 = 3;
/// Runs claimed in one go (a restart with many runs in progress claims in several).
pub const CLAIM_BATCH: usize = 256;
/// Claimed runs resumed at once (each reads its history).
pub const RESUMES_AT_ONCE: usize = 16;
/// A resume that fails is tried this many times in all before the run is released.
pub const RESUME_TRIES: u32 = 5;
/// The first wait before a failed resume is tried again; it doubles each time.
pub const RESUME_RETRY_FIRST: Duration = Duration::from_millis(200);

/// This process among those that share the store: its id (unique among them, stable across
/// its restarts so it takes its own runs back at once) and its lease.
#[derive(Clone, Debug)]
pub struct Membership {
    pub process: String,
    pub lease: Duration,
}

impl Default for Membership {
    fn default() -> Self {
        Membership {
            process: "local".into(),
            lease: DEFAULT_LEASE,
        }
    }
}

/// The lease as this process knows it: until when it surely holds.
pub struct Lease {
    duration: Duration,
    /// Whether the process fences itself when the lease is about to run out (a shared
    /// store: another process could take its runs).
    fences: bool,
    held_until: watch::Sender<Option<Instant>>,
}

impl Lease {
    pub fn new(duration: Duration, fences: bool) -> Lease {
        Lease {
            duration,
            fences,
            held_until: watch::channel(None).0,
        }
    }

    /// A renewal sent at `sent_at` succeeded.
    pub fn renewed(&self, sent_at: Instant) {
        let until = sent_at + self.duration;
        self.held_until.send_if_modified(|held| match held {
            Some(held) if *held >= until => false,
            _ => {
                *held = Some(until);
                true
            }
        });
    }

    /// The lease was given up (shutdown).
    pub fn ended(&self) {
        self.held_until.send_replace(None);
    }

    /// How long the lease surely holds without another renewal.
    pub fn margin(&self) -> Duration {
        self.held_until.borrow().map_or(Duration::ZERO, |until| {
            until.saturating_duration_since(Instant::now())
        })
    }

    /// Below this margin a process that fences itself stops acting on its runs.
    pub fn fence_margin(&self) -> Duration {
        self.duration / 4
    }

    /// Whether this process may act on its runs: always when nobody else can take them;
    /// else while more than [`Lease::fence_margin`] of the lease is left.
    pub fn holds(&self) -> bool {
        !self.fences || self.margin() > self.fence_margin()
    }

    /// Waits until [`Lease::holds`]; false if the engine shuts down first.
    pub async fn held(&self, stopping: &mut watch::Receiver<bool>) -> bool {
        let mut renewals = self.held_until.subscribe();
        loop {
            if self.holds() {
                return true;
            }
            tokio::select! {
                changed = renewals.changed() => if changed.is_err() { return false },
                _ = stopped(stopping) => return false,
            }
        }
    }
}

impl Engine {
    /// Takes the lease and claims every run in progress that is this process's own (it is
    /// starting again after a crash or restart) or that no live process owns, and resumes
    /// them: each one's history is replayed into a fresh core and what was in flight re-armed.
    /// Returns how many it claimed.
    pub async fn recover(self: &Arc<Self>) -> Result<usize, StoreError> {
        self.renew_lease().await?;
        let mut claimed = 0;
        loop {
            let (got, asked) = self.claim(true).await?;
            claimed += got;
            if got < asked || asked == 0 {
                return Ok(claimed);
            }
        }
    }

    async fn renew_lease(&self) -> Result<(), StoreError> {
        let sent_at = Instant::now();
        self.store
            .renew_lease(&self.membership.process, self.membership.lease)
            .await?;
        self.lease.renewed(sent_at);
        Ok(())
    }

    /// Renews this process's lease and claims the runs of processes whose lease ran out,
    /// each on its own schedule, until shutdown.
    pub async fn keep_membership(self: Arc<Self>) {
        let every = self.membership.lease / RENEWALS_PER_LEASE;
        let renewing = {
            let engine = self.clone();
            async move {
                let mut ticks = tokio::time::interval(every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticks.tick().await;
                let mut fenced = false;
                loop {
                    ticks.tick().await;
                    match tokio::time::timeout(every, engine.renew_lease()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, margin = ?engine.lease.margin(), "could not renew this process's lease")
                        }
                        Err(_) => {
                            tracing::warn!(margin = ?engine.lease.margin(), "renewing this process's lease took too long")
                        }
                    }
                    let holds = engine.lease.holds();
                    if fenced && holds {
                        tracing::info!("this process's lease is renewed again; its runs go on");
                    } else if !fenced && !holds {
                        tracing::error!(
                            "this process's lease is about to run out: it stops acting on its runs until it is renewed"
                        );
                    }
                    fenced = !holds;
                }
            }
        };
        let claiming = {
            let engine = self.clone();
            async move {
                let mut ticks = tokio::time::interval(every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticks.tick().await;
                loop {
                    ticks.tick().await;
                    if !engine.lease.holds() {
                        continue;
                    }
                    match engine.claim(false).await {
                        Ok((0, _)) => {}
                        Ok((claimed, _)) => {
                            tracing::info!(claimed, "took over runs whose owner's lease ran out")
                        }
                        Err(e) => tracing::warn!(error = %e, "could not claim runs"),
                    }
                }
            }
        };
        let mut stopping = self.stopping.subscribe();
        tokio::select! {
            _ = renewing => {}
            _ = claiming => {}
            _ = stopped(&mut stopping) => {}
        }
    }

    /// Gives up this process's lease now (after shutdown: its runs are taken at once).
    pub async fn end_membership(&self) {
        self.lease.ended();
        if let Err(e) = self.store.end_lease(&self.membership.process).await {
            tracing::warn!(error = %e, "could not end this process's lease");
        }
    }

    /// Claims up to a batch of runs (`own`: this process's own too) within the room left
    /// under the cap on runs in flight, and resumes each in a task of its own. Returns how
    /// many it claimed and how many it asked for.
    async fn claim(self: &Arc<Self>, own: bool) -> Result<(usize, usize), StoreError> {
        if self.is_shutting_down() {
            return Ok((0, 0));
        }
        let room = self
            .max_in_flight
            .load(Ordering::SeqCst)
            .saturating_sub(self.in_flight())
            .min(CLAIM_BATCH);
        if room == 0 {
            return Ok((0, 0));
        }
        let claimed = self
            .store
            .claim_runs(&self.membership.process, own, room)
            .await?;
        let count = claimed.len();
        for claim in claimed {
            // Counted in flight from the claim: the cap holds while they resume.
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let engine = self.clone();
            tokio::spawn(async move { engine.resume_or_release(claim).await });
        }
        Ok((count, room))
    }

    /// Resumes a claimed run, trying again with backoff; releases it if it cannot.
    async fn resume_or_release(self: Arc<Self>, claim: Claimed) {
        let _slot = self.resuming.acquire().await;
        let mut wait = RESUME_RETRY_FIRST;
        let mut stopping = self.stopping.subscribe();
        for attempt in 1..=RESUME_TRIES {
            match self.resume(&claim).await {
                Ok(()) => return,
                Err(e) => {
                    self.metrics.resume_failed();
                    tracing::warn!(run = %claim.run.id, attempt, error = %e, "could not resume a claimed run");
                }
            }
            if attempt < RESUME_TRIES {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped(&mut stopping) => break,
                }
                wait *= 2;
            }
        }
        self.release();
        let run = &claim.run;
        match self
            .store
            .release_run(&run.id, &self.membership.process, run.epoch)
            .await
        {
            Ok(_) => {
                tracing::error!(run = %run.id, "gave up resuming a run here; released it for any process to claim")
            }
            // Still ours in the store: the next restart of this process takes it back,
            // or another takes it once this lease runs out.
            Err(e) => {
                tracing::error!(run = %run.id, error = %e, "could not resume nor release a claimed run")
            }
        }
    }

    /// Replays a claimed run's history into a fresh core and drives it from there.
    async fn resume(self: &Arc<Self>, claim: &Claimed) -> Result<(), StoreError> {
        let Claimed { run, previous } = claim;
        // The run's first record says how it started; the rest is replayed a page at a
        // time, so recovery holds one page of a long history in memory, not all of it.
        let first = self.store.history_after(&run.id, 0, 1).await?;
        let (seed, speed) = first
            .iter()
            .find_map(|r| match &r.event {
                RunEvent::RunStarted { seed, speed, .. } => Some((*seed, *speed)),
                _ => None,
            })
            .unwrap_or((0, 1.0));
        let mut core = RunCore::new(&run.workflow, run.input.clone(), seed, speed)
            .with_id(&run.id)
            .with_real_calls();
        let mut records = 0usize;
        let last = replay_history(self.store.as_ref(), &run.id, 0, |record| {
            core.apply_record(record);
            records += 1;
        })
        .await?;
        let by = Takeover {
            process: self.membership.process.clone(),
            epoch: run.epoch,
            from: previous.clone(),
        };
        let taken = by.other().is_some();
        let actions = if records == 0 {
            core.handle(Input::Start)
        } else {
            core.resume(&run.id, Some(by), Some(self.clock.now_ms()))
        };
        tracing::info!(run = %run.id, records, epoch = run.epoch, "resuming run");
        self.metrics.run_resumed(taken);
        self.spawn(run, core, last, actions, Ties::default());
        Ok(())
    }
}
