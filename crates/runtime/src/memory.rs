//! Guest linear memories that a fork copies lazily, copy-on-write.
//!
//! wasmtime makes every guest memory through [`Creator`]: a reservation of
//! the address range it asks for (guard included, `PROT_NONE`), whose
//! accessible pages come from memfds. A memory starts *shared*: its pages
//! are a `MAP_SHARED` view of a memfd of its own, so its contents are in
//! that file. A fork ([`snapshot`]) freezes what the memory holds into
//! files that nobody writes any more, maps them `MAP_PRIVATE` (copy on
//! write) in the parent, and [`restore`] maps the same files the same way
//! in the child: both read the same physical pages until one writes.
//!
//! After its first fork a memory is *private*: each run of its pages is a
//! private view of some frozen file, and the pages it has written since
//! are anonymous. The next fork finds those from `/proc/self/pagemap` (a
//! present page that is not file-backed), writes only them into a new
//! memfd, and maps that over them. A memory whose map has grown to
//! [`MAX_RUNS`] runs is flattened into one file instead, so the number of
//! mappings stays bounded.
//!
//! Locks: the registry and a memory's state are never held together.
//! Every `unsafe` block maps, unmaps or reads pages inside a reservation
//! this module made and owns until the memory is dropped.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

const PAGE: usize = 4096;
/// Runs in a memory's map beyond which a fork flattens it into one file.
const MAX_RUNS: usize = 256;

/// A run of pages mapped privately from a frozen file.
#[derive(Clone)]
struct Run {
    page: usize,
    count: usize,
    file: Arc<OwnedFd>,
    file_page: usize,
}

/// What a fork hands the child: the parent's pages at the fork.
pub(crate) struct Snapshot {
    len: usize,
    runs: Vec<Run>,
}

/// One memory's mapping. Invariant: pages `[0, len)` are mapped read-write;
/// with `shared`, all of them from that file at their own offset; without,
/// each page in a run from its file, and every other page anonymous.
struct State {
    base: usize,
    len: usize,
    shared: Option<Arc<OwnedFd>>,
    runs: Vec<Run>,
    /// Mappings moved out of the way by a fork (see `retire`).
    retired: Vec<(usize, usize)>,
}

fn registry() -> &'static Mutex<HashMap<usize, Arc<Mutex<State>>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<usize, Arc<Mutex<State>>>>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn last_error(what: &str) -> std::io::Error {
    let e = std::io::Error::last_os_error();
    std::io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn memfd(len: usize) -> std::io::Result<Arc<OwnedFd>> {
    // SAFETY: memfd_create takes a NUL-terminated name and flags; the fd it
    // returns is new and owned by nothing else.
    let fd = unsafe { libc::memfd_create(c"sidecar-guest-memory".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(last_error("memfd_create"));
    }
    // SAFETY: `fd` was just returned by memfd_create and is not owned yet.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    File::from(fd.try_clone()?).set_len(len as u64)?;
    Ok(Arc::new(fd))
}

/// Page-table pages cover 2 MiB: reservations aligned to that let mremap
/// move whole tables instead of entries.
const TABLE: usize = 2 << 20;

/// A `PROT_NONE` reservation of `len` bytes at a `TABLE`-aligned address.
fn reserve(len: usize) -> std::io::Result<usize> {
    let over = len + TABLE;
    // SAFETY: a new PROT_NONE reservation at an address the kernel picks;
    // nothing else uses it.
    let raw = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            over,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        return Err(last_error("reserving guest memory"));
    }
    let raw = raw as usize;
    let base = raw.next_multiple_of(TABLE);
    // SAFETY: the slack before and after the aligned range is part of the
    // reservation just made, and unused.
    unsafe {
        if base > raw {
            libc::munmap(raw as *mut libc::c_void, base - raw);
        }
        let end = base + len;
        if raw + over > end {
            libc::munmap(end as *mut libc::c_void, raw + over - end);
        }
    }
    Ok(base)
}

/// Maps `count` pages at page `page` of the memory at `base` from `file`
/// at `file_page` (shared or private), or anonymous zeros with no file.
fn map(
    base: usize,
    page: usize,
    count: usize,
    file: Option<(&OwnedFd, usize)>,
    shared: bool,
) -> std::io::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let addr = (base + page * PAGE) as *mut libc::c_void;
    let len = count * PAGE;
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    let (flags, fd, off) = match file {
        Some((f, fp)) => {
            let kind = if shared {
                libc::MAP_SHARED
            } else {
                libc::MAP_PRIVATE
            };
            (
                kind | libc::MAP_FIXED,
                f.as_raw_fd(),
                (fp * PAGE) as libc::off_t,
            )
        }
        None => (
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        ),
    };
    // SAFETY: the range lies inside a reservation this module made for one
    // memory (callers keep page + count within its capacity); MAP_FIXED
    // replaces what was there, which only that memory's owner reaches, and
    // only while it is not running wasm (creation, growth, fork).
    let r = unsafe { libc::mmap(addr, len, prot, flags, fd, off) };
    if r == libc::MAP_FAILED {
        return Err(last_error("mmap"));
    }
    Ok(())
}

