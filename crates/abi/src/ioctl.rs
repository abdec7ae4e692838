//! The `host_proc.ioctl` table: every request the kernel serves, with what
//! its `arg` is. For a pointer argument the runtime copies `size` bytes in
//! before the call (`In`) or out after it (`Out`).

use std::mem::size_of;

use crate::consts::ioctl_request::*;
use crate::consts::IoctlRequest;
use crate::records::{Termios, Winsize};

/// What `arg` points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pointee {
    /// As SPEC.md names it: `i32`, `struct termios`.
    pub name: &'static str,
    pub size: u32,
}

pub const INT: Pointee = Pointee {
    name: "i32",
    size: size_of::<i32>() as u32,
};
pub const UINT: Pointee = Pointee {
    name: "u32",
    size: size_of::<u32>() as u32,
};
pub const TERMIOS: Pointee = Pointee {
    name: "struct termios",
    size: size_of::<Termios>() as u32,
};
pub const WINSIZE: Pointee = Pointee {
    name: "struct winsize",
    size: size_of::<Winsize>() as u32,
};

/// What a request's `arg` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Ignored.
    None,
    /// A plain value, not a pointer.
    Value,
    /// Points to data the kernel reads.
    In(Pointee),
    /// Points to where the kernel writes its answer.
    Out(Pointee),
}

impl Arg {
    /// Bytes to copy from `arg` before the call.
    pub const fn in_len(self) -> u32 {
        match self {
            Arg::In(p) => p.size,
            _ => 0,
        }
    }

    /// Bytes to copy to `arg` after the call.
    pub const fn out_len(self) -> u32 {
        match self {
            Arg::Out(p) => p.size,
            _ => 0,
        }
    }

    /// As SPEC.md's ioctl table writes it.
    pub fn spec(self) -> String {
        match self {
            Arg::None => "—".to_owned(),
            Arg::Value => "value".to_owned(),
            Arg::In(p) => format!("in `{}` ({} bytes)", p.name, p.size),
            Arg::Out(p) => format!("out `{}` ({} bytes)", p.name, p.size),
        }
    }
}

/// One served request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ioctl {
    pub name: &'static str,
    pub request: IoctlRequest,
    pub arg: Arg,
}

macro_rules! table {
    ($($name:ident: $arg:expr),* $(,)?) => {
        /// Every request the kernel serves; any other is `ENOTTY`.
        pub const IOCTLS: &[Ioctl] = &[$(Ioctl {
            name: stringify!($name),
            request: $name,
            arg: $arg,
        }),*];
    };
}

table! {
    FIONREAD: Arg::Out(INT),
    FIONBIO: Arg::In(INT),
    TCGETS: Arg::Out(TERMIOS),
    TCSETS: Arg::In(TERMIOS),
    TCSETSW: Arg::In(TERMIOS),
    TCSETSF: Arg::In(TERMIOS),
    TIOCGWINSZ: Arg::Out(WINSIZE),
    TIOCSWINSZ: Arg::In(WINSIZE),
    TIOCGPGRP: Arg::Out(INT),
    TIOCSPGRP: Arg::In(INT),
    TIOCSCTTY: Arg::Value,
    TIOCNOTTY: Arg::None,
    TIOCGSID: Arg::Out(INT),
    TCFLSH: Arg::Value,
    TCXONC: Arg::Value,
    TCSBRK: Arg::Value,
    TIOCOUTQ: Arg::Out(INT),
    TIOCGPTN: Arg::Out(UINT),
    TIOCSPTLCK: Arg::In(INT),
    TIOCGPTLCK: Arg::Out(INT),
}

/// The entry for `request`, if the kernel serves it.
pub fn lookup(request: u32) -> Option<&'static Ioctl> {
    IOCTLS.iter().find(|i| i.request.0 == request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_unique_and_sized() {
        let mut seen = std::collections::HashSet::new();
        for i in IOCTLS {
            assert!(seen.insert(i.request), "{} listed twice", i.name);
        }
        assert_eq!(lookup(0x5401).unwrap().arg.out_len(), 60);
        assert_eq!(lookup(0x5414).unwrap().arg.in_len(), 8);
        assert_eq!(lookup(0x8004_5439).unwrap().arg.out_len(), 4);
        assert!(lookup(0x5450).is_none());
    }
}
