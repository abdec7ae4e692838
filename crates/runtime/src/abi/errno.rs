//! Linux errno → WASI errno: the only place the two numberings meet. The
//! WASI numbers are the ABI crate's (`sidecar_abi::consts::errno`).

use sidecar_abi::consts::errno as wasi;
use sidecar_kernel::Errno;

/// Maps each kernel errno to the ABI crate's WASI number of the same name
/// (a name the crate lacks does not compile).
macro_rules! to_wasi {
    ($e:expr; $($name:ident)*) => {
        match $e {
            $(Errno::$name => wasi::$name,)*
        }
    };
}

/// The WASI `errno` value for a kernel error.
pub fn to_wasi(e: Errno) -> u16 {
    to_wasi!(e;
        E2BIG EACCES EADDRINUSE EADDRNOTAVAIL EAFNOSUPPORT EAGAIN EALREADY EBADF
        EBUSY ECHILD ECONNABORTED ECONNREFUSED ECONNRESET EDEADLK EDESTADDRREQ
        EDOM EEXIST EFAULT EFBIG EINPROGRESS EINTR EINVAL EIO EISCONN EISDIR
        ELOOP EMFILE EMLINK EMSGSIZE ENAMETOOLONG ENETUNREACH ENFILE ENOBUFS
        ENODEV ENOENT ENOEXEC ENOLCK ENOMEM ENOPROTOOPT ENOSPC ENOSYS ENOTCONN
        ENOTDIR ENOTEMPTY ENOTSOCK EOPNOTSUPP ENOTTY ENXIO EPERM EPIPE
        EPROTONOSUPPORT EPROTOTYPE ERANGE EROFS ESPIPE ESRCH ETIMEDOUT ETXTBSY
        EXDEV
    )
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
