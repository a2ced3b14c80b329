//! Replays the recorded traffic of three real Spread 5.0.1 daemons
//! (shared/spec/vectors-daemon) through the packet codec: every datagram must
//! decode by its destination port, re-encode to the same bytes, agree with
//! the annotations of the recording, and decode to the same values once
//! converted by hand to big-endian. Nothing is masked: the stale bytes the
//! README warns about (FORM2's unassigned new-ring id, slots past the counts
//! of the fixed form-token arrays, REFER's unset header fields) are kept in
//! the decoded structures and written back as they were.

use bytes::Bytes;
use spread_core::wire::{ByteOrder, Header};
use spread_daemon::packet::*;
use std::path::PathBuf;

const D1: u32 = 1552775919;
const D2: u32 = 348480928;
const D3: u32 = 4014350958;
const HASH: u32 = 710834486;
const HASH_ACCELERATED: u32 = 2752617551;

/// Packets per recording (file 05 explains the hash and holds none).
const EXPECTED: [(&str, usize); 7] = [
    ("01-ring-formation.txt", 46),
    ("02-client-messages.txt", 45),
    ("03-retransmission.txt", 10),
    ("04-daemon-crash.txt", 44),
    ("05-config-hash.txt", 0),
    ("06-accelerated-ring.txt", 137),
    ("07-partition-heal.txt", 153),
];

/// Recordings that are shortened dumps (long lists and hex dumps cut): they
/// document a disagreement on the wire rather than replay byte for byte.
/// `08-mixed-ring.txt` shows why a mixed ring with 5.0.1 did not form
/// (issue 13, item 7): its complete packets are checked by
/// `mixed_ring_recording_what_5_0_1_sent_is_what_we_send_now`.
const SHORTENED: [&str; 1] = ["08-mixed-ring.txt"];

// ---------------------------------------------------------------------------
// Reading the recordings

/// One `#   [a..b)  field  value` line. `col` is the column where the field
/// name starts: 17 for a top-level field, 19 and 21 for nested ones.
#[derive(Debug)]
struct Annot {
    from: usize,
    to: usize,
    col: usize,
    field: String,
    value: String,
}

#[derive(Debug)]
struct Recorded {
    file: String,
    n: u32,
    port: Port,
    meaning: String,
    /// The `# UDP payload N bytes` line.
    payload_len: Option<usize>,
    annots: Vec<Annot>,
    bytes: Vec<u8>,
}

impl Recorded {
    fn id(&self) -> String {
        format!("{} #{}", self.file, self.n)
    }

    fn annots(&self, field: &str) -> impl Iterator<Item = &Annot> {
        let field = field.to_string();
        self.annots.iter().filter(move |a| a.field == field)
    }

    fn annot(&self, field: &str) -> Option<&Annot> {
        self.annots(field).next()
    }

    fn decode(&self) -> Packet {
        Packet::decode(self.port, &self.bytes)
            .unwrap_or_else(|e| panic!("{}: does not decode: {e}", self.id()))
    }
}

fn vectors_dir() -> PathBuf {
    let dir = match std::env::var_os("SPREAD_VECTORS_DAEMON") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/vectors-daemon"),
    };
    assert!(
        dir.is_dir(),
        "vectors-daemon not found at {} (set SPREAD_VECTORS_DAEMON)",
        dir.display()
    );
    dir
}

fn parse_annot(line: &str) -> Option<Annot> {
    let rest = line.strip_prefix("#   [")?;
    let close = rest.find(')')?;
    let (a, b) = rest[..close].split_once("..")?;
    let after = &rest[close + 1..];
    let trimmed = after.trim_start();
    let col = line.len() - trimmed.len();
    let (field, value) = match trimmed.find("  ") {
        Some(i) => (&trimmed[..i], trimmed[i..].trim()),
        None => (trimmed, ""),
    };
    Some(Annot {
        from: a.parse().ok()?,
        to: b.trim_end_matches(']').parse().ok()?,
        col,
        field: field.trim().to_string(),
        value: value.to_string(),
    })
}

fn parse_file(file: &str, text: &str) -> Vec<Recorded> {
    let out = parse_packets(file, text);
    for p in &out {
        assert!(!p.meaning.is_empty(), "{}: no meaning line", p.id());
        assert_eq!(
            p.payload_len,
            Some(p.bytes.len()),
            "{}: hex dump length",
            p.id()
        );
    }
    out
}

