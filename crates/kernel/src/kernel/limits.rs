//! Per-VM resource limits.

use super::Kernel;
use crate::errno::{Errno, KResult};

/// Per-VM resource limits the kernel enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Processes that may exist at once, zombies included (cgroup
    /// `pids.max`); a spawn beyond it fails with `EAGAIN`.
    pub processes: usize,
    /// Files opened by path (on any filesystem) that may be open at once
    /// across the VM (`fs.file-max`); an open beyond it fails with `ENFILE`.
    pub files: usize,
}

impl Limits {
    pub const DEFAULT_PROCESSES: usize = 1024;
    pub const DEFAULT_FILES: usize = 4096;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            processes: Limits::DEFAULT_PROCESSES,
            files: Limits::DEFAULT_FILES,
        }
    }
}

impl Kernel {
    /// Sets the VM's limits; made before any process exists.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.files = crate::file::FileCount::new(limits.files);
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Files opened by path that are open now (see [`Limits::files`]).
    pub fn open_files(&self) -> usize {
        self.files.open()
    }

    /// `EAGAIN` when one more process would exceed [`Limits::processes`].
    pub(super) fn check_process_limit(&self) -> KResult<()> {
        if self.procs.len() >= self.limits.processes {
            tracing::debug!(limit = self.limits.processes, "process limit reached");
            return Err(Errno::EAGAIN);
        }
        Ok(())
    }
}
