//! The import functions: module, name, parameters and result of each.
//!
//! One enum per module lists its functions; `ALL` is in the order the header
//! declares them. The runtime matches exhaustively over these enums when it
//! registers its closures, so adding a function here without serving it is
//! a compile error there.

use std::fmt::Write;

/// An import module a guest may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Module {
    /// WASI preview 1, served by the sidecar kernel (no header: wasi-libc
    /// declares it).
    Wasi,
    /// Processes, pipes, fd duplication, signals, timers, `ioctl`.
    HostProc,
    /// AF_UNIX sockets and Linux `poll`.
    HostNet,
}

impl Module {
    pub const ALL: [Module; 3] = [Module::Wasi, Module::HostProc, Module::HostNet];

    /// The wasm import module name.
    pub const fn name(self) -> &'static str {
        match self {
            Module::Wasi => "wasi_snapshot_preview1",
            Module::HostProc => "host_proc",
            Module::HostNet => "host_net",
        }
    }

    /// Every function of the module.
    pub fn funcs(self) -> &'static [Func] {
        match self {
            Module::Wasi => WasiFn::FUNCS,
            Module::HostProc => ProcFn::FUNCS,
            Module::HostNet => NetFn::FUNCS,
        }
    }

    /// The import module called `name`.
    pub fn from_name(name: &str) -> Option<Module> {
        Module::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A wasm value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
}

impl ValType {
    /// The WebAssembly text name.
    pub const fn wat(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
        }
    }
}

/// The ABI type of a parameter: what it means to both sides, beyond its
/// wasm type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    I32,
    U32,
    I64,
    U64,
    /// A guest pointer: a `u32` offset into the guest's `memory`.
    Ptr,
}

impl Ty {
    pub const fn wasm(self) -> ValType {
        match self {
            Ty::I32 | Ty::U32 | Ty::Ptr => ValType::I32,
            Ty::I64 | Ty::U64 => ValType::I64,
        }
    }

    /// The C type in the generated prototypes.
    pub const fn c(self) -> &'static str {
        match self {
            Ty::I32 => "int32_t",
            Ty::U32 | Ty::Ptr => "uint32_t",
            Ty::I64 => "int64_t",
            Ty::U64 => "uint64_t",
        }
    }

    /// The name SPEC.md's signature column uses.
    pub const fn spec(self) -> &'static str {
        match self {
            Ty::I32 => "i32",
            Ty::U32 => "u32",
            Ty::I64 => "i64",
            Ty::U64 => "u64",
            Ty::Ptr => "ptr",
        }
    }
}

/// One parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
}

/// What a function returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// An `i32` WASI errno, 0 for success (every `host_*` call but two).
    Errno,
    /// A plain value (`getpid`, `getppid`).
    Value(Ty),
    /// Nothing: the call does not return (`proc_exit`).
    Nothing,
}

/// One import function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub module: Module,
    pub name: &'static str,
    pub params: &'static [Param],
    pub ret: Ret,
    /// One line for the header; SPEC.md has the full semantics.
    pub doc: &'static str,
}

impl Func {
    pub fn wasm_params(&self) -> Vec<ValType> {
        self.params.iter().map(|p| p.ty.wasm()).collect()
    }

    pub fn wasm_results(&self) -> Vec<ValType> {
        match self.ret {
            Ret::Errno => vec![ValType::I32],
            Ret::Value(t) => vec![t.wasm()],
            Ret::Nothing => vec![],
        }
    }

    /// The signature as SPEC.md writes it:
    /// `(pid: i32, status_out: ptr) -> errno`.
    pub fn spec_signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.ty.spec()))
            .collect();
        let ret = match self.ret {
            Ret::Errno => "errno",
            Ret::Value(t) => t.spec(),
            Ret::Nothing => "!",
        };
        format!("({}) -> {ret}", params.join(", "))
    }

    /// The function type in WebAssembly text: `(param i32 i32) (result i32)`.
    pub fn wat_type(&self) -> String {
        let mut s = String::new();
        let params = self.wasm_params();
        if !params.is_empty() {
            s.push_str("(param");
            for p in params {
                write!(s, " {}", p.wat()).unwrap();
            }
            s.push(')');
        }
        for r in self.wasm_results() {
            write!(s, " (result {})", r.wat()).unwrap();
        }
        s
    }

    /// The C name of the import in the SDK: `__host_proc_spawn`.
    pub fn c_name(&self) -> String {
        format!("__{}_{}", self.module.name(), self.name)
    }

    /// The C prototype, without the import attribute.
    pub fn c_prototype(&self) -> String {
        let ret = match self.ret {
            Ret::Errno => "int32_t",
            Ret::Value(t) => t.c(),
            Ret::Nothing => "void",
        };
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{} {}", p.ty.c(), p.name))
            .collect();
        let params = if params.is_empty() {
            "void".to_owned()
        } else {
            params.join(", ")
        };
        format!("{ret} {}({params});", self.c_name())
    }
}

