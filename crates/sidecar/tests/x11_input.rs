//! `sidecar input`: text and key chords sent with XTEST reach the focused
//! window as the key events a user's typing makes, Shift where the keymap
//! needs it, and the command returns after the server has handled them.
//! The server is Debian's native Xvfb (ready through -displayfd); the
//! window is this test's own, which records what it receives.

use std::process::Command;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ConnectionExt, CreateWindowAux, EventMask, KeyButMask, PropMode, WindowClass,
};
use x11rb::protocol::Event;
use x11rb::wrapper::ConnectionExt as _;

mod common;

use common::{native_xvfb, SIDECAR};

fn sidecar(display: &str, args: &[&str]) {
    let status = Command::new(SIDECAR)
        .args(args[..1].iter())
        .args(["--display", display])
        .args(&args[1..])
        .status()
        .unwrap();
    assert!(status.success(), "sidecar {args:?}: {status}");
}

#[test]
fn typed_text_and_chords_arrive_as_key_events() {
    let (_server, display) = native_xvfb();

    let (conn, screen) = x11rb::connect(Some(&display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let win = conn.generate_id().unwrap();
    let aux = CreateWindowAux::new().event_mask(EventMask::KEY_PRESS);
    conn.create_window(
        0,
        win,
        root,
        0,
        0,
        100,
        100,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &aux,
    )
    .unwrap();
    conn.change_property8(
        PropMode::REPLACE,
        win,
        AtomEnum::WM_NAME,
        AtomEnum::STRING,
        b"typing-target",
    )
    .unwrap();
    conn.map_window(win).unwrap();
    conn.flush().unwrap();
    sidecar(
        &display,
        &["wait", "--window", "typing-target", "--timeout", "30"],
    );
    sidecar(&display, &["input", "focus", "typing-target"]);
    let text = "Hello, World! ~`_{}|<>?\n\t0";
    sidecar(&display, &["input", "type", text]);
    sidecar(&display, &["input", "key", "ctrl+c", "shift+Tab", "Return"]);

    // What the window got, keysyms through the same keymap.
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let map = conn
        .get_keyboard_mapping(min, max - min + 1)
        .unwrap()
        .reply()
        .unwrap();
    let per = usize::from(map.keysyms_per_keycode);
    conn.sync().unwrap();
    let mut got = String::new();
    while let Some(event) = conn.poll_for_event().unwrap() {
        let Event::KeyPress(k) = event else { continue };
        let shift = k.state.contains(KeyButMask::SHIFT);
        let syms = &map.keysyms[usize::from(k.detail - min) * per..][..per];
        let sym = if shift && syms[1] != 0 {
            syms[1]
        } else {
            syms[0]
        };
        match sym {
            0xffe1 | 0xffe3 => {} // the modifiers themselves
            0xff0d => got.push('\n'),
            0xfe20 => got.push_str("<S-Tab>"), // ISO_Left_Tab: Tab's shifted column
            0xff09 => got.push('\t'),
            s if k.state.contains(KeyButMask::CONTROL) => {
                got.push_str(&format!("<C-{}>", char::from_u32(s).unwrap()))
            }
            s => got.push(char::from_u32(s).unwrap()),
        }
    }
    assert_eq!(got, format!("{text}<C-c><S-Tab>\n"));
}
