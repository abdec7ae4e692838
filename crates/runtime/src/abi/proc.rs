//! `host_proc`: processes, pipes, fd duplication, signals, timers and
//! `ioctl` (see SPEC.md). The functions, their records and constants come
//! from the `sidecar-abi` crate.

// Import functions take the parameters the ABI gives them.
#![allow(clippy::too_many_arguments)]

use sidecar_abi::consts::{disposition, itimer, spawn_attr, spawn_op};
use sidecar_abi::records::{self, FdPair, ITimerVal as AbiITimerVal};
use sidecar_abi::{Module, ProcFn};
use sidecar_kernel::signal::{Disposition, SigAction};
use sidecar_kernel::syscall::{SpawnAction, SpawnAttr, SpawnRequest};
use sidecar_kernel::timer::ITimerVal;
use sidecar_kernel::vfs::Program;
use sidecar_kernel::{Errno, Ret, Syscall};
use std::time::Duration;
use wasmtime::{Caller, InstancePre, Linker};

use super::{expect_ret, run, split};
use crate::guest::{AbiResult, ExecImage, Fault, GuestCtx, GuestSpec};

const P: &str = Module::HostProc.name();

type C<'a> = Caller<'a, GuestCtx>;

/// Defines every `host_proc` function of the ABI crate.
pub fn add(l: &mut Linker<GuestCtx>) -> wasmtime::Result<()> {
    for &f in ProcFn::ALL {
        define(l, f)?;
    }
    Ok(())
}

/// Defines one function. The match is exhaustive: a function added to the
/// ABI crate must be served here before the runtime compiles.
fn define(l: &mut Linker<GuestCtx>, f: ProcFn) -> wasmtime::Result<()> {
    let name = f.name();
    match f {
        ProcFn::Spawn => l.func_wrap(P, name, spawn),
        ProcFn::Execve => l.func_wrap(P, name, execve),
        ProcFn::Fork => l.func_wrap(P, name, crate::fork::fork),
        ProcFn::ForkHere => l.func_wrap(P, name, crate::fork::fork_here),
        ProcFn::Wait => l.func_wrap(P, name, wait),
        ProcFn::Kill => l.func_wrap(P, name, kill),
        ProcFn::GetPid => l.func_wrap(P, name, getpid),
        ProcFn::GetPpid => l.func_wrap(P, name, getppid),
        ProcFn::GetPgid => l.func_wrap(P, name, getpgid),
        ProcFn::GetSid => l.func_wrap(P, name, getsid),
        ProcFn::SetSid => l.func_wrap(P, name, setsid),
        ProcFn::SetPgid => l.func_wrap(P, name, setpgid),
        ProcFn::InitialCwd => l.func_wrap(P, name, initial_cwd),
        ProcFn::Pipe2 => l.func_wrap(P, name, pipe2),
        ProcFn::Dup => l.func_wrap(P, name, dup),
        ProcFn::Dup3 => l.func_wrap(P, name, dup3),
        ProcFn::Fcntl => l.func_wrap(P, name, fcntl),
        ProcFn::Ioctl => l.func_wrap(P, name, ioctl),
        ProcFn::SigAction => l.func_wrap(P, name, sigaction),
        ProcFn::SigProcMask => l.func_wrap(P, name, sigprocmask),
        ProcFn::SigPending => l.func_wrap(P, name, sigpending),
        ProcFn::SigIgnored => l.func_wrap(P, name, sigignored),
        ProcFn::SetSignalTrampoline => l.func_wrap(P, name, set_signal_trampoline),
        ProcFn::SigSuspend => l.func_wrap(P, name, sigsuspend),
        ProcFn::Pause => l.func_wrap(P, name, pause),
        ProcFn::SetITimer => l.func_wrap(P, name, setitimer),
        ProcFn::GetITimer => l.func_wrap(P, name, getitimer),
        ProcFn::StatMode => l.func_wrap(P, name, stat_mode),
    }?;
    Ok(())
}

