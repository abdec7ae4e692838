//! Unit tests of the dispatch, over an in-memory VFS.

use super::*;
use crate::file::poll::*;
use crate::process::WaitStatus;
use crate::signal;
use crate::syscall::*;

fn kernel() -> (Kernel, Pid) {
    let mut vfs = Vfs::new();
    vfs.mount_mem("/").unwrap();
    vfs.mount_dev("/dev").unwrap();
    let mut k = Kernel::new(vfs);
    let spec = InitSpec {
        name: "init".into(),
        cwd: "/".into(),
        stdio: [Stdio::Null, Stdio::Null, Stdio::Null],
    };
    let (pid, _) = k.create_process(spec).unwrap();
    (k, pid)
}

fn done(o: Outcome) -> Ret {
    match o {
        Outcome::Ready(Ok(r)) => r,
        other => panic!("expected success, got {other:?}"),
    }
}

fn fds(k: &mut Kernel, pid: Pid) -> (i32, i32) {
    match done(k.call(pid, &mut Syscall::Pipe2 { flags: 0 })) {
        Ret::Fds(r, w) => (r, w),
        r => panic!("{r:?}"),
    }
}

#[test]
fn preopen_and_stdio_are_in_place() {
    let (mut k, pid) = kernel();
    assert_eq!(
        done(k.call(pid, &mut Syscall::Prestat { fd: 3 })),
        Ret::Prestat("/".into())
    );
    let r = k.call(pid, &mut Syscall::Prestat { fd: 0 });
    assert!(matches!(r, Outcome::Ready(Err(Errno::EBADF))));
    assert_eq!(fds(&mut k, pid), (4, 5));
}

#[test]
fn empty_pipe_read_blocks_until_a_write_notifies() {
    let (mut k, pid) = kernel();
    let (r, w) = fds(&mut k, pid);
    let keys = match k.call(
        pid,
        &mut Syscall::Read {
            fd: r,
            len: 10,
            timer: None,
            parked: false,
        },
    ) {
        Outcome::Block(keys) => keys,
        o => panic!("{o:?}"),
    };
    k.notifier().drain();
    let mut write = Syscall::Write {
        fd: w,
        data: b"hi".to_vec(),
        done: 0,
    };
    assert_eq!(done(k.call(pid, &mut write)), Ret::Size(2));
    let woken = k.notifier().drain();
    assert!(keys.iter().all(|key| woken.contains(key)));
    assert_eq!(
        done(k.call(
            pid,
            &mut Syscall::Read {
                fd: r,
                len: 10,
                timer: None,
                parked: false,
            }
        )),
        Ret::Bytes(b"hi".to_vec())
    );
}

#[test]
fn nonblocking_read_is_eagain() {
    let (mut k, pid) = kernel();
    let (r, _w) = fds(&mut k, pid);
    done(k.call(
        pid,
        &mut Syscall::Fcntl {
            fd: r,
            cmd: 4,
            arg: oflag::O_NONBLOCK as i32,
        },
    ));
    let o = k.call(
        pid,
        &mut Syscall::Read {
            fd: r,
            len: 10,
            timer: None,
            parked: false,
        },
    );
    assert!(matches!(o, Outcome::Ready(Err(Errno::EAGAIN))));
}

#[test]
fn large_blocking_write_keeps_its_progress() {
    let (mut k, pid) = kernel();
    let (r, w) = fds(&mut k, pid);
    let mut write = Syscall::Write {
        fd: w,
        data: vec![7; 100_000],
        done: 0,
    };
    assert!(matches!(k.call(pid, &mut write), Outcome::Block(_)));
    let Syscall::Write { done: progress, .. } = write else {
        unreachable!()
    };
    assert_eq!(progress, crate::pipe::PIPE_CAPACITY);
    let mut total = 0;
    while let Ret::Bytes(b) = done(k.call(
        pid,
        &mut Syscall::Read {
            fd: r,
            len: 1 << 20,
            timer: None,
            parked: false,
        },
    )) {
        total += b.len();
        if let Outcome::Ready(r) = k.call(pid, &mut write) {
            assert_eq!(r.unwrap(), Ret::Size(100_000));
            break;
        }
    }
    assert!(total >= crate::pipe::PIPE_CAPACITY);
}

