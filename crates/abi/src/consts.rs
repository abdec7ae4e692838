//! The constants that cross the ABI: Linux's values (open flags, fcntl
//! commands, signals, socket and poll constants, ioctl requests, termios
//! bits), the sidecar's own record codes, and the WASI errno numbering every
//! `host_*` call returns.
//!
//! Each group is a module of typed `pub const`s plus `group()`, a table of
//! the same constants for the header generator and the consistency tests.
//! In C every constant is `prefix + NAME` (`LX_O_CREAT`, `SC_SPAWN_ACT_OPEN`),
//! so it never clashes with the SDK's public headers. A constant whose group
//! is `public` must have the same value as the SDK's (or wasi-libc's) public
//! macro of that name, where one exists (checked by the tests).

use std::fmt;

/// A Linux signal number (1..=64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal(pub i32);

impl Signal {
    /// The highest signal number (Linux's `_NSIG - 1`); masks are `u64`.
    pub const MAX: i32 = 64;

    /// The signal numbered `n`, if it is one.
    pub const fn new(n: i32) -> Option<Signal> {
        if n >= 1 && n <= Signal::MAX {
            Some(Signal(n))
        } else {
            None
        }
    }

    pub const fn number(self) -> i32 {
        self.0
    }

    /// Its bit in a signal mask: bit n-1 for signal n.
    pub const fn bit(self) -> u64 {
        1u64 << (self.0 - 1)
    }

    /// The Linux signal for a WASI signal number (`proc_raise`): WASI's
    /// numbering skips Linux's SIGSTKFLT (16).
    pub const fn from_wasi(sig: u8) -> Signal {
        if sig <= 15 {
            Signal(sig as i32)
        } else {
            Signal(sig as i32 + 1)
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Linux `ioctl(2)` request number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IoctlRequest(pub u32);

impl fmt::Display for IoctlRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#X}", self.0)
    }
}

/// How a group's values are written in C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Radix {
    Dec,
    Hex,
    Oct,
}

/// One constant, as the generator and the tests see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Const {
    pub name: &'static str,
    pub value: i64,
    pub doc: &'static str,
    /// The public C macro that must agree with it, if any.
    pub public: Option<&'static str>,
}

/// A group of constants.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: &'static str,
    pub doc: &'static str,
    /// Prepended to every name in C.
    pub prefix: &'static str,
    pub radix: Radix,
    /// Literal suffix in C (`u` for unsigned 32-bit values).
    pub suffix: &'static str,
    pub items: Vec<Const>,
}

impl Group {
    /// `value` as a C literal.
    pub fn c_literal(&self, value: i64) -> String {
        let body = match (self.radix, value) {
            (_, v) if v < 0 => format!("({v})"),
            (Radix::Dec, v) => v.to_string(),
            (Radix::Hex, v) => format!("0x{v:X}"),
            (Radix::Oct, 0) => "0".to_owned(),
            (Radix::Oct, v) => format!("0{v:o}"),
        };
        if value < 0 {
            body
        } else {
            format!("{body}{}", self.suffix)
        }
    }
}

/// What a constant's Rust type says about it in C.
pub trait Raw {
    const C_SUFFIX: &'static str;
    fn raw(&self) -> i64;
}

macro_rules! raw {
    ($($t:ty => $suffix:literal),*) => {$(
        impl Raw for $t {
            const C_SUFFIX: &'static str = $suffix;
            fn raw(&self) -> i64 {
                *self as i64
            }
        }
    )*};
}
raw!(u8 => "", u16 => "", i16 => "", i32 => "", u32 => "u", u64 => "ull", usize => "");

impl Raw for Signal {
    const C_SUFFIX: &'static str = "";
    fn raw(&self) -> i64 {
        self.0.into()
    }
}

impl Raw for IoctlRequest {
    const C_SUFFIX: &'static str = "u";
    fn raw(&self) -> i64 {
        self.0.into()
    }
}

