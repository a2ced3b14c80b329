//! The event API through the real C ABI: a C program compiled against
//! include/sp.h and linked with the built libspread.so does time arithmetic
//! (sp_time passed and returned by value), runs E_handle_events with pipes
//! and timers, and leaves a loop blocked with nothing registered through a
//! SIGALRM handler calling E_exit_events_async_safe.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const PROGRAM: &str = r#"
#define _DEFAULT_SOURCE
#include <sp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "FAIL: line %d: %s\n", __LINE__, #cond); return 1; } } while (0)

static char order[64];
static int used;
static int writers[3];

static void note(int code) { if (used < 63) order[used++] = (char)code; }

static void on_read(int fd, int code, void *data)
{
    char b;
    (void)data;
    if (read(fd, &b, 1) == 1) note(code);
}

static void write_all(int code, void *data)
{
    (void)data;
    for (int i = 0; i < 3; i++)
        if (write(writers[i], "x", 1) != 1) note('!');
    note(code);
}

static void stop(int code, void *data)
{
    (void)data;
    note(code);
    E_exit_events();
}

static void on_alarm(int sig)
{
    (void)sig;
    E_exit_events_async_safe();
}

static int same(sp_time t, long sec, long usec) { return t.sec == sec && t.usec == usec; }

int main(void)
{
    sp_time a = {1, 600000}, b = {0, 500000}, zero = {0, 0};
    CHECK(E_init() == 0);
    CHECK(same(E_add_time(a, b), 2, 100000));
    CHECK(same(E_sub_time(b, a), -1, -100000));
    CHECK(same(E_neg_time(a), -1, -600000));
    CHECK(E_compare_time(a, b) == 1 && E_compare_time(b, a) == -1 && E_compare_time(a, a) == 0);
    CHECK(E_compare_time(E_get_time_monotonic(), zero) == 1);
    CHECK(E_get_time().sec > 1000000000L);

    int h[2], m[2], l[2];
    CHECK(pipe(h) == 0 && pipe(m) == 0 && pipe(l) == 0);
    writers[0] = l[1]; writers[1] = m[1]; writers[2] = h[1];
    CHECK(E_attach_fd(h[0], READ_FD, on_read, 'H', NULL, HIGH_PRIORITY) == 0);
    CHECK(E_attach_fd(m[0], READ_FD, on_read, 'M', NULL, MEDIUM_PRIORITY) == 0);
    CHECK(E_attach_fd(l[0], READ_FD, on_read, 'L', NULL, LOW_PRIORITY) == 0);
    CHECK(E_attach_fd(l[0], READ_FD, on_read, 'L', NULL, LOW_PRIORITY) == 1);
    CHECK(E_attach_fd(l[0], READ_FD, on_read, 'L', NULL, NUM_PRIORITY) == -1);
    CHECK(E_num_active(LOW_PRIORITY) == 1 && E_num_active(NUM_PRIORITY) == -1);

    sp_time ten_ms = {0, 10000}, sixty_ms = {0, 60000};
    CHECK(E_queue(write_all, 'w', NULL, ten_ms) == 0);
    CHECK(E_queue(stop, 'X', NULL, sixty_ms) == 0);
    CHECK(E_in_queue(stop, 'X', NULL) == 1);
    E_handle_events();
    order[used] = '\0';
    if (strcmp(order, "wHLMX") != 0) {
        fprintf(stderr, "FAIL: order %s\n", order);
        return 1;
    }

    CHECK(E_detach_fd(h[0], READ_FD) == 0);
    CHECK(E_detach_fd(m[0], READ_FD) == 0);
    CHECK(E_detach_fd(l[0], READ_FD) == 0);
    CHECK(E_detach_fd(l[0], READ_FD) == -1);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    struct itimerval in_100ms = {{0, 0}, {0, 100000}};
    CHECK(setitimer(ITIMER_REAL, &in_100ms, NULL) == 0);
    E_handle_events(); /* nothing registered: only the signal ends it */

    printf("ok\n");
    return 0;
}
"#;

/// Where cargo put libspread.so for this test run.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap().to_path_buf();
    [deps.clone(), deps.parent().unwrap().to_path_buf()]
        .into_iter()
        .find(|d| d.join("libspread.so").exists())
        .expect("libspread.so next to the test binary")
}

#[test]
fn event_loop_through_the_c_abi() {
    // A requirement of the tests (README): missing, this fails, never passes.
    Command::new("cc")
        .arg("--version")
        .output()
        .expect("a C compiler (cc): install gcc");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = out.join("events_c_abi.c");
    let bin = out.join("events_c_abi");
    std::fs::write(&src, PROGRAM).unwrap();
    let lib = library_dir();
    // The library's soname is Spread's libspread.so.3, which is what the
    // program will look for at run time.
    let run_dir = out.join("events_c_abi_lib");
    std::fs::create_dir_all(&run_dir).unwrap();
    let soname = run_dir.join("libspread.so.3");
    let _ = std::fs::remove_file(&soname);
    std::os::unix::fs::symlink(lib.join("libspread.so"), &soname).unwrap();
    let include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include");
    let cc = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(&include)
        .arg(&src)
        .arg("-o")
        .arg(&bin)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", run_dir.display()))
        .arg("-lspread")
        .output()
        .unwrap();
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );

    let mut child = Command::new(&bin)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the C program hung in E_handle_events");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let run = child.wait_with_output().unwrap();
    assert!(
        run.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout), "ok\n");
}
