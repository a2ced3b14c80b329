//! What an event loop uses, against a scripted daemon: `try_receive` (it
//! never blocks, keeps what a partial read got, and hands over to the
//! blocking receive in the middle of a frame), `send_room` and
//! `hold_sends`.

use spread_core::client::Mailbox;
use spread_core::consts::*;
use spread_core::wire::encode::request_head;
use spread_core::wire::handshake::{encode_accept, encode_auth_list};
use spread_core::wire::{ByteOrder, Message};
use spread_core::GroupName;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = request_head(
        AGREED_MESS,
        &GroupName::from("#peer#d"),
        &[GroupName::from("g")],
        7,
        body.len(),
        ByteOrder::NATIVE,
    );
    f.extend_from_slice(body);
    f
}

/// Accepts one client and runs the daemon's side of its handshake.
fn accept_client(l: &TcpListener) -> TcpStream {
    let (mut s, _) = l.accept().unwrap();
    // Each piece must leave at once (Nagle would hold a small one back
    // until the client's delayed ACK, longer than the tests wait).
    s.set_nodelay(true).unwrap();
    let mut hello = [0u8; 5];
    s.read_exact(&mut hello).unwrap();
    let mut name = vec![0u8; hello[4] as usize];
    s.read_exact(&mut name).unwrap();
    s.write_all(&encode_auth_list(&["NULL"])).unwrap();
    let mut choice = [0u8; AUTH_CHOICE_LEN];
    s.read_exact(&mut choice).unwrap();
    s.write_all(&encode_accept(true, &GroupName::from("#me#d")))
        .unwrap();
    s
}

/// A daemon that accepts one client, then writes each piece it is sent.
fn scripted_daemon() -> (String, mpsc::Sender<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut s = accept_client(&l);
        for piece in rx {
            s.write_all(&piece).unwrap();
        }
    });
    (format!("{port}@127.0.0.1"), tx)
}

