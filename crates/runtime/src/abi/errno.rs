//! Linux errno → WASI errno: the only place the two numberings meet.

use sidecar_kernel::Errno;

/// The WASI `errno` value for a kernel error.
pub fn to_wasi(e: Errno) -> u16 {
    use Errno::*;
    match e {
        E2BIG => 1,
        EACCES => 2,
        EADDRINUSE => 3,
        EADDRNOTAVAIL => 4,
        EAFNOSUPPORT => 5,
        EAGAIN => 6,
        EALREADY => 7,
        EBADF => 8,
        EBUSY => 10,
        ECHILD => 12,
        ECONNABORTED => 13,
        ECONNREFUSED => 14,
        ECONNRESET => 15,
        EDEADLK => 16,
        EDESTADDRREQ => 17,
        EDOM => 18,
        EEXIST => 20,
        EFAULT => 21,
        EFBIG => 22,
        EINPROGRESS => 26,
        EINTR => 27,
        EINVAL => 28,
        EIO => 29,
        EISCONN => 30,
        EISDIR => 31,
        ELOOP => 32,
        EMFILE => 33,
        EMLINK => 34,
        EMSGSIZE => 35,
        ENAMETOOLONG => 37,
        ENETUNREACH => 40,
        ENFILE => 41,
        ENOBUFS => 42,
        ENODEV => 43,
        ENOENT => 44,
        ENOEXEC => 45,
        ENOLCK => 46,
        ENOMEM => 48,
        ENOPROTOOPT => 50,
        ENOSPC => 51,
        ENOSYS => 52,
        ENOTCONN => 53,
        ENOTDIR => 54,
        ENOTEMPTY => 55,
        ENOTSOCK => 57,
        EOPNOTSUPP => 58,
        ENOTTY => 59,
        ENXIO => 60,
        EPERM => 63,
        EPIPE => 64,
        EPROTONOSUPPORT => 66,
        EPROTOTYPE => 67,
        ERANGE => 68,
        EROFS => 69,
        ESPIPE => 70,
        ESRCH => 71,
        ETIMEDOUT => 73,
        ETXTBSY => 74,
        EXDEV => 75,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_errnos_use_wasi_numbers() {
        assert_eq!(to_wasi(Errno::EAGAIN), 6);
        assert_eq!(to_wasi(Errno::EBADF), 8);
        assert_eq!(to_wasi(Errno::ENOENT), 44);
        assert_eq!(to_wasi(Errno::EPIPE), 64);
        assert_eq!(to_wasi(Errno::EFAULT), 21);
    }
}
