//! Per-VM resource limits: processes, files, guest memory and the fuel of
//! a process tree.
//!
//! Processes and files are counted by the kernel (see
//! [`sidecar_kernel::kernel::Limits`]); guest memory is counted here, by a
//! wasmtime [`ResourceLimiter`] in every store that draws on one counter per
//! VM, so that `memory.grow` fails (returns -1, which libc's `sbrk`/`malloc`
//! report as `ENOMEM`) once the VM's guests hold the limit between them.
//! The guest threads themselves are counted too: a process whose thread is
//! still tearing down its store holds its slot until the memory is unmapped.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use wasmtime::{ResourceLimiter, Result};

/// What a VM may use of the host, all guests together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Processes at once, zombies included (`EAGAIN` from spawn beyond).
    pub processes: usize,
    /// Files opened by path, open at once (`ENFILE` from open beyond).
    pub files: usize,
    /// Bytes of linear memory (and tables) all guests hold together.
    pub memory: u64,
}

impl Limits {
    pub const DEFAULT_PROCESSES: usize = sidecar_kernel::kernel::Limits::DEFAULT_PROCESSES;
    pub const DEFAULT_FILES: usize = sidecar_kernel::kernel::Limits::DEFAULT_FILES;

    /// The part of the limits the kernel enforces.
    pub fn kernel(&self) -> sidecar_kernel::kernel::Limits {
        sidecar_kernel::kernel::Limits {
            processes: self.processes,
            files: self.files,
        }
    }

    /// Default guest memory of a VM: half of the host's physical memory
    /// (4 GiB where that cannot be read), so that guests that fill theirs
    /// see allocation failures before the host's OOM killer takes the whole
    /// sidecar.
    pub fn default_memory() -> u64 {
        physical_memory().map_or(4 << 30, |m| m / 2)
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            processes: Limits::DEFAULT_PROCESSES,
            files: Limits::DEFAULT_FILES,
            memory: Limits::default_memory(),
        }
    }
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The VM's count of guest memory and guest threads.
#[derive(Debug)]
pub(crate) struct Usage {
    memory: AtomicU64,
    memory_limit: u64,
    threads: AtomicUsize,
    thread_limit: usize,
}

impl Usage {
    pub(crate) fn new(limits: &Limits) -> Usage {
        Usage {
            memory: AtomicU64::new(0),
            memory_limit: limits.memory,
            threads: AtomicUsize::new(0),
            thread_limit: limits.processes,
        }
    }

    /// Takes `bytes` more of the memory limit, if they fit.
    fn reserve(&self, bytes: u64) -> bool {
        self.memory
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&n| n <= self.memory_limit)
            })
            .is_ok()
    }

    fn release(&self, bytes: u64) {
        self.memory.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Guest memory held now, in bytes.
    pub(crate) fn memory(&self) -> u64 {
        self.memory.load(Ordering::Relaxed)
    }

    /// A slot for one more guest thread, or `None` at the process limit.
    pub(crate) fn thread(self: &Arc<Usage>) -> Option<ThreadSlot> {
        self.threads
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.thread_limit).then_some(n + 1)
            })
            .ok()?;
        Some(ThreadSlot(self.clone()))
    }
}

/// A guest thread's place in [`Usage`]; freed when the thread has dropped
/// its store.
pub(crate) struct ThreadSlot(Arc<Usage>);

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        self.0.threads.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The `ResourceLimiter` of one store: its own memory limit (`memory` of a
/// guest in vm.toml) and its share of the VM's.
pub(crate) struct GuestLimiter {
    own: Option<usize>,
    vm: Arc<Usage>,
    /// Bytes this store holds of the VM's limit; given back on drop.
    held: u64,
    /// Bytes of the last growth allowed, given back if it then failed.
    pending: u64,
}

impl GuestLimiter {
    pub(crate) fn new(own: Option<usize>, vm: Arc<Usage>) -> GuestLimiter {
        GuestLimiter {
            own,
            vm,
            held: 0,
            pending: 0,
        }
    }

    fn grow(&mut self, current: u64, desired: u64) -> bool {
        self.pending = 0;
        let more = desired.saturating_sub(current);
        if !self.vm.reserve(more) {
            tracing::debug!(
                held = self.vm.memory(),
                limit = self.vm.memory_limit,
                more,
                "guest memory limit of the VM reached"
            );
            return false;
        }
        self.held += more;
        self.pending = more;
        true
    }

    fn failed(&mut self) {
        self.vm.release(self.pending);
        self.held -= self.pending;
        self.pending = 0;
    }
}

impl ResourceLimiter for GuestLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let over = |limit: Option<usize>| limit.is_some_and(|m| desired > m);
        if over(self.own) || over(maximum) {
            return Ok(false);
        }
        Ok(self.grow(current as u64, desired as u64))
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> Result<()> {
        self.failed();
        Ok(())
    }

    /// Table elements are counted at 8 bytes each (a pointer), so that
    /// `table.grow` cannot take the host's memory either.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        if maximum.is_some_and(|m| desired > m) {
            return Ok(false);
        }
        Ok(self.grow(current as u64 * 8, desired as u64 * 8))
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> Result<()> {
        self.failed();
        Ok(())
    }
}

impl Drop for GuestLimiter {
    fn drop(&mut self) {
        self.vm.release(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(memory: u64) -> Arc<Usage> {
        Arc::new(Usage::new(&Limits {
            processes: 2,
            files: 1,
            memory,
        }))
    }

    #[test]
    fn stores_share_the_vm_memory_limit() {
        let vm = usage(10 << 16);
        let mut a = GuestLimiter::new(None, vm.clone());
        let mut b = GuestLimiter::new(Some(8 << 16), vm.clone());
        assert!(a.memory_growing(0, 4 << 16, None).unwrap());
        assert!(b.memory_growing(0, 4 << 16, None).unwrap());
        // 8 of 10 pages are held: 3 more do not fit, 2 do.
        assert!(!a.memory_growing(4 << 16, 7 << 16, None).unwrap());
        assert!(a.memory_growing(4 << 16, 6 << 16, None).unwrap());
        assert_eq!(vm.memory(), 10 << 16);
        // A growth that was allowed but failed gives its bytes back.
        a.memory_grow_failed(wasmtime::Error::msg("mmap")).unwrap();
        assert_eq!(vm.memory(), 8 << 16);
        // A guest's own limit applies before the VM's.
        assert!(!b.memory_growing(4 << 16, 9 << 16, None).unwrap());
        drop(a);
        assert_eq!(vm.memory(), 4 << 16);
        drop(b);
        assert_eq!(vm.memory(), 0);
    }

    #[test]
    fn thread_slots_stop_at_the_process_limit() {
        let vm = usage(0);
        let a = vm.thread().unwrap();
        let _b = vm.thread().unwrap();
        assert!(vm.thread().is_none());
        drop(a);
        assert!(vm.thread().is_some());
    }
}