fn spawn(
    mut c: C<'_>,
    p: u32,
    pl: u32,
    av: u32,
    avl: u32,
    ev: u32,
    evl: u32,
    acts: u32,
    nacts: u32,
    attr: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        spawn_budgeted(c, [p, pl, av, avl, ev, evl, acts, nacts, attr, out])
    })
}

fn wait(
    mut c: C<'_>,
    pid: i32,
    options: u32,
    status_out: u32,
    pid_out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let (pid, status) = expect_ret!(ctx.call(Syscall::Wait { pid, options })?, Ret::Waited { pid, status } => (pid, status));
        if pid != 0 {
            m.write_u32(status_out, status.0 as u32)?;
        }
        m.write_u32(pid_out, pid as u32)?;
        Ok(())
    })
}

fn kill(mut c: C<'_>, pid: i32, sig: i32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::Kill { pid, sig })?;
        Ok(())
    })
}

fn getpid(c: C<'_>) -> i32 {
    c.data().pid
}

fn getppid(mut c: C<'_>) -> wasmtime::Result<i32> {
    let mut ppid = 0;
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ppid = expect_ret!(ctx.call(Syscall::GetPpid)?, Ret::Pid(p) => p);
        Ok(())
    })
    .map(|_| ppid)
}

fn getpgid(mut c: C<'_>, pid: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| pid_query(c, Syscall::GetPgid { pid }, out))
}

fn getsid(mut c: C<'_>, pid: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| pid_query(c, Syscall::GetSid { pid }, out))
}

fn setsid(mut c: C<'_>, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| pid_query(c, Syscall::SetSid, out))
}

fn setpgid(mut c: C<'_>, pid: i32, pgid: i32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::SetPgid { pid, pgid })?;
        Ok(())
    })
}

fn initial_cwd(mut c: C<'_>, buf: u32, len: u32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let cwd = expect_ret!(ctx.call(Syscall::InitialCwd)?, Ret::Text(t) => t);
        m.write_u32(out, cwd.len() as u32)?;
        if cwd.len() > len as usize {
            return Err(Errno::ERANGE.into());
        }
        m.copy_out(buf, cwd.as_bytes())?;
        Ok(())
    })
}

fn stat_mode(
    mut c: C<'_>,
    fd: i32,
    p: u32,
    pl: u32,
    flags: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        let st = if pl == 0 {
            expect_ret!(ctx.call(Syscall::FileStat { fd })?, Ret::Stat(s) => s)
        } else {
            // As path_filestat_get: the walk runs on the guest's thread.
            let path = m.string(p, pl)?;
            let base = ctx.dir_path(fd)?;
            ctx.shared.vfs.stat(&base, &path, flags & 1 != 0)?
        };
        m.write_u32(out, st.mode & 0o7777)?;
        Ok(())
    })
}

fn pipe2(mut c: C<'_>, out: u32, flags: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.check_record::<FdPair>(out)?;
        let (r, w) = expect_ret!(ctx.call(Syscall::Pipe2 { flags })?, Ret::Fds(r, w) => (r, w));
        m.write_record(out, &FdPair { fds: [r, w] })?;
        Ok(())
    })
}

fn dup(mut c: C<'_>, fd: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| fd_query(c, Syscall::Dup { fd }, out))
}

fn dup3(mut c: C<'_>, old: i32, new: i32, flags: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::Dup3 { old, new, flags })?;
        Ok(())
    })
}

fn fcntl(mut c: C<'_>, fd: i32, cmd: i32, arg: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 4)?;
        let v = expect_ret!(ctx.call(Syscall::Fcntl { fd, cmd, arg })?, Ret::Int(v) => v);
        m.write_u32(out, v as u32)?;
        Ok(())
    })
}

