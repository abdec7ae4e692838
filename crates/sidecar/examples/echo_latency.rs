//! Keystroke-to-echo latency of a terminal on an X display, for
//! `scripts/bench/desktop`: sends one key with XTEST and times how long
//! until the server reports damage (DAMAGE extension) inside the terminal's
//! window, i.e. until the terminal has drawn the echo. Alternates `a` and
//! BackSpace so that the line never fills. Prints one latency per line, in
//! milliseconds.
//!
//!   cargo run --release --example echo_latency -- :99 0x400022 200
//!
//! The window id is what `sidecar wait --window xterm` prints.

use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::damage::{ConnectionExt as _, ReportLevel};
use x11rb::protocol::xproto::{ConnectionExt as _, KEY_PRESS_EVENT, KEY_RELEASE_EVENT};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::protocol::Event;
use x11rb::wrapper::ConnectionExt as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, display, window, count] = &args[..] else {
        return Err("usage: echo_latency DISPLAY WINDOW-ID COUNT".into());
    };
    let window = u32::from_str_radix(window.trim_start_matches("0x"), 16)?;
    let count: usize = count.parse()?;
    let (conn, screen) = x11rb::connect(Some(display))?;
    let root = conn.setup().roots[screen].root;
    conn.damage_query_version(1, 1)?.reply()?;
    conn.xtest_get_version(2, 2)?.reply()?;
    let keycode = |sym: u32| -> Result<u8, Box<dyn std::error::Error>> {
        let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let map = conn.get_keyboard_mapping(min, max - min + 1)?.reply()?;
        let per = usize::from(map.keysyms_per_keycode);
        let i = map
            .keysyms
            .iter()
            .position(|&s| s == sym)
            .ok_or("keysym not in the keymap")?;
        Ok(min + (i / per) as u8)
    };
    let keys = [keycode(0x61)?, keycode(0xff08)?]; // a, BackSpace
    let d = conn.generate_id()?;
    conn.damage_create(d, window, ReportLevel::NON_EMPTY)?;
    conn.sync()?;
    for i in 0..count {
        conn.damage_subtract(d, x11rb::NONE, x11rb::NONE)?;
        while conn.poll_for_event()?.is_some() {}
        let key = keys[i % 2];
        let start = Instant::now();
        conn.xtest_fake_input(KEY_PRESS_EVENT, key, 0, root, 0, 0, 0)?;
        conn.xtest_fake_input(KEY_RELEASE_EVENT, key, 0, root, 0, 0, 0)?;
        conn.flush()?;
        loop {
            match conn.wait_for_event()? {
                Event::DamageNotify(_) => break,
                _ => continue,
            }
        }
        let took = start.elapsed();
        println!("{:.3}", took.as_secs_f64() * 1000.0);
        if took > Duration::from_secs(5) {
            return Err("no echo within 5 s".into());
        }
    }
    Ok(())
}
