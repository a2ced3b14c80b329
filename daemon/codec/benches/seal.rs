//! What sealing costs per datagram (RingKeyFile): seal and open of the
//! sizes a ring sends (a token, a small data packet, a full one).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use spread_codec::seal::{Kind, Opener, RingKey, Sealer};
use spread_codec::MAX_PACKET_SIZE;

fn seal_open(c: &mut Criterion) {
    let key = RingKey::new(&[7; 32]);
    let mut g = c.benchmark_group("seal");
    for size in [100usize, 1000, MAX_PACKET_SIZE] {
        let body = vec![0xabu8; size];
        g.throughput(Throughput::Bytes(size as u64));
        let sealer = Sealer::new(Kind::Daemon, 1, key.clone());
        g.bench_with_input(BenchmarkId::new("seal", size), &body, |b, body| {
            b.iter(|| black_box(sealer.seal(body)))
        });
        // Fresh numbers for every open, as on a ring.
        let sealed: Vec<Vec<u8>> = (0..100_000).map(|_| sealer.seal(&body)).collect();
        let mut opener = Opener::new(vec![key.clone()]);
        let mut next = sealed.iter().cycle();
        let mut round = 0u64;
        g.bench_function(BenchmarkId::new("open", size), |b| {
            b.iter(|| {
                let d = next.next().expect("cycle");
                if std::ptr::eq(d, &sealed[0]) {
                    // Each pass over the datagrams is a new opener: they
                    // would be replays to the old one.
                    round += 1;
                    opener = Opener::new(vec![key.clone()]);
                }
                black_box(opener.open(d, round, 0).expect("opens"))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, seal_open);
criterion_main!(benches);
