//! E_handle_events end to end: pipes, timers and exit requests, checking the
//! order callbacks run in.

use super::fds::{FdCallback, HIGH_PRIORITY, LOW_PRIORITY, MEDIUM_PRIORITY, READ_FD};
use super::*;
use libc::{c_int, c_void};
use std::ptr::null_mut;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const R: c_int = READ_FD as c_int;
const LOW: c_int = LOW_PRIORITY as c_int;
const MED: c_int = MEDIUM_PRIORITY as c_int;
const HIGH: c_int = HIGH_PRIORITY as c_int;

/// What the callbacks did, one letter each.
static LOG: Mutex<String> = Mutex::new(String::new());

fn log(code: c_int) {
    LOG.lock().unwrap().push(code as u8 as char);
}

fn take_log() -> String {
    std::mem::take(&mut *LOG.lock().unwrap())
}

fn letter(c: char) -> c_int {
    c as c_int
}

fn ms(n: libc::c_long) -> crate::types::SpTime {
    crate::types::SpTime {
        sec: n / 1000,
        usec: (n % 1000) * 1000,
    }
}

struct Pipe {
    r: c_int,
    w: c_int,
}

impl Pipe {
    fn new() -> Pipe {
        let mut ends = [-1; 2];
        // SAFETY: `ends` has room for the two descriptors pipe(2) writes.
        assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
        Pipe {
            r: ends[0],
            w: ends[1],
        }
    }

    fn filled() -> Pipe {
        let p = Pipe::new();
        put(p.w);
        p
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // SAFETY: both ends are descriptors this Pipe made and owns, closed
        // only here.
        unsafe {
            libc::close(self.r);
            libc::close(self.w);
        }
    }
}

fn put(fd: c_int) {
    // SAFETY: writing one byte from a static buffer.
    assert_eq!(unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) }, 1);
}

fn take(fd: c_int) {
    let mut b = 0u8;
    // SAFETY: reading at most one byte into a local byte.
    unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) };
}

/// Reads the byte that made it ready, then logs.
extern "C" fn read_and_log(fd: c_int, code: c_int, _data: *mut c_void) {
    take(fd);
    log(code);
}

/// Leaves the descriptor ready; exits after five entries in the log.
extern "C" fn log_and_stay_ready(_fd: c_int, code: c_int, _data: *mut c_void) {
    log(code);
    if LOG.lock().unwrap().len() >= 5 {
        E_exit_events();
    }
}

extern "C" fn log_timer(code: c_int, _data: *mut c_void) {
    log(code);
}

extern "C" fn exit_timer(code: c_int, _data: *mut c_void) {
    log(code);
    E_exit_events();
}

/// `data` points to the write ends to make ready.
extern "C" fn write_timer(code: c_int, data: *mut c_void) {
    // SAFETY: the only queueing of this timer passes a leaked (so 'static,
    // never mutated) Vec<c_int> as `data`.
    let fds = unsafe { &*(data as *const Vec<c_int>) };
    for &fd in fds {
        put(fd);
    }
    log(code);
}

/// Exits after `ms`, and a watchdog ('W') after 5 s in case the test's
/// expectation of an earlier exit is wrong.
fn exit_after(ms_: libc::c_long) {
    assert_eq!(
        E_queue(Some(exit_timer), letter('X'), null_mut(), ms(ms_)),
        0
    );
    assert_eq!(
        E_queue(Some(exit_timer), letter('W'), null_mut(), ms(5000)),
        0
    );
}

/// Runs the loop on another thread so that a hang (a deadlock, a lost
/// wake-up) fails the test instead of stalling it.
fn run_loop() -> Duration {
    let (done, finished) = mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        E_handle_events();
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(10))
        .expect("E_handle_events did not return");
    start.elapsed()
}