/// Every import of every module.
pub fn all() -> impl Iterator<Item = &'static Func> {
    Module::ALL.into_iter().flat_map(|m| m.funcs().iter())
}

/// The import `module.name`, if the sidecar provides it.
pub fn find(module: &str, name: &str) -> Option<&'static Func> {
    Module::from_name(module)?
        .funcs()
        .iter()
        .find(|f| f.name == name)
}

/// Declares one module's functions: an enum with a variant per function,
/// `ALL`, `FUNCS` (same order) and `func()`/`name()`.
macro_rules! imports {
    (
        $(#[doc = $edoc:literal])*
        $module:ident => enum $enum:ident {
            $(
                $(#[doc = $doc:literal])*
                $variant:ident = $name:ident ( $($p:ident : $t:ident),* $(,)? ) -> $ret:ident $(($rty:ident))? ;
            )*
        }
    ) => {
        $(#[doc = $edoc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $enum {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl $enum {
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

            pub const FUNCS: &'static [Func] = &[$(
                Func {
                    module: Module::$module,
                    name: stringify!($name),
                    params: &[$(Param { name: stringify!($p), ty: Ty::$t }),*],
                    ret: Ret::$ret $((Ty::$rty))?,
                    doc: concat!($($doc),*),
                }
            ),*];

            /// The definition of this function.
            pub const fn func(self) -> &'static Func {
                &Self::FUNCS[self as usize]
            }

            /// Its import name.
            pub const fn name(self) -> &'static str {
                self.func().name
            }
        }
    };
}

