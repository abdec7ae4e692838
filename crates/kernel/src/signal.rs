//! Signal numbers and default dispositions (Linux numbering).
//!
//! The numbers are `sidecar_abi`'s; the kernel carries them as plain `i32`s
//! (as `kill(2)`, wait statuses and the runtime do).

use sidecar_abi::consts::signal as abi;
use sidecar_abi::Signal;

// `pub const SIGxxx: i32`, the ABI's `Signal` of that name as a number.
macro_rules! signal_numbers {
    ($($name:ident),* $(,)?) => {
        $( pub const $name: i32 = abi::$name.number(); )*
    };
}

signal_numbers!(
    SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGABRT, SIGFPE, SIGKILL, SIGSEGV, SIGPIPE, SIGALRM, SIGTERM,
    SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU, SIGWINCH,
);
/// Highest valid signal number.
pub const NSIG: i32 = Signal::MAX;

/// What a signal does to a process that neither handles nor ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    Ignore,
    Stop,
    Continue,
}

pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// The bit of `sig` in a signal set.
pub fn bit(sig: i32) -> u64 {
    Signal(sig).bit()
}

/// `sigaction` flags (Linux values).
pub use sidecar_abi::consts::sa::{SA_NOCLDSTOP, SA_NODEFER, SA_RESETHAND, SA_RESTART, SA_SIGINFO};

/// Signals that can be neither caught, ignored nor blocked.
pub const UNBLOCKABLE: u64 = abi::SIGKILL.bit() | abi::SIGSTOP.bit();

/// What a process does with one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Disposition {
    #[default]
    Default,
    Ignore,
    /// A handler in the guest; the SDK's trampoline knows which.
    Catch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SigAction {
    pub disposition: Disposition,
    pub flags: u32,
    /// Added to the blocked set while the handler runs.
    pub mask: u64,
}

/// A process's signal state.
///
/// Invariant: `pending` holds only signals whose disposition, when they
/// arrived, was `Catch` or a blocked default action; ignored signals are
/// discarded on arrival, as on Linux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigState {
    pub actions: [SigAction; NSIG as usize],
    pub blocked: u64,
    pub pending: u64,
    /// The mask `sigsuspend` replaced, restored after its handler runs.
    pub suspend_saved: Option<u64>,
}

impl Default for SigState {
    fn default() -> SigState {
        SigState {
            actions: [SigAction::default(); NSIG as usize],
            blocked: 0,
            pending: 0,
            suspend_saved: None,
        }
    }
}

impl SigState {
    pub fn action(&self, sig: i32) -> SigAction {
        self.actions[(sig - 1) as usize]
    }

    pub fn action_mut(&mut self, sig: i32) -> &mut SigAction {
        &mut self.actions[(sig - 1) as usize]
    }

    /// Pending signals not blocked.
    pub fn deliverable(&self) -> u64 {
        self.pending & !self.blocked
    }

    /// The state a spawned child starts with: caught signals revert to their
    /// default (exec semantics), ignored ones stay ignored, the mask is kept.
    pub fn for_exec(&self) -> SigState {
        let mut s = SigState {
            blocked: self.blocked,
            ..SigState::default()
        };
        for (i, a) in self.actions.iter().enumerate() {
            if a.disposition == Disposition::Ignore {
                s.actions[i].disposition = Disposition::Ignore;
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_follow_linux() {
        assert_eq!(default_action(SIGTERM), DefaultAction::Terminate);
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(SIGTSTP), DefaultAction::Stop);
        assert_eq!(bit(SIGHUP), 1);
    }
}
