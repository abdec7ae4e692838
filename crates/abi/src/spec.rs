//! SPEC.md's "Guest ABI" section against this crate.
//!
//! What is checked, in the section between `## Guest ABI` and the next `## `
//! heading:
//! * every `| import | signature | semantics |` table, under the `###`
//!   heading naming its module (`host_proc`, `host_net`): one row per
//!   function of the module, and the signature cell is exactly
//!   [`Func::spec_signature`];
//! * the `| request | number | arg | meaning |` table: one row per served
//!   ioctl, with its number and [`Arg::spec`] text;
//! * "all N functions" of `wasi_snapshot_preview1`;
//! * every `` `NAME value` `` pair in inline code (outside code blocks) names
//!   a constant of this crate (or an ioctl request) with that value;
//! * every record appears as its [`RecordInfo::c_definition`] in a code
//!   block, and no code block defines a `struct sidecar_*` the crate lacks.
//!
//! [`Func::spec_signature`]: crate::imports::Func::spec_signature
//! [`Arg::spec`]: crate::ioctl::Arg::spec
//! [`RecordInfo::c_definition`]: crate::records::RecordInfo::c_definition

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::consts;
use crate::imports::{Module, WasiFn};
use crate::ioctl::IOCTLS;
use crate::records;

/// The "Guest ABI" section of SPEC.md, or the whole text if it has none.
fn abi_section(spec: &str) -> &str {
    let Some(start) = spec.find("\n## Guest ABI") else {
        return spec;
    };
    let rest = &spec[start + 1..];
    match rest[3..].find("\n## ") {
        Some(end) => &rest[..end + 3],
        None => rest,
    }
}

/// The cells of a table row (the first `n`; the last one keeps any `|`).
fn cells(line: &str, n: usize) -> Vec<String> {
    line.trim()
        .trim_start_matches('|')
        .splitn(n + 1, '|')
        .take(n)
        .map(|c| c.trim().to_owned())
        .collect()
}

/// The first inline-code span of a cell, or the cell.
fn code(cell: &str) -> &str {
    let mut parts = cell.split('`');
    match (parts.next(), parts.next()) {
        (Some(_), Some(inner)) => inner,
        _ => cell,
    }
}

fn parse_number(s: &str) -> Option<i64> {
    let s = s.replace('_', "");
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = s.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
        s.parse().ok()
    } else {
        None
    }
}