imports! {
    /// `host_proc`: processes, pipes, fd duplication, signals, timers, ioctl.
    HostProc => enum ProcFn {
        /// posix_spawn: run the module at `path` as a child (file actions, attributes).
        Spawn = spawn(path: Ptr, path_len: U32, argv: Ptr, argv_len: U32, envp: Ptr, envp_len: U32,
                      actions: Ptr, n_actions: U32, attr: Ptr, pid_out: Ptr) -> Errno;
        /// execve: replace the caller's image with the module (or `#!` script) at `path`; returns only on failure.
        Execve = execve(path: Ptr, path_len: U32, argv: Ptr, argv_len: U32, envp: Ptr, envp_len: U32,
                        cwd: Ptr, cwd_len: U32) -> Errno;
        /// fork: returns twice, *pid_out = the child's pid in the parent and 0 in the child. Needs a module Asyncify-instrumented for this import (sidecar-cc does it): `data` is Asyncify's record {start, end} over a buffer for the unwound stack. ENOSYS otherwise.
        Fork = fork(data: Ptr, pid_out: Ptr) -> Errno;
        /// fork for a program that unwinds its own stack (the sjlj driver below main): the child is a copy of the caller as it is now and starts by calling the `() -> ()` function `entry` of the table; the caller gets *pid_out at once.
        ForkHere = fork_here(entry: U32, pid_out: Ptr) -> Errno;
        /// waitpid: status in Linux encoding; *pid_out = 0 with WNOHANG and nothing to report.
        Wait = wait(pid: I32, options: U32, status_out: Ptr, pid_out: Ptr) -> Errno;
        /// kill(2); sig 0 probes.
        Kill = kill(pid: I32, sig: I32) -> Errno;
        /// The caller's pid.
        GetPid = getpid() -> Value(I32);
        /// The parent's pid (0 for guests the VM started).
        GetPpid = getppid() -> Value(I32);
        /// getpgid(2); pid 0 means self.
        GetPgid = getpgid(pid: I32, pgid_out: Ptr) -> Errno;
        /// setpgid(2).
        SetPgid = setpgid(pid: I32, pgid: I32) -> Errno;
        /// getsid(2); pid 0 means self.
        GetSid = getsid(pid: I32, sid_out: Ptr) -> Errno;
        /// setsid(2): new session and group.
        SetSid = setsid(sid_out: Ptr) -> Errno;
        /// The directory the process was started in (no NUL); ERANGE if buf_len is short.
        InitialCwd = initial_cwd(buf: Ptr, buf_len: U32, len_out: Ptr) -> Errno;
        /// pipe2(2): two i32 fds (struct sidecar_fd_pair) to fds_out; Linux O_* flags.
        Pipe2 = pipe2(fds_out: Ptr, flags: U32) -> Errno;
        /// dup(2).
        Dup = dup(fd: I32, fd_out: Ptr) -> Errno;
        /// dup3(2); flags 0 or O_CLOEXEC.
        Dup3 = dup3(oldfd: I32, newfd: I32, flags: U32) -> Errno;
        /// fcntl(2) with Linux F_* commands and O_* bits.
        Fcntl = fcntl(fd: I32, cmd: I32, arg: I32, out: Ptr) -> Errno;
        /// ioctl(2) with Linux request numbers; arg is a guest pointer or a value.
        Ioctl = ioctl(fd: I32, request: U32, arg: U32) -> Errno;
        /// sigaction: disposition SC_DISP_*, Linux SA_* flags, mask bit n-1 = signal n.
        SigAction = sigaction(sig: I32, disposition: U32, flags: U32, mask: U64) -> Errno;
        /// sigprocmask: SIG_BLOCK/SIG_UNBLOCK/SIG_SETMASK; old_out (u64) may be 0.
        SigProcMask = sigprocmask(how: I32, set: U64, old_out: Ptr) -> Errno;
        /// The pending set (u64).
        SigPending = sigpending(set_out: Ptr) -> Errno;
        /// The set (u64) of signals whose disposition is SIG_IGN (inherited across spawn and exec).
        SigIgnored = sigignored(set_out: Ptr) -> Errno;
        /// Wait with mask in place until a caught signal ran; EINTR.
        SigSuspend = sigsuspend(mask: U64) -> Errno;
        /// sigsuspend with the current mask; EINTR.
        Pause = pause() -> Errno;
        /// setitimer(2) in microseconds; old_out (struct sidecar_itimerval) may be 0.
        SetITimer = setitimer(which: I32, interval_us: I64, value_us: I64, old_out: Ptr) -> Errno;
        /// getitimer(2) into struct sidecar_itimerval.
        GetITimer = getitimer(which: I32, out: Ptr) -> Errno;
        /// Function-table index of `void trampoline(int sig)`.
        SetSignalTrampoline = set_signal_trampoline(index: U32) -> Errno;
        /// The permission bits (st_mode & 07777, u32) of `path` under the directory `fd` (lookup flags as path_filestat_get's: bit 0 follows a final symlink), or of `fd` itself when path_len is 0. WASI's filestat has no mode.
        StatMode = stat_mode(fd: I32, path: Ptr, path_len: U32, flags: U32, mode_out: Ptr) -> Errno;
    }
}