/// A guest memory made by [`Creator`].
struct GuestMemory {
    state: Arc<Mutex<State>>,
    /// Bytes reserved (guard included), for munmap.
    reserved: usize,
    capacity: usize,
    maximum: Option<usize>,
}

// SAFETY: the base is page-aligned and the reservation keeps
// `guard_size_in_bytes` unmapped after the capacity; pages below the
// current size are always mapped read-write (State's invariant), and the
// base never moves.
unsafe impl LinearMemory for GuestMemory {
    fn byte_size(&self) -> usize {
        lock(&self.state).len
    }

    fn byte_capacity(&self) -> usize {
        self.capacity
    }

    fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
        if new_size > self.capacity || self.maximum.is_some_and(|m| new_size > m) {
            wasmtime::bail!("memory cannot grow to {new_size} bytes");
        }
        let mut s = lock(&self.state);
        if new_size <= s.len {
            return Ok(());
        }
        let (from, to) = (s.len / PAGE, new_size.div_ceil(PAGE));
        match &s.shared {
            Some(f) => {
                File::from(f.try_clone()?).set_len((to * PAGE) as u64)?;
                map(s.base, from, to - from, Some((f, from)), true)?;
            }
            None => map(s.base, from, to - from, None, false)?,
        }
        s.len = new_size;
        Ok(())
    }

    fn as_ptr(&self) -> *mut u8 {
        lock(&self.state).base as *mut u8
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        let (base, retired) = {
            let mut s = lock(&self.state);
            (s.base, std::mem::take(&mut s.retired))
        };
        lock(registry()).remove(&base);
        // SAFETY: the whole reservation and the retired mappings are this
        // memory's, and wasmtime drops the memory only when nothing can
        // reach it any more.
        unsafe {
            libc::munmap(base as *mut libc::c_void, self.reserved);
            for (at, len) in retired {
                libc::munmap(at as *mut libc::c_void, len);
            }
        }
    }
}

/// Makes every guest memory (see the module's documentation).
pub(crate) struct Creator;

// SAFETY: each memory is a fresh reservation of `reserved + guard` bytes,
// zero-filled (a new memfd, or anonymous pages), page-aligned, whose base
// never moves; the guard stays PROT_NONE.
unsafe impl MemoryCreator for Creator {
    fn new_memory(
        &self,
        _ty: MemoryType,
        minimum: usize,
        maximum: Option<usize>,
        reserved_size_in_bytes: Option<usize>,
        guard_size_in_bytes: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        let capacity = reserved_size_in_bytes
            .or(maximum)
            .unwrap_or(minimum)
            .max(minimum)
            .next_multiple_of(PAGE);
        let reserved = capacity + guard_size_in_bytes;
        let base = reserve(reserved).map_err(|e| e.to_string())?;
        let made = (|| {
            let file = memfd(minimum.next_multiple_of(PAGE))?;
            map(base, 0, minimum.div_ceil(PAGE), Some((&file, 0)), true)?;
            Ok::<_, std::io::Error>(file)
        })();
        let file = match made {
            Ok(f) => f,
            Err(e) => {
                // SAFETY: the reservation made above, not yet shared.
                unsafe { libc::munmap(base as *mut libc::c_void, reserved) };
                return Err(e.to_string());
            }
        };
        let state = Arc::new(Mutex::new(State {
            base,
            len: minimum,
            shared: Some(file),
            runs: Vec::new(),
            retired: Vec::new(),
        }));
        lock(registry()).insert(base, state.clone());
        Ok(Box::new(GuestMemory {
            state,
            reserved,
            capacity,
            maximum,
        }))
    }
}

/// Freezes the memory at `base` (made by [`Creator`]) for a fork: returns
/// what the child maps, and leaves the parent mapping the same frozen
/// pages copy-on-write.
pub(crate) fn snapshot(base: *const u8) -> std::io::Result<Snapshot> {
    let state = state_of(base)?;
    let mut s = lock(&state);
    freeze(&mut s)
}

/// The state of the guest memory at `base`.
fn state_of(base: *const u8) -> std::io::Result<Arc<Mutex<State>>> {
    lock(registry())
        .get(&(base as usize))
        .cloned()
        .ok_or_else(|| std::io::Error::other("not a guest memory"))
}

