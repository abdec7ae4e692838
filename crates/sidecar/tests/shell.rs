//! dash (/bin/sh) and the busybox userland as guests: the VM
//! root built by `scripts/build-shell-root` (dash and busybox cross-built by
//! `scripts/third-party`), run with `sidecar exec bin/dash ...` from inside
//! it, and interactively on a terminal (tmux) with `sidecar run`.
//!
//! The root is taken from `SIDECAR_TEST_SHELL_ROOT`, or the script is run
//! once (it rebuilds only what changed).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{repo_root, run, text, Tmux, SIDECAR, TIMEOUT};

fn shell_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| match std::env::var_os("SIDECAR_TEST_SHELL_ROOT") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => common::build_script("scripts/build-shell-root"),
    })
}

/// `sidecar exec bin/dash ARGS` with the shell root as the VM's "/".
fn dash(args: &[&str]) -> Output {
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("exec")
        .arg("bin/dash")
        .args(args)
        .current_dir(shell_root());
    run(cmd, TIMEOUT)
}

/// Runs `dash -c SCRIPT`; asserts it exits with `code` and returns stdout.
fn sh(script: &str, code: i32) -> String {
    let out = dash(&["-c", script]);
    assert_eq!(
        out.status.code(),
        Some(code),
        "dash -c {script:?}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// system() and popen() run `/bin/sh -c`: the fork test program's "shell"
/// part, natively (Debian's /bin/sh) and in the shell root (dash), prints
/// the same.
#[test]
fn system_and_popen_match_linux() {
    let guests = common::guest_dir();
    let native = Command::new(guests.join("native/fork"))
        .args(["x", "shell"])
        .current_dir(shell_root())
        .output()
        .expect("native fork");
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("exec")
        .arg(guests.join("wasm/fork.wasm"))
        .args(["x", "shell"])
        .current_dir(shell_root());
    let wasm = run(cmd, TIMEOUT);
    assert!(native.status.success() && wasm.status.success());
    assert_eq!(text(&wasm.stdout), text(&native.stdout));
    assert!(text(&wasm.stdout).contains("got second first"));
}

/// dash forks and execs as upstream does: `$!` is the program itself (the
/// pid it reports as `$$` after exec), so `kill $!` reaches it, not an
/// intermediate shell.
#[test]
fn a_background_job_is_the_program_itself() {
    // `sleep 100` is only a program that runs until it is killed: both
    // sleeps are killed at once, nothing waits on them.
    let script = "(sh -c 'echo $$; exec sleep 100' & echo $!) | \
                  { read a; read b; [ \"$a\" = \"$b\" ] && echo same; kill \"$a\"; }; \
                  sleep 100 & kill $!; wait $!; echo $?";
    assert_eq!(sh(script, 0), "same\n143\n");
}

#[test]
fn builtin_piped_into_a_program() {
    assert_eq!(sh("echo hi | wc -c", 0), "3\n");
    assert_eq!(sh("printf 'b\\na\\nc\\n' | sort | head -n 2", 0), "a\nb\n");
}

#[test]
fn ls_of_the_root() {
    let out = sh("ls /", 0);
    let names: Vec<&str> = out.lines().collect();
    for want in ["bin", "tmp", "usr"] {
        assert!(names.contains(&want), "ls / printed {out:?}");
    }
}

#[test]
fn command_substitution_and_arithmetic() {
    assert_eq!(sh("x=$(echo 6); echo $((x*7))", 0), "42\n");
    assert_eq!(sh("echo \"$(echo `echo nested`)\"", 0), "nested\n");
}

#[test]
fn background_job_and_wait() {
    let start = Instant::now();
    assert_eq!(sh("sleep 1 & wait; echo $?", 0), "0\n");
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(sh("(exit 3) & wait $!; echo $?", 0), "3\n");
    // kill reaches the program behind the background subshell.
    assert_eq!(sh("sleep 10 & kill $!; wait $!; echo $?", 0), "143\n");
}

#[test]
fn cd_and_pwd() {
    assert_eq!(sh("cd /tmp && pwd", 0), "/tmp\n");
    assert_eq!(sh("cd /usr/bin; (cd /; pwd); pwd", 0), "/\n/usr/bin\n");
}

#[test]
fn exit_status_and_errors() {
    sh("exit 7", 7);
    let out = dash(&["-c", "nosuchcmd; echo status=$?"]);
    assert_eq!(text(&out.stdout), "status=127\n");
    assert!(text(&out.stderr).contains("nosuchcmd: not found"));
    assert_eq!(
        sh("false | true; echo $?; true | false; echo $?", 0),
        "0\n1\n"
    );
    sh("set -e; false; echo not reached", 1);
}

#[test]
fn subshells_see_the_shell_state() {
    // Unexported variables, functions, positional parameters and $? reach
    // ( ), $( ) and pipeline elements, which are separate processes.
    let script = r#"
        v='a b'; f() { echo "f[$*] $v"; }
        set -- one "two three"
        ( f "$@" )
        echo "$(f x)"
        f y | cat
        false; echo "$(echo $?)"
        readonly R=r; (echo $R)
    "#;
    assert_eq!(
        sh(script, 0),
        "f[one two three] a b\nf[x] a b\nf[y] a b\n1\nr\n"
    );
}

#[test]
fn script_file_with_loops_and_redirections() {
    // The script is written into the VM's own /tmp by the shell itself.
    let script = r#"
cat > /tmp/t.sh <<'EOF'
out=/tmp/out.txt
: > "$out"
for i in 1 2 3; do
    echo "line $i" >> "$out"
done
n=0
while read -r l; do n=$((n + 1)); echo "read: $l"; done < "$out"
echo "n=$n"
wc -l < "$out"
ls /nonexistent > /tmp/err.txt 2>&1 || echo "ls failed"
grep -c nonexistent /tmp/err.txt
greet() { echo "hello, $1"; }
greet world | tr a-z A-Z
cat <<EOT | sed 's/^/> /'
$n lines
EOT
case $n in 3) echo three;; *) echo other;; esac
exit 5
EOF
sh /tmp/t.sh
"#;
    assert_eq!(
        sh(script, 5),
        "read: line 1\nread: line 2\nread: line 3\nn=3\n3\nls failed\n1\nHELLO, WORLD\n> 3 lines\nthree\n"
    );
}

