//! Deadlines of parked calls, and when the service thread must wake.
//!
//! A call with a timeout (poll, `nanosleep`, a tty read with VTIME) parks
//! with a deadline; an armed interval timer has one in the kernel. The
//! service thread waits for the next message or the earliest of these
//! ([`next_wake`]), and checks again after every message ([`is_due`]), so a
//! stream of calls cannot hold back a timeout.

use std::collections::BTreeSet;
use std::time::Instant;

/// The deadlines of parked calls, by time, then by parking order (the id).
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    set: BTreeSet<(Instant, u64)>,
}

impl Deadlines {
    pub(super) fn insert(&mut self, when: Instant, id: u64) {
        self.set.insert((when, id));
    }

    pub(super) fn remove(&mut self, when: Instant, id: u64) {
        self.set.remove(&(when, id));
    }

    /// The earliest deadline.
    pub(super) fn first(&self) -> Option<Instant> {
        self.set.first().map(|&(when, _)| when)
    }

    /// The calls whose deadline is `now` or earlier, earliest first (calls
    /// with the same deadline in the order they parked).
    pub(super) fn due(&self, now: Instant) -> Vec<u64> {
        self.set
            .iter()
            .take_while(|(when, _)| *when <= now)
            .map(|&(_, id)| id)
            .collect()
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.set.len()
    }
}

/// When the service thread must wake without a message: the earlier of
/// the first parked deadline and the kernel's next interval timer.
pub(super) fn next_wake(parked: Option<Instant>, timer: Option<Instant>) -> Option<Instant> {
    match (parked, timer) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether the wake time `next` has come by `now`.
pub(super) fn is_due(next: Option<Instant>, now: Instant) -> bool {
    next.is_some_and(|when| when <= now)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn due_deadlines_come_earliest_first_then_in_parking_order() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Deadlines::default();
        // Parked in this order (ids), with these deadlines.
        d.insert(ms(30), 0);
        d.insert(ms(10), 1);
        d.insert(ms(20), 2);
        d.insert(ms(10), 3);
        d.insert(ms(50), 4);
        assert_eq!(d.first(), Some(ms(10)));
        assert_eq!(d.due(ms(5)), Vec::<u64>::new());
        assert_eq!(d.due(ms(10)), vec![1, 3]);
        assert_eq!(d.due(ms(30)), vec![1, 3, 2, 0]);
        d.remove(ms(10), 1);
        d.remove(ms(10), 3);
        assert_eq!(d.first(), Some(ms(20)));
        assert_eq!(d.due(ms(100)), vec![2, 0, 4]);
        // Removing what is not there changes nothing.
        d.remove(ms(20), 4);
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn the_service_wakes_for_the_earlier_of_a_deadline_and_a_timer() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_millis(1);
        assert_eq!(next_wake(None, None), None);
        assert_eq!(next_wake(Some(t1), None), Some(t1));
        assert_eq!(next_wake(None, Some(t1)), Some(t1));
        assert_eq!(next_wake(Some(t1), Some(t0)), Some(t0));
        assert_eq!(next_wake(Some(t0), Some(t1)), Some(t0));
        assert!(!is_due(None, t1));
        assert!(is_due(Some(t0), t1));
        assert!(is_due(Some(t1), t1));
        assert!(!is_due(Some(t1), t0));
    }
}
