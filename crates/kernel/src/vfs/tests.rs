use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;
use crate::errno::Errno;
use crate::file::{FileType, SetTime, Whence};

/// A unique host directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "sidecar-vfs-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            nanos
        ));
        std::fs::create_dir(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rd() -> OpenFlags {
    OpenFlags {
        read: true,
        ..OpenFlags::default()
    }
}

fn rw_create() -> OpenFlags {
    OpenFlags {
        read: true,
        write: true,
        create: true,
        ..OpenFlags::default()
    }
}

fn dir_flags() -> OpenFlags {
    OpenFlags {
        read: true,
        directory: true,
        ..OpenFlags::default()
    }
}

/// Host root (from `tmp/root`) with /tmp as memfs and /dev as devfs.
fn setup() -> (TempDir, Vfs) {
    let t = TempDir::new();
    std::fs::create_dir(t.path().join("root")).unwrap();
    let mut vfs = Vfs::new();
    vfs.mount_host("/", t.path().join("root"), false).unwrap();
    vfs.mount_mem("/tmp").unwrap();
    vfs.mount_dev("/dev").unwrap();
    (t, vfs)
}

fn write_file(vfs: &Vfs, path: &str, data: &[u8]) {
    let f = vfs.open("/", path, rw_create(), 0o644).unwrap();
    assert_eq!(f.write(data, false), Ok(data.len()));
}

fn read_all(vfs: &Vfs, base: &str, path: &str) -> KResult<Vec<u8>> {
    let f = vfs.open(base, path, rd(), 0)?;
    let mut out = Vec::new();
    loop {
        let chunk = f.read(4096)?;
        if chunk.is_empty() {
            return Ok(out);
        }
        out.extend(chunk);
    }
}

fn names(entries: &[DirEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

fn same_file(a: &Stat, b: &Stat) -> bool {
    a.dev == b.dev && a.ino == b.ino
}

fn check_file_semantics(vfs: &Vfs, dir: &str) {
    let p = format!("{dir}/f");
    let f = vfs.open("/", &p, rw_create(), 0o644).unwrap();
    assert_eq!(f.file_type(), FileType::RegularFile);
    assert_eq!(f.write(b"hello", false), Ok(5));
    assert_eq!(f.seek(0, Whence::Cur), Ok(5));
    assert_eq!(f.seek(0, Whence::Set), Ok(0));
    assert_eq!(f.read(3).unwrap(), b"hel");
    assert_eq!(f.read(100).unwrap(), b"lo");
    assert_eq!(f.read(100).unwrap(), b"");

    // pread/pwrite leave the position alone.
    assert_eq!(f.pread(2, 1).unwrap(), b"el");
    assert_eq!(f.pwrite(b"J", 0), Ok(1));
    assert_eq!(f.pread(10, 100).unwrap(), b"");
    assert_eq!(f.seek(0, Whence::Cur), Ok(5));

    // Seeking past the end and writing leaves a hole of zeros.
    assert_eq!(f.seek(3, Whence::End), Ok(8));
    assert_eq!(f.write(b"X", false), Ok(1));
    assert_eq!(f.stat().unwrap().size, 9);
    assert_eq!(f.pread(100, 0).unwrap(), b"Jello\0\0\0X");
    assert_eq!(f.pwrite(b"Z", 20), Ok(1));
    assert_eq!(f.stat().unwrap().size, 21);
    assert_eq!(f.pread(2, 19).unwrap(), b"\0Z");

    // Append writes go to the end and leave the position there.
    assert_eq!(f.seek(0, Whence::Set), Ok(0));
    assert_eq!(f.write(b"!!", true), Ok(2));
    assert_eq!(f.seek(0, Whence::Cur), Ok(23));
    assert_eq!(f.seek(-3, Whence::Cur), Ok(20));
    assert_eq!(f.read(10).unwrap(), b"Z!!");
    assert_eq!(f.seek(-1, Whence::Set), Err(Errno::EINVAL));
    assert_eq!(f.seek(-100, Whence::End), Err(Errno::EINVAL));

    f.set_size(4).unwrap();
    assert_eq!(f.pread(100, 0).unwrap(), b"Jell");
    // Another open sees the same data with its own position.
    let g = vfs.open("/", &p, rd(), 0).unwrap();
    assert_eq!(g.read(2).unwrap(), b"Je");
    assert_eq!(g.read(10).unwrap(), b"ll");

    // Timestamps.
    vfs.set_times(
        "/",
        &p,
        true,
        SetTime::At(1_000_000_000),
        SetTime::At(2_000_000_000),
    )
    .unwrap();
    let st = vfs.stat("/", &p, true).unwrap();
    assert_eq!((st.atime, st.mtime), (1_000_000_000, 2_000_000_000));
    f.set_times(SetTime::Omit, SetTime::At(5_000_000_000))
        .unwrap();
    let st = f.stat().unwrap();
    assert_eq!((st.atime, st.mtime), (1_000_000_000, 5_000_000_000));
    f.write(b"more", false).unwrap();
    assert!(f.stat().unwrap().mtime > 5_000_000_000);
    f.sync().unwrap();

    // Path truncate, O_TRUNC, O_EXCL.
    vfs.truncate("/", &p, 7).unwrap();
    assert_eq!(vfs.stat("/", &p, true).unwrap().size, 7);
    let trunc = OpenFlags {
        write: true,
        truncate: true,
        ..OpenFlags::default()
    };
    vfs.open("/", &p, trunc, 0).unwrap();
    let st = vfs.stat("/", &p, true).unwrap();
    assert_eq!(st.size, 0);
    assert_eq!(st.file_type, Some(FileType::RegularFile));
    assert_eq!(st.nlink, 1);
    assert_eq!(st.ino, f.stat().unwrap().ino);
    let excl = OpenFlags {
        excl: true,
        ..rw_create()
    };
    assert_eq!(vfs.open("/", &p, excl, 0o644).unwrap_err(), Errno::EEXIST);
    let parent = if dir.is_empty() { "/" } else { dir };
    assert_eq!(vfs.truncate("/", parent, 0), Err(Errno::EISDIR));

    // Unlinked but open: still usable.
    f.pwrite(b"abc", 0).unwrap();
    vfs.unlink("/", &p).unwrap();
    assert_eq!(vfs.stat("/", &p, true), Err(Errno::ENOENT));
    assert_eq!(f.pread(10, 0).unwrap(), b"abc");
    assert_eq!(f.stat().unwrap().nlink, 0);
}

#[test]
fn file_semantics_hostfs() {
    let (_t, vfs) = setup();
    check_file_semantics(&vfs, "");
}

#[test]
fn file_semantics_memfs() {
    let (_t, vfs) = setup();
    check_file_semantics(&vfs, "/tmp");
}

fn check_readdir(vfs: &Vfs, dir: &str) {
    let d = format!("{dir}/d");
    vfs.mkdir("/", &d, 0o755).unwrap();
    write_file(vfs, &format!("{d}/b_file"), b"x");
    vfs.mkdir("/", &format!("{d}/c_dir"), 0o755).unwrap();
    vfs.symlink("b_file", "/", &format!("{d}/a_link")).unwrap();
    vfs.bind_socket("/", &format!("{d}/s_sock"), Arc::new(1u8))
        .unwrap();

    let desc = vfs.open("/", &d, dir_flags(), 0).unwrap();
    assert_eq!(desc.file_type(), FileType::Directory);
    assert_eq!(desc.dir_path().as_deref(), Some(d.as_str()));
    let entries = desc.readdir().unwrap();
    assert_eq!(
        names(&entries),
        [".", "..", "a_link", "b_file", "c_dir", "s_sock"]
    );
    let types: Vec<FileType> = entries.iter().map(|e| e.file_type).collect();
    assert_eq!(
        types,
        [
            FileType::Directory,
            FileType::Directory,
            FileType::SymbolicLink,
            FileType::RegularFile,
            FileType::Directory,
            FileType::SocketStream,
        ]
    );
    let parent = if dir.is_empty() { "/" } else { dir };
    assert_eq!(entries[0].ino, vfs.stat("/", &d, true).unwrap().ino);
    assert_eq!(entries[1].ino, vfs.stat("/", parent, true).unwrap().ino);
    assert_eq!(
        entries[3].ino,
        vfs.stat("/", &format!("{d}/b_file"), true).unwrap().ino
    );
    assert_eq!(
        entries[2].ino,
        vfs.stat("/", &format!("{d}/a_link"), false).unwrap().ino
    );
    assert_eq!(
        vfs.stat("/", &format!("{d}/s_sock"), false)
            .unwrap()
            .file_type,
        Some(FileType::SocketStream)
    );
    assert_eq!(desc.stat().unwrap().file_type, Some(FileType::Directory));
    if dir.starts_with("/tmp") {
        assert_eq!(desc.stat().unwrap().nlink, 3);
    }

    // Directories: read is EISDIR, opening for write is EISDIR.
    assert_eq!(desc.read(10), Err(Errno::EISDIR));
    let w = OpenFlags {
        write: true,
        ..OpenFlags::default()
    };
    assert_eq!(vfs.open("/", &d, w, 0).unwrap_err(), Errno::EISDIR);
    assert_eq!(
        vfs.open("/", &d, rw_create(), 0).unwrap_err(),
        Errno::EISDIR
    );
    // A read-only open of a directory without O_DIRECTORY is fine too.
    assert!(vfs.open("/", &d, rd(), 0).unwrap().dir_path().is_some());
    let file = format!("{d}/b_file");
    assert_eq!(
        vfs.open("/", &file, dir_flags(), 0).unwrap_err(),
        Errno::ENOTDIR
    );
    assert_eq!(
        vfs.stat("/", &format!("{file}/"), true),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        vfs.open("/", &format!("{file}/"), rd(), 0).unwrap_err(),
        Errno::ENOTDIR
    );
    // Relative paths start at the dir description's path.
    let base = desc.dir_path().unwrap();
    assert_eq!(read_all(vfs, &base, "a_link").unwrap(), b"x");
    assert_eq!(read_all(vfs, &base, "./c_dir/../b_file").unwrap(), b"x");
    // Opening the symlinked name with O_DIRECTORY|O_NOFOLLOW.
    let nf = OpenFlags {
        nofollow: true,
        ..rd()
    };
    assert_eq!(vfs.open(&base, "a_link", nf, 0).unwrap_err(), Errno::ELOOP);
    assert_eq!(
        vfs.open(&base, "s_sock", rd(), 0).unwrap_err(),
        Errno::ENXIO
    );
}

#[test]
fn readdir_hostfs() {
    let (_t, vfs) = setup();
    check_readdir(&vfs, "");
}

#[test]
fn readdir_memfs() {
    let (_t, vfs) = setup();
    check_readdir(&vfs, "/tmp");
}

fn check_namespace_errors(vfs: &Vfs, dir: &str) {
    let p = |s: &str| format!("{dir}/{s}");
    vfs.mkdir("/", &p("a"), 0o755).unwrap();
    vfs.mkdir("/", &p("a/sub"), 0o755).unwrap();
    write_file(vfs, &p("a/sub/x"), b"x");
    write_file(vfs, &p("f"), b"F");
    write_file(vfs, &p("g"), b"G");
    vfs.mkdir("/", &p("empty"), 0o755).unwrap();

    assert_eq!(vfs.rmdir("/", &p("a")), Err(Errno::ENOTEMPTY));
    assert_eq!(vfs.rmdir("/", &p("f")), Err(Errno::ENOTDIR));
    assert_eq!(vfs.rmdir("/", &p("nope")), Err(Errno::ENOENT));
    assert_eq!(vfs.rmdir("/", &p("a/.")), Err(Errno::EINVAL));
    assert_eq!(vfs.rmdir("/", &p("a/sub/..")), Err(Errno::ENOTEMPTY));
    assert_eq!(vfs.rmdir("/", "/"), Err(Errno::EBUSY));
    assert_eq!(vfs.unlink("/", &p("a")), Err(Errno::EISDIR));
    assert_eq!(vfs.unlink("/", &p("a/")), Err(Errno::EISDIR));
    assert_eq!(vfs.unlink("/", &p("nope")), Err(Errno::ENOENT));
    assert_eq!(vfs.unlink("/", &p("f/")), Err(Errno::ENOTDIR));
    assert_eq!(vfs.unlink("/", &p("f/x")), Err(Errno::ENOTDIR));
    assert_eq!(vfs.unlink("/", "/"), Err(Errno::EISDIR));
    assert_eq!(vfs.mkdir("/", &p("a"), 0o755), Err(Errno::EEXIST));
    assert_eq!(vfs.mkdir("/", &p("f"), 0o755), Err(Errno::EEXIST));
    assert_eq!(vfs.mkdir("/", &p("nope/x"), 0o755), Err(Errno::ENOENT));
    assert_eq!(vfs.mkdir("/", "/", 0o755), Err(Errno::EEXIST));
    assert_eq!(vfs.mkdir("/", &p("new/"), 0o755), Ok(()));
    assert_eq!(vfs.rmdir("/", &p("new/")), Ok(()));

    // Rename replaces a file.
    vfs.rename("/", &p("f"), "/", &p("g")).unwrap();
    assert_eq!(read_all(vfs, "/", &p("g")).unwrap(), b"F");
    assert_eq!(vfs.stat("/", &p("f"), true), Err(Errno::ENOENT));
    assert_eq!(vfs.rename("/", &p("g"), "/", &p("a")), Err(Errno::EISDIR));
    assert_eq!(vfs.rename("/", &p("a"), "/", &p("g")), Err(Errno::ENOTDIR));
    assert_eq!(vfs.rename("/", &p("g/"), "/", &p("h")), Err(Errno::ENOTDIR));
    assert_eq!(
        vfs.rename("/", &p("nope"), "/", &p("x")),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        vfs.rename("/", &p("g"), "/", &p("nope/x")),
        Err(Errno::ENOENT)
    );
    assert_eq!(vfs.rename("/", &p("g"), "/", &p("g")), Ok(()));
    assert_eq!(
        vfs.rename("/", &p("a"), "/", &p("a/sub/in")),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        vfs.rename("/", &p("a/sub"), "/", &p("a")),
        Err(Errno::ENOTEMPTY)
    );
    assert_eq!(vfs.rename("/", &p("a/."), "/", &p("z")), Err(Errno::EBUSY));
    assert!(matches!(
        vfs.rename("/", "/", "/", &p("z")),
        Err(Errno::EBUSY | Errno::EXDEV)
    ));
    // Rename replaces an empty directory, not a full one.
    vfs.mkdir("/", &p("full"), 0o755).unwrap();
    write_file(vfs, &p("full/x"), b"");
    assert_eq!(
        vfs.rename("/", &p("a"), "/", &p("full")),
        Err(Errno::ENOTEMPTY)
    );
    let a_ino = vfs.stat("/", &p("a"), true).unwrap().ino;
    vfs.rename("/", &p("a"), "/", &p("empty")).unwrap();
    assert_eq!(vfs.stat("/", &p("empty"), true).unwrap().ino, a_ino);
    assert_eq!(read_all(vfs, "/", &p("empty/sub/x")).unwrap(), b"x");
    // Rename across directories, with relative bases.
    vfs.rename(&p("empty"), "sub/x", &p("full"), "y").unwrap();
    assert_eq!(read_all(vfs, "/", &p("full/y")).unwrap(), b"x");

    // Hard links.
    vfs.link("/", &p("g"), false, "/", &p("h")).unwrap();
    let (g, h) = (
        vfs.stat("/", &p("g"), true).unwrap(),
        vfs.stat("/", &p("h"), true).unwrap(),
    );
    assert!(same_file(&g, &h));
    assert_eq!(g.nlink, 2);
    assert_eq!(
        vfs.link("/", &p("g"), false, "/", &p("h")),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        vfs.link("/", &p("full"), false, "/", &p("d2")),
        Err(Errno::EPERM)
    );
    assert_eq!(
        vfs.link("/", &p("nope"), false, "/", &p("d2")),
        Err(Errno::ENOENT)
    );
    // Renaming one hard link onto another is a no-op.
    vfs.rename("/", &p("g"), "/", &p("h")).unwrap();
    assert!(vfs.stat("/", &p("g"), true).is_ok());
    // link follows only when asked.
    vfs.symlink("g", "/", &p("gl")).unwrap();
    vfs.link("/", &p("gl"), true, "/", &p("g3")).unwrap();
    assert!(same_file(
        &vfs.stat("/", &p("g3"), true).unwrap(),
        &vfs.stat("/", &p("g"), true).unwrap()
    ));
    vfs.link("/", &p("gl"), false, "/", &p("gl2")).unwrap();
    assert_eq!(vfs.readlink("/", &p("gl2")).unwrap(), "g");
    assert_eq!(vfs.readlink("/", &p("g")), Err(Errno::EINVAL));
    assert_eq!(vfs.symlink("x", "/", &p("g")), Err(Errno::EEXIST));
    // unlink of a symlink removes the link, not the target.
    vfs.unlink("/", &p("gl")).unwrap();
    assert!(vfs.stat("/", &p("g"), true).is_ok());
    // rmdir through a symlink to a directory is ENOTDIR.
    vfs.symlink("full", "/", &p("fl")).unwrap();
    assert_eq!(vfs.rmdir("/", &p("fl")), Err(Errno::ENOTDIR));
    assert_eq!(vfs.rmdir("/", &p("fl/")), Err(Errno::ENOTDIR));
    // mkdir on a dangling symlink is EEXIST; O_CREAT through it creates the target.
    vfs.symlink("target", "/", &p("dangling")).unwrap();
    assert_eq!(vfs.mkdir("/", &p("dangling"), 0o755), Err(Errno::EEXIST));
    vfs.open("/", &p("dangling"), rw_create(), 0o644).unwrap();
    assert!(vfs.stat("/", &p("target"), false).is_ok());
}

#[test]
fn namespace_errors_hostfs() {
    let (_t, vfs) = setup();
    check_namespace_errors(&vfs, "");
}

#[test]
fn namespace_errors_memfs() {
    let (_t, vfs) = setup();
    check_namespace_errors(&vfs, "/tmp");
}

#[test]
fn host_symlinks_cannot_escape() {
    let (t, vfs) = setup();
    let root = t.path().join("root");
    let sym = |target: &str, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    sym("/etc/passwd", "esc_abs");
    sym("../../../../..", "esc_up");
    sym("../../../../../../etc", "sub/esc_up2");
    sym("/etc", "etcdir");
    sym("/", "hostroot");
    // A real file right next to the mapped root.
    std::fs::write(t.path().join("secret"), b"host secret").unwrap();
    sym("../secret", "sibling");
    sym("..", "sub/up");

    // Nothing named /etc exists in the VFS yet.
    assert_eq!(
        vfs.open("/", "/esc_abs", rd(), 0).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(vfs.stat("/", "/esc_abs", true), Err(Errno::ENOENT));
    assert_eq!(
        vfs.open("/", "/esc_up/etc/passwd", rd(), 0).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(vfs.stat("/", "/sub/esc_up2", true), Err(Errno::ENOENT));
    assert_eq!(vfs.stat("/", "/etcdir/passwd", true), Err(Errno::ENOENT));
    assert_eq!(
        vfs.stat("/", "/hostroot/etc/passwd", true),
        Err(Errno::ENOENT)
    );
    assert_eq!(vfs.readlink("/", "/esc_abs").unwrap(), "/etc/passwd");
    assert_eq!(vfs.stat("/", "/sibling", true), Err(Errno::ENOENT));
    assert_eq!(
        vfs.stat("/", "/sub/up/up/../secret", true),
        Err(Errno::ENOENT)
    );
    assert_eq!(vfs.resolve_dir("/", "/sub/up/sub/up/..").unwrap(), "/");
    let root_stat = vfs.stat("/", "/", true).unwrap();
    assert!(same_file(
        &vfs.stat("/", "/esc_up", true).unwrap(),
        &root_stat
    ));
    assert_eq!(vfs.resolve_dir("/", "/esc_up").unwrap(), "/");
    assert_eq!(
        vfs.open("/", "/esc_abs", rw_create(), 0o644).unwrap_err(),
        Errno::ENOENT
    );

    // Links land on the VFS's own /etc.
    vfs.mkdir("/", "/etc", 0o755).unwrap();
    write_file(&vfs, "/etc/passwd", b"sandboxed");
    for (base, path) in [
        ("/", "/esc_abs"),
        ("/", "esc_up/etc/passwd"),
        ("/", "/sub/esc_up2/passwd"),
        ("/sub", "esc_up2/passwd"),
        ("/sub", "../../../../etc/passwd"),
        ("/", "/etcdir/passwd"),
        ("/", "/hostroot/etc/passwd"),
        ("/etc", "../esc_abs"),
    ] {
        assert_eq!(
            read_all(&vfs, base, path).unwrap(),
            b"sandboxed",
            "{base} {path}"
        );
    }
    assert_eq!(
        std::fs::read(root.join("etc/passwd")).unwrap(),
        b"sandboxed"
    );
    assert_eq!(vfs.resolve_dir("/sub", "esc_up2").unwrap(), "/etc");
    assert_eq!(vfs.resolve_dir("/sub", "esc_up2/..").unwrap(), "/");
    // Creating through a link stays inside too.
    vfs.mkdir("/", "/etcdir/newdir", 0o755).unwrap();
    assert!(root.join("etc/newdir").is_dir());
    let nf = OpenFlags {
        nofollow: true,
        ..rd()
    };
    assert_eq!(vfs.open("/", "/esc_abs", nf, 0).unwrap_err(), Errno::ELOOP);
    assert_eq!(
        vfs.stat("/", "/esc_abs", false).unwrap().file_type,
        Some(FileType::SymbolicLink)
    );
    // A symlinked directory stats as its (VFS) target with a trailing slash.
    assert!(same_file(
        &vfs.stat("/", "/etcdir/", false).unwrap(),
        &vfs.stat("/", "/etc", false).unwrap()
    ));
    // Program paths never point through a host symlink.
    assert_eq!(
        vfs.program("/", "/esc_abs").unwrap(),
        Program::from_host_path(std::fs::canonicalize(&root).unwrap().join("etc/passwd")).unwrap()
    );
}

#[test]
fn open_dir_survives_swap_for_symlink() {
    let (t, vfs) = setup();
    vfs.mkdir("/", "/d", 0o755).unwrap();
    write_file(&vfs, "/d/inside", b"");
    let d = vfs.open("/", "/d", dir_flags(), 0).unwrap();
    vfs.rename("/", "/d", "/", "/d2").unwrap();
    // A guest-made host symlink to the host's /etc.
    vfs.symlink("/etc", "/", "/d").unwrap();
    assert_eq!(
        std::fs::read_link(t.path().join("root/d")).unwrap(),
        Path::new("/etc")
    );
    assert_eq!(names(&d.readdir().unwrap()), [".", "..", "inside"]);
    assert_eq!(vfs.stat("/", "/d/passwd", true), Err(Errno::ENOENT));
}

#[test]
fn dotdot_clamps_at_root() {
    let (_t, vfs) = setup();
    let root = vfs.stat("/", "/", true).unwrap();
    for (base, path) in [
        ("/", "/.."),
        ("/", "/../../.."),
        ("/", ".."),
        ("/tmp", "../../.."),
        ("/tmp", "../tmp/../.."),
        ("/", "//.//..//"),
    ] {
        assert!(
            same_file(&vfs.stat(base, path, true).unwrap(), &root),
            "{base} {path}"
        );
        assert_eq!(vfs.resolve_dir(base, path).unwrap(), "/");
    }
    vfs.mkdir("/", "/x", 0o755).unwrap();
    write_file(&vfs, "/x/f", b"1");
    assert_eq!(read_all(&vfs, "/", "/../../x/../x/./f").unwrap(), b"1");
    let r = vfs.open("/", "/", rd(), 0).unwrap();
    let e = r.readdir().unwrap();
    assert_eq!((e[0].name.as_str(), e[1].name.as_str()), (".", ".."));
    assert_eq!(e[0].ino, e[1].ino);
    assert_eq!(r.dir_path().as_deref(), Some("/"));
}

#[test]
fn symlink_loops() {
    let (_t, vfs) = setup();
    vfs.symlink("loop", "/tmp", "loop").unwrap();
    vfs.symlink("/tmp/b", "/", "/tmp/a").unwrap();
    vfs.symlink("a", "/", "/tmp/b").unwrap();
    assert_eq!(
        vfs.open("/", "/tmp/loop", rd(), 0).unwrap_err(),
        Errno::ELOOP
    );
    assert_eq!(vfs.stat("/", "/tmp/loop", true), Err(Errno::ELOOP));
    assert_eq!(vfs.stat("/", "/tmp/loop/x", false), Err(Errno::ELOOP));
    assert_eq!(vfs.open("/", "/tmp/a", rd(), 0).unwrap_err(), Errno::ELOOP);
    assert_eq!(
        vfs.stat("/", "/tmp/loop", false).unwrap().file_type,
        Some(FileType::SymbolicLink)
    );
    // Host self-loop.
    vfs.symlink("hl", "/", "/hl").unwrap();
    assert_eq!(vfs.stat("/", "/hl", true), Err(Errno::ELOOP));
    // 40 expansions are fine, 41 are not.
    write_file(&vfs, "/tmp/l0", b"end");
    for i in 1..=41 {
        vfs.symlink(&format!("l{}", i - 1), "/tmp", &format!("l{i}"))
            .unwrap();
    }
    assert_eq!(read_all(&vfs, "/tmp", "l40").unwrap(), b"end");
    assert_eq!(vfs.stat("/tmp", "l41", true), Err(Errno::ELOOP));
}

#[test]
fn bad_paths() {
    let (_t, vfs) = setup();
    let long = "x".repeat(256);
    assert_eq!(
        vfs.stat("/", &format!("/tmp/{long}"), true),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        vfs.mkdir("/", &format!("/{long}"), 0o755),
        Err(Errno::ENAMETOOLONG)
    );
    assert!(vfs
        .mkdir("/", &format!("/tmp/{}", "x".repeat(255)), 0o755)
        .is_ok());
    assert_eq!(
        vfs.stat("/", &"/a".repeat(3000), true),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(vfs.stat("/", "/tmp/a\0b", true), Err(Errno::EINVAL));
    assert_eq!(vfs.symlink("a\0b", "/", "/tmp/s"), Err(Errno::EINVAL));
    assert_eq!(vfs.stat("/", "", true), Err(Errno::ENOENT));
    assert_eq!(vfs.symlink("", "/", "/tmp/s"), Err(Errno::ENOENT));
    assert_eq!(Vfs::new().stat("/", "/", true), Err(Errno::ENOENT));
    let mut v = Vfs::new();
    let t = TempDir::new();
    assert_eq!(
        v.mount_host("/", t.path().join("missing"), false),
        Err(Errno::ENOENT)
    );
    std::fs::write(t.path().join("file"), b"").unwrap();
    assert_eq!(
        v.mount_host("/", t.path().join("file"), false),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(v.mount_mem("relative"), Err(Errno::EINVAL));
}

#[test]
fn readonly_mount() {
    let t = TempDir::new();
    let root = t.path().join("root");
    std::fs::create_dir_all(root.join("dir")).unwrap();
    std::fs::create_dir(root.join("emptydir")).unwrap();
    std::fs::write(root.join("file"), b"data").unwrap();
    let mut vfs = Vfs::new();
    vfs.mount_host("/", root.clone(), true).unwrap();

    assert_eq!(read_all(&vfs, "/", "/file").unwrap(), b"data");
    let w = OpenFlags {
        write: true,
        ..OpenFlags::default()
    };
    let trunc = OpenFlags {
        truncate: true,
        ..rd()
    };
    assert_eq!(vfs.open("/", "/file", w, 0).unwrap_err(), Errno::EROFS);
    assert_eq!(vfs.open("/", "/file", trunc, 0).unwrap_err(), Errno::EROFS);
    assert_eq!(
        vfs.open("/", "/new", rw_create(), 0o644).unwrap_err(),
        Errno::EROFS
    );
    assert_eq!(vfs.mkdir("/", "/newdir", 0o755), Err(Errno::EROFS));
    assert_eq!(vfs.rmdir("/", "/emptydir"), Err(Errno::EROFS));
    assert_eq!(vfs.unlink("/", "/file"), Err(Errno::EROFS));
    assert_eq!(vfs.rename("/", "/file", "/", "/file2"), Err(Errno::EROFS));
    assert_eq!(vfs.symlink("file", "/", "/link"), Err(Errno::EROFS));
    assert_eq!(
        vfs.link("/", "/file", false, "/", "/file2"),
        Err(Errno::EROFS)
    );
    let now = SetTime::Now;
    assert_eq!(
        vfs.set_times("/", "/file", true, now, now),
        Err(Errno::EROFS)
    );
    assert_eq!(vfs.truncate("/", "/file", 0), Err(Errno::EROFS));
    assert_eq!(
        vfs.bind_socket("/", "/sock", Arc::new(())),
        Err(Errno::EROFS)
    );
    // Open descriptions refuse mutation too.
    let f = vfs.open("/", "/file", rd(), 0).unwrap();
    assert_eq!(f.write(b"x", false), Err(Errno::EROFS));
    assert_eq!(f.set_size(0), Err(Errno::EROFS));
    assert_eq!(f.set_times(now, now), Err(Errno::EROFS));
    let d = vfs.open("/", "/dir", dir_flags(), 0).unwrap();
    assert_eq!(d.set_times(now, now), Err(Errno::EROFS));
    // O_CREAT on an existing file needs no write.
    let create_ro = OpenFlags {
        create: true,
        ..rd()
    };
    assert!(vfs.open("/", "/file", create_ro, 0).is_ok());
    assert_eq!(std::fs::read(root.join("file")).unwrap(), b"data");
    assert!(!root.join("new").exists());

    // A writable memfs mounted inside a readonly tree is writable.
    vfs.mount_mem("/dir/scratch").unwrap();
    write_file(&vfs, "/dir/scratch/x", b"ok");
    assert_eq!(read_all(&vfs, "/", "/dir/scratch/x").unwrap(), b"ok");
}

#[test]
fn mounts_and_memfs_over_host_root() {
    let (t, vfs) = setup();
    let root = t.path().join("root");
    std::fs::create_dir(root.join("tmp")).unwrap();
    std::fs::write(root.join("tmp/hostfile"), b"hidden").unwrap();
    std::fs::write(root.join("hostfile"), b"visible").unwrap();

    let (r, tmp) = (
        vfs.stat("/", "/", true).unwrap(),
        vfs.stat("/", "/tmp", true).unwrap(),
    );
    assert_ne!(r.dev, tmp.dev);
    assert_eq!(tmp.file_type, Some(FileType::Directory));
    assert_eq!(vfs.stat("/", "/tmp/hostfile", true), Err(Errno::ENOENT));
    assert!(same_file(&vfs.stat("/", "/tmp/..", true).unwrap(), &r));
    assert!(same_file(&vfs.stat("/tmp", "..", true).unwrap(), &r));
    assert_eq!(read_all(&vfs, "/tmp", "../hostfile").unwrap(), b"visible");

    // Mount points show in their parent's listing, hiding what is below.
    let entries = vfs.open("/", "/", rd(), 0).unwrap().readdir().unwrap();
    let tmp_entry = entries.iter().find(|e| e.name == "tmp").unwrap();
    assert_eq!(tmp_entry.ino, tmp.ino);
    let dev_entry = entries.iter().find(|e| e.name == "dev").unwrap();
    assert_eq!(dev_entry.file_type, FileType::Directory);
    assert_eq!(names(&entries), [".", "..", "dev", "hostfile", "tmp"]);
    let tmp_entries = vfs.open("/", "/tmp", rd(), 0).unwrap().readdir().unwrap();
    assert_eq!(tmp_entries[1].ino, r.ino);
    assert_eq!(names(&tmp_entries), [".", ".."]);

    // Cross-mount operations.
    write_file(&vfs, "/tmp/x", b"x");
    assert_eq!(vfs.rename("/", "/tmp/x", "/", "/y"), Err(Errno::EXDEV));
    assert_eq!(
        vfs.rename("/", "/hostfile", "/", "/tmp/y"),
        Err(Errno::EXDEV)
    );
    assert_eq!(vfs.link("/", "/tmp/x", false, "/", "/y"), Err(Errno::EXDEV));
    assert_eq!(vfs.rmdir("/", "/tmp"), Err(Errno::EBUSY));
    assert_eq!(vfs.unlink("/", "/tmp"), Err(Errno::EISDIR));
    assert_eq!(vfs.rename("/", "/tmp", "/", "/t2"), Err(Errno::EBUSY));
    assert_eq!(
        vfs.rename("/", "/hostfile", "/", "/tmp"),
        Err(Errno::EISDIR)
    );
    assert_eq!(vfs.mkdir("/", "/tmp", 0o755), Err(Errno::EEXIST));
    assert_eq!(vfs.resolve_dir("/", "tmp/../tmp/.").unwrap(), "/tmp");
    assert_eq!(vfs.resolve_dir("/", "/tmp/x"), Err(Errno::ENOTDIR));
    assert_eq!(vfs.resolve_dir("/", "/tmp/nope"), Err(Errno::ENOENT));

    // Programs.
    write_file(&vfs, "/tmp/p.wasm", b"\0asm");
    assert_eq!(
        vfs.program("/", "/tmp/p.wasm").unwrap(),
        Program::Bytes(Arc::from(&b"\0asm"[..]))
    );
    assert_eq!(
        vfs.program("/tmp", "../hostfile").unwrap(),
        Program::from_host_path(std::fs::canonicalize(&root).unwrap().join("hostfile")).unwrap()
    );
    assert_eq!(vfs.program("/", "/tmp"), Err(Errno::EACCES));
    assert_eq!(vfs.program("/", "/dev/null"), Err(Errno::EACCES));
    assert_eq!(vfs.program("/", "/tmp/none"), Err(Errno::ENOENT));

    // memfs hard links share the inode.
    vfs.link("/", "/tmp/x", false, "/", "/tmp/x2").unwrap();
    let f = vfs.open("/", "/tmp/x2", rw_create(), 0).unwrap();
    f.write(b"y", true).unwrap();
    assert_eq!(read_all(&vfs, "/", "/tmp/x").unwrap(), b"xy");
    assert_eq!(vfs.stat("/", "/tmp/x", true).unwrap().nlink, 2);
    vfs.unlink("/", "/tmp/x").unwrap();
    assert_eq!(vfs.stat("/", "/tmp/x2", true).unwrap().nlink, 1);
    // Directory link counts.
    vfs.mkdir("/", "/tmp/d", 0o700).unwrap();
    vfs.mkdir("/", "/tmp/d/e", 0o700).unwrap();
    let st = vfs.stat("/", "/tmp/d", true).unwrap();
    assert_eq!((st.nlink, st.mode), (3, 0o700));
}

#[test]
fn synthetic_mount_parents() {
    let (t, mut vfs) = setup();
    let root = t.path().join("root");
    vfs.mount_mem("/deep/inside/m").unwrap();
    // A host symlink where a mount point's parent should be.
    std::os::unix::fs::symlink("/etc", root.join("etc_link")).unwrap();
    vfs.mount_mem("/etc_link/m").unwrap();

    assert_eq!(
        vfs.resolve_dir("/", "/deep/inside/m").unwrap(),
        "/deep/inside/m"
    );
    write_file(&vfs, "/deep/inside/m/f", b"1");
    assert_eq!(read_all(&vfs, "/deep/inside", "m/../m/f").unwrap(), b"1");
    assert_eq!(
        vfs.stat("/", "/deep", true).unwrap().file_type,
        Some(FileType::Directory)
    );
    let listing = vfs.open("/", "/deep", rd(), 0).unwrap().readdir().unwrap();
    assert_eq!(names(&listing), [".", "..", "inside"]);
    assert!(names(&vfs.open("/", "/", rd(), 0).unwrap().readdir().unwrap()).contains(&"deep"));
    assert_eq!(
        vfs.open("/", "/deep/x", rw_create(), 0o644).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(vfs.rmdir("/", "/deep"), Err(Errno::EBUSY));
    assert!(!root.join("deep").exists());
    // The host symlink is never consulted below a synthetic directory.
    assert_eq!(vfs.stat("/", "/etc_link/passwd", true), Err(Errno::ENOENT));
    assert_eq!(
        vfs.stat("/", "/etc_link", false).unwrap().file_type,
        Some(FileType::Directory)
    );
    assert_eq!(
        names(
            &vfs.open("/", "/etc_link", rd(), 0)
                .unwrap()
                .readdir()
                .unwrap()
        ),
        [".", "..", "m"]
    );
    assert!(vfs.stat("/", "/etc_link/m", true).is_ok());
}

#[test]
fn devices() {
    let (_t, mut vfs) = setup();
    let rw = OpenFlags {
        read: true,
        write: true,
        ..OpenFlags::default()
    };
    let null = vfs.open("/", "/dev/null", rw, 0).unwrap();
    assert_eq!(null.file_type(), FileType::CharacterDevice);
    assert_eq!(null.read(10).unwrap(), b"");
    assert_eq!(null.write(b"abc", false), Ok(3));
    let zero = vfs.open("/dev", "zero", rw, 0).unwrap();
    assert_eq!(zero.read(4).unwrap(), [0; 4]);
    let full = vfs.open("/", "/dev/full", rw, 0).unwrap();
    assert_eq!(full.write(b"x", false), Err(Errno::ENOSPC));
    assert_eq!(full.read(2).unwrap(), [0; 2]);
    for dev in ["/dev/random", "/dev/urandom"] {
        let r = vfs.open("/", dev, rd(), 0).unwrap();
        let a = r.read(32).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, r.read(32).unwrap());
    }
    let st = vfs.stat("/", "/dev/null", true).unwrap();
    assert_eq!(st.file_type, Some(FileType::CharacterDevice));
    assert_eq!(null.stat().unwrap().ino, st.ino);
    assert_eq!(vfs.stat("/", "/dev/null/x", true), Err(Errno::ENOTDIR));
    assert_eq!(
        vfs.open("/", "/dev/nope", rw_create(), 0).unwrap_err(),
        Errno::EACCES
    );
    assert_eq!(
        vfs.open("/", "/dev/nope", rd(), 0).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(vfs.unlink("/", "/dev/null"), Err(Errno::EACCES));
    assert_eq!(
        vfs.open("/", "/dev/null", dir_flags(), 0).unwrap_err(),
        Errno::ENOTDIR
    );

    let opened = Arc::new(AtomicUsize::new(0));
    let counter = opened.clone();
    vfs.register_device(
        "ptmx",
        Box::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(Arc::new(devfs::Device::test_null()) as Arc<dyn FileDescription>)
        }),
    );
    vfs.open("/", "/dev/ptmx", rw, 0).unwrap();
    vfs.open("/", "/dev/ptmx", rw, 0).unwrap();
    assert_eq!(opened.load(Ordering::Relaxed), 2);
    let entries = vfs.open("/", "/dev", rd(), 0).unwrap().readdir().unwrap();
    assert_eq!(
        names(&entries),
        [".", "..", "full", "null", "ptmx", "random", "urandom", "zero"]
    );
    assert!(entries[2..]
        .iter()
        .all(|e| e.file_type == FileType::CharacterDevice));
}

#[test]
fn sockets() {
    let (_t, vfs) = setup();
    for dir in ["/tmp", ""] {
        let s = format!("{dir}/sock");
        let ep: SocketEndpoint = Arc::new(42u32);
        vfs.bind_socket("/", &s, ep.clone()).unwrap();
        let st = vfs.stat("/", &s, true).unwrap();
        assert_eq!(st.file_type, Some(FileType::SocketStream));
        let got = vfs.lookup_socket("/", &s).unwrap();
        assert!(Arc::ptr_eq(&got, &ep));
        assert_eq!(got.downcast_ref::<u32>(), Some(&42));
        drop(got);
        assert_eq!(
            vfs.bind_socket("/", &s, Arc::new(0u32)),
            Err(Errno::EADDRINUSE)
        );
        write_file(&vfs, &format!("{dir}/plain"), b"");
        assert_eq!(
            vfs.bind_socket("/", &format!("{dir}/plain"), Arc::new(0u32)),
            Err(Errno::EADDRINUSE)
        );
        assert_eq!(
            vfs.lookup_socket("/", &format!("{dir}/plain")).unwrap_err(),
            Errno::ECONNREFUSED
        );
        assert_eq!(
            vfs.lookup_socket("/", &format!("{dir}/none")).unwrap_err(),
            Errno::ENOENT
        );
        // Connecting follows symlinks.
        vfs.symlink("sock", "/", &format!("{dir}/sl")).unwrap();
        assert!(Arc::ptr_eq(
            &vfs.lookup_socket("/", &format!("{dir}/sl")).unwrap(),
            &ep
        ));
        assert_eq!(vfs.open("/", &s, rd(), 0).unwrap_err(), Errno::ENXIO);
        vfs.unlink("/", &s).unwrap();
        assert_eq!(vfs.lookup_socket("/", &s).unwrap_err(), Errno::ENOENT);
        assert_eq!(Arc::strong_count(&ep), 1);
        vfs.bind_socket("/", &s, Arc::new(7u32)).unwrap();
    }
    assert_eq!(
        vfs.bind_socket("/", "/dev/sock", Arc::new(())),
        Err(Errno::EACCES)
    );
}

#[test]
fn host_times_and_modes() {
    let (t, vfs) = setup();
    write_file(&vfs, "/f", b"");
    let host = std::fs::metadata(t.path().join("root/f")).unwrap();
    let st = vfs.stat("/", "/f", true).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((st.dev, st.ino), (host.dev(), host.ino()));
    vfs.set_times("/", "/", true, SetTime::At(3_000_000_000), SetTime::Omit)
        .unwrap();
    assert_eq!(vfs.stat("/", "/", true).unwrap().atime, 3_000_000_000);
    vfs.symlink("f", "/", "/l").unwrap();
    vfs.set_times("/", "/l", true, SetTime::Omit, SetTime::At(7_000_000_000))
        .unwrap();
    assert_eq!(vfs.stat("/", "/f", true).unwrap().mtime, 7_000_000_000);
    vfs.mkdir("/", "/d", 0o700).unwrap();
    assert_eq!(vfs.stat("/", "/d", true).unwrap().mode & 0o777, 0o700);
    // O_RDONLY|O_CREAT creates the file.
    let create_ro = OpenFlags {
        create: true,
        ..rd()
    };
    vfs.open("/", "/ro_created", create_ro, 0o600).unwrap();
    assert!(t.path().join("root/ro_created").is_file());
}

#[test]
fn vfs_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Vfs>();
    check::<Program>();
}

/// Deep chains are walked in batches: the results must match a walk one
/// component at a time, through symlinks, `..` and mount points, and the
/// depth is capped as Linux caps a path's length.
fn check_deep_paths(vfs: &Vfs, dir: &str) {
    let mut deep = dir.to_string();
    for _ in 0..300 {
        deep.push_str("/d");
        vfs.mkdir("/", &deep, 0o755).unwrap();
    }
    write_file(vfs, &format!("{deep}/f"), b"bottom");
    assert_eq!(read_all(vfs, "/", &format!("{deep}/f")).unwrap(), b"bottom");
    // A relative walk from a deep cwd, and `..` halfway down.
    assert_eq!(read_all(vfs, &deep, "f").unwrap(), b"bottom");
    let up = format!("{deep}/../../d/d/f");
    assert_eq!(read_all(vfs, "/", &up).unwrap(), b"bottom");
    // A symlink in the middle of a chain (relative) and at its end.
    let mid = format!("{dir}/d/d/d");
    vfs.symlink("d", "/", &format!("{mid}/alias")).unwrap();
    vfs.symlink("/", "/", &format!("{deep}/toroot")).unwrap();
    let six = format!("{dir}/d/d/d/d/d/d");
    assert!(same_file(
        &vfs.stat("/", &format!("{mid}/alias/d/d"), true).unwrap(),
        &vfs.stat("/", &six, true).unwrap()
    ));
    assert!(same_file(
        &vfs.stat("/", &format!("{deep}/toroot{six}"), true).unwrap(),
        &vfs.stat("/", &six, true).unwrap()
    ));
    // Errors keep their meaning: a file or a missing entry mid-chain.
    assert_eq!(
        vfs.stat("/", &format!("{deep}/f/d/d/d"), true),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        vfs.stat("/", &format!("{dir}/d/d/nope/d/d/d"), true),
        Err(Errno::ENOENT)
    );
    // `..` back out of a batch to an entry whose stat the batch skipped.
    assert!(same_file(
        &vfs.stat("/", &format!("{deep}/../.."), true).unwrap(),
        &vfs.stat("/", &deep[..deep.len() - 4], true).unwrap()
    ));
    // Opening a directory reached by a batch lists its parent's inode.
    let listed = vfs.open("/", &deep, dir_flags(), 0).unwrap();
    let dotdot = listed.readdir().unwrap();
    let parent_ino = dotdot.iter().find(|e| e.name == "..").unwrap().ino;
    assert_eq!(
        parent_ino,
        vfs.stat("/", &format!("{deep}/.."), true).unwrap().ino
    );
    // Each hop re-walks the whole chain; 40 hops are allowed, the 41st is
    // ELOOP.
    vfs.symlink(&deep, "/", &format!("{deep}/again")).unwrap();
    let hops = |n: usize| "again/".repeat(n) + "f";
    assert_eq!(read_all(vfs, &deep, &hops(40)).unwrap(), b"bottom");
    assert_eq!(vfs.stat(&deep, &hops(41), true), Err(Errno::ELOOP));
}

#[test]
fn deep_paths_hostfs() {
    let (_t, vfs) = setup();
    vfs.mkdir("/", "/h", 0o755).unwrap();
    check_deep_paths(&vfs, "/h");
}

#[test]
fn deep_paths_memfs() {
    let (_t, vfs) = setup();
    vfs.mkdir("/", "/tmp/m", 0o755).unwrap();
    check_deep_paths(&vfs, "/tmp/m");
}

#[test]
fn walk_depth_is_capped() {
    let (_t, vfs) = setup();
    // Relative mkdirs from an ever deeper cwd build a chain no single path
    // could name; the walk stops at the depth a PATH_MAX path can spell.
    let mut cwd = "/tmp".to_string();
    for _ in 0..path::MAX_DEPTH - 1 {
        vfs.mkdir(&cwd, "d", 0o755).unwrap();
        cwd.push_str("/d");
    }
    assert!(vfs.stat(&cwd, ".", true).is_ok());
    assert_eq!(vfs.mkdir(&cwd, "d", 0o755), Ok(()));
    assert_eq!(vfs.stat(&cwd, "d/.", true), Err(Errno::ENAMETOOLONG));
    assert_eq!(vfs.mkdir(&cwd, "d/e", 0o755), Err(Errno::ENAMETOOLONG));
}
