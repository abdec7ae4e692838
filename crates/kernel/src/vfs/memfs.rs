//! In-memory filesystem (tmpfs). Inodes are shared by hard links and open
//! descriptions; file data counts against a per-filesystem byte limit so a
//! guest cannot exhaust host memory.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{lock, Backend, DirHandle, Name, OpenFlags, Program, SocketEndpoint};
use crate::errno::{Errno, KResult};
use crate::file::{now_ns, DirEntry, FileDescription, FileType, SetTime, Stat, Timestamp, Whence};

pub(crate) const DEFAULT_LIMIT: u64 = 1 << 30;
const MAX_OFFSET: u64 = i64::MAX as u64;

static NEXT_DEV: AtomicU64 = AtomicU64::new(0x5ec0_0001);

#[derive(Debug)]
struct Shared {
    dev: u64,
    next_ino: AtomicU64,
    used: AtomicU64,
    limit: u64,
}

impl Shared {
    fn charge(&self, bytes: u64) -> KResult<()> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                u.checked_add(bytes).filter(|n| *n <= self.limit)
            })
            .map(|_| ())
            .map_err(|_| Errno::ENOSPC)
    }

    fn refund(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

enum Content {
    File(Vec<u8>),
    Dir(BTreeMap<String, Arc<Inode>>),
    Symlink(String),
    Socket(SocketEndpoint),
}

struct Data {
    mode: u32,
    /// Hard links; for directories 1 while linked, 0 once removed.
    nlink: u64,
    atime: Timestamp,
    mtime: Timestamp,
    ctime: Timestamp,
    content: Content,
}

pub(crate) struct Inode {
    ino: u64,
    kind: FileType,
    shared: Arc<Shared>,
    data: Mutex<Data>,
}

impl fmt::Debug for Inode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inode")
            .field("dev", &self.shared.dev)
            .field("ino", &self.ino)
            .field("kind", &self.kind)
            .finish()
    }
}

