//! Path resolution in VFS space.
//!
//! Every walk starts at the VFS root (a relative path is appended to its
//! base, which is re-walked rather than trusted), keeps its position as a
//! list of components, clamps `..` at `/` and expands symlinks itself. A
//! backend is asked about `dir/name` only after each component of `dir`
//! below the backend's root was found to be a real directory in this walk.

use std::collections::VecDeque;

use sidecar_abi::consts::limits;

use super::{is_dir, Backend, Name, Vfs};
use crate::errno::{Errno, KResult};
use crate::file::{FileType, Stat};

pub(crate) const NAME_MAX: usize = 255;
pub(crate) const PATH_MAX: usize = limits::PATH_MAX as usize;
const MAX_SYMLINKS: usize = 40;
/// The deepest a walk may go: as deep as a PATH_MAX path can spell
/// (`a/a/...`). Like Linux's limits, it bounds the work of one lookup.
pub(crate) const MAX_DEPTH: usize = PATH_MAX / 2;
/// Device number of directories that exist only as mount-point prefixes.
const SYNTHETIC_DEV: u64 = 0x5ec0_5e00;

/// A directory on the current walk.
#[derive(Debug, Clone)]
pub(crate) struct Comp {
    pub name: Name,
    /// None when the walk crossed it in a batch ([`Backend::count_dirs`]);
    /// [`Vfs::comp_stat`] fetches it on demand.
    pub stat: Option<Stat>,
    /// Not a directory of its backend; only a prefix of a mount point.
    pub synthetic: bool,
}

/// An existing final entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found {
    pub stat: Stat,
    pub synthetic: bool,
}

/// How the final path component was spelled (Linux's LAST_* types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Last {
    Name,
    Dot,
    DotDot,
    Root,
}

/// Whether the final component's symlink is expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follow {
    Yes,
    /// Not followed, except that a trailing slash forces it (lstat, open
    /// with O_NOFOLLOW).
    No,
    /// Never followed (unlink, rmdir, rename, mkdir and other creators).
    Never,
}

impl Follow {
    pub(crate) fn from_bool(follow: bool) -> Follow {
        if follow {
            Follow::Yes
        } else {
            Follow::No
        }
    }
}

/// The result of a walk: the final entry's parent chain, its name, and the
/// entry itself if it exists. For a path ending in `.`, `..` or `/` the final
/// entry is that directory (split into parent + name), except the root,
/// which has no name.
#[derive(Debug)]
pub(crate) struct Walk {
    pub parent: Vec<Comp>,
    pub name: Option<Name>,
    pub found: Option<Found>,
    pub last: Last,
    pub trailing_slash: bool,
}

impl Walk {
    pub(crate) fn path(&self) -> Vec<Name> {
        let mut p: Vec<Name> = self.parent.iter().map(|c| c.name.clone()).collect();
        p.extend(self.name.clone());
        p
    }
}

/// The backend and in-backend path of a walked entry.
pub(crate) struct Target<'a> {
    pub mount: usize,
    pub fs: &'a dyn Backend,
    pub rel: Vec<Name>,
}

/// Absolute VFS path of `comps`.
pub(crate) fn join(comps: &[Name]) -> String {
    if comps.is_empty() {
        return "/".into();
    }
    let mut s = String::new();
    for c in comps {
        s.push('/');
        s.push_str(c);
    }
    s
}

/// Lexically normalized components of an absolute path (mount points).
pub(crate) fn normalize_abs(path: &str) -> KResult<Vec<Name>> {
    if path.contains('\0') || !path.starts_with('/') {
        return Err(Errno::EINVAL);
    }
    let mut out: Vec<Name> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            _ if c.len() > NAME_MAX => return Err(Errno::ENAMETOOLONG),
            _ => out.push(Name::from(c)),
        }
    }
    Ok(out)
}

fn push_components(queue: &mut VecDeque<Name>, path: &str) {
    queue.extend(path.split('/').filter(|c| !c.is_empty()).map(Name::from));
}

fn synthetic_stat(path: &[Name]) -> Stat {
    // FNV-1a of the path: stable, distinct inode numbers.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in join(path).bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    Stat {
        dev: SYNTHETIC_DEV,
        ino: h | 1,
        file_type: Some(FileType::Directory),
        mode: 0o555,
        nlink: 2,
        ..Stat::default()
    }
}