/// The packets of a recording as written (a shortened one may cut hex
/// dumps and leave packets with no dump at all).
fn parse_packets(file: &str, text: &str) -> Vec<Recorded> {
    let mut out: Vec<Recorded> = Vec::new();
    let mut expect_meaning = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("=== ") {
            let n = rest.split_whitespace().next().unwrap().parse().unwrap();
            let port = if line.contains("[data port") {
                Port::Data
            } else if line.contains("[token port") {
                Port::Token
            } else {
                panic!("{file} #{n}: no port kind in {line:?}")
            };
            out.push(Recorded {
                file: file.to_string(),
                n,
                port,
                meaning: String::new(),
                payload_len: None,
                annots: Vec::new(),
                bytes: Vec::new(),
            });
            expect_meaning = true;
            continue;
        }
        let Some(cur) = out.last_mut() else { continue };
        if expect_meaning {
            cur.meaning = line.trim_start_matches("# ").to_string();
            expect_meaning = false;
        } else if let Some(len) = line.strip_prefix("# UDP payload ") {
            cur.payload_len = len.trim_end_matches(" bytes").parse().ok();
        } else if let Some(a) = parse_annot(line) {
            cur.annots.push(a);
        } else if line.len() > 6
            && line.as_bytes()[4] == b':'
            && line[..4].chars().all(|c| c.is_ascii_hexdigit())
        {
            let hex = line[6..].split('|').next().unwrap();
            for h in hex.split_whitespace() {
                cur.bytes.push(u8::from_str_radix(h, 16).unwrap());
            }
        }
    }
    out
}

fn load() -> Vec<(String, Vec<Recorded>)> {
    let dir = vectors_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    files.sort();
    let mut names: Vec<_> = EXPECTED.iter().map(|(n, _)| n.to_string()).collect();
    names.extend(SHORTENED.iter().map(|n| n.to_string()));
    names.sort();
    // Every recording is known: a new one is either replayed or named here.
    assert_eq!(files, names, "the recordings in {}", dir.display());
    files.retain(|f| !SHORTENED.contains(&f.as_str()));
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(&f)).unwrap();
            let packets = parse_file(&f, &text);
            (f, packets)
        })
        .collect()
}

fn all() -> Vec<Recorded> {
    load().into_iter().flat_map(|(_, p)| p).collect()
}

fn find<'a>(all: &'a [Recorded], file_prefix: &str, n: u32) -> &'a Recorded {
    all.iter()
        .find(|p| p.file.starts_with(file_prefix) && p.n == n)
        .unwrap_or_else(|| panic!("no packet {file_prefix} #{n}"))
}

/// Every integer of an annotation value, in order: decimal or 0x-hex, a
/// leading minus sign allowed; digits glued to letters (`d1`) are names.
fn ints(s: &str) -> Vec<i64> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let neg = b[i] == b'-' && i + 1 < b.len() && b[i + 1].is_ascii_digit();
        if boundary && (b[i].is_ascii_digit() || neg) {
            let start = i;
            if neg {
                i += 1;
            }
            if b[i..].starts_with(b"0x") {
                i += 2;
                let h = i;
                while i < b.len() && b[i].is_ascii_hexdigit() {
                    i += 1;
                }
                out.push(i64::from_str_radix(&s[h..i], 16).unwrap());
                continue;
            }
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i < b.len() && b[i].is_ascii_alphabetic() {
                continue; // "3 byte(s)" is fine, "2x" is not a number
            }
            out.push(s[start..i].parse().unwrap());
        } else {
            i += 1;
        }
    }
    out
}

fn daemon(name: &str) -> u32 {
    match name.trim() {
        "d1" => D1,
        "d2" => D2,
        "d3" => D3,
        other => panic!("unknown daemon {other:?}"),
    }
}

fn names(list: &str) -> Vec<u32> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(daemon)
        .collect()
}

fn first_int(a: &Annot) -> i64 {
    *ints(&a.value)
        .first()
        .unwrap_or_else(|| panic!("no number in {a:?}"))
}

// ---------------------------------------------------------------------------
// Replay

#[test]
fn every_recorded_packet_decodes_and_reencodes_byte_for_byte() {
    let mut total = 0;
    for (file, packets) in load() {
        let expected = EXPECTED.iter().find(|(n, _)| *n == file).unwrap().1;
        assert_eq!(packets.len(), expected, "{file}");
        for p in &packets {
            let packet = p.decode();
            assert_eq!(packet.port(), p.port, "{}", p.id());
            assert_eq!(packet.encode(), p.bytes, "{}: re-encoding differs", p.id());
            check_kind(p, &packet);
        }
        eprintln!("{file}: {} packets replayed", packets.len());
        total += packets.len();
    }
    assert_eq!(total, 435);
}

/// The decoded variant agrees with the recording's one-line meaning.
fn check_kind(p: &Recorded, packet: &Packet) {
    let m = p.meaning.as_str();
    let ok = match packet {
        Packet::Membership(mp) => match mp.body {
            MembershipBody::Alive(_) => m.starts_with("ALIVE"),
            MembershipBody::Join { .. } => m.starts_with("JOIN"),
            MembershipBody::Refer => m.starts_with("REFER"),
            MembershipBody::Hurry => m.starts_with("HURRY"),
        },
        Packet::Data(_) => m.contains("data packet") || m.starts_with("RETRANSMISSION"),
        Packet::Token(_) => m.starts_with("regular token"),
        Packet::Form(f) => match f.body {
            FormBody::Form1(_) => m.starts_with("FORM1"),
            FormBody::Form2(_) => m.starts_with("FORM2"),
        },
        Packet::Monitor(_) => false,
    };
    assert!(
        ok,
        "{}: decoded as {packet:?} but recorded as {m:?}",
        p.id()
    );
}

