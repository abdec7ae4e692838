//! C output: the SDK's `sidecar_abi.h`, and a check file that compiles the
//! SDK's public headers against it.

use std::fmt::Write;

use crate::consts::{self, Group};
use crate::imports::{Func, Module};
use crate::records::{self, RecordInfo};

/// Wraps `text` into C comment lines of at most `width` columns.
fn comment(text: &str, indent: &str, width: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return String::new();
    }
    let mut lines = vec![String::new()];
    for w in words {
        let cur = lines.last_mut().unwrap();
        if !cur.is_empty() && indent.len() + 3 + cur.len() + 1 + w.len() > width {
            lines.push(w.to_owned());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(w);
        }
    }
    let mut s = String::new();
    for (i, l) in lines.iter().enumerate() {
        let open = if i == 0 { "/* " } else { " * " };
        let close = if i + 1 == lines.len() { " */" } else { "" };
        writeln!(s, "{indent}{open}{l}{close}").unwrap();
    }
    s
}

fn import_macro(m: Module) -> &'static str {
    match m {
        Module::HostProc => "HOST_PROC",
        Module::HostNet => "HOST_NET",
        Module::Wasi => unreachable!("wasi-libc declares WASI"),
    }
}

/// A prototype broken after commas to fit 100 columns, continuation lines
/// aligned after the opening parenthesis.
fn wrap_prototype(proto: &str) -> String {
    const WIDTH: usize = 100;
    if proto.len() <= WIDTH {
        return proto.to_owned();
    }
    let open = proto.find('(').unwrap() + 1;
    let indent = " ".repeat(open);
    let mut out = proto[..open].to_owned();
    let mut line_len = open;
    let parts: Vec<&str> = proto[open..].split(", ").collect();
    for (i, part) in parts.iter().enumerate() {
        let piece = if i + 1 < parts.len() {
            format!("{part},")
        } else {
            (*part).to_owned()
        };
        let sep = usize::from(line_len > open);
        if line_len > open && line_len + sep + piece.len() > WIDTH {
            out.push('\n');
            out.push_str(&indent);
            line_len = open;
        } else if line_len > open {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(&piece);
        line_len += piece.len();
    }
    out
}

fn func_decl(f: &Func) -> String {
    let mut s = comment(f.doc, "", 80);
    writeln!(s, "{}({})", import_macro(f.module), f.name).unwrap();
    writeln!(s, "{}", wrap_prototype(&f.c_prototype())).unwrap();
    s
}

fn record_decl(r: &RecordInfo) -> String {
    let mut s = comment(r.doc, "", 80);
    s.push_str(&r.c_definition());
    let tag = format!("struct {}", r.c_name);
    writeln!(
        s,
        "_Static_assert(sizeof({tag}) == {}, \"{}: ABI size\");",
        r.size, r.c_name
    )
    .unwrap();
    for f in &r.fields {
        writeln!(
            s,
            "_Static_assert(__builtin_offsetof({tag}, {}) == {}, \"{}.{}: ABI offset\");",
            f.name, f.offset, r.c_name, f.name
        )
        .unwrap();
    }
    s
}

fn group_decl(g: &Group) -> String {
    let mut s = comment(g.doc, "", 80);
    for c in &g.items {
        let name = format!("{}{}", g.prefix, c.name);
        let doc = c.doc.trim();
        if doc.is_empty() {
            writeln!(s, "#define {name} {}", g.c_literal(c.value)).unwrap();
        } else {
            writeln!(s, "#define {name} {} /* {doc} */", g.c_literal(c.value)).unwrap();
        }
    }
    s
}

/// The SDK's `sidecar_abi.h`: the `host_proc`/`host_net` imports, the
/// records (with size and offset assertions) and the constants.
pub fn c_header() -> String {
    let preamble = [
        "/* sidecar_abi.h: the sidecar guest ABI, for the shim (libsidecar.a).",
        " *",
        " * GENERATED from crates/abi by",
        " *     cargo run -p sidecar-abi --bin gen-header -- --write",
        " * Do not edit: change crates/abi/src and regenerate. `cargo test -p",
        " * sidecar-abi` fails while this file is stale, or when SPEC.md's ABI tables",
        " * or the SDK's public headers disagree with the crate.",
        " *",
        " * Every host_* import returns a WASI errno (0 = success), the numbering",
        " * wasi-libc's errno uses, so callers store it into errno unchanged; results",
        " * are written through out-pointers. Pointers are uint32_t offsets into the",
        " * guest's memory (HP). Flags and numbers are Linux's (LX_*), not",
        " * wasi-libc's. */",
        "#ifndef SIDECAR_ABI_H",
        "#define SIDECAR_ABI_H",
        "",
        "#include <stdint.h>",
        "",
        "#define HOST_PROC(name) \\",
        "    __attribute__((import_module(\"host_proc\"), import_name(#name)))",
        "#define HOST_NET(name) \\",
        "    __attribute__((import_module(\"host_net\"), import_name(#name)))",
        "",
        "/* Guest pointer -> ABI u32. */",
        "#define HP(p) ((uint32_t)(uintptr_t)(p))",
    ];
    let mut s = preamble.join("\n");
    s.push('\n');
    for m in [Module::HostProc, Module::HostNet] {
        writeln!(s, "\n/* ---- {} ---- */\n", m.name()).unwrap();
        let decls: Vec<String> = m.funcs().iter().map(func_decl).collect();
        s.push_str(&decls.join("\n"));
    }
    s.push_str("\n/* ---- records ---- */\n\n");
    let decls: Vec<String> = records::all().iter().map(record_decl).collect();
    s.push_str(&decls.join("\n"));
    s.push_str("\n/* ---- constants ---- */\n\n");
    let decls: Vec<String> = consts::groups().iter().map(group_decl).collect();
    s.push_str(&decls.join("\n"));
    s.push_str("\n#endif\n");
    s
}

/// Public headers the check file includes.
const PUBLIC_HEADERS: &[&str] = &[
    "errno.h",
    "fcntl.h",
    "limits.h",
    "poll.h",
    "signal.h",
    "stddef.h",
    "sys/ioctl.h",
    "sys/socket.h",
    "sys/time.h",
    "sys/uio.h",
    "sys/un.h",
    "sys/wait.h",
    "termios.h",
];

/// A C file that includes the SDK's public headers and `sidecar_abi.h` and
/// fails to compile where they disagree: every public macro named like a
/// `public` ABI constant must have its value, and every record that mirrors
/// a public type must have its size and field offsets.
pub fn c_checks() -> String {
    let mut s = String::from(
        "/* Generated by sidecar-abi (header::c_checks): the SDK's public headers\n\
         * against the ABI. */\n\
         #define _GNU_SOURCE\n",
    );
    for h in PUBLIC_HEADERS {
        writeln!(s, "#include <{h}>").unwrap();
    }
    s.push_str("\n#include \"sidecar_abi.h\"\n\n");
    for g in consts::groups() {
        for c in &g.items {
            let Some(public) = c.public else { continue };
            writeln!(
                s,
                "#if defined({public}) && ({public}) != ({})\n\
                 #error \"{public} differs from the ABI's {}{} ({})\"\n\
                 #endif",
                c.value, g.prefix, c.name, c.value
            )
            .unwrap();
        }
    }
    s.push('\n');
    for r in records::all() {
        let Some(public) = r.mirrors else { continue };
        let ours = format!("struct {}", r.c_name);
        writeln!(
            s,
            "_Static_assert(sizeof({public}) == sizeof({ours}), \"{public}: size\");"
        )
        .unwrap();
        for f in &r.fields {
            let pf = f.public_name.unwrap_or(f.name);
            writeln!(
                s,
                "_Static_assert(offsetof({public}, {pf}) == offsetof({ours}, {}), \"{public}.{pf}: offset\");",
                f.name
            )
            .unwrap();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_declares_the_api_the_shim_uses() {
        let h = c_header();
        for needle in [
            "HOST_PROC(spawn)\nint32_t __host_proc_spawn(uint32_t path, uint32_t path_len, uint32_t argv,",
            "int32_t __host_proc_getpid(void);",
            "int32_t __host_net_poll(uint32_t fds, uint32_t nfds, int32_t timeout_ms, uint32_t n_out);",
            "struct sidecar_recv_result {",
            "#define LX_O_SYNC 04010000u",
            "#define LX_F_DUPFD_CLOEXEC 1030\n",
            "#define SC_SPAWN_ACT_OPEN 3u",
            "#define SC_ATTR_SETSIGMASK 8u",
            "#define LX_TCGETS 0x5401u\n",
            "#define HP(p) ((uint32_t)(uintptr_t)(p))",
        ] {
            assert!(h.contains(needle), "header lacks {needle:?}");
        }
        assert!(!h.contains("wasi_snapshot_preview1"));
    }

    #[test]
    fn comments_wrap() {
        let c = comment(&"word ".repeat(40), "", 40);
        assert!(c.lines().all(|l| l.len() <= 40), "{c}");
        assert!(c.starts_with("/* ") && c.ends_with(" */\n"));
    }
}
