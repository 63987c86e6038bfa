//! Simulated time, played precisely: one thread keeps every run's pending timers in a heap
//! and hands each input to its run's inbox when it is due.
//!
//! tokio's timers tick in whole milliseconds and round a deadline up to the next tick, so a
//! step that says it takes 1 ms took 1.5–2 ms of wall time. This thread waits on a futex
//! with a deadline instead (the kernel's high-resolution timers, tens of microseconds late),
//! and one thread for all runs costs less than a task per timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::core::Input;

/// Pending timers kept before the heap is swept of those whose run has ended (cancelled
/// runs leave their timers behind); the threshold doubles with the timers still live.
pub const SWEEP_TIMERS_FROM: usize = 4_096;

struct Timer {
    due: Instant,
    /// Arrival order: timers due at the same instant fire in the order they were set.
    order: u64,
    inbox: UnboundedSender<Input>,
    input: Input,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

/// Sets timers; the thread ends when the last `Timers` is dropped.
#[derive(Clone)]
pub struct Timers {
    set: mpsc::Sender<(Instant, UnboundedSender<Input>, Input)>,
}

impl Timers {
    pub fn start() -> Timers {
        let (set, requests) = mpsc::channel();
        std::thread::Builder::new()
            .name("run-timers".into())
            .spawn(move || run(requests))
            .expect("the timer thread starts");
        Timers { set }
    }

    /// Sends `input` to `inbox` after `after`. A run that has ended by then is skipped.
    pub fn set(&self, after: Duration, inbox: UnboundedSender<Input>, input: Input) {
        // The thread only stops once every sender is gone.
        let _ = self.set.send((Instant::now() + after, inbox, input));
    }
}

fn run(requests: mpsc::Receiver<(Instant, UnboundedSender<Input>, Input)>) {
    let mut heap: BinaryHeap<Reverse<Timer>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut sweep_at = SWEEP_TIMERS_FROM;
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|Reverse(t)| t.due <= now) {
            let Some(Reverse(timer)) = heap.pop() else {
                break;
            };
            // The run may have ended (cancelled): nobody is left to tell.
            let _ = timer.inbox.send(timer.input);
        }
        let request = match heap.peek() {
            Some(Reverse(next)) => match requests.recv_timeout(next.due - now) {
                Ok(request) => Some(request),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
            None => match requests.recv() {
                Ok(request) => Some(request),
                Err(_) => return,
            },
        };
        let mut add = |(due, inbox, input): (Instant, UnboundedSender<Input>, Input)| {
            order += 1;
            heap.push(Reverse(Timer {
                due,
                order,
                inbox,
                input,
            }));
        };
        if let Some(request) = request {
            add(request);
            // Everything else already waiting, without a wait each.
            while let Ok(request) = requests.try_recv() {
                add(request);
            }
        }
        if heap.len() >= sweep_at {
            heap.retain(|Reverse(t)| !t.inbox.is_closed());
            sweep_at = (heap.len() * 2).max(SWEEP_TIMERS_FROM);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn timers_fire_in_due_order_not_in_the_order_set_and_skip_ended_runs() {
        let timers = Timers::start();
        let (inbox, mut received) = tokio::sync::mpsc::unbounded_channel();
        let (ended, gone) = tokio::sync::mpsc::unbounded_channel();
        drop(gone);
        let set = Instant::now();
        timers.set(Duration::from_millis(30), inbox.clone(), Input::Cancel);
        timers.set(Duration::from_millis(10), ended, Input::Start);
        timers.set(Duration::from_millis(20), inbox.clone(), Input::Start);
        let first = received.recv().await.expect("the 20 ms timer");
        assert!(matches!(first, Input::Start), "{first:?}");
        assert!(
            set.elapsed() >= Duration::from_millis(20),
            "not before it is due"
        );
        let second = received.recv().await.expect("the 30 ms timer");
        assert!(matches!(second, Input::Cancel), "{second:?}");
        assert!(set.elapsed() >= Duration::from_millis(30));
    }
}
