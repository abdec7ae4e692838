//! The ABI crate against the files that restate it: the generated header
//! checked into the SDK, SPEC.md's ABI tables and the SDK's public headers.
//! (The runtime's import list is checked in sidecar-runtime,
//! `abi::tests::linker_serves_exactly_the_abi_imports`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sidecar_abi::{consts, header, repo_root, spec, HEADER_PATH};

fn read(rel: &str) -> String {
    let path = repo_root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn generated_header_is_up_to_date() {
    let want = header::c_header();
    let have = read(HEADER_PATH);
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
        panic!(
            "{HEADER_PATH} is stale (first difference at line {}:\n  file:      {:?}\n  generated: {:?}).\n\
             Regenerate it: cargo run -p sidecar-abi --bin gen-header -- --write",
            line + 1,
            have.lines().nth(line).unwrap_or("<end of file>"),
            want.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn spec_md_abi_tables_match_the_crate() {
    let problems = spec::check(&read("SPEC.md"));
    assert!(
        problems.is_empty(),
        "SPEC.md disagrees with crates/abi ({} problems; `cargo run -p sidecar-abi --bin \
         gen-header -- --spec` prints the expected cells):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A C integer literal: decimal, 0x hex or 0 octal, with suffixes and
/// parentheses.
fn c_number(s: &str) -> Option<i64> {
    let s = s
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    let s = s.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        i64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

fn headers_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            headers_under(&p, out);
        } else if p.extension().is_some_and(|x| x == "h") {
            out.push(p);
        }
    }
}

/// Every `#define NAME <number>` in the SDK's public headers must have the
/// value the ABI crate gives the public constant of that name.
#[test]
fn sdk_public_headers_define_the_abi_values() {
    let mut files = Vec::new();
    headers_under(&repo_root().join("guests/sdk/include"), &mut files);
    let mut defined: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let mut words = line.split_whitespace();
            if words.next() != Some("#define") {
                continue;
            }
            let (Some(name), Some(value)) = (words.next(), words.next()) else {
                continue;
            };
            if let Some(v) = c_number(value) {
                let rel = f
                    .strip_prefix(repo_root())
                    .unwrap_or(f)
                    .display()
                    .to_string();
                defined
                    .entry(name.to_owned())
                    .or_default()
                    .push((format!("{rel}:{}", i + 1), v));
            }
        }
    }
    let mut problems = Vec::new();
    let mut compared = 0;
    for g in consts::groups() {
        for c in &g.items {
            let Some(public) = c.public else { continue };
            for (at, v) in defined.get(public).into_iter().flatten() {
                compared += 1;
                if *v != c.value {
                    problems.push(format!(
                        "{at}: {public} is {v}, the ABI's {}{} is {}",
                        g.prefix, c.name, c.value
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        compared > 150,
        "only {compared} SDK macros compared: parser broken?"
    );
}

/// Compiles `header::c_checks()` with sidecar-cc: the SDK's public headers
/// (and wasi-libc's under them) against the generated header, constants by
/// preprocessor and mirrored structs by `_Static_assert`.
#[test]
fn sdk_public_headers_compile_against_the_abi() {
    if Command::new("clang-16").arg("--version").output().is_err() {
        eprintln!("clang-16 not installed: skipping the C check (scripts/install-deps)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("sidecar-abi-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("abi_check.c");
    std::fs::write(&src, header::c_checks()).unwrap();
    let root = repo_root();
    let out = Command::new(root.join("guests/sdk/bin/sidecar-cc"))
        .arg("-fsyntax-only")
        .arg("-I")
        .arg(root.join("guests/sdk/src"))
        .arg(&src)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the SDK's public headers disagree with the ABI:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
