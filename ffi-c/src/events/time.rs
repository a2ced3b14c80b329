//! sp_time arithmetic and the two clocks: the wall clock for callers, the
//! monotonic one for timers.
#![allow(non_snake_case)]

use super::guard;
use crate::types::SpTime;
use libc::{c_int, c_long};

const USEC_PER_SEC: c_long = 1_000_000;
const USEC_PER_SEC_I64: i64 = 1_000_000;

/// Wrapping rather than overflow-checked arithmetic: C callers may pass
/// anything, and a panic here would only become a zero time anyway.
pub(crate) fn add(t: SpTime, delta: SpTime) -> SpTime {
    let mut sec = t.sec.wrapping_add(delta.sec);
    let mut usec = t.usec.wrapping_add(delta.usec);
    // 5.0.1 promises callers a usec in (-1e6, 1e6), so one carry restores
    // that range for the sum.
    if usec >= USEC_PER_SEC {
        usec -= USEC_PER_SEC;
        sec = sec.wrapping_add(1);
    } else if usec <= -USEC_PER_SEC {
        usec += USEC_PER_SEC;
        sec = sec.wrapping_sub(1);
    }
    // A shared sign makes the field-by-field comparison of E_compare_time
    // agree with the real order.
    if sec > 0 && usec < 0 {
        usec += USEC_PER_SEC;
        sec -= 1;
    } else if sec < 0 && usec > 0 {
        usec -= USEC_PER_SEC;
        sec += 1;
    }
    SpTime { sec, usec }
}

pub(crate) fn neg(t: SpTime) -> SpTime {
    SpTime {
        sec: t.sec.wrapping_neg(),
        usec: t.usec.wrapping_neg(),
    }
}

pub(crate) fn sub(t: SpTime, delta: SpTime) -> SpTime {
    add(t, neg(delta))
}

pub(crate) fn compare(t1: SpTime, t2: SpTime) -> c_int {
    match (t1.sec, t1.usec).cmp(&(t2.sec, t2.usec)) {
        std::cmp::Ordering::Greater => 1,
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
    }
}

/// Timers keep deadlines in microseconds: for normalised times the order
/// is the same as E_compare_time's, and a delta whose usec is out of range
/// still lands where it means to.
// c_long is only 32 bits on some targets, where the conversion is not idle.
#[allow(clippy::useless_conversion)]
pub(crate) fn to_micros(t: SpTime) -> i64 {
    i64::from(t.sec)
        .saturating_mul(USEC_PER_SEC_I64)
        .saturating_add(i64::from(t.usec))
}

#[cfg(test)]
pub(crate) fn from_micros(us: i64) -> SpTime {
    // Truncating division gives sec and usec the same sign, as add() does.
    SpTime {
        sec: (us / USEC_PER_SEC_I64) as c_long,
        usec: (us % USEC_PER_SEC_I64) as c_long,
    }
}

fn read_clock(clock: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec. Both clocks always exist.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts
}

pub(crate) fn wall() -> SpTime {
    let ts = read_clock(libc::CLOCK_REALTIME);
    // Truncated, as gettimeofday reports it.
    SpTime {
        sec: ts.tv_sec as c_long,
        usec: (ts.tv_nsec / 1000) as c_long,
    }
}

pub(crate) fn monotonic() -> SpTime {
    let ts = read_clock(libc::CLOCK_MONOTONIC);
    let mut sec = ts.tv_sec as c_long;
    let mut usec = ((ts.tv_nsec + 500) / 1000) as c_long;
    // Rounding 999_999_500 ns and up would give usec == 1e6 (5.0.1 returns
    // that as is); carry it so the result is normalised.
    if usec >= USEC_PER_SEC {
        usec -= USEC_PER_SEC;
        sec += 1;
    }
    SpTime { sec, usec }
}

pub(crate) fn now_micros() -> i64 {
    to_micros(monotonic())
}

