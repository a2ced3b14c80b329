#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets from the recorded sessions.

    python3 fuzz/make_corpus.py [shared/spec]

daemon_packet: datagrams of shared/spec/vectors-daemon, one per kind of
packet (the first words of its meaning line) and length. client_wire: the
byte runs of shared/spec/vectors (connect messages, auth, frames), one per
direction, kind, length and byte order. Files are named after the recording
and the packet number (`-be`: the same converted to big-endian, where
only the header needs it); `mon-*` are spmonitor packets, which the
recordings lack. Files of other names (crash reproducers added by hand)
are kept.
"""

import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../shared/spec")
HEX = re.compile(r"^[0-9a-f]{4}: ")
# Seed files this script owns: <2-digit recording>-<number>[-...].
OWNED = re.compile(r"^(\d\d-\d+|mon-)")
MARKER = 0x80000080
# daemon/codec: field sizes of the 40-byte headers ("r": raw, never
# converted), the data_len / rtr_len offset, and type bits.
DATA_FIELDS = [4] * 8 + [2, "r2", 2, 2]
TOKEN_FIELDS = [4] * 8 + [2, 2, 4]
REGULAR_TYPE = 0x1F
MONITOR = {"status": 0x01000000, "partition": 0x02000000, "fc": 0x04000000, "reload": 0x08000000}
STATUS_LEN, PARTITION_LEN, FC_LEN = 18 * 4 + 12 * 2, 128 * 2, 128 * 4


def to_big_endian(header, fields):
    """A little-endian 40-byte header rewritten big-endian."""
    out, at = bytearray(), 0
    for f in fields:
        n = int(str(f).lstrip("r"))
        field = header[at : at + n]
        if at == 0:
            field = struct.pack(">I", struct.unpack("<I", field)[0] & ~MARKER)
        elif f != "r2":
            field = field[::-1]
        out += field
        at += n
    return bytes(out)


def monitor(ty, body_len, big):
    """An spmonitor packet from daemon 1 with a patterned body."""
    fields = [ty | (0 if big else MARKER), 0, 1, 1, 2, 0, 0, 7]
    e = ">" if big else "<"
    head = struct.pack(e + "8I", *fields) + struct.pack(e + "H", body_len) + bytes(6)
    body = bytes((i * 7) & 0x7F for i in range(body_len))
    return head + body


def records(path):
    """(number, step line, meaning, bytes) of each `=== n` step."""
    out = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("=== "):
            out.append([int(line.split()[1]), line, None, bytearray()])
        elif not out:
            continue
        elif out[-1][2] is None and line.startswith("# "):
            out[-1][2] = line[2:].strip()
        elif HEX.match(line):
            out[-1][3] += bytes.fromhex(line[6:].split("  |")[0].split("|")[0])
    return out


def kind(meaning, words=2):
    return " ".join(meaning.replace(":", " ").split()[:words])


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if OWNED.match(name):
            os.remove(os.path.join(d, name))
    for name, data in seeds:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seeds)} seeds, {sum(len(s) for _, s in seeds)} bytes")


def daemon_seeds():
    d = os.path.join(SPEC, "vectors-daemon")
    seen, seeds = set(), []
    for fname in sorted(os.listdir(d)):
        if not fname.endswith(".txt"):
            continue
        for n, step, meaning, data in records(os.path.join(d, fname)):
            port = "data" if "[data port" in step else "token"
            # Regular tokens differ mostly in their type word (ARQ,
            # RETRANS): keep a few of those apart, not all 30.
            ty = data[1] & 0x03 if port == "token" else 0
            key = (port, kind(meaning or ""), len(data), ty)
            if data and key not in seen:
                seen.add(key)
                name = f"{fname[:2]}-{n:03}-{port}"
                seeds.append((name, bytes(data)))
                # Headers alone, and data packets of one whole message
                # (message bytes are never converted), convert by header.
                ty = struct.unpack("<I", data[:4])[0]
                data_len = struct.unpack("<H", data[32:34])[0]
                frag_len = struct.unpack("<h", data[38:40])[0]
                one_message = ty & REGULAR_TYPE and frag_len == data_len
                if len(data) == 40 or (port == "data" and one_message):
                    fields = DATA_FIELDS if port == "data" else TOKEN_FIELDS
                    big = to_big_endian(data[:40], fields) + data[40:]
                    seeds.append((name + "-be", big))
    for kind_, ty in MONITOR.items():
        lens = {"status": [0, STATUS_LEN], "partition": [PARTITION_LEN], "fc": [FC_LEN], "reload": [0]}
        for n in lens[kind_]:
            for big in (False, True):
                name = f"mon-{kind_}-{n}-{'be' if big else 'le'}"
                seeds.append((name, monitor(ty, n, big)))
    return seeds


def client_seeds():
    d = os.path.join(SPEC, "vectors")
    seen, seeds = set(), []
    for fname in sorted(os.listdir(d)):
        if not fname.endswith(".txt"):
            continue
        for n, step, _, data in records(os.path.join(d, fname)):
            words = step.split()
            meaning = step.split(" : ", 1)[1] if " : " in step else ""
            big = len(data) >= 48 and data[0] & 0x80 == 0
            key = (words[2], kind(meaning), len(data), big)
            if data and key not in seen:
                seen.add(key)
                direction = "c2d" if words[2] == "C->D" else "d2c"
                seeds.append((f"{fname[:2]}-{n:03}-{direction}", bytes(data)))
    return seeds


write("daemon_packet", daemon_seeds())
write("client_wire", client_seeds())
