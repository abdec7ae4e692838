//! A process's file descriptor table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::errno::{Errno, KResult};
use crate::file::OpenFile;

/// `RLIMIT_NOFILE` of every process.
pub const FD_LIMIT: usize = 1024;

#[derive(Debug, Clone)]
pub struct FdEntry {
    pub file: Arc<OpenFile>,
    pub cloexec: bool,
    /// Set on the directory a guest's libc discovers through
    /// `fd_prestat_get`; the name is what it reports.
    pub preopen: Option<String>,
}

impl FdEntry {
    pub fn new(file: Arc<OpenFile>, cloexec: bool) -> FdEntry {
        FdEntry {
            file,
            cloexec,
            preopen: None,
        }
    }
}

/// How many times one fd table has changed, readable from any thread. A
/// guest thread keeps what it learnt of its own table (the path of a
/// directory fd) for as long as the count stands still, and so makes no
/// kernel call for it: only the process itself changes its table, through
/// calls that complete before its next one starts.
#[derive(Debug, Clone, Default)]
pub struct Generation(Arc<AtomicU64>);

impl Generation {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    fn bump(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

/// Two handles are equal when they count the same table.
impl PartialEq for Generation {
    fn eq(&self, other: &Generation) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Fds to open file descriptions.
///
/// Invariants: an fd maps to at most one entry, and is below [`FD_LIMIT`];
/// the lowest free number is allocated first (POSIX); no trailing slot is
/// empty. Entries share [`OpenFile`]s by `Arc`, so `dup` and inheritance
/// share the offset and status flags, as on Linux. Every change of the fd
/// to description mapping bumps `generation`.
#[derive(Debug, Default)]
pub struct FdTable {
    slots: Vec<Option<FdEntry>>,
    generation: Generation,
}

/// A copy is a new table (a spawned child's), with a count of its own.
impl Clone for FdTable {
    fn clone(&self) -> FdTable {
        FdTable {
            slots: self.slots.clone(),
            generation: Generation::default(),
        }
    }
}

impl FdTable {
    pub fn new() -> FdTable {
        FdTable::default()
    }

    pub fn get(&self, fd: i32) -> KResult<&FdEntry> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    pub fn get_mut(&mut self, fd: i32) -> KResult<&mut FdEntry> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Errno::EBADF)
    }

    pub fn generation(&self) -> Generation {
        self.generation.clone()
    }

    pub fn file(&self, fd: i32) -> KResult<Arc<OpenFile>> {
        self.get(fd).map(|e| e.file.clone())
    }

    /// Installs `entry` at the lowest free fd that is `>= min`.
    pub fn alloc(&mut self, entry: FdEntry, min: i32) -> KResult<i32> {
        let min = usize::try_from(min).map_err(|_| Errno::EINVAL)?;
        if min >= FD_LIMIT {
            return Err(Errno::EINVAL);
        }
        let free = (min..FD_LIMIT).find(|&i| self.slots.get(i).is_none_or(Option::is_none));
        let fd = free.ok_or(Errno::EMFILE)?;
        self.put(fd, entry);
        Ok(fd as i32)
    }

    /// Installs `entry` at `fd`, returning what was there (which the caller
    /// drops, closing it).
    pub fn install(&mut self, fd: i32, entry: FdEntry) -> KResult<Option<FdEntry>> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        if i >= FD_LIMIT {
            return Err(Errno::EBADF);
        }
        Ok(self.put(i, entry))
    }

    fn put(&mut self, i: usize, entry: FdEntry) -> Option<FdEntry> {
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.generation.bump();
        self.slots[i].replace(entry)
    }

    pub fn remove(&mut self, fd: i32) -> KResult<FdEntry> {
        let entry = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::take)
            .ok_or(Errno::EBADF)?;
        self.generation.bump();
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(entry)
    }

    /// Closes every entry marked close-on-exec, as `exec` does. Spawn runs
    /// its file actions on a full copy of the parent's table first, so a
    /// `dup2` of a close-on-exec fd survives, as it does on Linux.
    pub fn close_on_exec(&mut self) {
        self.generation.bump();
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|e| e.cloexec) {
                *slot = None;
            }
        }
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (i32, &FdEntry)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|e| (i as i32, e)))
    }

    /// Closes every fd. Dropping the last reference to a description is what
    /// makes peers see EOF or EPIPE.
    pub fn clear(&mut self) {
        self.generation.bump();
        self.slots.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::pipe;
    use crate::wait::Notifier;

    fn entry() -> FdEntry {
        let (r, _w) = pipe(&Notifier::new());
        FdEntry::new(r, false)
    }

    #[test]
    fn every_remapping_moves_the_generation_and_a_copy_counts_its_own() {
        let mut t = FdTable::new();
        let g = t.generation();
        let mut last = g.get();
        let mut moved = |t: &FdTable| {
            let now = t.generation().get();
            let m = now != last;
            last = now;
            m
        };
        let fd = t.alloc(entry(), 0).unwrap();
        assert!(moved(&t));
        t.get_mut(fd).unwrap().cloexec = true;
        assert!(!moved(&t), "flags do not remap an fd");
        t.install(fd, FdEntry::new(entry().file, true)).unwrap();
        assert!(moved(&t));
        let copy = t.clone();
        assert!(copy.generation() != g);
        t.close_on_exec();
        assert!(moved(&t));
        t.remove(fd).unwrap_err();
        t.alloc(entry(), 0).unwrap();
        t.remove(0).unwrap();
        assert!(moved(&t));
        t.clear();
        assert!(moved(&t));
        assert_eq!(t.generation(), g);
    }

    #[test]
    fn lowest_free_fd_is_reused() {
        let mut t = FdTable::new();
        assert_eq!(t.alloc(entry(), 0).unwrap(), 0);
        assert_eq!(t.alloc(entry(), 0).unwrap(), 1);
        assert_eq!(t.alloc(entry(), 0).unwrap(), 2);
        t.remove(1).unwrap();
        assert_eq!(t.alloc(entry(), 0).unwrap(), 1);
        assert_eq!(t.alloc(entry(), 10).unwrap(), 10);
        assert_eq!(t.remove(7).unwrap_err(), Errno::EBADF);
        assert_eq!(t.get(-1).unwrap_err(), Errno::EBADF);
    }

    #[test]
    fn exec_drops_cloexec_entries() {
        let mut t = FdTable::new();
        t.alloc(entry(), 0).unwrap();
        let mut e = entry();
        e.cloexec = true;
        t.alloc(e, 0).unwrap();
        let mut c = t.clone();
        c.close_on_exec();
        assert!(c.get(0).is_ok());
        assert_eq!(c.get(1).unwrap_err(), Errno::EBADF);
    }

    #[test]
    fn fd_limit_gives_emfile() {
        let mut t = FdTable::new();
        for _ in 0..FD_LIMIT {
            t.alloc(entry(), 0).unwrap();
        }
        assert_eq!(t.alloc(entry(), 0).unwrap_err(), Errno::EMFILE);
    }
}