#[test]
fn child_exit_closes_fds_and_is_reaped_once() {
    let (mut k, parent) = kernel();
    let (r, w) = fds(&mut k, parent);
    let req = SpawnRequest {
        name: "child".into(),
        actions: vec![SpawnAction::Dup2 { fd: w, newfd: 1 }],
        attr: SpawnAttr::default(),
    };
    let child = match done(k.call(parent, &mut Syscall::Spawn(req))) {
        Ret::Pid(p) => p,
        r => panic!("{r:?}"),
    };
    done(k.call(parent, &mut Syscall::Close { fd: w }));
    let mut wait = Syscall::Wait {
        pid: -1,
        options: WNOHANG,
    };
    assert_eq!(
        done(k.call(parent, &mut wait)),
        Ret::Waited {
            pid: 0,
            status: WaitStatus(0)
        }
    );
    let mut wait = Syscall::Wait {
        pid: child,
        options: 0,
    };
    assert!(matches!(k.call(parent, &mut wait), Outcome::Block(_)));
    // The child holds the only write end: the reader sees data, then EOF.
    done(k.call(
        child,
        &mut Syscall::Write {
            fd: 1,
            data: b"x".to_vec(),
            done: 0,
        },
    ));
    done(k.call(
        child,
        &mut Syscall::Exit {
            status: WaitStatus::exited(3),
        },
    ));
    assert_eq!(
        done(k.call(
            parent,
            &mut Syscall::Read {
                fd: r,
                len: 8,
                timer: None,
                parked: false,
            }
        )),
        Ret::Bytes(b"x".to_vec())
    );
    assert_eq!(
        done(k.call(
            parent,
            &mut Syscall::Read {
                fd: r,
                len: 8,
                timer: None,
                parked: false,
            }
        )),
        Ret::Bytes(vec![])
    );
    assert_eq!(
        done(k.call(parent, &mut wait)),
        Ret::Waited {
            pid: child,
            status: WaitStatus::exited(3)
        }
    );
    let o = k.call(
        parent,
        &mut Syscall::Wait {
            pid: -1,
            options: 0,
        },
    );
    assert!(matches!(o, Outcome::Ready(Err(Errno::ECHILD))));
}

#[test]
fn kill_terminates_and_epipe_raises_sigpipe() {
    let (mut k, parent) = kernel();
    let req = SpawnRequest {
        name: "c".into(),
        actions: vec![],
        attr: SpawnAttr::default(),
    };
    let Ret::Pid(child) = done(k.call(parent, &mut Syscall::Spawn(req))) else {
        panic!()
    };
    done(k.call(
        parent,
        &mut Syscall::Kill {
            pid: child,
            sig: signal::SIGTERM,
        },
    ));
    assert_eq!(
        k.take_actions(),
        vec![Action::Terminate {
            pid: child,
            sig: signal::SIGTERM
        }]
    );
    let o = k.call(child, &mut Syscall::GetPpid);
    assert!(matches!(o, Outcome::Ready(Err(Errno::EINTR))));
    let o = k.call(parent, &mut Syscall::Kill { pid: 999, sig: 0 });
    assert!(matches!(o, Outcome::Ready(Err(Errno::ESRCH))));

    let (r, w) = fds(&mut k, parent);
    done(k.call(parent, &mut Syscall::Close { fd: r }));
    let o = k.call(
        parent,
        &mut Syscall::Write {
            fd: w,
            data: b"x".to_vec(),
            done: 0,
        },
    );
    assert!(matches!(o, Outcome::Ready(Err(Errno::EPIPE))));
    assert!(k.take_actions().contains(&Action::Terminate {
        pid: parent,
        sig: signal::SIGPIPE
    }));
}

#[test]
fn poll_reports_readiness_and_hangup() {
    let (mut k, pid) = kernel();
    let (r, w) = fds(&mut k, pid);
    let subs = vec![PollSub {
        userdata: 1,
        kind: PollKind::Read(r),
    }];
    assert!(matches!(
        k.call(pid, &mut Syscall::Poll { subs: subs.clone() }),
        Outcome::Block(_)
    ));
    let wsubs = vec![PollSub {
        userdata: 2,
        kind: PollKind::Write(w),
    }];
    let Ret::Events(ev) = done(k.call(pid, &mut Syscall::Poll { subs: wsubs })) else {
        panic!()
    };
    assert_eq!(ev[0].kind, PollEventKind::Write);
    done(k.call(pid, &mut Syscall::Close { fd: w }));
    let Ret::Events(ev) = done(k.call(pid, &mut Syscall::Poll { subs })) else {
        panic!()
    };
    assert!(ev[0].hangup);
    let f = k.file(pid, r).unwrap();
    assert_eq!(f.desc.poll(), POLLHUP);
}

