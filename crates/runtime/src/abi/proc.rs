//! `host_proc`: processes, pipes and fd duplication (see SPEC.md).

use sidecar_kernel::kernel::ITIMER_REAL;
use sidecar_kernel::signal::{Disposition, SigAction};
use sidecar_kernel::syscall::{SpawnAction, SpawnAttr, SpawnRequest};
use sidecar_kernel::timer::ITimerVal;
use sidecar_kernel::{Errno, Ret, Syscall};
use std::time::Duration;
use wasmtime::{Caller, Linker};

use super::{expect_ret, run, split};
use crate::guest::{AbiResult, GuestCtx, GuestSpec};

const P: &str = "host_proc";

/// Every `host_proc` import, for load-time checking.
pub const FUNCS: &[&str] = &[
    "spawn",
    "wait",
    "kill",
    "getpid",
    "getppid",
    "getpgid",
    "setpgid",
    "getsid",
    "setsid",
    "initial_cwd",
    "pipe2",
    "dup",
    "dup3",
    "fcntl",
    "ioctl",
    "sigaction",
    "sigprocmask",
    "sigpending",
    "sigsuspend",
    "pause",
    "set_signal_trampoline",
    "setitimer",
    "getitimer",
];

type C<'a> = Caller<'a, GuestCtx>;