fn freeze(s: &mut State) -> std::io::Result<Snapshot> {
    let pages = s.len.div_ceil(PAGE);
    if let Some(file) = s.shared.take() {
        // Nobody writes the file once the parent maps it privately too.
        // Unmapping the shared view costs a page-table walk of every page
        // the guest touched (18 ms for 256 MiB): move its tables aside
        // whole instead.
        if let Some(r) = retire(s.base, pages * PAGE) {
            s.retired.push(r);
        }
        if let Err(e) = map(s.base, 0, pages, Some((&file, 0)), false) {
            s.shared = Some(file);
            return Err(e);
        }
        s.runs = vec![Run {
            page: 0,
            count: pages,
            file,
            file_page: 0,
        }];
    } else {
        let dirty = dirty_pages(s.base, pages)?;
        let n_dirty = dirty.iter().filter(|d| **d).count();
        if n_dirty > 0 || s.runs.len() > MAX_RUNS {
            let flatten = s.runs.len() > MAX_RUNS;
            let file = memfd(pages * PAGE)?;
            let writer = File::from(file.try_clone()?);
            // SAFETY: pages [0, pages) of this memory are mapped (State's
            // invariant) and the memory's owner is inside fork, not running
            // wasm, so nothing writes them while they are read here.
            let mem = unsafe { std::slice::from_raw_parts(s.base as *const u8, pages * PAGE) };
            let mut page = 0;
            while page < pages {
                let take = |p: usize| flatten || dirty[p];
                if !take(page) {
                    page += 1;
                    continue;
                }
                let end = (page..pages).find(|p| !take(*p)).unwrap_or(pages);
                writer.write_all_at(&mem[page * PAGE..end * PAGE], (page * PAGE) as u64)?;
                page = end;
            }
            // Where each page comes from now: the new file for what was
            // written (everything, when flattened), else its old run.
            let mut old: Vec<Option<(usize, usize)>> = vec![None; pages];
            for (i, r) in s.runs.iter().enumerate() {
                for k in 0..r.count.min(pages.saturating_sub(r.page)) {
                    old[r.page + k] = Some((i, r.file_page + k));
                }
            }
            let src = |p: usize| -> Option<(Arc<OwnedFd>, usize)> {
                if flatten || dirty[p] {
                    return Some((file.clone(), p));
                }
                old[p].map(|(i, fp)| (s.runs[i].file.clone(), fp))
            };
            let mut runs = Vec::new();
            let mut page = 0;
            while page < pages {
                let Some((f, fp)) = src(page) else {
                    page += 1;
                    continue;
                };
                let mut count = 1;
                while page + count < pages {
                    match src(page + count) {
                        Some((g, gp)) if Arc::ptr_eq(&f, &g) && gp == fp + count => count += 1,
                        _ => break,
                    }
                }
                runs.push(Run {
                    page,
                    count,
                    file: f,
                    file_page: fp,
                });
                page += count;
            }
            // The parent's written pages become private views of the file
            // that now holds them (all of it, when flattened).
            for r in &runs {
                if flatten || Arc::ptr_eq(&r.file, &file) {
                    map(s.base, r.page, r.count, Some((&r.file, r.file_page)), false)?;
                }
            }
            s.runs = runs;
        }
    }
    Ok(Snapshot {
        len: s.len,
        runs: s.runs.clone(),
    })
}

/// Moves the mapping of `len` bytes at `base` (`TABLE`-aligned) to a
/// reservation of its own, whole page tables at a time, leaving `base`
/// unmapped; returns where it went, for the memory to unmap when dropped.
/// If the move fails, nothing moves and the caller's MAP_FIXED unmaps it in
/// place.
fn retire(base: usize, len: usize) -> Option<(usize, usize)> {
    if len < TABLE {
        return None;
    }
    let to = reserve(len).ok()?;
    // SAFETY: [base, base + len) is this memory's mapping and `to` a fresh
    // reservation of `len` bytes; MREMAP_FIXED replaces the reservation,
    // and the memory's owner is inside fork, not running wasm. A failed
    // move changes nothing.
    unsafe {
        libc::mremap(
            base as *mut libc::c_void,
            len,
            len,
            libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
            to as *mut libc::c_void,
        )
    };
    // Whether it moved or not, what is at `to` (the old mapping, or the
    // unused reservation) goes when the memory does: unmapping it walks
    // every page the shared view mapped, and holds the address space's
    // lock meanwhile, which a fork must not wait for (nor the next one).
    Some((to, len))
}

/// Which of the first `pages` pages at `base` hold anonymous (written)
/// data: present and not file-backed, from `/proc/self/pagemap`.
fn dirty_pages(base: usize, pages: usize) -> std::io::Result<Vec<bool>> {
    const PRESENT: u64 = 1 << 63;
    const FILE_OR_SHARED: u64 = 1 << 61;
    let pagemap = File::open("/proc/self/pagemap")?;
    let mut raw = vec![0u8; pages * 8];
    pagemap.read_exact_at(&mut raw, (base / PAGE * 8) as u64)?;
    Ok(raw
        .chunks_exact(8)
        .map(|e| {
            let e = u64::from_le_bytes(e.try_into().unwrap());
            e & PRESENT != 0 && e & FILE_OR_SHARED == 0
        })
        .collect())
}

