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

/// How a receiver waits before it sleeps.
pub(crate) struct Spin {
    /// How long it polls at most.
    total: Duration,
    /// From when on it gives its core to any other runnable thread between
    /// polls, if at all.
    yield_after: Option<Duration>,
}

/// A guest thread waiting for its reply keeps its core: yielding it to
/// another thread (a client process, say) delays the guest when the reply
/// comes, and the guest is what the VM's throughput waits on.
pub(crate) const REPLY: Spin = Spin {
    total: Duration::from_micros(20),
    yield_after: None,
};

/// The service thread waiting for the next call yields its core after a
/// few microseconds: with more runnable threads than cores, the thread that
/// will make that call may be waiting for one.
pub(crate) const SERVICE: Spin = Spin {
    total: Duration::from_micros(20),
    yield_after: Some(Duration::from_micros(4)),
};

/// Receives from `rx`, polling as `spin` says first; `None` when
/// `deadline` passes first.
pub(crate) fn recv<T>(
    rx: &Receiver<T>,
    deadline: Option<Instant>,
    spin: &Spin,
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
            let spent = now - start;
            if spent >= spin.total {
                break;
            }
            if spin.yield_after.is_some_and(|after| spent >= after) {
                std::thread::yield_now();
                continue;
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