/// The public macro a constant must agree with: its override, else its own
/// name if its group is public.
macro_rules! public {
    ($public:literal, $name:ident, $pubname:literal) => {
        Some($pubname)
    };
    ($public:literal, $name:ident) => {
        if $public {
            Some(stringify!($name))
        } else {
            None
        }
    };
}

macro_rules! consts {
    ($(
        $(#[doc = $gdoc:literal])*
        mod $group:ident: $ty:ty, $radix:ident, prefix $prefix:literal, public $public:literal {
            $( $(#[doc = $doc:literal])* $name:ident = $val:expr $(=> $pubname:literal)? ; )*
        }
    )*) => {
        $(
            $(#[doc = $gdoc])*
            pub mod $group {
                #[allow(unused_imports)]
                use super::{Signal, IoctlRequest};

                $( $(#[doc = $doc])* pub const $name: $ty = $val; )*

                /// This group as a table.
                pub fn group() -> super::Group {
                    use super::Raw;
                    super::Group {
                        name: stringify!($group),
                        doc: concat!($($gdoc),*),
                        prefix: $prefix,
                        radix: super::Radix::$radix,
                        suffix: <$ty as Raw>::C_SUFFIX,
                        items: vec![$(super::Const {
                            name: stringify!($name),
                            value: $name.raw(),
                            doc: concat!($($doc),*),
                            public: public!($public, $name $(, $pubname)?),
                        }),*],
                    }
                }
            }
        )*

        /// Every group, in header order.
        pub fn groups() -> Vec<Group> {
            vec![$($group::group()),*]
        }
    };
}

consts! {
    /// Linux `open(2)`/`fcntl(2)` status flags, as `pipe2`, `dup3`, `fcntl`
    /// and spawn `open` actions carry them (wasi-libc's `O_*` differ; the
    /// shim translates).
    mod oflag: u32, Oct, prefix "LX_", public false {
        O_WRONLY = 0o1;
        O_RDWR = 0o2;
        O_ACCMODE = 0o3;
        O_CREAT = 0o100;
        O_EXCL = 0o200;
        O_NOCTTY = 0o400;
        O_TRUNC = 0o1000;
        O_APPEND = 0o2000;
        O_NONBLOCK = 0o4000;
        O_DSYNC = 0o10000;
        O_DIRECTORY = 0o200000;
        O_NOFOLLOW = 0o400000;
        O_CLOEXEC = 0o2000000;
        /// Includes O_DSYNC, as on Linux.
        O_SYNC = 0o4010000;
    }

    /// `fcntl(2)` commands and fd flags.
    mod fcntl: i32, Dec, prefix "LX_", public true {
        F_DUPFD = 0;
        F_GETFD = 1;
        F_SETFD = 2;
        F_GETFL = 3;
        F_SETFL = 4;
        F_DUPFD_CLOEXEC = 1030;
        FD_CLOEXEC = 1;
    }

    /// `waitpid` options.
    mod wait: u32, Dec, prefix "LX_", public true {
        WNOHANG = 1;
        WUNTRACED = 2;
        WCONTINUED = 8;
    }

    /// Linux signal numbers.
    mod signal: Signal, Dec, prefix "LX_", public true {
        SIGHUP = Signal(1);
        SIGINT = Signal(2);
        SIGQUIT = Signal(3);
        SIGILL = Signal(4);
        SIGTRAP = Signal(5);
        SIGABRT = Signal(6);
        SIGBUS = Signal(7);
        SIGFPE = Signal(8);
        SIGKILL = Signal(9);
        SIGUSR1 = Signal(10);
        SIGSEGV = Signal(11);
        SIGUSR2 = Signal(12);
        SIGPIPE = Signal(13);
        SIGALRM = Signal(14);
        SIGTERM = Signal(15);
        SIGSTKFLT = Signal(16);
        SIGCHLD = Signal(17);
        SIGCONT = Signal(18);
        SIGSTOP = Signal(19);
        SIGTSTP = Signal(20);
        SIGTTIN = Signal(21);
        SIGTTOU = Signal(22);
        SIGURG = Signal(23);
        SIGXCPU = Signal(24);
        SIGXFSZ = Signal(25);
        SIGVTALRM = Signal(26);
        SIGPROF = Signal(27);
        SIGWINCH = Signal(28);
        SIGIO = Signal(29);
        SIGPWR = Signal(30);
        SIGSYS = Signal(31);
    }

    /// `sigaction` flags the kernel acts on.
    mod sa: u32, Hex, prefix "LX_", public true {
        SA_NOCLDSTOP = 0x1;
        SA_SIGINFO = 0x4;
        SA_RESTART = 0x1000_0000;
        SA_NODEFER = 0x4000_0000;
        SA_RESETHAND = 0x8000_0000;
    }

    /// `sigprocmask` `how`.
    mod sigmask: i32, Dec, prefix "LX_", public true {
        SIG_BLOCK = 0;
        SIG_UNBLOCK = 1;
        SIG_SETMASK = 2;
    }

    /// `host_proc.sigaction` dispositions (the handler pointer stays in the
    /// guest).
    mod disposition: u32, Dec, prefix "SC_DISP_", public false {
        DEFAULT = 0;
        IGNORE = 1;
        CATCH = 2;
    }

    /// Interval timers (`setitimer`); only `ITIMER_REAL` is provided.
    mod itimer: i32, Dec, prefix "LX_", public true {
        ITIMER_REAL = 0;
        ITIMER_VIRTUAL = 1;
        ITIMER_PROF = 2;
    }

    /// `struct sidecar_spawn_action` `op`.
    mod spawn_op: u32, Dec, prefix "SC_SPAWN_ACT_", public false {
        /// close(fd)
        CLOSE = 1;
        /// dup2(fd, newfd)
        DUP2 = 2;
        /// open(path, oflag, mode) onto newfd
        OPEN = 3;
        /// chdir(path)
        CHDIR = 4;
    }

    /// `struct sidecar_spawn_attr` `flags`.
    mod spawn_attr: u32, Dec, prefix "SC_ATTR_", public false {
        /// Set the child's process group to `pgroup` (0: its own pid).
        SETPGROUP = 1;
        /// Start a new session.
        SETSID = 2;
        /// Reset the signals in `sigdefault` to their default action.
        SETSIGDEF = 4;
        /// Start with `sigmask` as the signal mask.
        SETSIGMASK = 8;
    }

    /// Socket domains and types.
    mod socket: i32, Dec, prefix "LX_", public true {
        AF_UNIX = 1;
        SOCK_STREAM = 1;
        SOCK_DGRAM = 2;
    }

    /// Flags or-ed into a socket type (and `accept4` flags).
    mod sock_flags: i32, Oct, prefix "LX_", public true {
        SOCK_NONBLOCK = 0o4000;
        SOCK_CLOEXEC = 0o2000000;
    }

    /// `sendmsg`/`recvmsg` flags.
    mod msg: u32, Hex, prefix "LX_", public true {
        MSG_PEEK = 0x2;
        MSG_CTRUNC = 0x8;
        MSG_TRUNC = 0x20;
        MSG_DONTWAIT = 0x40;
        MSG_EOR = 0x80;
        MSG_WAITALL = 0x100;
        MSG_NOSIGNAL = 0x4000;
        MSG_CMSG_CLOEXEC = 0x4000_0000;
    }

    /// `shutdown` `how`.
    mod shut: i32, Dec, prefix "LX_", public true {
        SHUT_RD = 0;
        SHUT_WR = 1;
        SHUT_RDWR = 2;
    }

    /// Socket option levels, names and control messages.
    mod sockopt: i32, Dec, prefix "LX_", public true {
        SOL_SOCKET = 1;
        SO_REUSEADDR = 2;
        SO_TYPE = 3;
        SO_ERROR = 4;
        SO_SNDBUF = 7;
        SO_RCVBUF = 8;
        SO_KEEPALIVE = 9;
        SO_PASSCRED = 16;
        SO_PEERCRED = 17;
        SO_ACCEPTCONN = 30;
        SO_PROTOCOL = 38;
        SO_DOMAIN = 39;
        SCM_RIGHTS = 1;
    }

    /// `poll` event bits.
    mod poll: u16, Hex, prefix "LX_", public true {
        POLLIN = 0x1;
        POLLPRI = 0x2;
        POLLOUT = 0x4;
        POLLERR = 0x8;
        POLLHUP = 0x10;
        POLLNVAL = 0x20;
        POLLRDNORM = 0x40;
        POLLRDBAND = 0x80;
        POLLWRNORM = 0x100;
        POLLWRBAND = 0x200;
        POLLRDHUP = 0x2000;
    }

    /// ioctl request numbers (Linux's asm-generic values); what each one
    /// carries is in `ioctl::IOCTLS`.
    mod ioctl_request: IoctlRequest, Hex, prefix "LX_", public true {
        TCGETS = IoctlRequest(0x5401);
        TCSETS = IoctlRequest(0x5402);
        TCSETSW = IoctlRequest(0x5403);
        TCSETSF = IoctlRequest(0x5404);
        TCSBRK = IoctlRequest(0x5409);
        TCXONC = IoctlRequest(0x540A);
        TCFLSH = IoctlRequest(0x540B);
        TIOCSCTTY = IoctlRequest(0x540E);
        TIOCGPGRP = IoctlRequest(0x540F);
        TIOCSPGRP = IoctlRequest(0x5410);
        TIOCOUTQ = IoctlRequest(0x5411);
        TIOCGWINSZ = IoctlRequest(0x5413);
        TIOCSWINSZ = IoctlRequest(0x5414);
        FIONREAD = IoctlRequest(0x541B);
        TIOCINQ = IoctlRequest(0x541B);
        FIONBIO = IoctlRequest(0x5421);
        TIOCNOTTY = IoctlRequest(0x5422);
        TIOCGSID = IoctlRequest(0x5429);
        TIOCGPTN = IoctlRequest(0x8004_5430);
        TIOCSPTLCK = IoctlRequest(0x4004_5431);
        TIOCGPTLCK = IoctlRequest(0x8004_5439);
        /// Done by the shim (fcntl F_SETFD), never sent to the kernel.
        FIONCLEX = IoctlRequest(0x5450);
        /// Done by the shim (fcntl F_SETFD), never sent to the kernel.
        FIOCLEX = IoctlRequest(0x5451);
    }

    /// Plain-value arguments of `TCFLSH` and `TCXONC`.
    mod tty_arg: i32, Dec, prefix "LX_", public true {
        TCIFLUSH = 0;
        TCOFLUSH = 1;
        TCIOFLUSH = 2;
        TCOOFF = 0;
        TCOON = 1;
        TCIOFF = 2;
        TCION = 3;
    }

    /// `struct termios` `c_iflag` bits.
    mod termios_iflag: u32, Oct, prefix "LX_", public true {
        IGNBRK = 0o1;
        BRKINT = 0o2;
        IGNPAR = 0o4;
        PARMRK = 0o10;
        INPCK = 0o20;
        ISTRIP = 0o40;
        INLCR = 0o100;
        IGNCR = 0o200;
        ICRNL = 0o400;
        IUCLC = 0o1000;
        IXON = 0o2000;
        IXANY = 0o4000;
        IXOFF = 0o10000;
        IMAXBEL = 0o20000;
        IUTF8 = 0o40000;
    }

    /// `struct termios` `c_oflag` bits and fields.
    mod termios_oflag: u32, Oct, prefix "LX_", public true {
        OPOST = 0o1;
        OLCUC = 0o2;
        ONLCR = 0o4;
        OCRNL = 0o10;
        ONOCR = 0o20;
        ONLRET = 0o40;
        OFILL = 0o100;
        OFDEL = 0o200;
        NLDLY = 0o400;
        NL0 = 0;
        NL1 = 0o400;
        CRDLY = 0o3000;
        CR0 = 0;
        CR1 = 0o1000;
        CR2 = 0o2000;
        CR3 = 0o3000;
        TABDLY = 0o14000;
        TAB0 = 0;
        TAB1 = 0o4000;
        TAB2 = 0o10000;
        TAB3 = 0o14000;
        XTABS = 0o14000;
        BSDLY = 0o20000;
        BS0 = 0;
        BS1 = 0o20000;
        VTDLY = 0o40000;
        VT0 = 0;
        VT1 = 0o40000;
        FFDLY = 0o100000;
        FF0 = 0;
        FF1 = 0o100000;
    }

    /// `struct termios` `c_cflag` bits, fields and baud codes.
    mod termios_cflag: u32, Oct, prefix "LX_", public true {
        CBAUD = 0o10017;
        B0 = 0;
        B50 = 0o1;
        B75 = 0o2;
        B110 = 0o3;
        B134 = 0o4;
        B150 = 0o5;
        B200 = 0o6;
        B300 = 0o7;
        B600 = 0o10;
        B1200 = 0o11;
        B1800 = 0o12;
        B2400 = 0o13;
        B4800 = 0o14;
        B9600 = 0o15;
        B19200 = 0o16;
        B38400 = 0o17;
        EXTA = 0o16;
        EXTB = 0o17;
        CSIZE = 0o60;
        CS5 = 0;
        CS6 = 0o20;
        CS7 = 0o40;
        CS8 = 0o60;
        CSTOPB = 0o100;
        CREAD = 0o200;
        PARENB = 0o400;
        PARODD = 0o1000;
        HUPCL = 0o2000;
        CLOCAL = 0o4000;
        CBAUDEX = 0o10000;
        BOTHER = 0o10000;
        B57600 = 0o10001;
        B115200 = 0o10002;
        B230400 = 0o10003;
        B460800 = 0o10004;
        B500000 = 0o10005;
        B576000 = 0o10006;
        B921600 = 0o10007;
        B1000000 = 0o10010;
        B1152000 = 0o10011;
        B1500000 = 0o10012;
        B2000000 = 0o10013;
        B2500000 = 0o10014;
        B3000000 = 0o10015;
        B3500000 = 0o10016;
        B4000000 = 0o10017;
        /// Input baud rate bits (the CBAUD field shifted by IBSHIFT).
        CIBAUD = 0o2003600000;
        IBSHIFT = 16;
        CMSPAR = 0o10000000000;
        CRTSCTS = 0o20000000000;
    }

    /// `struct termios` `c_lflag` bits.
    mod termios_lflag: u32, Oct, prefix "LX_", public true {
        ISIG = 0o1;
        ICANON = 0o2;
        XCASE = 0o4;
        ECHO = 0o10;
        ECHOE = 0o20;
        ECHOK = 0o40;
        ECHONL = 0o100;
        NOFLSH = 0o200;
        TOSTOP = 0o400;
        ECHOCTL = 0o1000;
        ECHOPRT = 0o2000;
        ECHOKE = 0o4000;
        FLUSHO = 0o10000;
        PENDIN = 0o40000;
        IEXTEN = 0o100000;
        EXTPROC = 0o200000;
    }

    /// `struct termios` `c_cc` indices and its length.
    mod termios_cc: usize, Dec, prefix "LX_", public true {
        VINTR = 0;
        VQUIT = 1;
        VERASE = 2;
        VKILL = 3;
        VEOF = 4;
        VTIME = 5;
        VMIN = 6;
        VSWTC = 7;
        VSTART = 8;
        VSTOP = 9;
        VSUSP = 10;
        VEOL = 11;
        VREPRINT = 12;
        VDISCARD = 13;
        VWERASE = 14;
        VLNEXT = 15;
        VEOL2 = 16;
        /// Length of `c_cc` in the userspace struct.
        NCCS = 32;
    }

    /// Limits the ABI enforces as Linux does.
    mod limits: u32, Dec, prefix "LX_", public true {
        /// Most iovecs one call takes (`EINVAL`, `EMSGSIZE` for sockets).
        IOV_MAX = 1024;
        /// Longest path, NUL included (`ENAMETOOLONG`).
        PATH_MAX = 4096;
        /// Pipe writes up to this size are atomic.
        PIPE_BUF = 4096;
        /// Most fds one SCM_RIGHTS message carries.
        SCM_MAX_FD = 253;
    }

    /// The sidecar's extension of WASI `fdflags`: wasi-libc's `open()`
    /// passes the SDK's `O_NOCTTY` through in a bit WASI leaves unused.
    mod fdflags: u16, Hex, prefix "SC_FDFLAGS_", public false {
        NOCTTY = 0x200 => "O_NOCTTY";
    }

    /// The WASI errno every `host_*` call (and WASI call) returns: the
    /// numbering wasi-libc's `errno` uses, so the SDK stores it unchanged.
    mod errno: u16, Dec, prefix "SC_WASI_", public true {
        E2BIG = 1;
        EACCES = 2;
        EADDRINUSE = 3;
        EADDRNOTAVAIL = 4;
        EAFNOSUPPORT = 5;
        EAGAIN = 6;
        EALREADY = 7;
        EBADF = 8;
        EBUSY = 10;
        ECHILD = 12;
        ECONNABORTED = 13;
        ECONNREFUSED = 14;
        ECONNRESET = 15;
        EDEADLK = 16;
        EDESTADDRREQ = 17;
        EDOM = 18;
        EEXIST = 20;
        EFAULT = 21;
        EFBIG = 22;
        EINPROGRESS = 26;
        EINTR = 27;
        EINVAL = 28;
        EIO = 29;
        EISCONN = 30;
        EISDIR = 31;
        ELOOP = 32;
        EMFILE = 33;
        EMLINK = 34;
        EMSGSIZE = 35;
        ENAMETOOLONG = 37;
        ENETUNREACH = 40;
        ENFILE = 41;
        ENOBUFS = 42;
        ENODEV = 43;
        ENOENT = 44;
        ENOEXEC = 45;
        ENOLCK = 46;
        ENOMEM = 48;
        ENOPROTOOPT = 50;
        ENOSPC = 51;
        ENOSYS = 52;
        ENOTCONN = 53;
        ENOTDIR = 54;
        ENOTEMPTY = 55;
        ENOTSOCK = 57;
        EOPNOTSUPP = 58;
        ENOTTY = 59;
        ENXIO = 60;
        EPERM = 63;
        EPIPE = 64;
        EPROTONOSUPPORT = 66;
        EPROTOTYPE = 67;
        ERANGE = 68;
        EROFS = 69;
        ESPIPE = 70;
        ESRCH = 71;
        ETIMEDOUT = 73;
        ETXTBSY = 74;
        EXDEV = 75;
    }
}

/// The constant called `name` (without its C prefix) in any group.
pub fn find(name: &str) -> Option<(Group, Const)> {
    groups().into_iter().find_map(|g| {
        let c = g.items.iter().find(|c| c.name == name)?.clone();
        Some((g, c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_constants_and_tables_agree() {
        assert_eq!(signal::SIGKILL, Signal(9));
        assert_eq!(signal::SIGKILL.bit(), 1 << 8);
        assert_eq!(Signal::from_wasi(16), signal::SIGCHLD);
        assert_eq!(Signal::from_wasi(15), signal::SIGTERM);
        assert_eq!(Signal::new(65), None);
        let (g, c) = find("O_CREAT").unwrap();
        assert_eq!((g.prefix, c.value, c.public), ("LX_", 0o100, None));
        assert_eq!(g.c_literal(c.value), "0100u");
        let (g, c) = find("TIOCGPTN").unwrap();
        assert_eq!(g.c_literal(c.value), "0x80045430u");
        assert_eq!(find("NOCTTY").unwrap().1.public, Some("O_NOCTTY"));
    }

    #[test]
    fn c_names_are_unique() {
        let mut names: Vec<String> = groups()
            .iter()
            .flat_map(|g| {
                g.items
                    .iter()
                    .map(move |c| format!("{}{}", g.prefix, c.name))
            })
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