#[test]
fn spawn_file_actions_follow_posix() {
    let (mut k, parent) = kernel();
    let (r, w) = fds(&mut k, parent);
    done(k.call(
        parent,
        &mut Syscall::Fcntl {
            fd: r,
            cmd: 2,
            arg: 1,
        },
    ));
    let req = SpawnRequest {
        name: "c".into(),
        actions: vec![
            SpawnAction::Close(0),
            SpawnAction::Open {
                newfd: 0,
                path: "/f".into(),
                oflag: oflag::O_CREAT | oflag::O_WRONLY,
                mode: 0o644,
            },
            SpawnAction::Dup2 { fd: w, newfd: 7 },
            SpawnAction::Close(42),
        ],
        attr: SpawnAttr {
            pgroup: Some(0),
            ..Default::default()
        },
    };
    let Ret::Pid(child) = done(k.call(parent, &mut Syscall::Spawn(req))) else {
        panic!()
    };
    let c = k.process(child).unwrap();
    assert_eq!(c.pgid(), child);
    assert!(c.fds().get(r).is_err(), "close-on-exec fd was inherited");
    assert!(c.fds().get(7).is_ok());
    assert!(c.fds().get(0).unwrap().file.writable());
    assert!(k.vfs.stat("/", "/f", true).is_ok());
}

fn spawn_plain(k: &mut Kernel, parent: Pid) -> KResult<Pid> {
    let req = SpawnRequest {
        name: "c".into(),
        actions: Vec::new(),
        attr: SpawnAttr::default(),
    };
    match k.call(parent, &mut Syscall::Spawn(req)) {
        Outcome::Ready(Ok(Ret::Pid(p))) => Ok(p),
        Outcome::Ready(Err(e)) => Err(e),
        o => panic!("{o:?}"),
    }
}

#[test]
fn process_limit_counts_zombies_and_gives_eagain() {
    let (mut k, init) = kernel();
    k.set_limits(Limits {
        processes: 3,
        files: 10,
    });
    let a = spawn_plain(&mut k, init).unwrap();
    let b = spawn_plain(&mut k, init).unwrap();
    assert_eq!(spawn_plain(&mut k, init), Err(Errno::EAGAIN));
    // A zombie still holds its pid; reaping it frees the slot.
    done(k.call(
        a,
        &mut Syscall::Exit {
            status: WaitStatus::exited(0),
        },
    ));
    assert_eq!(spawn_plain(&mut k, init), Err(Errno::EAGAIN));
    let reaped = k.call(init, &mut Syscall::Wait { pid: a, options: 0 });
    assert!(matches!(reaped, Outcome::Ready(Ok(Ret::Waited { .. }))));
    let c = spawn_plain(&mut k, init).unwrap();
    // A child whose guest never started vanishes: no zombie, no SIGCHLD,
    // nothing to wait for, and its slot is free again.
    let pending = k.process(init).unwrap().sig().pending;
    done(k.call(c, &mut Syscall::SpawnFailed));
    assert!(k.process(c).is_none());
    assert_eq!(k.process(init).unwrap().sig().pending, pending);
    let none = k.call(init, &mut Syscall::Wait { pid: c, options: 0 });
    assert!(
        matches!(none, Outcome::Ready(Err(Errno::ECHILD))),
        "{none:?}"
    );
    assert!(spawn_plain(&mut k, init).is_ok());
    let _ = b;
}