impl Drop for Inode {
    fn drop(&mut self) {
        let data = self.data.get_mut().unwrap_or_else(|e| e.into_inner());
        match &mut data.content {
            Content::File(v) => self.shared.refund(v.len() as u64),
            // Tear trees down iteratively: a deep directory chain must not
            // overflow the stack.
            Content::Dir(entries) => {
                let mut stack: Vec<Arc<Inode>> = std::mem::take(entries).into_values().collect();
                while let Some(child) = stack.pop() {
                    if let Some(mut inode) = Arc::into_inner(child) {
                        let d = inode.data.get_mut().unwrap_or_else(|e| e.into_inner());
                        if let Content::Dir(e) = &mut d.content {
                            stack.extend(std::mem::take(e).into_values());
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn apply(t: SetTime, now: Timestamp, slot: &mut Timestamp) {
    match t {
        SetTime::Omit => {}
        SetTime::Now => *slot = now,
        SetTime::At(ts) => *slot = ts,
    }
}

impl Inode {
    fn stat(&self) -> Stat {
        let d = lock(&self.data);
        let (size, nlink) = match &d.content {
            Content::File(v) => (v.len() as u64, d.nlink),
            Content::Dir(entries) => {
                let subdirs = entries
                    .values()
                    .filter(|c| c.kind == FileType::Directory)
                    .count() as u64;
                (4096, if d.nlink == 0 { 0 } else { 2 + subdirs })
            }
            Content::Symlink(t) => (t.len() as u64, d.nlink),
            Content::Socket(_) => (0, d.nlink),
        };
        Stat {
            dev: self.shared.dev,
            ino: self.ino,
            file_type: Some(self.kind),
            mode: d.mode,
            nlink,
            size,
            atime: d.atime,
            mtime: d.mtime,
            ctime: d.ctime,
        }
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) {
        let now = now_ns();
        let mut d = lock(&self.data);
        apply(atime, now, &mut d.atime);
        apply(mtime, now, &mut d.mtime);
        d.ctime = now;
    }

    fn touch_modified(&self) {
        let now = now_ns();
        let mut d = lock(&self.data);
        d.mtime = now;
        d.ctime = now;
    }

    fn size(&self) -> u64 {
        match &lock(&self.data).content {
            Content::File(v) => v.len() as u64,
            _ => 0,
        }
    }

    fn read_at(&self, off: u64, len: usize) -> KResult<Vec<u8>> {
        let d = lock(&self.data);
        let Content::File(v) = &d.content else {
            return Err(Errno::EINVAL);
        };
        let Ok(start) = usize::try_from(off) else {
            return Ok(Vec::new());
        };
        if start >= v.len() {
            return Ok(Vec::new());
        }
        let end = start.saturating_add(len).min(v.len());
        Ok(v[start..end].to_vec())
    }

    /// Writes at `off` (at the end if `None`); returns the end offset.
    fn write_at(&self, off: Option<u64>, data: &[u8]) -> KResult<u64> {
        let mut g = lock(&self.data);
        let d = &mut *g;
        let Content::File(v) = &mut d.content else {
            return Err(Errno::EINVAL);
        };
        let off = off.unwrap_or(v.len() as u64);
        if data.is_empty() {
            return Ok(off);
        }
        let end = off
            .checked_add(data.len() as u64)
            .filter(|e| *e <= MAX_OFFSET)
            .ok_or(Errno::EFBIG)?;
        let end = usize::try_from(end).map_err(|_| Errno::EFBIG)?;
        if end > v.len() {
            grow(&self.shared, v, end)?;
        }
        v[end - data.len()..end].copy_from_slice(data);
        let now = now_ns();
        d.mtime = now;
        d.ctime = now;
        Ok(end as u64)
    }

    fn set_size(&self, size: u64) -> KResult<()> {
        let mut g = lock(&self.data);
        let d = &mut *g;
        let v = match &mut d.content {
            Content::File(v) => v,
            Content::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        let new = usize::try_from(size)
            .ok()
            .filter(|_| size <= MAX_OFFSET)
            .ok_or(Errno::EFBIG)?;
        if new > v.len() {
            grow(&self.shared, v, new)?;
        } else {
            self.shared.refund((v.len() - new) as u64);
            v.truncate(new);
            if v.capacity() > 2 * new + 4096 {
                v.shrink_to_fit();
            }
        }
        let now = now_ns();
        d.mtime = now;
        d.ctime = now;
        Ok(())
    }
}

/// Zero-extends `v` to `new_len`, charging the filesystem.
fn grow(shared: &Shared, v: &mut Vec<u8>, new_len: usize) -> KResult<()> {
    let add = new_len - v.len();
    shared.charge(add as u64)?;
    if v.try_reserve(add).is_err() {
        shared.refund(add as u64);
        return Err(Errno::ENOMEM);
    }
    v.resize(new_len, 0);
    Ok(())
}

#[derive(Debug)]
pub(crate) struct MemFs {
    shared: Arc<Shared>,
    root: Arc<Inode>,
    /// Serializes namespace operations, which lock one inode at a time.
    ns: Mutex<()>,
}

impl MemFs {
    pub(crate) fn new(limit: u64) -> MemFs {
        let shared = Arc::new(Shared {
            dev: NEXT_DEV.fetch_add(1, Ordering::Relaxed),
            next_ino: AtomicU64::new(2),
            used: AtomicU64::new(0),
            limit,
        });
        let root = new_inode(
            &shared,
            1,
            FileType::Directory,
            0o1777,
            Content::Dir(BTreeMap::new()),
        );
        MemFs {
            shared,
            root,
            ns: Mutex::new(()),
        }
    }

    fn alloc(&self, kind: FileType, mode: u32, content: Content) -> Arc<Inode> {
        let ino = self.shared.next_ino.fetch_add(1, Ordering::Relaxed);
        new_inode(&self.shared, ino, kind, mode & 0o7777, content)
    }

    fn lookup(&self, rel: &[Name]) -> KResult<Arc<Inode>> {
        let mut node = self.root.clone();
        for name in rel {
            let next = match &lock(&node.data).content {
                Content::Dir(entries) => {
                    entries.get(name.as_str()).cloned().ok_or(Errno::ENOENT)?
                }
                _ => return Err(Errno::ENOTDIR),
            };
            node = next;
        }
        Ok(node)
    }

    /// The directory holding the last component of `rel`, and that name.
    fn parent<'a>(&self, rel: &'a [Name]) -> KResult<(Arc<Inode>, &'a str)> {
        let (name, dir) = rel.split_last().ok_or(Errno::EBUSY)?;
        let parent = self.lookup(dir)?;
        if parent.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok((parent, name))
    }

    fn insert(&self, dir: &Inode, name: &str, inode: Arc<Inode>) -> KResult<()> {
        {
            let mut d = lock(&dir.data);
            if d.nlink == 0 {
                return Err(Errno::ENOENT);
            }
            let Content::Dir(entries) = &mut d.content else {
                return Err(Errno::ENOTDIR);
            };
            if entries.contains_key(name) {
                return Err(Errno::EEXIST);
            }
            entries.insert(name.to_string(), inode);
        }
        dir.touch_modified();
        Ok(())
    }

    fn remove(&self, dir: &Inode, name: &str) -> Option<Arc<Inode>> {
        let removed = match &mut lock(&dir.data).content {
            Content::Dir(entries) => entries.remove(name),
            _ => None,
        };
        if removed.is_some() {
            dir.touch_modified();
        }
        removed
    }

    fn drop_link(inode: &Inode) {
        let mut d = lock(&inode.data);
        d.nlink = if inode.kind == FileType::Directory {
            0
        } else {
            d.nlink.saturating_sub(1)
        };
        d.ctime = now_ns();
    }

    fn is_empty_dir(inode: &Inode) -> bool {
        match &lock(&inode.data).content {
            Content::Dir(entries) => entries.is_empty(),
            _ => false,
        }
    }
}

fn new_inode(
    shared: &Arc<Shared>,
    ino: u64,
    kind: FileType,
    mode: u32,
    content: Content,
) -> Arc<Inode> {
    let now = now_ns();
    Arc::new(Inode {
        ino,
        kind,
        shared: shared.clone(),
        data: Mutex::new(Data {
            mode,
            nlink: 1,
            atime: now,
            mtime: now,
            ctime: now,
            content,
        }),
    })
}

impl Backend for MemFs {
    fn count_dirs(&self, dir: &[Name], names: &[Name]) -> usize {
        let _ns = lock(&self.ns);
        let Ok(mut node) = self.lookup(dir) else {
            return 0;
        };
        for (i, name) in names.iter().enumerate() {
            let next = match &lock(&node.data).content {
                Content::Dir(entries) => entries.get(name.as_str()).cloned(),
                _ => None,
            };
            match next {
                Some(n) if n.kind == FileType::Directory => node = n,
                _ => return i,
            }
        }
        names.len()
    }

    fn lstat(&self, rel: &[Name]) -> KResult<Stat> {
        let _ns = lock(&self.ns);
        Ok(self.lookup(rel)?.stat())
    }

    fn readlink(&self, rel: &[Name]) -> KResult<String> {
        let _ns = lock(&self.ns);
        match &lock(&self.lookup(rel)?.data).content {
            Content::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn open_file(
        &self,
        rel: &[Name],
        flags: OpenFlags,
        mode: u32,
    ) -> KResult<Arc<dyn FileDescription>> {
        let _ns = lock(&self.ns);
        if rel.is_empty() {
            return Err(Errno::EISDIR);
        }
        let (dir, name) = self.parent(rel)?;
        let existing = match &lock(&dir.data).content {
            Content::Dir(entries) => entries.get(name).cloned(),
            _ => return Err(Errno::ENOTDIR),
        };
        let inode = match existing {
            Some(inode) => {
                match inode.kind {
                    FileType::RegularFile => {}
                    FileType::Directory => return Err(Errno::EISDIR),
                    FileType::SymbolicLink => return Err(Errno::ELOOP),
                    _ => return Err(Errno::ENXIO),
                }
                if flags.create && flags.excl {
                    return Err(Errno::EEXIST);
                }
                if flags.truncate {
                    inode.set_size(0)?;
                }
                inode
            }
            None => {
                if !flags.create {
                    return Err(Errno::ENOENT);
                }
                let inode = self.alloc(FileType::RegularFile, mode, Content::File(Vec::new()));
                self.insert(&dir, name, inode.clone())?;
                inode
            }
        };
        Ok(Arc::new(MemFile {
            inode,
            pos: Mutex::new(0),
        }))
    }

    fn open_dir(&self, rel: &[Name]) -> KResult<Box<dyn DirHandle>> {
        let _ns = lock(&self.ns);
        let inode = self.lookup(rel)?;
        if inode.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(Box::new(MemDir { inode }))
    }

    fn mkdir(&self, rel: &[Name], mode: u32) -> KResult<()> {
        let _ns = lock(&self.ns);
        let (dir, name) = self.parent(rel).map_err(|e| match e {
            Errno::EBUSY => Errno::EEXIST,
            e => e,
        })?;
        let inode = self.alloc(FileType::Directory, mode, Content::Dir(BTreeMap::new()));
        self.insert(&dir, name, inode)
    }

    fn rmdir(&self, rel: &[Name]) -> KResult<()> {
        let _ns = lock(&self.ns);
        let (dir, name) = self.parent(rel)?;
        let child = self.lookup(rel)?;
        if child.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if !Self::is_empty_dir(&child) {
            return Err(Errno::ENOTEMPTY);
        }
        self.remove(&dir, name);
        Self::drop_link(&child);
        Ok(())
    }

    fn unlink(&self, rel: &[Name]) -> KResult<()> {
        let _ns = lock(&self.ns);
        let (dir, name) = self.parent(rel)?;
        let child = self.lookup(rel)?;
        if child.kind == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        self.remove(&dir, name);
        Self::drop_link(&child);
        Ok(())
    }

    fn rename(&self, from: &[Name], to: &[Name]) -> KResult<()> {
        let _ns = lock(&self.ns);
        let (src_dir, src_name) = self.parent(from)?;
        let (dst_dir, dst_name) = self.parent(to)?;
        let src = self.lookup(from)?;
        let src_is_dir = src.kind == FileType::Directory;
        let dst = match self.lookup(to) {
            Ok(d) => Some(d),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(e),
        };
        if let Some(d) = &dst {
            if Arc::ptr_eq(d, &src) {
                return Ok(());
            }
            match (src_is_dir, d.kind == FileType::Directory) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !Self::is_empty_dir(d) => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        if src_is_dir && to.len() > from.len() && to.starts_with(from) {
            return Err(Errno::EINVAL);
        }
        if lock(&dst_dir.data).nlink == 0 {
            return Err(Errno::ENOENT);
        }
        self.remove(&src_dir, src_name);
        let replaced = match &mut lock(&dst_dir.data).content {
            Content::Dir(entries) => entries.insert(dst_name.to_string(), src.clone()),
            _ => None,
        };
        dst_dir.touch_modified();
        if let Some(old) = replaced {
            Self::drop_link(&old);
        }
        lock(&src.data).ctime = now_ns();
        Ok(())
    }

    fn link(&self, from: &[Name], to: &[Name]) -> KResult<()> {
        let _ns = lock(&self.ns);
        let src = self.lookup(from)?;
        if src.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        let (dir, name) = self.parent(to)?;
        self.insert(&dir, name, src.clone())?;
        let mut d = lock(&src.data);
        d.nlink += 1;
        d.ctime = now_ns();
        Ok(())
    }

    fn symlink(&self, target: &str, rel: &[Name]) -> KResult<()> {
        let _ns = lock(&self.ns);
        let (dir, name) = self.parent(rel).map_err(|e| match e {
            Errno::EBUSY => Errno::EEXIST,
            e => e,
        })?;
        let inode = self.alloc(
            FileType::SymbolicLink,
            0o777,
            Content::Symlink(target.to_string()),
        );
        self.insert(&dir, name, inode)
    }

    fn set_times(&self, rel: &[Name], atime: SetTime, mtime: SetTime) -> KResult<()> {
        let _ns = lock(&self.ns);
        self.lookup(rel)?.set_times(atime, mtime);
        Ok(())
    }

    fn truncate(&self, rel: &[Name], size: u64) -> KResult<()> {
        let _ns = lock(&self.ns);
        self.lookup(rel)?.set_size(size)
    }

    fn program(&self, rel: &[Name]) -> KResult<Program> {
        let _ns = lock(&self.ns);
        match &lock(&self.lookup(rel)?.data).content {
            Content::File(v) => Ok(Program::Bytes(Arc::from(v.as_slice()))),
            _ => Err(Errno::EACCES),
        }
    }

    fn bind_socket(&self, rel: &[Name], endpoint: SocketEndpoint) -> KResult<()> {
        let _ns = lock(&self.ns);
        let (dir, name) = self.parent(rel).map_err(|e| match e {
            Errno::EBUSY => Errno::EADDRINUSE,
            e => e,
        })?;
        let inode = self.alloc(FileType::SocketStream, 0o755, Content::Socket(endpoint));
        self.insert(&dir, name, inode).map_err(|e| match e {
            Errno::EEXIST => Errno::EADDRINUSE,
            e => e,
        })
    }

    fn lookup_socket(&self, rel: &[Name]) -> KResult<SocketEndpoint> {
        let _ns = lock(&self.ns);
        match &lock(&self.lookup(rel)?.data).content {
            Content::Socket(ep) => Ok(ep.clone()),
            _ => Err(Errno::ECONNREFUSED),
        }
    }
}

/// An open memfs regular file.
#[derive(Debug)]
pub(crate) struct MemFile {
    inode: Arc<Inode>,
    pos: Mutex<u64>,
}

impl FileDescription for MemFile {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }

    fn read(&self, len: usize) -> KResult<Vec<u8>> {
        let mut pos = lock(&self.pos);
        let data = self.inode.read_at(*pos, len)?;
        *pos += data.len() as u64;
        Ok(data)
    }

    fn write(&self, data: &[u8], append: bool) -> KResult<usize> {
        let mut pos = lock(&self.pos);
        let end = self
            .inode
            .write_at(if append { None } else { Some(*pos) }, data)?;
        *pos = end;
        Ok(data.len())
    }

    fn pread(&self, len: usize, offset: u64) -> KResult<Vec<u8>> {
        self.inode.read_at(offset, len)
    }

    fn pwrite(&self, data: &[u8], offset: u64) -> KResult<usize> {
        self.inode.write_at(Some(offset), data)?;
        Ok(data.len())
    }

    fn seek(&self, offset: i64, whence: Whence) -> KResult<u64> {
        let mut pos = lock(&self.pos);
        let from = match whence {
            Whence::Set => 0,
            Whence::Cur => *pos as i64,
            Whence::End => self.inode.size() as i64,
        };
        let new = from.checked_add(offset).ok_or(Errno::EINVAL)?;
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(self.inode.stat())
    }

    fn set_size(&self, size: u64) -> KResult<()> {
        self.inode.set_size(size)
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) -> KResult<()> {
        self.inode.set_times(atime, mtime);
        Ok(())
    }

    fn bytes_readable(&self) -> KResult<usize> {
        let pos = *lock(&self.pos);
        Ok(self.inode.size().saturating_sub(pos) as usize)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An open memfs directory.
#[derive(Debug)]
struct MemDir {
    inode: Arc<Inode>,
}

impl DirHandle for MemDir {
    fn stat(&self) -> KResult<Stat> {
        Ok(self.inode.stat())
    }

    fn list(&self) -> KResult<Vec<DirEntry>> {
        match &lock(&self.inode.data).content {
            Content::Dir(entries) => Ok(entries
                .iter()
                .map(|(name, c)| DirEntry {
                    ino: c.ino,
                    name: name.clone(),
                    file_type: c.kind,
                })
                .collect()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) -> KResult<()> {
        self.inode.set_times(atime, mtime);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_tree_drops_without_recursion() {
        let fs = MemFs::new(DEFAULT_LIMIT);
        let mut node = fs.root.clone();
        for _ in 0..200_000 {
            let child = fs.alloc(FileType::Directory, 0o755, Content::Dir(BTreeMap::new()));
            fs.insert(&node, "d", child.clone()).unwrap();
            node = child;
        }
        drop(node);
        drop(fs);
    }

    #[test]
    fn limit_and_accounting() {
        let fs = MemFs::new(10);
        let rel = vec![Name::from("f")];
        let flags = OpenFlags {
            read: true,
            write: true,
            create: true,
            ..OpenFlags::default()
        };
        let f = fs.open_file(&rel, flags, 0o644).unwrap();
        assert_eq!(f.write(b"0123456789", false), Ok(10));
        assert_eq!(f.write(b"x", false), Err(Errno::ENOSPC));
        assert_eq!(f.pwrite(b"ab", 3), Ok(2));
        f.set_size(4).unwrap();
        assert_eq!(fs.shared.used.load(Ordering::Relaxed), 4);
        fs.unlink(&rel).unwrap();
        // Still open: the data lives until the last reference goes.
        assert_eq!(fs.shared.used.load(Ordering::Relaxed), 4);
        drop(f);
        assert_eq!(fs.shared.used.load(Ordering::Relaxed), 0);
        let g = fs.open_file(&rel, flags, 0o644).unwrap();
        assert_eq!(g.pwrite(b"z", 1 << 40), Err(Errno::ENOSPC));
        assert_eq!(g.pwrite(b"z", u64::MAX - 1), Err(Errno::EFBIG));
    }
}
