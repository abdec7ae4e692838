//! Wait queues and the kernel-wide wakeup set.
//!
//! Every object that a call can block on owns one or more [`WaitQueue`]s.
//! When its state changes it calls [`WaitQueue::notify`], which records the
//! queue's [`WaitKey`] in the shared [`Notifier`]. The scheduler drains the
//! notifier after every call and retries exactly the parked calls that wait on
//! a notified key. Nothing polls and nothing sleeps.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Names one wait queue. Unique for the life of the host process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaitKey(u64);

impl WaitKey {
    /// A key no other queue has.
    pub fn fresh() -> WaitKey {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        WaitKey(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The set of queues notified since the scheduler last drained it.
///
/// Cloned into every object that owns a queue. The mutex is a leaf lock: it is
/// never held while any other kernel lock is taken.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    pending: Arc<Mutex<HashSet<WaitKey>>>,
}

impl Notifier {
    pub fn new() -> Notifier {
        Notifier::default()
    }

    pub fn notify(&self, key: WaitKey) {
        self.pending.lock().unwrap().insert(key);
    }

    /// Takes every key notified so far.
    pub fn drain(&self) -> HashSet<WaitKey> {
        std::mem::take(&mut *self.pending.lock().unwrap())
    }

    pub fn is_empty(&self) -> bool {
        self.pending.lock().unwrap().is_empty()
    }
}

/// A queue that blocked calls wait on; owned by the object whose state it
/// reports.
#[derive(Debug, Clone)]
pub struct WaitQueue {
    key: WaitKey,
    notifier: Notifier,
}

impl WaitQueue {
    pub fn new(notifier: &Notifier) -> WaitQueue {
        WaitQueue {
            key: WaitKey::fresh(),
            notifier: notifier.clone(),
        }
    }

    pub fn key(&self) -> WaitKey {
        self.key
    }

    pub fn notify(&self) {
        self.notifier.notify(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_records_key_once_until_drained() {
        let n = Notifier::new();
        let q = WaitQueue::new(&n);
        q.notify();
        q.notify();
        let keys = n.drain();
        assert_eq!(keys.len(), 1);
        assert!(keys.contains(&q.key()));
        assert!(n.is_empty());
    }
}