impl Vfs {
    /// The mount holding `path`: the longest mount prefix.
    fn mount_for(&self, path: &[Name]) -> Option<usize> {
        self.mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| path.starts_with(&m.path))
            .max_by_key(|(_, m)| m.path.len())
            .map(|(i, _)| i)
    }

    /// The mount of the directory holding a walked entry.
    pub(crate) fn parent_mount(&self, w: &Walk) -> Option<usize> {
        let parent: Vec<Name> = w.parent.iter().map(|c| c.name.clone()).collect();
        self.mount_for(&parent)
    }

    /// Whether some mount point lies strictly below `path`.
    pub(crate) fn is_mount_prefix(&self, path: &[Name]) -> bool {
        self.mounts
            .iter()
            .any(|m| m.path.len() > path.len() && m.path.starts_with(path))
    }

    /// The mount holding the directory `pos`, if no other mount lies below
    /// it, so that everything below `pos` belongs to that one backend.
    /// Costs O(mounts × mount depth), not O(depth).
    fn sole_mount_below(&self, pos: &[Comp]) -> Option<usize> {
        if pos.last().is_some_and(|c| c.synthetic) {
            return None;
        }
        let mut best: Option<usize> = None;
        for (i, m) in self.mounts.iter().enumerate() {
            let shared = m
                .path
                .iter()
                .zip(pos)
                .take_while(|(a, c)| **a == c.name)
                .count();
            if shared == pos.len() && m.path.len() > pos.len() {
                return None;
            }
            if shared == m.path.len()
                && best.is_none_or(|b| self.mounts[b].path.len() < m.path.len())
            {
                best = Some(i);
            }
        }
        best
    }

    /// Crosses as many of the plain directory names at the head of `queue`
    /// (never its final component) as one backend call can confirm. Returns
    /// how many were pushed onto `pos`, and whether the backend stopped
    /// short of the run (a symlink, file or missing entry comes next).
    fn walk_batch(&self, pos: &mut Vec<Comp>, queue: &mut VecDeque<Name>) -> (usize, bool) {
        let Some(mi) = self.sole_mount_below(pos) else {
            return (0, false);
        };
        let run = queue
            .iter()
            .take(queue.len().saturating_sub(1))
            .take_while(|c| *c != "." && *c != ".." && c.len() <= NAME_MAX)
            .count();
        if run < 2 {
            return (0, false);
        }
        let m = &self.mounts[mi];
        let dir: Vec<Name> = pos[m.path.len()..].iter().map(|c| c.name.clone()).collect();
        let n = m.fs.count_dirs(&dir, &queue.make_contiguous()[..run]);
        for name in queue.drain(..n) {
            pos.push(Comp {
                name,
                stat: None,
                synthetic: false,
            });
        }
        (n, n < run)
    }

    /// The stat of `c`, the last directory of `parent_and_c`.
    pub(crate) fn comp_stat(&self, parent_and_c: &[Comp]) -> KResult<Stat> {
        let (c, parent) = parent_and_c.split_last().ok_or(Errno::ENOENT)?;
        if let Some(s) = c.stat {
            return Ok(s);
        }
        Ok(self.lstat_at(parent, &c.name)?.ok_or(Errno::ENOENT)?.stat)
    }

    pub(crate) fn root_found(&self) -> KResult<Found> {
        let i = self.mount_for(&[]).ok_or(Errno::ENOENT)?;
        let stat = self.mounts[i].fs.lstat(&[])?;
        Ok(Found {
            stat,
            synthetic: false,
        })
    }

    /// lstat of `parent/name`, where `parent` was walked in this call.
    /// `Ok(None)` if it does not exist.
    pub(crate) fn lstat_at(&self, parent: &[Comp], name: &str) -> KResult<Option<Found>> {
        let mut path: Vec<Name> = parent.iter().map(|c| c.name.clone()).collect();
        path.push(Name::from(name));
        let i = self.mount_for(&path).ok_or(Errno::ENOENT)?;
        let m = &self.mounts[i];
        let real = if m.path.len() == path.len() {
            // A mount root hides whatever its parent fs has there.
            Some(m.fs.lstat(&[])?)
        } else if parent[m.path.len()..].iter().any(|c| c.synthetic) {
            None
        } else {
            match m.fs.lstat(&path[m.path.len()..]) {
                Ok(s) => Some(s),
                Err(Errno::ENOENT) => None,
                Err(e) => return Err(e),
            }
        };
        if self.is_mount_prefix(&path) && !real.as_ref().is_some_and(is_dir) {
            return Ok(Some(Found {
                stat: synthetic_stat(&path),
                synthetic: true,
            }));
        }
        Ok(real.map(|stat| Found {
            stat,
            synthetic: false,
        }))
    }

    /// The backend call target for a walked entry. ENOENT when the entry
    /// lies under a synthetic directory (no backend has its parent).
    pub(crate) fn target(&self, w: &Walk) -> KResult<Target<'_>> {
        let mut path = w.path();
        let i = self.mount_for(&path).ok_or(Errno::ENOENT)?;
        let m = &self.mounts[i];
        if path.len() > m.path.len() && w.parent[m.path.len()..].iter().any(|c| c.synthetic) {
            return Err(Errno::ENOENT);
        }
        Ok(Target {
            mount: i,
            fs: m.fs.as_ref(),
            rel: path.split_off(m.path.len()),
        })
    }

    fn readlink_at(&self, parent: &[Comp], name: &str) -> KResult<String> {
        let w = Walk {
            parent: parent.to_vec(),
            name: Some(Name::from(name)),
            found: None,
            last: Last::Name,
            trailing_slash: false,
        };
        let t = self.target(&w)?;
        t.fs.readlink(&t.rel)
    }

    /// Resolves `path` (relative to the absolute VFS directory `base` unless
    /// it is absolute). Every component but the last must exist.
    pub(crate) fn walk(&self, base: &str, path: &str, follow: Follow) -> KResult<Walk> {
        if path.contains('\0') || base.contains('\0') {
            return Err(Errno::EINVAL);
        }
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        for m in &self.mounts {
            m.fs.forget_lookup();
        }
        let mut queue = VecDeque::new();
        if !path.starts_with('/') {
            push_components(&mut queue, base);
        }
        push_components(&mut queue, path);
        let mut trailing_slash = path.ends_with('/');
        let root = self.root_found()?;
        let mut pos: Vec<Comp> = Vec::new();
        let mut links = 0;
        let mut last = Last::Root;
        // Cleared when a batch stops short, until a symlink restarts the walk.
        let mut batch = true;
        loop {
            if pos.len() > MAX_DEPTH {
                return Err(Errno::ENAMETOOLONG);
            }
            if batch {
                let (n, stopped) = self.walk_batch(&mut pos, &mut queue);
                batch = !stopped;
                if n > 0 {
                    continue;
                }
            }
            let Some(c) = queue.pop_front() else {
                break;
            };
            let is_final = queue.is_empty();
            match c.as_str() {
                "." => {
                    last = Last::Dot;
                    continue;
                }
                ".." => {
                    pos.pop();
                    last = Last::DotDot;
                    continue;
                }
                _ => {}
            }
            if c.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let Some(found) = self.lstat_at(&pos, &c)? else {
                if !is_final {
                    return Err(Errno::ENOENT);
                }
                return Ok(Walk {
                    parent: pos,
                    name: Some(c),
                    found: None,
                    last: Last::Name,
                    trailing_slash,
                });
            };
            match found.stat.file_type {
                Some(FileType::SymbolicLink)
                    if !is_final
                        || follow == Follow::Yes
                        || (follow == Follow::No && trailing_slash) =>
                {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::ELOOP);
                    }
                    let target = self.readlink_at(&pos, &c)?;
                    if target.is_empty() {
                        return Err(Errno::ENOENT);
                    }
                    if target.starts_with('/') {
                        pos.clear();
                        last = Last::Root;
                    }
                    if is_final && target.ends_with('/') {
                        trailing_slash = true;
                    }
                    batch = true;
                    let mut parts = VecDeque::new();
                    push_components(&mut parts, &target);
                    while let Some(p) = parts.pop_back() {
                        queue.push_front(p);
                    }
                }
                Some(FileType::Directory) => {
                    if is_final {
                        return Ok(Walk {
                            parent: pos,
                            name: Some(c),
                            found: Some(found),
                            last: Last::Name,
                            trailing_slash,
                        });
                    }
                    pos.push(Comp {
                        name: c,
                        stat: Some(found.stat),
                        synthetic: found.synthetic,
                    });
                }
                _ => {
                    if !is_final {
                        return Err(Errno::ENOTDIR);
                    }
                    let is_link = found.stat.file_type == Some(FileType::SymbolicLink);
                    if trailing_slash && follow != Follow::Never && !is_link {
                        return Err(Errno::ENOTDIR);
                    }
                    return Ok(Walk {
                        parent: pos,
                        name: Some(c),
                        found: Some(found),
                        last: Last::Name,
                        trailing_slash,
                    });
                }
            }
        }
        // The path ended at a directory already on the walk (`.`, `..`, `/`
        // or a symlink to one of those).
        let stat = match pos.last() {
            Some(_) => Some(self.comp_stat(&pos)?),
            None => None,
        };
        Ok(match (pos.pop(), stat) {
            (Some(dir), Some(stat)) => Walk {
                parent: pos,
                name: Some(dir.name),
                found: Some(Found {
                    stat,
                    synthetic: dir.synthetic,
                }),
                last,
                trailing_slash,
            },
            _ => Walk {
                parent: Vec::new(),
                name: None,
                found: Some(root),
                last: Last::Root,
                trailing_slash,
            },
        })
    }
}
