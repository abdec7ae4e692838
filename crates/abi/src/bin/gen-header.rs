//! Writes the SDK's C header from the ABI crate.
//!
//! ```text
//! gen-header            print sidecar_abi.h
//! gen-header --write    write it to guests/sdk/src/sidecar_abi.h
//! gen-header --check    exit 1 if that file is stale
//! gen-header --checks   print the C file that checks the SDK's public headers
//! gen-header --spec     print SPEC.md's ABI table cells and record blocks
//! ```

use std::process::ExitCode;

use sidecar_abi::{header, repo_root, spec, HEADER_PATH};

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let path = repo_root().join(HEADER_PATH);
    let text = header::c_header();
    match arg.as_deref() {
        None => print!("{text}"),
        Some("--write") => {
            if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
                eprintln!("{HEADER_PATH} is up to date");
            } else if let Err(e) = std::fs::write(&path, &text) {
                eprintln!("gen-header: {}: {e}", path.display());
                return ExitCode::FAILURE;
            } else {
                eprintln!("wrote {HEADER_PATH}");
            }
        }
        Some("--check") => {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                eprintln!(
                    "{HEADER_PATH} is stale: run `cargo run -p sidecar-abi --bin gen-header -- --write`"
                );
                return ExitCode::FAILURE;
            }
        }
        Some("--checks") => print!("{}", header::c_checks()),
        Some("--spec") => print!("{}", spec::fragments()),
        Some(other) => {
            eprintln!("gen-header: unknown argument {other} (--write, --check, --checks, --spec)");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