#[test]
fn long_here_document() {
    // More than a pipe buffer: dash used to fork a writer; now a temp file.
    let script = r#"
        big=$(i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done)
        cat <<EOF | wc -l
$big
EOF
    "#;
    assert_eq!(sh(script, 0).trim(), "2000");
}

#[test]
fn interactive_shell_survives_interrupts() {
    let dir = std::env::temp_dir().join(format!("sidecar-shell-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The example itself: its root is examples/shell-root, which
    // scripts/build-shell-root (run by shell_root()) points at the build.
    shell_root();
    let config = repo_root().join("examples/shell.toml");
    let status = dir.join("status");
    let cmd = format!(
        "{SIDECAR} run {c}; echo \"exit=$?\" > {s}.tmp; mv {s}.tmp {s}; sleep 30",
        c = config.display(),
        s = status.display()
    );
    let t = Tmux::start("shell", &cmd);
    t.wait_for("sidecar$", 1, Duration::from_secs(60));

    t.keys(&["echo hi | wc -c", "Enter"]);
    t.wait_for("sidecar$", 2, Duration::from_secs(10));

    // ^C ends the foreground program, not the shell.
    t.keys(&["sleep 30", "Enter"]);
    std::thread::sleep(Duration::from_millis(500));
    let before = Instant::now();
    t.keys(&["C-c"]);
    t.wait_for("sidecar$", 3, Duration::from_secs(10));
    assert!(
        before.elapsed() < Duration::from_secs(1),
        "^C took {:?}",
        before.elapsed()
    );
    t.keys(&["echo st=$?", "Enter"]);
    t.wait_for("st=130", 1, Duration::from_secs(10));

    // ^C at the prompt gives a new prompt.
    t.keys(&["C-c"]);
    t.wait_for("sidecar$", 5, Duration::from_secs(10));
    t.keys(&["echo still $((6*7))", "Enter"]);
    let s = t.wait_for("still 42", 1, Duration::from_secs(10));
    assert!(s.contains("\n3\n"), "no wc output; screen:\n{s}");

    // ls / lists the VM root.
    t.keys(&["clear; ls /", "Enter"]);
    let s = t.wait_for("usr", 1, Duration::from_secs(10));
    assert!(s.contains("bin") && s.contains("tmp"), "ls /: screen:\n{s}");

    // stty size follows the pane.
    t.keys(&["clear; stty size", "Enter"]);
    t.wait_for("24 80", 1, Duration::from_secs(10));
    t.run(&["resize-window", "-t", "t", "-x", "100", "-y", "30"]);
    t.keys(&["clear; stty size", "Enter"]);
    t.wait_for("30 100", 1, Duration::from_secs(10));

    // A full-screen program: less fills the window and follows a resize.
    t.keys(&["clear; seq 1 200 > /tmp/n.txt; less /tmp/n.txt", "Enter"]);
    t.wait_for("29\n/tmp/n.txt", 1, Duration::from_secs(10));
    t.run(&["resize-window", "-t", "t", "-x", "80", "-y", "24"]);
    t.wait_for("23\n/tmp/n.txt", 1, Duration::from_secs(10));
    t.keys(&["q"]);
    t.keys(&["clear; echo back from less", "Enter"]);
    t.wait_for("back from less\nsidecar$", 1, Duration::from_secs(10));

    t.keys(&["exit", "Enter"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !status.exists() {
        assert!(Instant::now() < deadline, "sidecar did not exit");
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(std::fs::read_to_string(&status).unwrap().trim(), "exit=0");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two guests over a PTY: a small terminal emulator spawns dash on the
/// slave, types into the master and reads the answer back.
#[test]
fn terminal_emulator_guest_drives_dash_over_a_pty() {
    let dir = std::env::temp_dir().join(format!("sidecar-emu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("vm.toml");
    std::fs::write(
        &config,
        format!(
            "root = {:?}\n[[mounts]]\nhost = {:?}\nguest = \"/guests\"\n\
             [[guest]]\nname = \"emu\"\nwasm = \"/guests/wasm/term_emu.wasm\"\n\
             args = [\"term_emu\", \"/bin/sh\", \"echo $((6*7))\", \"42\"]\n",
            shell_root(),
            common::guest_dir()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("run").arg(&config);
    let out = common::run(cmd, Duration::from_secs(60));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "shell answered 42\nshell exited 0\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