imports! {
    /// `host_net`: AF_UNIX sockets and Linux `poll`.
    HostNet => enum NetFn {
        /// socket(2): AF_UNIX only.
        Socket = socket(domain: I32, type: I32, protocol: I32, fd_out: Ptr) -> Errno;
        /// socketpair(2): two i32 fds (struct sidecar_fd_pair) to fds_out.
        SocketPair = socketpair(domain: I32, type: I32, protocol: I32, fds_out: Ptr) -> Errno;
        /// bind(2) to a struct sockaddr_un.
        Bind = bind(fd: I32, addr: Ptr, addr_len: U32) -> Errno;
        /// listen(2).
        Listen = listen(fd: I32, backlog: I32) -> Errno;
        /// accept4(2); addr may be 0.
        Accept4 = accept4(fd: I32, flags: U32, addr: Ptr, addr_cap: U32, addr_len_out: Ptr, fd_out: Ptr) -> Errno;
        /// connect(2).
        Connect = connect(fd: I32, addr: Ptr, addr_len: U32) -> Errno;
        /// sendmsg: iovs are struct sidecar_iovec; fds travel as SCM_RIGHTS.
        SendMsg = sendmsg(fd: I32, iovs: Ptr, iovs_len: U32, fds: Ptr, nfds: U32, flags: U32,
                          addr: Ptr, addr_len: U32, sent_out: Ptr) -> Errno;
        /// recvmsg: result is a struct sidecar_recv_result.
        RecvMsg = recvmsg(fd: I32, iovs: Ptr, iovs_len: U32, fds: Ptr, fds_cap: U32, flags: U32,
                          addr: Ptr, addr_cap: U32, result: Ptr) -> Errno;
        /// shutdown(2).
        Shutdown = shutdown(fd: I32, how: I32) -> Errno;
        /// getsockname(2); the full length goes to len_out.
        GetSockName = getsockname(fd: I32, addr: Ptr, addr_cap: U32, len_out: Ptr) -> Errno;
        /// getpeername(2); the full length goes to len_out.
        GetPeerName = getpeername(fd: I32, addr: Ptr, addr_cap: U32, len_out: Ptr) -> Errno;
        /// getsockopt(2) for SOL_SOCKET options.
        GetSockOpt = getsockopt(fd: I32, level: I32, name: I32, val: Ptr, val_cap: U32, len_out: Ptr) -> Errno;
        /// setsockopt(2) for SOL_SOCKET options.
        SetSockOpt = setsockopt(fd: I32, level: I32, name: I32, val: Ptr, val_len: U32) -> Errno;
        /// poll(2) over struct sidecar_pollfd records; timeout_ms < 0 waits forever.
        Poll = poll(fds: Ptr, nfds: U32, timeout_ms: I32, n_out: Ptr) -> Errno;
    }
}

