//! Receiving on an RPC channel with a short spin before sleeping.
//!
//! A kernel call is a round trip between two threads; when the answer comes
//! within microseconds (most calls), sleeping in the futex and being woken
//! costs more than the call itself: two context switches on each side, and
//! on a virtual machine an inter-processor interrupt. So a receiver first
//! polls the channel for a bounded few microseconds, then blocks as usual.
//! The spin is bounded in time, so an idle VM still sleeps (no CPU use).

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

/// How long a guest thread waits for its reply before sleeping.
pub(crate) const REPLY_SPIN: Duration = Duration::from_micros(20);
/// How long the service thread waits for the next call before sleeping.
pub(crate) const SERVICE_SPIN: Duration = Duration::from_micros(20);

/// Receives from `rx`, spinning for up to `spin` first; `None` when
/// `deadline` passes first.
pub(crate) fn recv<T>(
    rx: &Receiver<T>,
    deadline: Option<Instant>,
    spin: Duration,
) -> Result<Option<T>, Disconnected> {
    let start = Instant::now();
    for i in 1u32.. {
        match rx.try_recv() {
            Ok(v) => return Ok(Some(v)),
            Err(TryRecvError::Disconnected) => return Err(Disconnected),
            Err(TryRecvError::Empty) => {}
        }
        // Reading the clock costs more than polling the channel.
        if i % 16 == 0 {
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(None);
            }
            if now - start >= spin {
                break;
            }
        }
        std::hint::spin_loop();
    }
    match deadline {
        Some(d) => match rx.recv_deadline(d) {
            Ok(v) => Ok(Some(v)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(Disconnected),
        },
        None => rx.recv().map(Some).map_err(|_| Disconnected),
    }
}

/// The sending side is gone.
#[derive(Debug)]
pub(crate) struct Disconnected;