#[test]
fn header_fields_match_the_annotations() {
    let mut checked = 0;
    for p in all() {
        let got: Vec<(&str, Vec<i64>)> = match p.decode() {
            Packet::Token(t) => token_fields(&t.header),
            Packet::Form(f) => token_fields(&f.header),
            Packet::Data(d) => data_fields(&d.header),
            Packet::Membership(m) => data_fields(&m.header),
            Packet::Monitor(m) => data_fields(&m.header),
        };
        for (field, values) in got {
            let a = p
                .annots(field)
                .find(|a| a.to <= HEADER_LEN && a.col == 17)
                .unwrap_or_else(|| panic!("{}: no annotation for {field}", p.id()));
            let expected = ints(&a.value);
            assert_eq!(
                &expected[..values.len()],
                &values[..],
                "{}: {field} ({})",
                p.id(),
                a.value
            );
            checked += 1;
        }
    }
    assert!(checked > 4000, "{checked}");
}

fn data_fields(h: &DataHeader) -> Vec<(&'static str, Vec<i64>)> {
    vec![
        ("type", vec![(h.ty | h.order.marker()).into()]),
        ("transmiter_id", vec![h.transmiter_id.into()]),
        ("proc_id", vec![h.proc_id.into()]),
        (
            "memb_id",
            vec![h.memb_id.proc_id.into(), h.memb_id.time.into()],
        ),
        ("seq", vec![h.seq.into()]),
        ("token_round", vec![h.token_round.into()]),
        ("conf_hash", vec![h.conf_hash.into()]),
        ("data_len", vec![h.data_len.into()]),
        ("padding", vec![u16::from_le_bytes(h.padding).into()]),
        ("first_frag.fragment_index", vec![h.first_frag.index.into()]),
        ("first_frag.fragment_len", vec![h.first_frag.len.into()]),
    ]
}

fn token_fields(h: &TokenHeader) -> Vec<(&'static str, Vec<i64>)> {
    vec![
        ("type", vec![(h.ty | h.order.marker()).into()]),
        ("transmiter_id", vec![h.transmiter_id.into()]),
        ("proc_id", vec![h.proc_id.into()]),
        (
            "memb_id",
            vec![h.memb_id.proc_id.into(), h.memb_id.time.into()],
        ),
        ("seq", vec![h.seq.into()]),
        ("aru", vec![h.aru.into()]),
        // The recordings print 0xFFFFFFFF as -1.
        (
            "aru_last_id",
            vec![match h.aru_last_id {
                u32::MAX => -1,
                id => id.into(),
            }],
        ),
        ("flow_control", vec![h.flow_control.into()]),
        ("rtr_len", vec![h.rtr_len.into()]),
        ("conf_hash", vec![h.conf_hash.into()]),
    ]
}

#[test]
fn every_packet_carries_the_configuration_hash() {
    for p in all() {
        let hash = match p.decode() {
            Packet::Token(t) => t.header.conf_hash,
            Packet::Form(f) => f.header.conf_hash,
            Packet::Data(d) => d.header.conf_hash,
            Packet::Membership(m) => m.header.conf_hash,
            Packet::Monitor(m) => m.header.conf_hash,
        };
        let expected = if p.file.starts_with("06") {
            HASH_ACCELERATED
        } else {
            HASH
        };
        assert_eq!(hash, expected, "{}", p.id());
    }
    let text = std::fs::read_to_string(vectors_dir().join("05-config-hash.txt")).unwrap();
    assert!(text.contains("710834486") && text.contains("2752617551"));
}

#[test]
fn fragment_chains_match_the_annotations() {
    let mut packed = 0;
    for p in all() {
        let Packet::Data(d) = p.decode() else {
            continue;
        };
        let frags: Vec<Fragment> = d
            .fragments()
            .collect::<Result<_>>()
            .unwrap_or_else(|e| panic!("{}: broken chain: {e}", p.id()));
        let last = frags.last().unwrap();
        let end = last.header_offset.map_or(0, |o| o + FRAG_HEADER_LEN) + last.bytes.len();
        assert_eq!(end, d.body.len(), "{}: the chain ends at data_len", p.id());
        let headers: Vec<&Annot> = p
            .annots
            .iter()
            .filter(|a| a.field.starts_with("fragment header #"))
            .collect();
        assert_eq!(headers.len() + 1, frags.len(), "{}", p.id());
        for (a, f) in headers.iter().zip(&frags[1..]) {
            assert_eq!(
                f.header_offset.map(|o| o + HEADER_LEN),
                Some(a.from),
                "{}",
                p.id()
            );
            assert_eq!(
                ints(&a.value)[..2],
                [i64::from(f.header.index), i64::from(f.header.len)],
                "{}",
                p.id()
            );
            assert!(
                f.header.is_whole(),
                "{}: only whole messages are packed",
                p.id()
            );
        }
        // Every whole message starts with a client header whose length
        // agrees with its fragment.
        for f in frags.iter().filter(|f| f.header.is_whole()) {
            let h = Header::decode(f.bytes[..48].try_into().unwrap());
            let names = 32 * h.num_groups as usize;
            assert_eq!(
                48 + names + h.data_len as usize,
                f.bytes.len(),
                "{}",
                p.id()
            );
        }
        packed += usize::from(frags.len() > 1);
    }
    assert!(packed >= 30, "{packed} packed packets");
}