fn is_const_name(s: &str) -> bool {
    s.len() >= 2
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Where a table row came from, for messages.
struct Row {
    line: usize,
    cells: Vec<String>,
}

#[derive(Default)]
struct Parsed {
    imports: BTreeMap<&'static str, Vec<Row>>,
    ioctls: Vec<Row>,
    /// Text outside code blocks, and the code blocks.
    prose: String,
    blocks: Vec<String>,
}

fn parse(section: &str, first_line: usize) -> Parsed {
    enum Table {
        None,
        Imports(&'static str),
        Ioctls,
    }
    let mut p = Parsed::default();
    let mut module: Option<&'static str> = None;
    let mut table = Table::None;
    let mut block: Option<String> = None;
    for (i, line) in section.lines().enumerate() {
        let n = first_line + i;
        if line.trim_start().starts_with("```") {
            match block.take() {
                Some(b) => p.blocks.push(b),
                None => block = Some(String::new()),
            }
            continue;
        }
        if let Some(b) = &mut block {
            b.push_str(line);
            b.push('\n');
            continue;
        }
        p.prose.push_str(line);
        p.prose.push('\n');
        if let Some(h) = line.strip_prefix("### ") {
            module = Module::ALL
                .into_iter()
                .map(Module::name)
                .find(|m| code(h) == *m);
        }
        if !line.trim_start().starts_with('|') {
            table = Table::None;
            continue;
        }
        let head = cells(line, 4);
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        match head.as_slice() {
            ["import", "signature", "semantics", ..] => {
                table = Table::Imports(module.unwrap_or("(no module heading)"));
                continue;
            }
            ["request", "number", "arg", "meaning"] => {
                table = Table::Ioctls;
                continue;
            }
            _ => {}
        }
        if line.trim_start().starts_with("|--") || line.trim_start().starts_with("|:-") {
            continue;
        }
        match table {
            Table::None => {}
            Table::Imports(m) => p.imports.entry(m).or_default().push(Row {
                line: n,
                cells: cells(line, 2),
            }),
            Table::Ioctls => p.ioctls.push(Row {
                line: n,
                cells: cells(line, 3),
            }),
        }
    }
    p
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The value SPEC may give `name`: a constant or an ioctl request.
fn known_value(name: &str) -> Option<i64> {
    if let Some((_, c)) = consts::find(name) {
        return Some(c.value);
    }
    IOCTLS
        .iter()
        .find(|i| i.name == name)
        .map(|i| i64::from(i.request.0))
}

/// Everything in `spec` (SPEC.md's text) that disagrees with this crate;
/// empty when they agree.
pub fn check(spec: &str) -> Vec<String> {
    let section = abi_section(spec);
    let offset = section.as_ptr() as usize - spec.as_ptr() as usize;
    let first_line = spec[..offset].lines().count() + 1;
    let p = parse(section, first_line);
    let mut problems = Vec::new();

    // Import tables.
    for m in [Module::HostProc, Module::HostNet] {
        let rows = p.imports.get(m.name()).map(Vec::as_slice).unwrap_or(&[]);
        let mut seen = BTreeMap::new();
        for r in rows {
            let name = code(&r.cells[0]).to_owned();
            let sig = r
                .cells
                .get(1)
                .map(|c| code(c).to_owned())
                .unwrap_or_default();
            if seen.insert(name.clone(), r.line).is_some() {
                problems.push(format!(
                    "SPEC.md:{}: `{}.{name}` has two rows",
                    r.line,
                    m.name()
                ));
            }
            match m.funcs().iter().find(|f| f.name == name) {
                None => problems.push(format!(
                    "SPEC.md:{}: `{}.{name}` is not an import of the ABI crate",
                    r.line,
                    m.name()
                )),
                Some(f) if f.spec_signature() != sig => problems.push(format!(
                    "SPEC.md:{}: `{}.{name}` signature `{sig}`, the ABI crate says `{}`",
                    r.line,
                    m.name(),
                    f.spec_signature()
                )),
                Some(_) => {}
            }
        }
        for f in m.funcs() {
            if !seen.contains_key(f.name) {
                problems.push(format!(
                    "SPEC.md: no row for `{}.{}` in the `{}` import table (signature `{}`)",
                    m.name(),
                    f.name,
                    m.name(),
                    f.spec_signature()
                ));
            }
        }
    }
    for m in p.imports.keys() {
        if !matches!(
            Module::from_name(m),
            Some(Module::HostProc | Module::HostNet)
        ) {
            problems.push(format!("SPEC.md: an import table under `{m}`"));
        }
    }

    // The ioctl table.
    let mut seen = BTreeMap::new();
    for r in &p.ioctls {
        let name = code(&r.cells[0]).to_owned();
        let number = r
            .cells
            .get(1)
            .map(|c| code(c).to_owned())
            .unwrap_or_default();
        let arg = r.cells.get(2).cloned().unwrap_or_default();
        seen.insert(name.clone(), r.line);
        let Some(i) = IOCTLS.iter().find(|i| i.name == name) else {
            problems.push(format!(
                "SPEC.md:{}: ioctl `{name}` is not in the ABI crate's table",
                r.line
            ));
            continue;
        };
        if parse_number(&number) != Some(i64::from(i.request.0)) {
            problems.push(format!(
                "SPEC.md:{}: ioctl `{name}` number `{number}`, the ABI crate says {}",
                r.line, i.request
            ));
        }
        if arg != i.arg.spec() {
            problems.push(format!(
                "SPEC.md:{}: ioctl `{name}` arg `{arg}`, the ABI crate says `{}`",
                r.line,
                i.arg.spec()
            ));
        }
    }
    for i in IOCTLS {
        if !seen.contains_key(i.name) {
            problems.push(format!(
                "SPEC.md: no row for ioctl `{}` ({}, arg {})",
                i.name,
                i.request,
                i.arg.spec()
            ));
        }
    }

    // WASI.
    let wasi = format!("all {} functions", WasiFn::ALL.len());
    if !squash(&p.prose).contains(&wasi) {
        problems.push(format!(
            "SPEC.md: the wasi_snapshot_preview1 line should say \"{wasi}\""
        ));
    }

    // `NAME value` pairs in inline code.
    for (i, span) in p.prose.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        let tokens: Vec<&str> = span
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|t| !t.is_empty())
            .collect();
        for w in tokens.windows(2) {
            let (name, value) = (w[0], w[1]);
            let Some(value) = parse_number(value).filter(|_| is_const_name(name)) else {
                continue;
            };
            match known_value(name) {
                None => problems.push(format!(
                    "SPEC.md: `{name} {}` names no constant of the ABI crate",
                    w[1]
                )),
                Some(v) if v != value => problems.push(format!(
                    "SPEC.md: `{name} {}`, the ABI crate says {v} ({v:#x})",
                    w[1]
                )),
                Some(_) => {}
            }
        }
    }

    // Records.
    let blocks = squash(&p.blocks.join("\n"));
    let all = records::all();
    for r in &all {
        if !blocks.contains(&squash(&r.c_definition())) {
            problems.push(format!(
                "SPEC.md: no code block with `struct {}` as the ABI crate defines it:\n{}",
                r.c_name,
                r.c_definition()
            ));
        }
    }
    for b in &p.blocks {
        for part in b.split("struct ").skip(1) {
            let tag: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let defines = part[tag.len()..].trim_start().starts_with('{');
            if defines && tag.starts_with("sidecar_") && !all.iter().any(|r| r.c_name == tag) {
                problems.push(format!(
                    "SPEC.md: a code block defines `struct {tag}`, which the ABI crate lacks"
                ));
            }
        }
    }
    problems
}

/// What SPEC.md's ABI tables should hold, for pasting: the first two cells
/// of each import row, the ioctl rows' first three cells and the record
/// blocks.
pub fn fragments() -> String {
    let mut s = String::new();
    for m in [Module::HostProc, Module::HostNet] {
        writeln!(
            s,
            "### `{}`\n\n| import | signature | semantics |\n|---|---|---|",
            m.name()
        )
        .unwrap();
        for f in m.funcs() {
            writeln!(s, "| `{}` | `{}` | |", f.name, f.spec_signature()).unwrap();
        }
        s.push('\n');
    }
    s.push_str("| request | number | arg | meaning |\n|---|---|---|---|\n");
    for i in IOCTLS {
        writeln!(
            s,
            "| `{}` | `{:#X}` | {} | |",
            i.name,
            i.request.0,
            i.arg.spec()
        )
        .unwrap();
    }
    s.push('\n');
    for r in records::all() {
        writeln!(s, "```c\n{}```\n", r.c_definition()).unwrap();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_pass_the_check() {
        let doc = format!(
            "# x\n\n## Guest ABI\n\n* `wasi_snapshot_preview1` — all 46 functions.\n\n{}\n## Next\n",
            fragments()
        );
        assert_eq!(check(&doc), Vec::<String>::new());
    }

    #[test]
    fn mismatches_are_reported() {
        let good = format!(
            "## Guest ABI\n\nall 46 functions\n\n{}`SIGKILL 9`, `O_CREAT 0o100`\n",
            fragments()
        );
        assert!(check(&good).is_empty(), "{:?}", check(&good));
        let renamed = good.replace("| `getppid` |", "| `get_ppid` |");
        let problems = check(&renamed);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`host_proc.get_ppid` is not an import"));
        assert!(problems[1].contains("no row for `host_proc.getppid`"));
        let retyped = good.replace(
            "(pid: i32, sig: i32) -> errno",
            "(pid: i32, sig: u32) -> errno",
        );
        assert_eq!(check(&retyped).len(), 1);
        assert_eq!(check(&good.replace("`SIGKILL 9`", "`SIGKILL 7`")).len(), 1);
        assert_eq!(
            check(&good.replace("`SIGKILL 9`", "`SIGKILLED 9`")).len(),
            1
        );
        assert_eq!(check(&good.replace("`0x5401`", "`0x5400`")).len(), 1);
        assert_eq!(
            check(&good.replace("uint32_t op;", "uint32_t opcode;")).len(),
            1
        );
    }
}