fn ioctl(mut c: C<'_>, fd: i32, request: u32, arg: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        // How many bytes `arg` points to, read before and written after:
        // the ABI crate's ioctl table. Other requests reach the kernel with
        // no data (and are ENOTTY there).
        let (in_len, out_len) = sidecar_abi::ioctl::lookup(request)
            .map_or((0, 0), |i| (i.arg.in_len(), i.arg.out_len()));
        let data = if in_len > 0 {
            m.copy_in(arg, in_len)?
        } else {
            Vec::new()
        };
        if out_len > 0 {
            m.slice(arg, out_len)?;
        }
        let call = Syscall::Ioctl {
            fd,
            request,
            arg: arg as i32,
            data,
        };
        let out = expect_ret!(ctx.call(call)?, Ret::Ioctl { data, .. } => data);
        if out_len > 0 {
            let n = out.len().min(out_len as usize);
            m.copy_out(arg, &out[..n])?;
        }
        Ok(())
    })
}

fn sigaction(
    mut c: C<'_>,
    sig: i32,
    disposition: u32,
    flags: u32,
    mask: u64,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        let disposition = match disposition {
            disposition::DEFAULT => Disposition::Default,
            disposition::IGNORE => Disposition::Ignore,
            disposition::CATCH => Disposition::Catch,
            _ => return Err(Errno::EINVAL.into()),
        };
        let action = SigAction {
            disposition,
            flags,
            mask,
        };
        ctx.call(Syscall::SigAction { sig, action })?;
        Ok(())
    })
}

fn sigprocmask(mut c: C<'_>, how: i32, set: u64, old_out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (mut m, ctx) = split(c)?;
        if old_out != 0 {
            m.slice(old_out, 8)?;
        }
        let old = expect_ret!(ctx.call(Syscall::SigProcMask { how, set })?, Ret::SigSet(s) => s);
        if old_out != 0 {
            m.write_u64(old_out, old)?;
        }
        Ok(())
    })
}

fn sigpending(mut c: C<'_>, out: u32) -> wasmtime::Result<i32> {
    sigset_query(&mut c, out, || Syscall::SigPending)
}

fn sigignored(mut c: C<'_>, out: u32) -> wasmtime::Result<i32> {
    sigset_query(&mut c, out, || Syscall::SigIgnored)
}

/// A call answering a signal set, written to the guest's `out`.
fn sigset_query(c: &mut C<'_>, out: u32, call: fn() -> Syscall) -> wasmtime::Result<i32> {
    run(c, |c| {
        let (mut m, ctx) = split(c)?;
        m.slice(out, 8)?;
        let set = expect_ret!(ctx.call(call())?, Ret::SigSet(s) => s);
        m.write_u64(out, set)?;
        Ok(())
    })
}

// Local to the guest thread: where its signal handlers are entered.
fn set_signal_trampoline(mut c: C<'_>, index: u32) -> i32 {
    c.data_mut().trampoline = Some(index);
    0
}

fn sigsuspend(mut c: C<'_>, mask: u64) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::SigSuspend { mask: Some(mask) })?;
        Ok(())
    })
}

fn pause(mut c: C<'_>) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let (_, ctx) = split(c)?;
        ctx.call(Syscall::SigSuspend { mask: None })?;
        Ok(())
    })
}

fn setitimer(
    mut c: C<'_>,
    which: i32,
    interval_us: i64,
    value_us: i64,
    old_out: u32,
) -> wasmtime::Result<i32> {
    run(&mut c, |c| {
        let micros = |us: i64| u64::try_from(us).map(Duration::from_micros);
        let (Ok(interval), Ok(value)) = (micros(interval_us), micros(value_us)) else {
            return Err(Errno::EINVAL.into());
        };
        let new = ITimerVal { interval, value };
        if which == itimer::ITIMER_REAL && old_out == 0 {
            // Nothing to return and nothing that can fail: the
            // guest need not wait for the service.
            let (_, ctx) = split(c)?;
            return ctx.post(Syscall::ITimer {
                which,
                new: Some(new),
            });
        }
        itimer(c, which, Some(new), old_out)
    })
}