#[test]
fn vm_file_limit_gives_enfile_until_a_file_closes() {
    let (mut k, init) = kernel();
    k.set_limits(Limits {
        processes: 8,
        files: 2,
    });
    let open = |k: &mut Kernel, pid: Pid, path: &str| {
        let mut call = Syscall::PathOpen {
            dirfd: 3,
            path: path.into(),
            flags: OpenFlags {
                read: true,
                write: true,
                create: true,
                ..OpenFlags::default()
            },
            status: 0,
            cloexec: false,
            noctty: false,
        };
        match k.call(pid, &mut call) {
            Outcome::Ready(Ok(Ret::Fd(fd))) => Ok(fd),
            Outcome::Ready(Err(e)) => Err(e),
            o => panic!("{o:?}"),
        }
    };
    let a = open(&mut k, init, "/a").unwrap();
    let _b = open(&mut k, init, "/b").unwrap();
    assert_eq!(open(&mut k, init, "/c"), Err(Errno::ENFILE));
    // Nothing was created by the refused open.
    assert!(k.vfs.stat("/", "/c", true).is_err());
    // Pipes and dups are not opened by path and do not count.
    fds(&mut k, init);
    let Ret::Fd(dup_fd) = done(k.call(init, &mut Syscall::Dup { fd: a })) else {
        panic!()
    };
    assert_eq!(k.open_files(), 2);
    // An inherited copy keeps the file open after the parent closes it.
    let child = spawn_plain(&mut k, init).unwrap();
    done(k.call(init, &mut Syscall::Close { fd: a }));
    done(k.call(init, &mut Syscall::Close { fd: dup_fd }));
    assert_eq!(open(&mut k, init, "/c"), Err(Errno::ENFILE));
    done(k.call(
        child,
        &mut Syscall::Exit {
            status: WaitStatus::exited(0),
        },
    ));
    assert_eq!(k.open_files(), 1);
    assert!(open(&mut k, init, "/c").is_ok());
}

/// An AF_UNIX stream socket of `pid` listening at `path`; its fd.
fn listen_at(k: &mut Kernel, pid: Pid, path: &str) -> i32 {
    let Ret::Fd(l) = done(k.call(
        pid,
        &mut Syscall::Socket {
            domain: 1,
            ty: 1,
            protocol: 0,
        },
    )) else {
        panic!()
    };
    let mut addr = 1u16.to_le_bytes().to_vec();
    addr.extend_from_slice(path.as_bytes());
    addr.push(0);
    done(k.call(pid, &mut Syscall::Bind { fd: l, addr }));
    done(k.call(pid, &mut Syscall::Listen { fd: l, backlog: 4 }));
    l
}

#[test]
fn host_connections_count_as_open_files() {
    let (mut k, init) = kernel();
    k.set_limits(Limits {
        processes: 8,
        files: 1,
    });
    listen_at(&mut k, init, "/s");
    let id = k.bridge_connect("/s").unwrap();
    assert_eq!(k.open_files(), 1);
    assert_eq!(k.bridge_connect("/s"), Err(Errno::ECONNREFUSED));
    k.bridge_close(id);
    assert_eq!(k.open_files(), 0);
    assert!(k.bridge_connect("/s").is_ok());
}

#[test]
fn exec_closes_cloexec_fds_and_resets_caught_signals_only() {
    let (mut k, parent) = kernel();
    let pid = spawn_plain(&mut k, parent).unwrap();
    let (r, w) = fds(&mut k, pid);
    // F_SETFD FD_CLOEXEC on the read end.
    done(k.call(
        pid,
        &mut Syscall::Fcntl {
            fd: r,
            cmd: 2,
            arg: 1,
        },
    ));
    let set = |k: &mut Kernel, sig, disposition| {
        let action = signal::SigAction {
            disposition,
            ..Default::default()
        };
        done(k.call(pid, &mut Syscall::SigAction { sig, action }));
    };
    set(&mut k, signal::SIGHUP, signal::Disposition::Catch);
    set(&mut k, signal::SIGINT, signal::Disposition::Ignore);
    set(&mut k, signal::SIGCHLD, signal::Disposition::Catch);
    let block = signal::bit(signal::SIGTERM) | signal::bit(signal::SIGCHLD);
    done(k.call(pid, &mut Syscall::SigProcMask { how: 0, set: block }));
    done(k.call(
        pid,
        &mut Syscall::Kill {
            pid,
            sig: signal::SIGTERM,
        },
    ));
    done(k.call(
        pid,
        &mut Syscall::Kill {
            pid,
            sig: signal::SIGCHLD,
        },
    ));
    let mut exec = Syscall::Exec {
        name: "new".into(),
        cwd: "/dev".into(),
    };
    done(k.call(pid, &mut exec));
    let p = k.procs.get(pid).unwrap();
    assert_eq!((p.name(), p.cwd(), p.ppid()), ("new", "/dev", parent));
    assert_eq!(p.fds().get(r).unwrap_err(), Errno::EBADF);
    assert!(p.fds().get(w).is_ok());
    let sig = p.sig();
    assert_eq!(
        sig.action(signal::SIGHUP).disposition,
        signal::Disposition::Default
    );
    assert_eq!(
        done(k.call(pid, &mut Syscall::SigIgnored)),
        Ret::SigSet(signal::bit(signal::SIGINT))
    );
    let sig = k.procs.get(pid).unwrap().sig();
    assert_eq!(sig.blocked, block);
    // SIGTERM stays pending; SIGCHLD, ignored by default now, goes.
    assert_eq!(sig.pending, signal::bit(signal::SIGTERM));
    // A cwd that does not resolve fails before anything changes.
    let mut bad = Syscall::Exec {
        name: "x".into(),
        cwd: "/nope".into(),
    };
    assert!(matches!(
        k.call(pid, &mut bad),
        Outcome::Ready(Err(Errno::ENOENT))
    ));
    assert_eq!(k.procs.get(pid).unwrap().name(), "new");
}