#[test]
fn priorities_and_timers_in_the_documented_order() {
    let _l = test_lock();
    E_init();
    take_log();
    let (h, m, l) = (Pipe::new(), Pipe::new(), Pipe::new());
    assert_eq!(
        E_attach_fd(h.r, R, Some(read_and_log), letter('H'), null_mut(), HIGH),
        0
    );
    assert_eq!(
        E_attach_fd(m.r, R, Some(read_and_log), letter('M'), null_mut(), MED),
        0
    );
    assert_eq!(
        E_attach_fd(l.r, R, Some(read_and_log), letter('L'), null_mut(), LOW),
        0
    );
    let writers: &'static Vec<c_int> = Box::leak(Box::new(vec![l.w, m.w, h.w]));
    let data = writers as *const Vec<c_int> as *mut c_void;
    assert_eq!(E_queue(Some(write_timer), letter('w'), data, ms(10)), 0);
    // Far enough after the write that a busy machine still has MEDIUM's
    // pass in between.
    exit_after(300);

    let took = run_loop();
    // The pass after the write serves all ready HIGH descriptors, skips
    // MEDIUM, and still serves one LOW one; MEDIUM gets the next pass.
    assert_eq!(take_log(), "wHLMX");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn low_priority_is_served_round_robin() {
    let _l = test_lock();
    E_init();
    take_log();
    let (a, b) = (Pipe::filled(), Pipe::filled());
    E_attach_fd(
        a.r,
        R,
        Some(log_and_stay_ready),
        letter('a'),
        null_mut(),
        LOW,
    );
    E_attach_fd(
        b.r,
        R,
        Some(log_and_stay_ready),
        letter('b'),
        null_mut(),
        LOW,
    );
    exit_after(3000);
    run_loop();
    assert_eq!(take_log(), "ababa");
}

#[test]
fn threshold_keeps_low_waiting_until_lowered() {
    let _l = test_lock();
    E_init();
    take_log();
    let (m, l) = (Pipe::filled(), Pipe::filled());
    E_attach_fd(m.r, R, Some(read_and_log), letter('M'), null_mut(), MED);
    E_attach_fd(l.r, R, Some(read_and_log), letter('L'), null_mut(), LOW);
    assert_eq!(E_set_active_threshold(MED), MED);
    exit_after(40);
    run_loop();
    assert_eq!(take_log(), "MX");

    // The loop may be entered again; everything registered is still there.
    assert_eq!(E_set_active_threshold(LOW), LOW);
    exit_after(40);
    run_loop();
    assert_eq!(take_log(), "LX");
}

#[test]
fn descriptors_ready_at_entry_go_before_due_timers() {
    let _l = test_lock();
    E_init();
    take_log();
    let h = Pipe::filled();
    E_attach_fd(h.r, R, Some(read_and_log), letter('H'), null_mut(), HIGH);
    E_queue(Some(exit_timer), letter('T'), null_mut(), ms(0));
    E_queue(Some(exit_timer), letter('W'), null_mut(), ms(5000));
    run_loop();
    assert_eq!(take_log(), "HT");
}

#[test]
fn timers_fire_in_deadline_order() {
    let _l = test_lock();
    E_init();
    take_log();
    E_queue(Some(log_timer), letter('c'), null_mut(), ms(30));
    E_queue(Some(log_timer), letter('a'), null_mut(), ms(10));
    E_queue(Some(log_timer), letter('b'), null_mut(), ms(20));
    E_queue(Some(log_timer), letter('z'), null_mut(), ms(15));
    // Re-queueing moves 'z' after 'c'.
    E_queue(Some(log_timer), letter('z'), null_mut(), ms(35));
    exit_after(50);
    let took = run_loop();
    assert_eq!(take_log(), "abczX");
    assert!(took >= Duration::from_millis(50), "{took:?}");
}

static REENTRANT_PIPE: Mutex<Option<(c_int, c_int)>> = Mutex::new(None);

/// Attaches a ready HIGH descriptor, queues and dequeues timers.
extern "C" fn reentrant_timer(code: c_int, _data: *mut c_void) {
    log(code);
    let (r, w) = REENTRANT_PIPE.lock().unwrap().unwrap();
    put(w);
    assert_eq!(
        E_attach_fd(r, R, Some(reentrant_fd), letter('F'), null_mut(), HIGH),
        0
    );
    assert_eq!(
        E_queue(Some(log_timer), letter('2'), null_mut(), ms(1000)),
        0
    );
    assert_eq!(E_dequeue(Some(log_timer), letter('3'), null_mut()), 0);
    assert_eq!(E_in_queue(Some(log_timer), letter('2'), null_mut()), 1);
}

/// Detaches itself, dequeues the timer queued above, and exits.
extern "C" fn reentrant_fd(fd: c_int, code: c_int, _data: *mut c_void) {
    take(fd);
    log(code);
    assert_eq!(E_detach_fd(fd, R), 0);
    assert_eq!(E_dequeue(Some(log_timer), letter('2'), null_mut()), 0);
    E_exit_events();
}

#[test]
fn callbacks_may_use_the_api() {
    let _l = test_lock();
    E_init();
    take_log();
    let p = Pipe::new();
    *REENTRANT_PIPE.lock().unwrap() = Some((p.r, p.w));
    E_queue(Some(reentrant_timer), letter('1'), null_mut(), ms(5));
    E_queue(Some(log_timer), letter('3'), null_mut(), ms(30));
    E_queue(Some(exit_timer), letter('W'), null_mut(), ms(5000));
    run_loop();
    assert_eq!(take_log(), "1F");
    assert_eq!(E_num_active(HIGH), 0);
    assert_eq!(E_in_queue(Some(log_timer), letter('3'), null_mut()), 0);
    assert_eq!(E_in_queue(Some(exit_timer), letter('W'), null_mut()), 1);
}

static VICTIM: Mutex<c_int> = Mutex::new(-1);

extern "C" fn detach_victim(fd: c_int, code: c_int, _data: *mut c_void) {
    take(fd);
    log(code);
    E_detach_fd(*VICTIM.lock().unwrap(), R);
}

extern "C" fn deactivate_victim(fd: c_int, code: c_int, _data: *mut c_void) {
    take(fd);
    log(code);
    E_deactivate_fd(*VICTIM.lock().unwrap(), R);
}

#[test]
fn detached_or_deactivated_in_the_same_pass_is_not_called() {
    for killer in [detach_victim as FdCallback, deactivate_victim] {
        let _l = test_lock();
        E_init();
        take_log();
        let (a, b) = (Pipe::filled(), Pipe::filled());
        *VICTIM.lock().unwrap() = b.r;
        E_attach_fd(a.r, R, Some(killer), letter('A'), null_mut(), HIGH);
        E_attach_fd(b.r, R, Some(read_and_log), letter('B'), null_mut(), HIGH);
        exit_after(40);
        run_loop();
        assert_eq!(take_log(), "AX");
    }
}

#[test]
fn exit_requested_before_the_loop_is_forgotten() {
    let _l = test_lock();
    E_init();
    take_log();
    E_exit_events();
    E_exit_events_async_safe();
    E_queue(Some(log_timer), letter('t'), null_mut(), ms(10));
    exit_after(30);
    run_loop();
    assert_eq!(take_log(), "tX");
}

#[test]
fn async_safe_exit_from_another_thread_wakes_a_blocked_loop() {
    let _l = test_lock();
    E_init();
    take_log();
    // No timers and no descriptors: the loop blocks in poll (for 10000 s),
    // so only the wake-up pipe can end it. Asked repeatedly because a
    // request made before the loop starts is forgotten, as in 5.0.1.
    let waker = repeat_until_done(|| E_exit_events_async_safe());
    let took = run_loop();
    waker.finish();
    assert!(took >= Duration::from_millis(90), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(take_log(), "");
}

/// A thread calling `f` every 100 ms (first after 100 ms) until finished.
struct Repeater {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

fn repeat_until_done(f: fn()) -> Repeater {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let thread = std::thread::spawn(move || {
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            f();
        }
    });
    Repeater { done, thread }
}

impl Repeater {
    fn finish(self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}

extern "C" fn on_sigusr1(_sig: c_int) {
    E_exit_events_async_safe();
}

#[test]
fn async_safe_exit_from_a_signal_handler() {
    let _l = test_lock();
    E_init();
    take_log();
    // SAFETY: an all-zero sigaction is a valid value (no flags, empty
    // mask), filled in with a handler that only calls the async-signal-safe
    // E_exit_events_async_safe; `sa` outlives the sigaction(2) call.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigusr1 as extern "C" fn(c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, null_mut()), 0);
    }
    // raise() signals the calling thread: the handler runs on the
    // repeater's thread, not the loop's (so only the wake-up pipe can end
    // the loop's poll), and no other test's thread is interrupted.
    let signaller = repeat_until_done(|| {
        // SAFETY: SIGUSR1's handler was installed above, so raising it runs
        // that handler instead of ending the process.
        unsafe { libc::raise(libc::SIGUSR1) };
    });
    let took = run_loop();
    signaller.finish();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(take_log(), "");
}