pub fn add(l: &mut Linker<GuestCtx>) -> wasmtime::Result<()> {
    l.func_wrap(
        P,
        "spawn",
        |mut c: C<'_>,
         p: u32,
         pl: u32,
         av: u32,
         avl: u32,
         ev: u32,
         evl: u32,
         acts: u32,
         nacts: u32,
         attr: u32,
         out: u32| {
            run(&mut c, |c| {
                spawn(c, [p, pl, av, avl, ev, evl, acts, nacts, attr, out])
            })
        },
    )?;
    l.func_wrap(P, "wait", |mut c: C<'_>, pid: i32, options: u32, status_out: u32, pid_out: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            let (pid, status) =
                expect_ret!(ctx.call(Syscall::Wait { pid, options })?, Ret::Waited { pid, status } => (pid, status));
            if pid != 0 {
                m.write_u32(status_out, status.0 as u32)?;
            }
            m.write_u32(pid_out, pid as u32)?;
            Ok(())
        })
    })?;
    l.func_wrap(P, "kill", |mut c: C<'_>, pid: i32, sig: i32| {
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            ctx.call(Syscall::Kill { pid, sig })?;
            Ok(())
        })
    })?;
    l.func_wrap(P, "getpid", |c: C<'_>| -> i32 { c.data().pid })?;
    l.func_wrap(P, "getppid", |mut c: C<'_>| -> wasmtime::Result<i32> {
        let mut ppid = 0;
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            ppid = expect_ret!(ctx.call(Syscall::GetPpid)?, Ret::Pid(p) => p);
            Ok(())
        })
        .map(|_| ppid)
    })?;
    l.func_wrap(P, "getpgid", |mut c: C<'_>, pid: i32, out: u32| {
        run(&mut c, |c| pid_query(c, Syscall::GetPgid { pid }, out))
    })?;
    l.func_wrap(P, "getsid", |mut c: C<'_>, pid: i32, out: u32| {
        run(&mut c, |c| pid_query(c, Syscall::GetSid { pid }, out))
    })?;
    l.func_wrap(P, "setsid", |mut c: C<'_>, out: u32| {
        run(&mut c, |c| pid_query(c, Syscall::SetSid, out))
    })?;
    l.func_wrap(P, "setpgid", |mut c: C<'_>, pid: i32, pgid: i32| {
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            ctx.call(Syscall::SetPgid { pid, pgid })?;
            Ok(())
        })
    })?;
    l.func_wrap(
        P,
        "initial_cwd",
        |mut c: C<'_>, buf: u32, len: u32, out: u32| {
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
        },
    )?;
    l.func_wrap(P, "pipe2", |mut c: C<'_>, out: u32, flags: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            m.slice(out, 8)?;
            let (r, w) = expect_ret!(ctx.call(Syscall::Pipe2 { flags })?, Ret::Fds(r, w) => (r, w));
            m.write_u32(out, r as u32)?;
            m.write_u32(out + 4, w as u32)?;
            Ok(())
        })
    })?;
    l.func_wrap(P, "dup", |mut c: C<'_>, fd: i32, out: u32| {
        run(&mut c, |c| fd_query(c, Syscall::Dup { fd }, out))
    })?;
    l.func_wrap(P, "dup3", |mut c: C<'_>, old: i32, new: i32, flags: u32| {
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            ctx.call(Syscall::Dup3 { old, new, flags })?;
            Ok(())
        })
    })?;
    l.func_wrap(
        P,
        "fcntl",
        |mut c: C<'_>, fd: i32, cmd: i32, arg: i32, out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                m.slice(out, 4)?;
                let v = expect_ret!(ctx.call(Syscall::Fcntl { fd, cmd, arg })?, Ret::Int(v) => v);
                m.write_u32(out, v as u32)?;
                Ok(())
            })
        },
    )?;
    l.func_wrap(
        P,
        "ioctl",
        |mut c: C<'_>, fd: i32, request: u32, arg: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                // How many bytes `arg` points to, read before and written after.
                let (in_len, out_len): (u32, u32) = match request {
                    0x5401 => (0, 60),                       // TCGETS
                    0x5402..=0x5404 => (60, 0),              // TCSETS, TCSETSW, TCSETSF
                    0x5413 => (0, 8),                        // TIOCGWINSZ
                    0x5414 => (8, 0),                        // TIOCSWINSZ
                    0x5410 | 0x5421 | 0x4004_5431 => (4, 0), // TIOCSPGRP, FIONBIO, TIOCSPTLCK
                    // TIOCGPGRP, FIONREAD, TIOCOUTQ, TIOCGSID, TIOCGPTN
                    0x540F | 0x541B | 0x5411 | 0x5429 | 0x8004_5430 => (0, 4),
                    _ => (0, 0),
                };
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
        },
    )?;
    l.func_wrap(
        P,
        "sigaction",
        |mut c: C<'_>, sig: i32, disposition: u32, flags: u32, mask: u64| {
            run(&mut c, |c| {
                let (_, ctx) = split(c)?;
                let disposition = match disposition {
                    0 => Disposition::Default,
                    1 => Disposition::Ignore,
                    2 => Disposition::Catch,
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
        },
    )?;
    l.func_wrap(
        P,
        "sigprocmask",
        |mut c: C<'_>, how: i32, set: u64, old_out: u32| {
            run(&mut c, |c| {
                let (mut m, ctx) = split(c)?;
                if old_out != 0 {
                    m.slice(old_out, 8)?;
                }
                let old =
                    expect_ret!(ctx.call(Syscall::SigProcMask { how, set })?, Ret::SigSet(s) => s);
                if old_out != 0 {
                    m.write_u64(old_out, old)?;
                }
                Ok(())
            })
        },
    )?;
    l.func_wrap(P, "sigpending", |mut c: C<'_>, out: u32| {
        run(&mut c, |c| {
            let (mut m, ctx) = split(c)?;
            m.slice(out, 8)?;
            let set = expect_ret!(ctx.call(Syscall::SigPending)?, Ret::SigSet(s) => s);
            m.write_u64(out, set)?;
            Ok(())
        })
    })?;
    // Local to the guest thread: where its signal handlers are entered.
    l.func_wrap(
        P,
        "set_signal_trampoline",
        |mut c: C<'_>, index: u32| -> i32 {
            c.data_mut().trampoline = Some(index);
            0
        },
    )?;
    l.func_wrap(P, "sigsuspend", |mut c: C<'_>, mask: u64| {
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            ctx.call(Syscall::SigSuspend { mask: Some(mask) })?;
            Ok(())
        })
    })?;
    l.func_wrap(P, "pause", |mut c: C<'_>| {
        run(&mut c, |c| {
            let (_, ctx) = split(c)?;
            ctx.call(Syscall::SigSuspend { mask: None })?;
            Ok(())
        })
    })?;
    l.func_wrap(
        P,
        "setitimer",
        |mut c: C<'_>, which: i32, interval_us: i64, value_us: i64, old_out: u32| {
            run(&mut c, |c| {
                let micros = |us: i64| u64::try_from(us).map(Duration::from_micros);
                let (Ok(interval), Ok(value)) = (micros(interval_us), micros(value_us)) else {
                    return Err(Errno::EINVAL.into());
                };
                let new = ITimerVal { interval, value };
                if which == ITIMER_REAL && old_out == 0 {
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
        },
    )?;
    l.func_wrap(P, "getitimer", |mut c: C<'_>, which: i32, out: u32| {
        run(&mut c, |c| itimer(c, which, None, out))
    })?;
    Ok(())
}

