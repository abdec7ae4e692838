//! Signal numbers and default dispositions (Linux numbering).

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGABRT: i32 = 6;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGXCPU: i32 = 24;
pub const SIGWINCH: i32 = 28;
/// Highest valid signal number.
pub const NSIG: i32 = 64;

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
    1u64 << (sig - 1)
}

/// `sigaction` flags (Linux values).
pub const SA_NOCLDSTOP: u32 = 1;
pub const SA_SIGINFO: u32 = 4;
pub const SA_RESTART: u32 = 0x1000_0000;
pub const SA_NODEFER: u32 = 0x4000_0000;
pub const SA_RESETHAND: u32 = 0x8000_0000;

/// Signals that can be neither caught, ignored nor blocked.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

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
