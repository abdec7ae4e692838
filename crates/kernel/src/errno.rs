//! Linux errno values. The kernel speaks Linux; the runtime converts to the
//! WASI numbering in exactly one place (`sidecar_runtime::abi::errno`).

/// A Linux errno. Discriminants are the Linux x86_64/generic numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[repr(i32)]
#[allow(clippy::upper_case_acronyms)]
pub enum Errno {
    #[error("operation not permitted")]
    EPERM = 1,
    #[error("no such file or directory")]
    ENOENT = 2,
    #[error("no such process")]
    ESRCH = 3,
    #[error("interrupted system call")]
    EINTR = 4,
    #[error("input/output error")]
    EIO = 5,
    #[error("no such device or address")]
    ENXIO = 6,
    #[error("argument list too long")]
    E2BIG = 7,
    #[error("exec format error")]
    ENOEXEC = 8,
    #[error("bad file descriptor")]
    EBADF = 9,
    #[error("no child processes")]
    ECHILD = 10,
    #[error("resource temporarily unavailable")]
    EAGAIN = 11,
    #[error("cannot allocate memory")]
    ENOMEM = 12,
    #[error("permission denied")]
    EACCES = 13,
    #[error("bad address")]
    EFAULT = 14,
    #[error("device or resource busy")]
    EBUSY = 16,
    #[error("file exists")]
    EEXIST = 17,
    #[error("invalid cross-device link")]
    EXDEV = 18,
    #[error("no such device")]
    ENODEV = 19,
    #[error("not a directory")]
    ENOTDIR = 20,
    #[error("is a directory")]
    EISDIR = 21,
    #[error("invalid argument")]
    EINVAL = 22,
    #[error("too many open files in system")]
    ENFILE = 23,
    #[error("too many open files")]
    EMFILE = 24,
    #[error("inappropriate ioctl for device")]
    ENOTTY = 25,
    #[error("text file busy")]
    ETXTBSY = 26,
    #[error("file too large")]
    EFBIG = 27,
    #[error("no space left on device")]
    ENOSPC = 28,
    #[error("illegal seek")]
    ESPIPE = 29,
    #[error("read-only file system")]
    EROFS = 30,
    #[error("too many links")]
    EMLINK = 31,
    #[error("broken pipe")]
    EPIPE = 32,
    #[error("numerical argument out of domain")]
    EDOM = 33,
    #[error("numerical result out of range")]
    ERANGE = 34,
    #[error("resource deadlock avoided")]
    EDEADLK = 35,
    #[error("file name too long")]
    ENAMETOOLONG = 36,
    #[error("no locks available")]
    ENOLCK = 37,
    #[error("function not implemented")]
    ENOSYS = 38,
    #[error("directory not empty")]
    ENOTEMPTY = 39,
    #[error("too many levels of symbolic links")]
    ELOOP = 40,
    #[error("socket operation on non-socket")]
    ENOTSOCK = 88,
    #[error("destination address required")]
    EDESTADDRREQ = 89,
    #[error("message too long")]
    EMSGSIZE = 90,
    #[error("protocol wrong type for socket")]
    EPROTOTYPE = 91,
    #[error("protocol not available")]
    ENOPROTOOPT = 92,
    #[error("protocol not supported")]
    EPROTONOSUPPORT = 93,
    #[error("operation not supported")]
    EOPNOTSUPP = 95,
    #[error("address family not supported by protocol")]
    EAFNOSUPPORT = 97,
    #[error("address already in use")]
    EADDRINUSE = 98,
    #[error("cannot assign requested address")]
    EADDRNOTAVAIL = 99,
    #[error("network is unreachable")]
    ENETUNREACH = 101,
    #[error("software caused connection abort")]
    ECONNABORTED = 103,
    #[error("connection reset by peer")]
    ECONNRESET = 104,
    #[error("no buffer space available")]
    ENOBUFS = 105,
    #[error("transport endpoint is already connected")]
    EISCONN = 106,
    #[error("transport endpoint is not connected")]
    ENOTCONN = 107,
    #[error("connection timed out")]
    ETIMEDOUT = 110,
    #[error("connection refused")]
    ECONNREFUSED = 111,
    #[error("operation already in progress")]
    EALREADY = 114,
    #[error("operation now in progress")]
    EINPROGRESS = 115,
}

impl Errno {
    /// Maps a host I/O error onto the Linux errno it carries; host errors
    /// without an OS code become EIO.
    pub fn from_io(err: &std::io::Error) -> Errno {
        match err.raw_os_error() {
            Some(code) => Errno::from_raw(code).unwrap_or(Errno::EIO),
            None => match err.kind() {
                std::io::ErrorKind::NotFound => Errno::ENOENT,
                std::io::ErrorKind::PermissionDenied => Errno::EACCES,
                std::io::ErrorKind::AlreadyExists => Errno::EEXIST,
                std::io::ErrorKind::InvalidInput => Errno::EINVAL,
                _ => Errno::EIO,
            },
        }
    }

    /// The errno with Linux number `code`, if the kernel knows it.
    pub fn from_raw(code: i32) -> Option<Errno> {
        use Errno::*;
        const ALL: &[Errno] = &[
            EPERM,
            ENOENT,
            ESRCH,
            EINTR,
            EIO,
            ENXIO,
            E2BIG,
            ENOEXEC,
            EBADF,
            ECHILD,
            EAGAIN,
            ENOMEM,
            EACCES,
            EFAULT,
            EBUSY,
            EEXIST,
            EXDEV,
            ENODEV,
            ENOTDIR,
            EISDIR,
            EINVAL,
            ENFILE,
            EMFILE,
            ENOTTY,
            ETXTBSY,
            EFBIG,
            ENOSPC,
            ESPIPE,
            EROFS,
            EMLINK,
            EPIPE,
            EDOM,
            ERANGE,
            EDEADLK,
            ENAMETOOLONG,
            ENOLCK,
            ENOSYS,
            ENOTEMPTY,
            ELOOP,
            ENOTSOCK,
            EDESTADDRREQ,
            EMSGSIZE,
            EPROTOTYPE,
            ENOPROTOOPT,
            EPROTONOSUPPORT,
            EOPNOTSUPP,
            EAFNOSUPPORT,
            EADDRINUSE,
            EADDRNOTAVAIL,
            ENETUNREACH,
            ECONNABORTED,
            ECONNRESET,
            ENOBUFS,
            EISCONN,
            ENOTCONN,
            ETIMEDOUT,
            ECONNREFUSED,
            EALREADY,
            EINPROGRESS,
        ];
        ALL.iter().copied().find(|e| *e as i32 == code)
    }
}

impl From<std::io::Error> for Errno {
    fn from(err: std::io::Error) -> Errno {
        Errno::from_io(&err)
    }
}

/// Result type of every kernel operation.
pub type KResult<T> = Result<T, Errno>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_errors_map_to_linux_numbers() {
        let e = std::io::Error::from_raw_os_error(libc::ENOTEMPTY);
        assert_eq!(Errno::from_io(&e), Errno::ENOTEMPTY);
        assert_eq!(Errno::from_raw(9999), None);
        assert_eq!(Errno::EAGAIN as i32, libc::EAGAIN);
        assert_eq!(Errno::ECONNREFUSED as i32, libc::ECONNREFUSED);
    }
}