/// Sets or reads an interval timer; the old setting goes to `out` (two
/// u64 microsecond counts: interval, value) unless it is 0.
fn itimer(c: &mut C<'_>, which: i32, new: Option<ITimerVal>, out: u32) -> AbiResult<()> {
    let (mut m, ctx) = split(c)?;
    if out != 0 {
        m.slice(out, 16)?;
    }
    let old = expect_ret!(ctx.call(Syscall::ITimer { which, new })?, Ret::ITimer(v) => v);
    if out != 0 {
        m.write_u64(out, old.interval.as_micros() as u64)?;
        m.write_u64(out + 8, old.value.as_micros() as u64)?;
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

fn spawn(c: &mut C<'_>, a: [u32; 10]) -> AbiResult<()> {
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
    let raw = m.copy_in(acts, nacts.checked_mul(32).ok_or(Errno::EFAULT)?)?;
    let mut actions = Vec::with_capacity(nacts as usize);
    for r in raw.chunks_exact(32) {
        let w = |i: usize| u32::from_le_bytes(r[i * 4..i * 4 + 4].try_into().unwrap());
        actions.push(match w(0) {
            1 => SpawnAction::Close(w(1) as i32),
            2 => SpawnAction::Dup2 {
                fd: w(1) as i32,
                newfd: w(2) as i32,
            },
            3 => SpawnAction::Open {
                newfd: w(2) as i32,
                path: m.string(w(5), w(6))?,
                oflag: w(3),
                mode: w(4),
            },
            4 => SpawnAction::Chdir(m.string(w(5), w(6))?),
            _ => return Err(Errno::EINVAL.into()),
        });
    }
    let mut attr = SpawnAttr::default();
    if attr_ptr != 0 {
        let r = m.copy_in(attr_ptr, 32)?;
        let w = |i: usize| u32::from_le_bytes(r[i * 4..i * 4 + 4].try_into().unwrap());
        let flags = w(0);
        if flags & 1 != 0 {
            attr.pgroup = Some(w(1) as i32);
        }
        attr.setsid = flags & 2 != 0;
        if w(3) != 0 {
            attr.cwd = Some(m.string(w(2), w(3))?);
        }
        if flags & 4 != 0 {
            attr.sigdefault = u64::from_le_bytes(r[16..24].try_into().unwrap());
        }
        if flags & 8 != 0 {
            attr.sigmask = Some(u64::from_le_bytes(r[24..32].try_into().unwrap()));
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
    let pre = ctx
        .shared
        .cache
        .load_program(&program)
        .and_then(|pre| {
            crate::cache::check_memory(&path, &pre, ctx.spec.memory_limit).map(|()| pre)
        })
        .map_err(|e| {
            tracing::debug!("spawn {path}: {e}");
            Errno::ENOEXEC
        })?;
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