fn until_some(m: &Mailbox) -> Message {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(msg) = m.try_receive().unwrap() {
            return msg;
        }
        assert!(Instant::now() < end, "no message within 5 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn data(msg: Message) -> Vec<u8> {
    match msg {
        Message::Data(d) => {
            assert_eq!(d.mess_type, 7);
            d.data
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn partial_frames_are_kept_until_whole() {
    let (daemon, tx) = scripted_daemon();
    let m = Mailbox::connect(&daemon, Some("me"), 0, true).unwrap();
    assert_eq!(m.try_receive().unwrap(), None);

    let body: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let f = frame(&body);
    // Cut inside the header, then inside the names, then inside the body.
    for piece in [&f[..20], &f[20..60], &f[60..5000]] {
        tx.send(piece.to_vec()).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        let t = Instant::now();
        assert_eq!(m.try_receive().unwrap(), None);
        assert!(
            t.elapsed() < Duration::from_millis(20),
            "try_receive blocked"
        );
    }
    let mut tail = f[5000..].to_vec();
    tail.extend_from_slice(&frame(b"next"));
    tx.send(tail).unwrap();
    assert_eq!(data(until_some(&m)), body);
    assert_eq!(data(until_some(&m)), b"next");
    assert_eq!(m.try_receive().unwrap(), None);
}

#[test]
fn a_blocking_receive_finishes_what_try_receive_began() {
    let (daemon, tx) = scripted_daemon();
    let m = Mailbox::connect(&daemon, Some("me"), 0, true).unwrap();
    let f = frame(b"split between the two kinds of receive");
    tx.send(f[..30].to_vec()).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(m.try_receive().unwrap(), None);
    tx.send(f[30..70].to_vec()).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(m.try_receive().unwrap(), None);
    // A receive with a timeout sees the started message at once.
    tx.send(f[70..].to_vec()).unwrap();
    let msg = m
        .receive_timeout(Duration::from_millis(1))
        .unwrap()
        .unwrap();
    assert_eq!(data(msg), b"split between the two kinds of receive");
}

#[test]
fn a_closed_connection_is_an_error_not_none() {
    let (daemon, tx) = scripted_daemon();
    let m = Mailbox::connect(&daemon, Some("me"), 0, true).unwrap();
    tx.send(frame(b"x")[..10].to_vec()).unwrap();
    drop(tx);
    let end = Instant::now() + Duration::from_secs(5);
    let err = loop {
        match m.try_receive() {
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(2)),
            Ok(other) => panic!("{other:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.code(), CONNECTION_CLOSED);
    assert_eq!(m.try_receive().unwrap_err().code(), NET_ERROR_ON_SESSION);
    m.kill();
    assert_eq!(m.try_receive().unwrap_err().code(), ILLEGAL_SESSION);
}

#[test]
fn send_room_shrinks_as_the_daemon_falls_behind() {
    // The scripted daemon never reads after the handshake.
    let (daemon, _tx) = scripted_daemon();
    let m = Mailbox::connect(&daemon, Some("me"), 0, true).unwrap();
    let empty = m.send_room();
    assert!(empty > 10_000, "an idle socket has room: {empty}");
    let body = vec![0u8; 10_000];
    let mut sent = 0;
    while m.send_room() >= 2 * (body.len() + 100) {
        let t = Instant::now();
        m.multicast(AGREED_MESS, "g", 0, &body).unwrap();
        assert!(
            t.elapsed() < Duration::from_millis(200),
            "a send with room blocked"
        );
        sent += 1;
        assert!(sent < 10_000, "the room never ran out");
    }
    assert!(sent > 0 && m.send_room() < empty);
}

#[test]
fn sends_held_on_tcp_leave_when_released() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (got_tx, got_rx) = mpsc::channel::<usize>();
    std::thread::spawn(move || {
        let mut s = accept_client(&l);
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got_tx.send(n).unwrap(),
            }
        }
    });
    let m = Mailbox::connect(&format!("{port}@127.0.0.1"), Some("me"), 0, true).unwrap();
    assert!(m.hold_sends(true), "TCP can hold");
    for _ in 0..3 {
        m.multicast(AGREED_MESS, "g", 0, b"small").unwrap();
    }
    // Held: nothing reaches the daemon (TCP_CORK waits up to 200 ms).
    assert!(got_rx.recv_timeout(Duration::from_millis(100)).is_err());
    assert!(m.hold_sends(false));
    let mut total = 0;
    while total < 3 * (HEADER_LEN + MAX_GROUP_NAME + 5) {
        total += got_rx.recv_timeout(Duration::from_secs(2)).unwrap();
    }
    assert_eq!(total, 3 * (HEADER_LEN + MAX_GROUP_NAME + 5));
}

#[test]
fn a_frame_that_cannot_be_framed_ends_the_session() {
    let (daemon, tx) = scripted_daemon();
    let m = Mailbox::connect(&daemon, Some("me"), 0, true).unwrap();
    let mut f = frame(b"x");
    // data_len = -5: where the next message starts is unknown.
    f[44..48].copy_from_slice(&(-5i32).to_ne_bytes());
    tx.send(f).unwrap();
    tx.send(frame(b"after")).unwrap();
    assert_eq!(
        m.receive_timeout(Duration::from_secs(5))
            .unwrap_err()
            .code(),
        ILLEGAL_MESSAGE
    );
    // Not the same error for ever, nor the next frame read from a guess.
    assert_eq!(m.try_receive().unwrap_err().code(), NET_ERROR_ON_SESSION);
    assert_eq!(m.receive().unwrap_err().code(), NET_ERROR_ON_SESSION);
}

#[test]
fn poll_counts_a_message_that_try_receive_has_begun() {
    let (daemon, tx) = scripted_daemon();
    let m = Mailbox::connect(&daemon, Some("me"), 0, true).unwrap();
    let f = frame(b"begun");
    tx.send(f[..60].to_vec()).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(m.try_receive().unwrap(), None);
    assert_eq!(m.poll().unwrap(), 60);
    tx.send(f[60..].to_vec()).unwrap();
    assert_eq!(data(until_some(&m)), b"begun");
    assert_eq!(m.poll().unwrap(), 0);
}

#[test]
fn disconnect_does_not_wait_for_a_send_stuck_on_a_stalled_daemon() {
    // The scripted daemon never reads: sends fill the socket, then block.
    let (daemon, _tx) = scripted_daemon();
    let m = std::sync::Arc::new(Mailbox::connect(&daemon, Some("me"), 0, true).unwrap());
    let sender = {
        let m = m.clone();
        std::thread::spawn(move || {
            let body = vec![0u8; 100_000];
            loop {
                if let Err(e) = m.multicast(AGREED_MESS, "g", 0, &body) {
                    return e;
                }
            }
        })
    };
    while m.send_room() > 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    m.disconnect().unwrap();
    assert!(t.elapsed() < Duration::from_secs(1), "disconnect waited");
    // The blocked sender is woken with an error.
    let err = sender.join().unwrap();
    assert!(
        matches!(err.code(), CONNECTION_CLOSED | ILLEGAL_SESSION),
        "{err}"
    );
}

/// The largest single allocation this test binary has made: no test here
/// needs more than a few hundred KB at once, so a buffer sized by a
/// header's claim stands out whatever runs in parallel.
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: every call is passed on unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), AtomicOrdering::Relaxed);
        // SAFETY: the caller's contract for `alloc` holds for `System`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), AtomicOrdering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, AtomicOrdering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn a_claimed_length_alone_allocates_nothing() {
    let (daemon, tx) = scripted_daemon();
    let m = Mailbox::connect(&daemon, Some("me"), 0, true).unwrap();
    // A header that claims 120 MB of body, then 10 bytes of it.
    let claimed: i32 = 120 << 20;
    // Built for 10 bytes, then the claim patched in (request_head would
    // reserve the claimed length here, in the test).
    let mut f = frame(&[0u8; 10]);
    f[44..48].copy_from_slice(&claimed.to_ne_bytes());
    tx.send(f).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(m.try_receive().unwrap(), None);
    let largest = LARGEST.load(AtomicOrdering::Relaxed);
    assert!(
        largest < 16 << 20,
        "the client allocated {largest} bytes for 10"
    );
    // The blocking path too: it waits for the rest without holding 120 MB.
    let waiter = std::thread::spawn(move || m.receive_timeout(Duration::from_secs(1)));
    std::thread::sleep(Duration::from_millis(300));
    let largest = LARGEST.load(AtomicOrdering::Relaxed);
    assert!(
        largest < 16 << 20,
        "the blocking receive allocated {largest} bytes for 10"
    );
    drop(tx);
    assert!(waiter.join().unwrap().is_err());
}
