//! Codec throughput: building client requests and decoding daemon frames.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use spread_core::consts::*;
use spread_core::wire::encode::{membership, request_head};
use spread_core::wire::{split_frame, ByteOrder, GroupId, Limits, MembershipBody, Message};
use spread_core::GroupName;

fn requests(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_request");
    let sender = GroupName::from("#bench#localhost");
    let groups = [GroupName::from("flooder")];
    for size in [100usize, 1000, 10_000, 100_000] {
        let body = vec![0xabu8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
            b.iter(|| {
                let mut f = request_head(
                    AGREED_MESS,
                    &sender,
                    &groups,
                    1,
                    body.len(),
                    ByteOrder::NATIVE,
                );
                f.extend_from_slice(body);
                black_box(f)
            })
        });
    }
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_message");
    let sender = GroupName::from("#bench#localhost");
    let groups = [GroupName::from("flooder")];
    for size in [100usize, 1000, 10_000, 100_000] {
        let mut frame = request_head(AGREED_MESS, &sender, &groups, 1, size, ByteOrder::NATIVE);
        frame.extend(vec![1u8; size]);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &frame, |b, frame| {
            b.iter(|| {
                let (f, used) = split_frame(black_box(frame), &Limits::CLIENT)
                    .unwrap()
                    .unwrap();
                black_box((Message::from_frame(&f).unwrap(), used))
            })
        });
    }
    g.finish();
}

fn memberships(c: &mut Criterion) {
    let members: Vec<GroupName> = (0..50)
        .map(|i| GroupName::from(format!("#m{i}#localhost").as_str()))
        .collect();
    let body = MembershipBody {
        group_id: GroupId {
            proc_id: 1,
            time: 2,
            index: 3,
        },
        vs_sets: vec![members.clone()],
        local_vs_set: 0,
    };
    let group = GroupName::from("g");
    c.bench_function("encode_membership_50", |b| {
        b.iter(|| {
            black_box(membership(
                CAUSED_BY_NETWORK,
                &group,
                &members,
                &body,
                ByteOrder::NATIVE,
            ))
        })
    });
    let frame = membership(
        CAUSED_BY_NETWORK,
        &group,
        &members,
        &body,
        ByteOrder::NATIVE,
    );
    c.bench_function("decode_membership_50", |b| {
        b.iter(|| {
            let (f, _) = split_frame(black_box(&frame), &Limits::CLIENT)
                .unwrap()
                .unwrap();
            black_box(Message::from_frame(&f).unwrap())
        })
    });
}

criterion_group!(benches, requests, decode, memberships);
criterion_main!(benches);