fn getitimer(mut c: C<'_>, which: i32, out: u32) -> wasmtime::Result<i32> {
    run(&mut c, |c| itimer(c, which, None, out))
}

/// Sets or reads an interval timer; the old setting goes to `out` (a
/// `struct sidecar_itimerval`) unless it is 0.
fn itimer(c: &mut C<'_>, which: i32, new: Option<ITimerVal>, out: u32) -> AbiResult<()> {
    let (mut m, ctx) = split(c)?;
    if out != 0 {
        m.check_record::<AbiITimerVal>(out)?;
    }
    let old = expect_ret!(ctx.call(Syscall::ITimer { which, new })?, Ret::ITimer(v) => v);
    if out != 0 {
        let old = AbiITimerVal {
            interval_us: old.interval.as_micros() as u64,
            value_us: old.value.as_micros() as u64,
        };
        m.write_record(out, &old)?;
    }
    Ok(())
}

fn pid_query(c: &mut C<'_>, call: Syscall, out: u32) -> AbiResult<()> {
    let (mut m, ctx) = split(c)?;
    m.slice(out, 4)?;
    let pid = expect_ret!(ctx.call(call)?, Ret::Pid(p) => p);
    m.write_u32(out, pid as u32)?;
    Ok(())
}

fn fd_query(c: &mut C<'_>, call: Syscall, out: u32) -> AbiResult<()> {
    let (mut m, ctx) = split(c)?;
    m.slice(out, 4)?;
    let fd = expect_ret!(ctx.call(call)?, Ret::Fd(fd) => fd);
    m.write_u32(out, fd as u32)?;
    Ok(())
}

fn spawn_budgeted(c: &mut C<'_>, a: [u32; 10]) -> AbiResult<()> {
    // The child's fuel comes out of the parent's; a failed spawn returns it.
    let budget = crate::guest::take_fuel_share(c);
    let r = spawn_child(c, a, budget);
    if let (Err(_), crate::guest::Budget::Fuel(share)) = (&r, budget) {
        crate::guest::absorb_fuel(c, share);
    }
    r
}