#[test]
fn membership_and_form_bodies_match_the_annotations() {
    let mut checked = 0;
    for p in all() {
        let packet = p.decode();
        let (counts, ids): (Option<(usize, usize)>, Vec<u32>) = match &packet {
            Packet::Membership(m) => match &m.body {
                MembershipBody::Alive(l) | MembershipBody::Join { members: l, .. } => {
                    (Some((l.ids.len(), l.num_pending as usize)), l.ids.clone())
                }
                _ => (None, vec![]),
            },
            Packet::Form(f) => {
                let m = f.members();
                let all = m.done.iter().chain(&m.pending).copied().collect();
                (Some((m.done.len(), m.pending.len())), all)
            }
            _ => (None, vec![]),
        };
        if let Some((done, pending)) = counts {
            let a = p.annot("members_info").unwrap();
            assert_eq!(
                ints(&a.value),
                vec![done as i64, pending as i64],
                "{}",
                p.id()
            );
            if let Some(a) = p.annot("members") {
                let listed: Vec<u32> = a
                    .value
                    .replace("| pending:", ",")
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(daemon)
                    .collect();
                assert_eq!(listed, ids, "{}", p.id());
                if let Packet::Form(f) = &packet {
                    let (d, _) = a.value.split_once('|').unwrap_or((&a.value, ""));
                    assert_eq!(names(d), f.members().done, "{}", p.id());
                }
            }
            checked += 1;
        }
        let reps = match &packet {
            Packet::Membership(m) => match &m.body {
                MembershipBody::Join { reps, .. } => Some((reps.rep_index, reps.reps.clone())),
                _ => None,
            },
            Packet::Form(FormToken {
                body: FormBody::Form1(f),
                ..
            }) => Some((f.reps.rep_index, f.reps.reps.clone())),
            _ => None,
        };
        if let Some((rep_index, reps)) = reps {
            let a = p.annot("reps_info").unwrap();
            assert_eq!(
                ints(&a.value),
                vec![reps.len() as i64, rep_index.into()],
                "{}",
                p.id()
            );
            let listed: Vec<Rep> = p
                .annot("reps")
                .map(|a| a.value.split(';').map(parse_rep).collect())
                .unwrap_or_default();
            assert_eq!(listed, reps, "{}", p.id());
        }
        if let Packet::Form(f) = &packet {
            let rings = f.rings();
            assert_eq!(first_int(p.annot("num_rings").unwrap()), rings.len() as i64);
            let infos: Vec<&Annot> = p.annots("ring_info").collect();
            let commits: Vec<&Annot> = p.annots("commit set").collect();
            assert_eq!(infos.len(), rings.len(), "{}", p.id());
            for ((a, c), r) in infos.iter().zip(&commits).zip(rings) {
                let expected = vec![
                    r.memb_id.proc_id.into(),
                    r.memb_id.time.into(),
                    r.trans_time.into(),
                    r.aru.into(),
                    r.highest_seq.into(),
                    r.holes.len() as i64,
                    r.commit.len() as i64,
                    r.num_trans.into(),
                ];
                assert_eq!(ints(&a.value), expected, "{}", p.id());
                let (list, _) = c.value.split_once(" (").unwrap();
                assert_eq!(names(list), r.commit, "{}", p.id());
                assert!(r.is_well_formed(), "{}", p.id());
            }
            if let FormBody::Form2(f2) = &f.body {
                let a = p.annot("new ring memb_id").unwrap();
                let v = ints(&a.value);
                if !v.is_empty() {
                    let got = [f2.new_ring_id.proc_id.into(), f2.new_ring_id.time.into()];
                    assert_eq!(v[..2], got, "{}", p.id());
                }
            }
            checked += 1;
        }
        if let Packet::Token(t) = &packet {
            let blocks: Vec<&Annot> = p.annots("rtr block").collect();
            assert_eq!(blocks.len(), t.rtr.len(), "{}", p.id());
            for (a, b) in blocks.iter().zip(&t.rtr) {
                let expected = vec![
                    b.memb_id.proc_id.into(),
                    b.memb_id.time.into(),
                    b.proc_id.into(),
                    b.seg_index.into(),
                    b.seqs.len() as i64,
                ];
                assert_eq!(ints(&a.value), expected, "{}", p.id());
            }
            if let Some(s) = p.annot("seqs") {
                let seqs: Vec<i64> = t
                    .rtr
                    .iter()
                    .flat_map(|b| &b.seqs)
                    .map(|&s| s.into())
                    .collect();
                assert_eq!(ints(&s.value), seqs, "{}", p.id());
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

fn parse_rep(s: &str) -> Rep {
    let w: Vec<&str> = s.split_whitespace().collect();
    let kind = match w[1] {
        "POTENTIAL" => POTENTIAL_REP,
        "SEG_REP" => SEG_REP,
        "RING_REP" => RING_REP,
        k => panic!("rep kind {k}"),
    };
    Rep {
        proc_id: daemon(w[0]),
        kind,
        seg_index: w[3].parse().unwrap(),
    }
}

// ---------------------------------------------------------------------------
// Values of note

#[test]
fn file_02_packed_and_fragmented_messages() {
    let all = all();
    let data = |n| match find(&all, "02", n).decode() {
        Packet::Data(d) => d,
        other => panic!("02 #{n}: {other:?}"),
    };
    let frags = |d: &DataPacket| -> Vec<(i16, i16)> {
        d.fragments()
            .map(|f| f.unwrap().header)
            .map(|h| (h.index, h.len))
            .collect()
    };
    let seven = data(14);
    assert_eq!(seven.header.data_len, 1029);
    assert_eq!(frags(&seven), vec![(-1, 141); 7]);
    assert_eq!(frags(&data(15)), vec![(1, 1432)]);
    assert_eq!(frags(&data(16)), vec![(2, 1432)]);
    assert_eq!(frags(&data(17)), vec![(-3, 216), (-1, 141), (-1, 141)]);

    // The messages as the sender queued them: the seven of #14, the
    // 3000-byte one spread over #15..#17, the two packed behind it.
    let bytes_of = |d: &DataPacket| -> Vec<Vec<u8>> {
        d.fragments().map(|f| f.unwrap().bytes.to_vec()).collect()
    };
    let mut messages: Vec<Vec<u8>> = bytes_of(&seven);
    let last = bytes_of(&data(17));
    let big: Vec<u8> = [
        bytes_of(&data(15)),
        bytes_of(&data(16)),
        vec![last[0].clone()],
    ]
    .concat()
    .concat();
    assert_eq!(big.len(), 48 + 32 + 3000);
    messages.push(big);
    messages.extend(last[1..].iter().cloned());

    let mut packer = Packer::new();
    for m in messages {
        packer
            .push(OutMessage {
                service: AGREED_TYPE,
                bytes: Bytes::from(m),
            })
            .unwrap();
    }
    for n in 14..=17 {
        let recorded = find(&all, "02", n);
        let template = data(n).header;
        let packet = packer.next_packet(&template).unwrap();
        assert_eq!(
            packet.encode(),
            recorded.bytes,
            "02 #{n} rebuilt by the packer"
        );
    }
    assert!(packer.is_empty());
}

#[test]
fn tokens_of_note() {
    let all = all();
    let token = |f, n| match find(&all, f, n).decode() {
        Packet::Token(t) => t,
        other => panic!("{f} #{n}: {other:?}"),
    };
    // The first regular token of a new ring (sent twice to the leader).
    for n in [32, 33] {
        let t = token("01", n).header;
        assert_eq!((t.seq, t.aru, t.aru_last_id), (0, i32::MAX, u32::MAX));
        assert_eq!(
            (t.arq(), t.retrans(), t.flow_control, t.rtr_len),
            (0, 0, 0, 0)
        );
        assert_eq!(
            (t.transmiter_id, t.memb_id),
            (D3, MembId::new(D1, 1795771045))
        );
    }
    let t = token("02", 5).header;
    assert_eq!((t.seq, t.aru, t.aru_last_id, t.flow_control), (4, 4, D1, 1));
    assert_eq!((t.arq(), t.retrans()), (2, 0));
    let t = token("02", 1).header;
    assert_eq!((t.arq(), t.retrans()), (1, 1), "an idle leader's release");

    // A retransmission request and its unicast answer.
    let t = token("03", 4);
    assert_eq!(t.header.rtr_len, 20);
    assert_eq!(
        t.rtr,
        vec![RtrBlock {
            memb_id: MembId::new(D1, 1795771045),
            proc_id: D3,
            seg_index: 0,
            seqs: vec![15],
        }]
    );
    let Packet::Data(resend) = find(&all, "03", 5).decode() else {
        panic!()
    };
    let Packet::Data(original) = find(&all, "03", 1).decode() else {
        panic!()
    };
    assert_eq!(resend.header.seq, 15);
    assert_eq!(resend.body, original.body);
    assert_eq!(resend.header.token_round, original.header.token_round);

    // The leader's hurry resends with RETRANS 2: three identical copies.
    let retrans2: Vec<&Recorded> = all
        .iter()
        .filter(|p| p.file.starts_with("04"))
        .filter(|p| matches!(p.decode(), Packet::Token(t) if t.header.retrans() == 2))
        .collect();
    assert_eq!(retrans2.len(), 6);
    assert!(retrans2[..3].iter().all(|p| p.bytes == retrans2[0].bytes));
    assert!(retrans2[..3].iter().all(|p| p.bytes.len() == HEADER_LEN));

    // Accelerated ring at saturation: flow_control 40 = 2 × 20.
    let fc40 = all
        .iter()
        .filter(|p| p.file.starts_with("06"))
        .filter(|p| matches!(p.decode(), Packet::Token(t) if t.header.flow_control == 40))
        .count();
    assert!(fc40 >= 5, "{fc40}");
}

#[test]
fn groups_state_messages() {
    let all = all();
    let groups = |f, n| {
        let Packet::Data(d) = find(&all, f, n).decode() else {
            panic!()
        };
        let frag = d.fragments().next().unwrap().unwrap();
        let h = Header::decode(frag.bytes[..48].try_into().unwrap());
        assert_eq!(
            h.service_type & spread_core::consts::GROUPS_MESS,
            spread_core::consts::GROUPS_MESS
        );
        let body = GroupsBody::decode(&frag.bytes[48..], h.order).unwrap();
        assert_eq!(body.encode(h.order), &frag.bytes[48..], "{f} #{n}");
        (h, body)
    };
    for (n, id) in [(40, D1), (42, D2), (44, D3)] {
        let (h, g) = groups("01", n);
        assert_eq!(h.data_len, 17);
        assert_eq!(g.memb_id, MembId::new(D1, 1795771045));
        assert_eq!(g.synced_set, Some(vec![id]));
        assert!(g.groups.is_empty());
        assert_eq!(groups_synced_set_size(&h.sender, h.order), 1);
        assert_eq!(
            groups_sender_name(&h.sender),
            format!("d{}", (n - 38) / 2).as_bytes()
        );
    }
    let merged: Vec<u32> = all
        .iter()
        .filter(|p| p.file.starts_with("07") && p.meaning.contains("GROUPS state message"))
        .map(|p| p.n)
        .collect();
    assert_eq!(merged.len(), 2);
    let (h, g) = groups("07", merged[1]);
    assert_eq!(groups_sender_name(&h.sender), b"d2");
    assert_eq!(groups_synced_set_size(&h.sender, h.order), 2);
    assert_eq!(g.synced_set, Some(vec![D2, D3]));
    assert_eq!(g.groups.len(), 1);
    let pg = &g.groups[0];
    assert_eq!(pg.name.as_bytes(), b"pg");
    assert_eq!(
        (pg.group_id.proc_id, pg.group_id.time, pg.group_id.index),
        (D2, 1795773591, 1)
    );
    assert!(!pg.is_changed());
    let daemons: Vec<(u32, &[u8])> = pg
        .daemons
        .iter()
        .map(|d| (d.proc_id, d.members[0].as_bytes()))
        .collect();
    assert_eq!(daemons, vec![(D2, &b"#c2#d2"[..]), (D3, &b"#c3#d3"[..])]);
    assert!(pg
        .daemons
        .iter()
        .all(|d| d.memb_id == MembId::new(D2, 1795773591)));
}

#[test]
fn stale_bytes_are_kept_not_masked() {
    let all = all();
    // FORM2 from the last member: the new-ring id is the FORM1 reps_info's
    // first 8 bytes (num_reps 1, rep_index 1, then d1).
    let Packet::Form(f) = find(&all, "01", 26).decode() else {
        panic!()
    };
    let FormBody::Form2(f2) = &f.body else {
        panic!()
    };
    assert_eq!(f2.new_ring_id, MembId::new(65537, D1 as i32));
    assert!(f2.members.done.is_empty());
    // Slots past the counts hold ids of an earlier, longer list.
    let mut stale = 0;
    for p in all.iter().filter(|p| p.port == Port::Token) {
        let Packet::Form(f) = p.decode() else {
            continue;
        };
        if f.members().stale.is_clear() {
            continue;
        }
        stale += 1;
        let mut cleared = f.clone();
        match &mut cleared.body {
            FormBody::Form1(b) => b.members.stale = StaleSlots::default(),
            FormBody::Form2(b) => b.members.stale = StaleSlots::default(),
        }
        assert_ne!(
            cleared.encode(),
            p.bytes,
            "{}: the stale bytes matter",
            p.id()
        );
        assert_eq!(f.encode(), p.bytes, "{}", p.id());
    }
    assert_eq!(
        stale, 14,
        "form tokens with stale member slots in 04 and 07"
    );
}

// ---------------------------------------------------------------------------
// Big-endian senders

fn swap(b: &mut [u8], at: usize, width: usize) {
    b[at..at + width].reverse();
}

/// The packet as a big-endian 5.0.1 daemon would have sent it, built from
/// the annotations alone: every integer field 5.0.1 converts is reversed;
/// the header padding, client messages (inner headers and GROUPS bodies
/// included) and the slots past the form arrays' counts are left alone.
fn to_big_endian(p: &Recorded) -> Vec<u8> {
    let mut b = p.bytes.clone();
    let ty = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & !ENDIAN_MARKER;
    b[0..4].copy_from_slice(&ty.to_be_bytes());
    for a in &p.annots {
        let in_header = a.to <= HEADER_LEN && a.col == 17;
        match a.field.as_str() {
            "type" | "padding" if in_header => {}
            "transmiter_id" | "proc_id" | "seq" | "token_round" | "conf_hash" | "aru"
            | "aru_last_id"
                if in_header =>
            {
                swap(&mut b, a.from, 4)
            }
            "memb_id" | "new ring memb_id" if a.col == 17 => {
                swap(&mut b, a.from, 4);
                swap(&mut b, a.from + 4, 4);
            }
            "data_len"
            | "flow_control"
            | "rtr_len"
            | "first_frag.fragment_index"
            | "first_frag.fragment_len"
                if in_header =>
            {
                swap(&mut b, a.from, 2)
            }
            f if f.starts_with("fragment header #") => {
                swap(&mut b, a.from, 2);
                swap(&mut b, a.from + 2, 2);
            }
            "members_info" | "reps_info" => {
                swap(&mut b, a.from, 2);
                swap(&mut b, a.from + 2, 2);
            }
            "members" | "commit set" | "holes" | "seqs" => {
                for at in (a.from..a.to).step_by(4) {
                    swap(&mut b, at, 4);
                }
            }
            "reps" => {
                for at in (a.from..a.to).step_by(8) {
                    swap(&mut b, at, 4);
                    swap(&mut b, at + 4, 2);
                    swap(&mut b, at + 6, 2);
                }
            }
            "num_rings" => swap(&mut b, a.from, 4),
            "ring_info" => {
                for k in 0..6 {
                    swap(&mut b, a.from + 4 * k, 4);
                }
                swap(&mut b, a.from + 24, 2);
                swap(&mut b, a.from + 26, 2);
            }
            "rtr block" => {
                for k in 0..3 {
                    swap(&mut b, a.from + 4 * k, 4);
                }
                swap(&mut b, a.from + 12, 2);
                swap(&mut b, a.from + 14, 2);
            }
            _ => {}
        }
    }
    b
}

/// A decoded packet restated in little-endian (what a little-endian daemon
/// forwarding or retransmitting it writes).
fn to_little(p: Packet) -> Packet {
    match p {
        Packet::Data(d) => Packet::Data(d.to_order(ByteOrder::Little).unwrap()),
        Packet::Membership(mut m) => {
            m.header.order = ByteOrder::Little;
            Packet::Membership(m)
        }
        Packet::Monitor(mut m) => {
            m.header.order = ByteOrder::Little;
            Packet::Monitor(m)
        }
        Packet::Token(mut t) => {
            t.header.order = ByteOrder::Little;
            Packet::Token(t)
        }
        Packet::Form(mut f) => {
            f.header.order = ByteOrder::Little;
            Packet::Form(f)
        }
    }
}

#[test]
fn big_endian_forms_decode_to_the_same_values() {
    let mut n = 0;
    for p in all() {
        let big = to_big_endian(&p);
        assert_ne!(big, p.bytes, "{}", p.id());
        let decoded = Packet::decode(p.port, &big).unwrap_or_else(|e| panic!("{}: {e}", p.id()));
        assert_eq!(decoded.encode(), big, "{}: big-endian round trip", p.id());
        let little = to_little(decoded);
        assert_eq!(little, p.decode(), "{}: same values", p.id());
        assert_eq!(
            little.encode(),
            p.bytes,
            "{}: back to the recording",
            p.id()
        );
        // Client messages stay as their clients wrote them.
        if let (Packet::Data(be), Packet::Data(le)) =
            (Packet::decode(p.port, &big).unwrap(), p.decode())
        {
            let a: Vec<&[u8]> = be.fragments().map(|f| f.unwrap().bytes).collect();
            let b: Vec<&[u8]> = le.fragments().map(|f| f.unwrap().bytes).collect();
            assert_eq!(a, b, "{}", p.id());
        }
        n += 1;
    }
    assert_eq!(n, 435);
}

// ---------------------------------------------------------------------------
// Robustness

use spread_daemon::rng::Rng;

/// Decodes with every decoder; whatever decodes must survive a re-encode
/// and decode to the same thing.
fn feed(b: &[u8]) {
    for port in [Port::Data, Port::Token] {
        if let Ok(p) = Packet::decode(port, b) {
            let again = Packet::decode(port, &p.encode()).unwrap();
            assert_eq!(again.encode(), p.encode());
            if let Packet::Data(d) = &p {
                for f in d.fragments() {
                    let _ = f.map(|f| f.bytes.len());
                }
                let _ = d.to_order(ByteOrder::Big);
            }
        }
    }
    let _ = DataHeader::decode(b);
    let _ = TokenHeader::decode(b);
    let _ = DataPacket::decode(b);
    let _ = MembershipPacket::decode(b);
    let _ = MonitorPacket::decode(b);
    let _ = RegularToken::decode(b);
    let _ = FormToken::decode(b);
    for order in [ByteOrder::Little, ByteOrder::Big] {
        if let Ok(g) = GroupsBody::decode(b, order) {
            assert_eq!(g.encode(order), b);
        }
        let _ = Status::decode(b, order);
        if let Ok(r) = RtrBlock::decode_list(b, order) {
            assert_eq!(RtrBlock::encode_list(&r, order), b);
        }
    }
}

#[test]
fn random_and_truncated_datagrams_never_panic() {
    let recorded: Vec<Vec<u8>> = all().into_iter().map(|p| p.bytes).collect();
    let mut rng = Rng::new(0x5eed_0000_d00d_f00d);
    for i in 0..100_000 {
        let mut b = match i % 4 {
            // Pure noise with a plausible type word.
            0 => {
                let len = rng.index(1600);
                let mut v: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                if len >= 4 {
                    let marker = if rng.index(2) == 0 { ENDIAN_MARKER } else { 0 };
                    let ty = (1u32 << rng.index(28)) | marker;
                    v[..4].copy_from_slice(&ty.to_le_bytes());
                }
                v
            }
            // A recorded packet cut short.
            1 => {
                let r = &recorded[rng.index(recorded.len())];
                r[..rng.index(r.len() + 1)].to_vec()
            }
            // A recorded packet with a few bytes changed (counts included).
            2 => {
                let mut v = recorded[rng.index(recorded.len())].clone();
                for _ in 0..1 + rng.index(4) {
                    let at = rng.index(v.len());
                    v[at] = rng.next_u64() as u8;
                }
                v
            }
            // A recorded packet with a wrong length field or trailing bytes.
            _ => {
                let mut v = recorded[rng.index(recorded.len())].clone();
                if rng.index(2) == 0 {
                    v[32] = rng.next_u64() as u8;
                    v[34] = rng.next_u64() as u8;
                } else {
                    let extra = rng.index(8);
                    v.extend((0..extra).map(|_| rng.next_u64() as u8));
                }
                v
            }
        };
        feed(&b);
        b.truncate(b.len().saturating_sub(1));
        feed(&b);
    }
}

/// The mixed-ring recording (two daemons of this project, d1 and d3, and
/// 5.0.1 as d2): every packet whose dump is complete decodes; 5.0.1's
/// ALIVE and JOIN are byte for byte what our constructors now build (ours
/// then had transmiter_id 0, which 5.0.1 drops, and our ring id as
/// memb_id); our EVS token then carried seq 3333, and 5.0.1 answered with
/// a request for 1..3333 of its old ring. The engine's tests check that
/// the EVS token now keeps seq 0.
#[test]
fn mixed_ring_recording_what_5_0_1_sent_is_what_we_send_now() {
    let text = std::fs::read_to_string(vectors_dir().join("08-mixed-ring.txt")).unwrap();
    let packets = parse_packets("08-mixed-ring.txt", &text);
    let hash = 2459540174;
    let complete: Vec<&Recorded> = packets
        .iter()
        .filter(|p| p.payload_len == Some(p.bytes.len()))
        .collect();
    assert!(complete.len() >= 6, "{} complete packets", complete.len());
    for p in &complete {
        p.decode();
    }
    let find = |n: u32| packets.iter().find(|p| p.n == n).unwrap();

    let mut alive = MembershipPacket::alive(D2, vec![D2]);
    alive.header.conf_hash = hash;
    assert_eq!(alive.encode(), find(3).bytes, "5.0.1's ALIVE (#3)");
    let mut join = MembershipPacket::join(
        D2,
        vec![D2],
        vec![Rep {
            proc_id: D2,
            kind: SEG_REP,
            seg_index: 0,
        }],
    );
    join.header.conf_hash = hash;
    assert_eq!(join.encode(), find(7).bytes, "5.0.1's JOIN (#7)");

    // What we sent then.
    let Packet::Membership(old) = find(1).decode() else {
        panic!("#1 is an ALIVE")
    };
    assert_eq!(old.header.transmiter_id, 0);
    assert_eq!(old.header.memb_id, MembId::new(D1, -1));
    let Packet::Token(evs) = find(34).decode() else {
        panic!("#34 is a token")
    };
    assert_eq!((evs.header.seq, evs.header.aru), (3333, 3333));
    // Its dump is cut: the header, and the first block as annotated.
    let answer = TokenHeader::decode(&find(35).bytes).unwrap();
    assert_eq!(
        (answer.seq, answer.aru, answer.rtr_len),
        (3333, 0, 16 + 4 * 3333)
    );
    let block = &find(35).annot("rtr block").unwrap().value;
    assert!(
        block.contains("ring (348480928 (d2), -1)") && block.contains("num_seq 3333"),
        "{block}"
    );
}