/// Sleeps once, like 5.0.1's `select` with no descriptors: a signal cuts
/// the delay short, and a zero or negative delay returns at once.
pub(crate) fn delay(t: SpTime) {
    let us = to_micros(t);
    if us <= 0 {
        return;
    }
    let ts = libc::timespec {
        tv_sec: (us / USEC_PER_SEC_I64) as libc::time_t,
        tv_nsec: ((us % USEC_PER_SEC_I64) * 1000) as c_long,
    };
    // SAFETY: `ts` is a valid timespec; no remainder is wanted.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

#[no_mangle]
pub extern "C" fn E_get_time() -> SpTime {
    guard(SpTime::default(), wall)
}

#[no_mangle]
pub extern "C" fn E_get_time_monotonic() -> SpTime {
    guard(SpTime::default(), monotonic)
}

#[no_mangle]
pub extern "C" fn E_add_time(t: SpTime, delta_t: SpTime) -> SpTime {
    guard(SpTime::default(), || add(t, delta_t))
}

#[no_mangle]
pub extern "C" fn E_sub_time(t: SpTime, delta_t: SpTime) -> SpTime {
    guard(SpTime::default(), || sub(t, delta_t))
}

#[no_mangle]
pub extern "C" fn E_neg_time(t: SpTime) -> SpTime {
    guard(SpTime::default(), || neg(t))
}

#[no_mangle]
pub extern "C" fn E_compare_time(t1: SpTime, t2: SpTime) -> c_int {
    guard(0, || compare(t1, t2))
}

#[no_mangle]
pub extern "C" fn E_delay(t: SpTime) {
    guard((), || delay(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    fn t(sec: c_long, usec: c_long) -> SpTime {
        SpTime { sec, usec }
    }

    #[test]
    fn add_carries_into_seconds() {
        assert_eq!(E_add_time(t(1, 600_000), t(0, 500_000)), t(2, 100_000));
        assert_eq!(E_add_time(t(1, 999_999), t(0, 1)), t(2, 0));
        assert_eq!(E_add_time(t(-1, -600_000), t(0, -500_000)), t(-2, -100_000));
        assert_eq!(E_add_time(t(-1, -999_999), t(0, -1)), t(-2, 0));
        assert_eq!(E_add_time(t(3, 250_000), t(4, 250_000)), t(7, 500_000));
    }

    #[test]
    fn add_gives_sec_and_usec_one_sign() {
        assert_eq!(E_add_time(t(1, 0), t(0, -300_000)), t(0, 700_000));
        assert_eq!(E_add_time(t(-1, 0), t(0, 300_000)), t(0, -700_000));
        assert_eq!(E_add_time(t(5, 100_000), t(-2, -200_000)), t(2, 900_000));
        assert_eq!(E_add_time(t(2, 100_000), t(-5, -200_000)), t(-3, -100_000));
        assert_eq!(E_add_time(t(1, 0), t(-1, 0)), t(0, 0));
        // sec 0 admits either sign of usec.
        assert_eq!(E_add_time(t(0, 100), t(0, -300)), t(0, -200));
    }

    #[test]
    fn sub_and_neg() {
        assert_eq!(E_neg_time(t(3, 250_000)), t(-3, -250_000));
        assert_eq!(E_neg_time(t(-3, -250_000)), t(3, 250_000));
        assert_eq!(E_sub_time(t(5, 100_000), t(2, 200_000)), t(2, 900_000));
        assert_eq!(E_sub_time(t(1, 0), t(2, 0)), t(-1, 0));
        assert_eq!(E_sub_time(t(0, 100), t(0, 200)), t(0, -100));
        assert_eq!(E_sub_time(t(2, 200_000), t(5, 100_000)), t(-2, -900_000));
        assert_eq!(E_sub_time(t(7, 7), t(7, 7)), t(0, 0));
    }

    #[test]
    fn extreme_values_wrap_instead_of_panicking() {
        let r = E_add_time(t(c_long::MAX, 999_999), t(0, 1));
        assert_eq!(r, t(c_long::MIN, 0));
        assert_eq!(E_neg_time(t(c_long::MIN, 0)), t(c_long::MIN, 0));
    }

    #[test]
    fn compare_orders_by_sec_then_usec() {
        assert_eq!(E_compare_time(t(2, 0), t(1, 999_999)), 1);
        assert_eq!(E_compare_time(t(1, 999_999), t(2, 0)), -1);
        assert_eq!(E_compare_time(t(1, 5), t(1, 4)), 1);
        assert_eq!(E_compare_time(t(1, 4), t(1, 5)), -1);
        assert_eq!(E_compare_time(t(1, 5), t(1, 5)), 0);
        assert_eq!(E_compare_time(t(-1, -5), t(0, -4)), -1);
    }

    #[test]
    fn micros_round_trip_keeps_one_sign() {
        for us in [
            0, 1, -1, 999_999, -999_999, 1_000_000, -1_500_000, 12_345_678,
        ] {
            let st = from_micros(us);
            assert!(st.usec.abs() < 1_000_000);
            assert!(st.sec == 0 || st.usec == 0 || (st.sec > 0) == (st.usec > 0));
            assert_eq!(to_micros(st), us);
        }
    }

    #[test]
    fn clocks_are_normalised_and_plausible() {
        let a = E_get_time_monotonic();
        let b = E_get_time_monotonic();
        assert!((0..1_000_000).contains(&a.usec));
        assert!(E_compare_time(b, a) >= 0);

        let wall = E_get_time();
        let sys = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!((0..1_000_000).contains(&wall.usec));
        assert!((sys.as_secs() as c_long - wall.sec).abs() <= 2);
    }

    #[test]
    fn delay_sleeps_and_ignores_negative() {
        let start = Instant::now();
        E_delay(t(0, 30_000));
        assert!(start.elapsed() >= Duration::from_millis(30));

        let start = Instant::now();
        E_delay(t(-5, 0));
        E_delay(t(0, 0));
        assert!(start.elapsed() < Duration::from_millis(20));
    }
}