fn spawn_child(c: &mut C<'_>, a: [u32; 10], budget: crate::guest::Budget) -> AbiResult<()> {
    let [p, pl, av, avl, ev, evl, acts, nacts, attr_ptr, out] = a;
    let (mut m, ctx) = split(c)?;
    let path = m.string(p, pl)?;
    let args = m.string_list(av, avl)?;
    let env = m.string_list(ev, evl)?;
    let raw: Vec<records::SpawnAction> = m.read_records(acts, nacts)?;
    let mut actions = Vec::with_capacity(raw.len());
    for a in &raw {
        actions.push(match a.op {
            spawn_op::CLOSE => SpawnAction::Close(a.fd),
            spawn_op::DUP2 => SpawnAction::Dup2 {
                fd: a.fd,
                newfd: a.newfd,
            },
            spawn_op::OPEN => SpawnAction::Open {
                newfd: a.newfd,
                path: m.string(a.path, a.path_len)?,
                oflag: a.oflag,
                mode: a.mode,
            },
            spawn_op::CHDIR => SpawnAction::Chdir(m.string(a.path, a.path_len)?),
            _ => return Err(Errno::EINVAL.into()),
        });
    }
    let mut attr = SpawnAttr::default();
    if attr_ptr != 0 {
        let a: records::SpawnAttr = m.read_record(attr_ptr)?;
        if a.flags & spawn_attr::SETPGROUP != 0 {
            attr.pgroup = Some(a.pgroup);
        }
        attr.setsid = a.flags & spawn_attr::SETSID != 0;
        if a.cwd_len != 0 {
            attr.cwd = Some(m.string(a.cwd, a.cwd_len)?);
        }
        if a.flags & spawn_attr::SETSIGDEF != 0 {
            attr.sigdefault = a.sigdefault;
        }
        if a.flags & spawn_attr::SETSIGMASK != 0 {
            attr.sigmask = Some(a.sigmask);
        }
    }
    m.slice(out, 4)?;

    let chdirs = actions
        .iter()
        .filter_map(|a| match a {
            SpawnAction::Chdir(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    let call = Syscall::ResolveProgram {
        path: path.clone(),
        cwd: attr.cwd.clone(),
        chdirs,
    };
    let program = expect_ret!(ctx.call(call)?, Ret::Program(p) => p);
    let pre = load_module(ctx, &program, &path, "spawn")?;
    let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    let link = ctx.spawn_call(Syscall::Spawn(SpawnRequest {
        name: name.clone(),
        actions,
        attr,
    }))?;
    let pid = link.pid;
    let spec = GuestSpec {
        name,
        args,
        env,
        budget,
        memory_limit: ctx.spec.memory_limit,
    };
    let (shared, alive) = (ctx.shared.clone(), ctx.alive.clone());
    crate::guest::start(shared, pre, spec, link, alive, Some(&*ctx)).map_err(|e| e.errno)?;
    m.write_u32(out, pid as u32)?;
    Ok(())
}

/// Linux's `MAX_ARG_STRLEN`: one argv or envp string, its NUL included.
const MAX_ARG_STRLEN: usize = 128 << 10;
/// What all of argv and envp may take (strings and their pointers), as
/// Linux allows with the default 8 MiB stack (a quarter of it).
const MAX_ARG_TOTAL: usize = 2 << 20;
/// `#!` scripts may name scripts as their interpreter this many times
/// (Linux's `BINPRM_MAX_RECURSION`).
const MAX_SCRIPT_DEPTH: usize = 4;
/// How much of a file's start a `#!` line is read from (Linux's
/// `BINPRM_BUF_SIZE`).
const SCRIPT_HEAD: usize = 256;

/// `execve`: everything that can fail (reading the arguments, finding the
/// program and its `#!` interpreters, loading and checking the module) is
/// done first, and a failure returns with the caller unchanged. Then the
/// kernel commits the exec, and the call unwinds the old instance with the
/// new image, which the guest's thread starts as the same process.
fn execve(
    mut c: C<'_>,
    p: u32,
    pl: u32,
    av: u32,
    avl: u32,
    ev: u32,
    evl: u32,
    cw: u32,
    cwl: u32,
) -> wasmtime::Result<i32> {
    let mut prepared = None;
    let r = run(&mut c, |c| {
        prepared = Some(prepare_exec(c, [p, pl, av, avl, ev, evl, cw, cwl])?);
        Ok(())
    })?;
    let Some((image, cwd)) = prepared.filter(|_| r == 0) else {
        return Ok(r);
    };
    let call = Syscall::Exec {
        name: image.name.clone(),
        cwd,
    };
    match c.data().call(call) {
        Ok(_) => Err(wasmtime::Error::new(image)),
        Err(Fault::Exit(x)) => Err(x.into()),
        Err(Fault::Errno(e)) => Ok(i32::from(super::errno::to_wasi(e))),
        Err(Fault::Restart) => Ok(i32::from(super::errno::to_wasi(Errno::EINTR))),
    }
}

fn prepare_exec(c: &mut C<'_>, a: [u32; 8]) -> AbiResult<(ExecImage, String)> {
    let [p, pl, av, avl, ev, evl, cw, cwl] = a;
    let (m, ctx) = split(c)?;
    let path = m.string(p, pl)?;
    let mut args = m.string_list(av, avl)?;
    let env = m.string_list(ev, evl)?;
    let cwd = m.string(cw, cwl)?;
    check_arg_limits(&args, &env)?;
    let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    let mut program_path = path;
    for depth in 0..=MAX_SCRIPT_DEPTH {
        let call = Syscall::ResolveProgram {
            path: program_path.clone(),
            cwd: Some(cwd.clone()),
            chdirs: Vec::new(),
        };
        let program = expect_ret!(ctx.call(call)?, Ret::Program(p) => p);
        if let Some((interp, arg)) = shebang(&program)? {
            if depth == MAX_SCRIPT_DEPTH {
                return Err(Errno::ELOOP.into());
            }
            // argv becomes: interp [arg] path argv[1..].
            let rest = args.iter().skip(1).cloned();
            let mut new_args = vec![interp.clone()];
            new_args.extend(arg);
            new_args.push(program_path);
            new_args.extend(rest);
            args = new_args;
            check_arg_limits(&args, &env)?;
            program_path = interp;
            continue;
        }
        let pre = load_module(ctx, &program, &program_path, "execve")?;
        let image = ExecImage {
            pre,
            name,
            args,
            env,
        };
        return Ok((image, cwd));
    }
    Err(Errno::ELOOP.into())
}

/// The module of `program` (found at `path`), compiled or from the cache,
/// and checked against the caller's memory limit; `ENOEXEC` if it cannot
/// run (`what` names the call in the debug log).
fn load_module(
    ctx: &GuestCtx,
    program: &Program,
    path: &str,
    what: &str,
) -> AbiResult<InstancePre<GuestCtx>> {
    ctx.shared
        .cache
        .load_program(program)
        .and_then(|pre| crate::cache::check_memory(path, &pre, ctx.spec.memory_limit).map(|()| pre))
        .map_err(|e| {
            tracing::debug!("{what} {path}: {e}");
            Fault::Errno(Errno::ENOEXEC)
        })
}

/// `E2BIG` as Linux gives it: one string over `MAX_ARG_STRLEN`, or all of
/// them (with a pointer each) over `MAX_ARG_TOTAL`.
fn check_arg_limits(args: &[String], env: &[String]) -> AbiResult<()> {
    let mut total = 0usize;
    for s in args.iter().chain(env) {
        if s.len() + 1 > MAX_ARG_STRLEN {
            return Err(Errno::E2BIG.into());
        }
        total += s.len() + 1 + 8;
    }
    if total > MAX_ARG_TOTAL {
        return Err(Errno::E2BIG.into());
    }
    Ok(())
}

/// The interpreter and optional argument of a `#!` line at the start of
/// `program`, as Linux's `binfmt_script` parses it: after `#!`, blanks,
/// the interpreter up to a blank, then the rest of the line, trimmed, as
/// one argument. `None` if the file does not start with `#!`.
fn shebang(program: &Program) -> AbiResult<Option<(String, Option<String>)>> {
    let mut head = vec![0u8; SCRIPT_HEAD];
    let n = match program {
        Program::Host { file, .. } => {
            use std::os::unix::fs::FileExt;
            let mut n = 0;
            while n < head.len() {
                match file.read_at(&mut head[n..], n as u64) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return Err(Errno::EIO.into()),
                }
            }
            n
        }
        Program::Bytes(b) => {
            let n = b.len().min(head.len());
            head[..n].copy_from_slice(&b[..n]);
            n
        }
    };
    let head = &head[..n];
    let Some(line) = head.strip_prefix(b"#!") else {
        return Ok(None);
    };
    let line = line.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let line = &line[start..];
    let end = line.iter().position(blank).unwrap_or(line.len());
    let (interp, rest) = line.split_at(end);
    if interp.is_empty() {
        return Err(Errno::ENOEXEC.into());
    }
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| Fault::Errno(Errno::ENOEXEC));
    let rest = rest.trim_ascii();
    let arg = if rest.is_empty() {
        None
    } else {
        Some(text(rest)?)
    };
    Ok(Some((text(interp)?, arg)))
}