/// Gives the memory at `base` (a fresh one made by [`Creator`], grown to at
/// least the snapshot's size) the snapshot's pages, replacing what
/// instantiation wrote.
pub(crate) fn restore(base: *const u8, snap: &Snapshot) -> std::io::Result<()> {
    let state = state_of(base)?;
    let mut s = lock(&state);
    let pages = snap.len.div_ceil(PAGE);
    if s.len < snap.len {
        return Err(std::io::Error::other(
            "the child's memory is smaller than its parent's",
        ));
    }
    // Pages no run covers are the parent's untouched anonymous ones: zeros.
    map(s.base, 0, pages, None, false)?;
    for r in &snap.runs {
        map(s.base, r.page, r.count, Some((&r.file, r.file_page)), false)?;
    }
    // Beyond the snapshot (none, as the child grew to the parent's size
    // exactly): anonymous zeros as well.
    map(s.base, pages, s.len.div_ceil(PAGE) - pages, None, false)?;
    s.shared = None;
    s.runs = snap.runs.clone();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEN: usize = 64 << 10;

    fn memory() -> Box<dyn LinearMemory> {
        Creator
            .new_memory(MemoryType::new(1, None), LEN, None, Some(LEN * 64), LEN)
            .unwrap()
    }

    // Guest memory is written through its raw pointer, as wasm does.
    #[allow(clippy::mut_from_ref)]
    fn bytes(m: &dyn LinearMemory) -> &mut [u8] {
        // SAFETY: the memory's first byte_size() bytes are mapped read-write
        // and only this test touches them, one borrow at a time.
        unsafe { std::slice::from_raw_parts_mut(m.as_ptr(), m.byte_size()) }
    }

    fn child_of(parent: &dyn LinearMemory) -> Box<dyn LinearMemory> {
        let snap = snapshot(parent.as_ptr()).unwrap();
        let mut child = memory();
        child.grow_to(parent.byte_size()).unwrap();
        bytes(&*child).fill(0xee); // as instantiation's data segments would
        restore(child.as_ptr(), &snap).unwrap();
        child
    }

    #[test]
    fn a_snapshot_is_the_memory_at_the_fork_whatever_either_side_writes() {
        let mut parent = memory();
        parent.grow_to(LEN * 4).unwrap();
        bytes(&*parent)
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (i / PAGE) as u8);
        let first = child_of(&*parent);
        assert_eq!(bytes(&*first)[PAGE * 3], 3);
        // The parent writes a few pages after the fork; the child keeps the
        // old ones, and its own writes stay its own.
        bytes(&*parent)[PAGE * 5] = 200;
        bytes(&*first)[PAGE * 6] = 100;
        assert_eq!(bytes(&*first)[PAGE * 5], 5);
        assert_eq!(bytes(&*parent)[PAGE * 6], 6);
        // A second fork sees the parent's new page (a private memory: only
        // written pages go to a new file), the first child still does not.
        let second = child_of(&*parent);
        assert_eq!(bytes(&*second)[PAGE * 5], 200);
        assert_eq!(bytes(&*second)[PAGE * 6], 6);
        assert_eq!(bytes(&*first)[PAGE * 5], 5);
        // A grandchild of a child, and growth after a fork.
        let grandchild = child_of(&*first);
        assert_eq!(bytes(&*grandchild)[PAGE * 6], 100);
        parent.grow_to(LEN * 5).unwrap();
        assert_eq!(bytes(&*parent)[LEN * 4 + 1], 0);
        let third = child_of(&*parent);
        assert_eq!(bytes(&*third)[..LEN * 4], bytes(&*parent)[..LEN * 4]);
    }

    #[test]
    fn a_memory_written_all_over_is_flattened_into_one_file() {
        let mut parent = memory();
        parent.grow_to(LEN * 40).unwrap();
        let _first = child_of(&*parent);
        // Every other page written: more runs than MAX_RUNS.
        for p in (0..LEN * 40 / PAGE).step_by(2) {
            bytes(&*parent)[p * PAGE] = 7;
        }
        let _second = child_of(&*parent);
        for p in (1..LEN * 40 / PAGE).step_by(2) {
            bytes(&*parent)[p * PAGE] = 9;
        }
        let third = child_of(&*parent);
        let state = lock(registry())
            .get(&(parent.as_ptr() as usize))
            .unwrap()
            .clone();
        assert_eq!(lock(&state).runs.len(), 1, "flattened");
        assert!(bytes(&*third)
            .chunks(PAGE)
            .enumerate()
            .all(|(p, c)| c[0] == if p % 2 == 0 { 7 } else { 9 }));
    }
}