#[test]
fn fork_copies_fds_handlers_and_mask_but_not_pending_signals() {
    let (mut k, parent) = kernel();
    let pid = spawn_plain(&mut k, parent).unwrap();
    let (r, w) = fds(&mut k, pid);
    done(k.call(
        pid,
        &mut Syscall::Fcntl {
            fd: r,
            cmd: 2,
            arg: 1,
        },
    ));
    let action = signal::SigAction {
        disposition: signal::Disposition::Catch,
        ..Default::default()
    };
    let sig = signal::SIGHUP;
    done(k.call(pid, &mut Syscall::SigAction { sig, action }));
    let block = signal::bit(signal::SIGTERM);
    done(k.call(pid, &mut Syscall::SigProcMask { how: 0, set: block }));
    let sig = signal::SIGTERM;
    done(k.call(pid, &mut Syscall::Kill { pid, sig }));
    let Ret::Pid(child) = done(k.call(pid, &mut Syscall::Fork)) else {
        panic!()
    };
    let (p, c) = (k.procs.get(pid).unwrap(), k.procs.get(child).unwrap());
    assert_eq!((c.ppid(), c.pgid(), c.name()), (pid, p.pgid(), p.name()));
    // The same descriptions, close-on-exec flags included.
    let same = |fd| {
        Arc::ptr_eq(
            &p.fds().get(fd).unwrap().file,
            &c.fds().get(fd).unwrap().file,
        )
    };
    assert!(same(r) && same(w));
    assert!(c.fds().get(r).unwrap().cloexec);
    assert_eq!(
        c.sig().action(signal::SIGHUP).disposition,
        signal::Disposition::Catch
    );
    assert_eq!(c.sig().blocked, block);
    assert_eq!((p.sig().pending, c.sig().pending), (block, 0));
}

/// A host that writes and then disconnects before the guest has read
/// everything: the guest still gets every byte, then end of stream.
#[test]
fn a_closed_host_connection_still_delivers_what_it_sent() {
    let (mut k, init) = kernel();
    let l = listen_at(&mut k, init, "/s");
    let id = k.bridge_connect("/s").unwrap();
    let Ret::Accepted { fd: c, .. } = done(k.call(init, &mut Syscall::Accept { fd: l, flags: 0 }))
    else {
        panic!()
    };
    // More than the guest socket holds, so some waits in the bridge.
    let sent: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    k.bridge_from_host(id, Some(sent.clone()));
    k.bridge_from_host(id, None);
    k.bridge_close(id);
    let mut got = Vec::new();
    loop {
        let mut read = Syscall::Read {
            fd: c,
            len: 65536,
            timer: None,
            parked: false,
        };
        let Ret::Bytes(data) = done(k.call(init, &mut read)) else {
            panic!()
        };
        if data.is_empty() {
            break;
        }
        got.extend_from_slice(&data);
        let keys = k.notifier().drain();
        k.on_wakeup(&keys);
    }
    assert_eq!(got.len(), sent.len());
    assert!(got == sent);
}
