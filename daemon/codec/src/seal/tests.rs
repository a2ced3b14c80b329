use super::*;

fn key(b: u8) -> RingKey {
    RingKey::new(&[b; KEY_LEN])
}

#[test]
fn sealed_datagrams_open_once_and_only_under_their_key() {
    let sealer = Sealer::new(Kind::Daemon, 0x0a00_0001, key(1));
    let mut opener = Opener::new(vec![key(1)]);
    let plain = b"a datagram between daemons".to_vec();
    let sealed = sealer.seal(&plain);
    assert_eq!(sealed.len(), plain.len() + OVERHEAD);
    assert!(looks_sealed(&sealed));
    assert!(!sealed.windows(plain.len()).any(|w| w == plain.as_slice()));
    let opened = opener.open(&sealed, 0, 0).unwrap();
    assert_eq!(opened.plain, plain);
    assert_eq!((opened.kind, opened.sender), (Kind::Daemon, 0x0a00_0001));
    assert_eq!(opener.open(&sealed, 0, 0).unwrap_err(), Refusal::Replayed);
    // Another daemon with another key, and plain datagrams.
    let mut other = Opener::new(vec![key(2)]);
    assert_eq!(
        other.open(&sealer.seal(&plain), 0, 0).unwrap_err(),
        Refusal::OtherKey
    );
    assert_eq!(opener.open(&plain, 0, 0).unwrap_err(), Refusal::Plain);
    assert_eq!(opener.open(&[], 0, 0).unwrap_err(), Refusal::Plain);
}

#[test]
fn any_change_of_a_byte_or_length_is_forged() {
    let sealer = Sealer::new(Kind::Daemon, 7, key(1));
    let sealed = sealer.seal(&[9u8; 100]);
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x20;
        let mut opener = Opener::new(vec![key(1)]);
        let e = opener.open(&bad, 0, 0).unwrap_err();
        // The magic and version make it plain, the key id another key's,
        // the kind byte an unknown kind: all refused.
        assert!(
            matches!(e, Refusal::Forged | Refusal::Plain | Refusal::OtherKey),
            "byte {i}: {e:?}"
        );
    }
    let mut opener = Opener::new(vec![key(1)]);
    for cut in [1, TAG_LEN, 50] {
        let short = &sealed[..sealed.len() - cut];
        assert!(opener.open(short, 0, 0).is_err(), "cut {cut}");
    }
    // A forged copy does not spoil the real one.
    assert!(opener.open(&sealed, 0, 0).is_ok());
}

#[test]
fn a_second_key_opens_while_a_rotation_rolls_out() {
    let old = Sealer::new(Kind::Daemon, 1, key(1));
    let mut new = Sealer::new(Kind::Daemon, 2, key(1));
    new.rekey(key(2));
    let mut both = Opener::new(vec![key(2), key(1)]);
    assert!(both.open(&old.seal(b"x"), 0, 0).is_ok());
    assert!(both.open(&new.seal(b"y"), 0, 0).is_ok());
    both.rekey(vec![key(2)]);
    assert_eq!(
        both.open(&old.seal(b"x"), 0, 0).unwrap_err(),
        Refusal::OtherKey
    );
    assert!(both.open(&new.seal(b"z"), 0, 0).is_ok());
}

#[test]
fn a_restarted_daemon_is_heard_and_its_old_run_is_not() {
    let mut opener = Opener::new(vec![key(1)]);
    let first = Sealer::new(Kind::Daemon, 5, key(1));
    let captured = first.seal(b"old");
    assert!(opener.open(&first.seal(b"a"), 0, 0).is_ok());
    std::thread::sleep(std::time::Duration::from_millis(2));
    let second = Sealer::new(Kind::Daemon, 5, key(1));
    assert!(opener.open(&second.seal(b"b"), 1, 0).is_ok());
    assert_eq!(opener.open(&captured, 2, 0).unwrap_err(), Refusal::Stale);
}

#[test]
fn monitor_requests_carry_their_time() {
    let mut opener = Opener::new(vec![key(1)]);
    let monitor = Sealer::new(Kind::Monitor, 5, key(1));
    let request = monitor.seal(b"status?");
    let now = wall_us();
    let opened = opener.open(&request, 0, now).unwrap();
    assert_eq!(opened.kind, Kind::Monitor);
    assert_eq!(
        opener.open(&request, 0, now).unwrap_err(),
        Refusal::Replayed
    );
    let later = now + 2 * replay::MONITOR_SKEW_US;
    assert_eq!(
        opener
            .open(&monitor.seal(b"status?"), 0, later)
            .unwrap_err(),
        Refusal::Untimely
    );
}

/// Arbitrary bytes, with and without a sealed header, of every length up
/// to a few headers: refused, never a panic.
#[test]
fn garbage_is_refused_without_a_panic() {
    let mut opener = Opener::new(vec![key(1)]);
    let real = Sealer::new(Kind::Daemon, 3, key(1)).seal(b"x");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for len in 0..200 {
        for _ in 0..20 {
            let mut d: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            if len >= 8 && x.is_multiple_of(2) {
                d[..8].copy_from_slice(&real[..8]);
            }
            assert!(opener.open(&d, 0, 0).is_err(), "{d:?}");
        }
    }
}