imports! {
    /// `wasi_snapshot_preview1`: all 46 functions (signatures as in
    /// wasi-libc's `wasi/api.h`, fds as `i32`).
    Wasi => enum WasiFn {
        ArgsGet = args_get(argv: Ptr, argv_buf: Ptr) -> Errno;
        ArgsSizesGet = args_sizes_get(argc_out: Ptr, argv_buf_size_out: Ptr) -> Errno;
        EnvironGet = environ_get(environ: Ptr, environ_buf: Ptr) -> Errno;
        EnvironSizesGet = environ_sizes_get(count_out: Ptr, buf_size_out: Ptr) -> Errno;
        ClockResGet = clock_res_get(id: U32, out: Ptr) -> Errno;
        ClockTimeGet = clock_time_get(id: U32, precision: U64, out: Ptr) -> Errno;
        FdAdvise = fd_advise(fd: I32, offset: U64, len: U64, advice: U32) -> Errno;
        FdAllocate = fd_allocate(fd: I32, offset: U64, len: U64) -> Errno;
        FdClose = fd_close(fd: I32) -> Errno;
        FdDatasync = fd_datasync(fd: I32) -> Errno;
        FdFdstatGet = fd_fdstat_get(fd: I32, out: Ptr) -> Errno;
        FdFdstatSetFlags = fd_fdstat_set_flags(fd: I32, flags: U32) -> Errno;
        FdFdstatSetRights = fd_fdstat_set_rights(fd: I32, base: U64, inheriting: U64) -> Errno;
        FdFilestatGet = fd_filestat_get(fd: I32, out: Ptr) -> Errno;
        FdFilestatSetSize = fd_filestat_set_size(fd: I32, size: U64) -> Errno;
        FdFilestatSetTimes = fd_filestat_set_times(fd: I32, atim: U64, mtim: U64, fst_flags: U32) -> Errno;
        FdPread = fd_pread(fd: I32, iovs: Ptr, iovs_len: U32, offset: U64, nread_out: Ptr) -> Errno;
        FdPrestatGet = fd_prestat_get(fd: I32, out: Ptr) -> Errno;
        FdPrestatDirName = fd_prestat_dir_name(fd: I32, path: Ptr, path_len: U32) -> Errno;
        FdPwrite = fd_pwrite(fd: I32, iovs: Ptr, iovs_len: U32, offset: U64, nwritten_out: Ptr) -> Errno;
        FdRead = fd_read(fd: I32, iovs: Ptr, iovs_len: U32, nread_out: Ptr) -> Errno;
        FdReaddir = fd_readdir(fd: I32, buf: Ptr, buf_len: U32, cookie: U64, bufused_out: Ptr) -> Errno;
        FdRenumber = fd_renumber(fd: I32, to: I32) -> Errno;
        FdSeek = fd_seek(fd: I32, offset: I64, whence: U32, newoffset_out: Ptr) -> Errno;
        FdSync = fd_sync(fd: I32) -> Errno;
        FdTell = fd_tell(fd: I32, offset_out: Ptr) -> Errno;
        FdWrite = fd_write(fd: I32, iovs: Ptr, iovs_len: U32, nwritten_out: Ptr) -> Errno;
        PathCreateDirectory = path_create_directory(fd: I32, path: Ptr, path_len: U32) -> Errno;
        PathFilestatGet = path_filestat_get(fd: I32, flags: U32, path: Ptr, path_len: U32, out: Ptr) -> Errno;
        PathFilestatSetTimes = path_filestat_set_times(fd: I32, flags: U32, path: Ptr, path_len: U32,
                                                       atim: U64, mtim: U64, fst_flags: U32) -> Errno;
        PathLink = path_link(old_fd: I32, old_flags: U32, old_path: Ptr, old_path_len: U32,
                             new_fd: I32, new_path: Ptr, new_path_len: U32) -> Errno;
        PathOpen = path_open(fd: I32, dirflags: U32, path: Ptr, path_len: U32, oflags: U32,
                             rights_base: U64, rights_inheriting: U64, fdflags: U32, fd_out: Ptr) -> Errno;
        PathReadlink = path_readlink(fd: I32, path: Ptr, path_len: U32, buf: Ptr, buf_len: U32, bufused_out: Ptr) -> Errno;
        PathRemoveDirectory = path_remove_directory(fd: I32, path: Ptr, path_len: U32) -> Errno;
        PathRename = path_rename(fd: I32, old_path: Ptr, old_path_len: U32, new_fd: I32, new_path: Ptr,
                                 new_path_len: U32) -> Errno;
        PathSymlink = path_symlink(old_path: Ptr, old_path_len: U32, fd: I32, new_path: Ptr, new_path_len: U32) -> Errno;
        PathUnlinkFile = path_unlink_file(fd: I32, path: Ptr, path_len: U32) -> Errno;
        PollOneoff = poll_oneoff(subscriptions: Ptr, events: Ptr, nsubscriptions: U32, nevents_out: Ptr) -> Errno;
        ProcExit = proc_exit(rval: U32) -> Nothing;
        ProcRaise = proc_raise(sig: U32) -> Errno;
        SchedYield = sched_yield() -> Errno;
        RandomGet = random_get(buf: Ptr, buf_len: U32) -> Errno;
        SockAccept = sock_accept(fd: I32, flags: U32, fd_out: Ptr) -> Errno;
        SockRecv = sock_recv(fd: I32, ri_data: Ptr, ri_data_len: U32, ri_flags: U32, ro_datalen_out: Ptr,
                             ro_flags_out: Ptr) -> Errno;
        SockSend = sock_send(fd: I32, si_data: Ptr, si_data_len: U32, si_flags: U32, so_datalen_out: Ptr) -> Errno;
        SockShutdown = sock_shutdown(fd: I32, how: U32) -> Errno;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_index_their_tables() {
        for m in Module::ALL {
            let mut names: Vec<&str> = m.funcs().iter().map(|f| f.name).collect();
            assert!(m.funcs().iter().all(|f| f.module == m));
            names.sort();
            names.dedup();
            assert_eq!(
                names.len(),
                m.funcs().len(),
                "{}: duplicate names",
                m.name()
            );
        }
        assert_eq!(ProcFn::Spawn.name(), "spawn");
        assert_eq!(NetFn::Poll.func().params.len(), 4);
        assert_eq!(WasiFn::ALL.len(), 46);
        assert_eq!(find("host_net", "socket").unwrap().params[1].name, "type");
        assert!(find("host_net", "nope").is_none());
    }

    #[test]
    fn signatures_render() {
        let f = ProcFn::Wait.func();
        assert_eq!(
            f.spec_signature(),
            "(pid: i32, options: u32, status_out: ptr, pid_out: ptr) -> errno"
        );
        assert_eq!(f.wat_type(), "(param i32 i32 i32 i32) (result i32)");
        assert_eq!(
            ProcFn::SigSuspend.func().c_prototype(),
            "int32_t __host_proc_sigsuspend(uint64_t mask);"
        );
        assert_eq!(ProcFn::GetPid.func().spec_signature(), "() -> i32");
        assert_eq!(WasiFn::ProcExit.func().wat_type(), "(param i32)");
    }
}
