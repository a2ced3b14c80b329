# A program in the style of SpreadModule's own examples (written for
# SpreadModule 1.6): it must run unchanged against this package.
import sys

import spread

daemon = sys.argv[1].encode()
alice = spread.connect(daemon, b"alice", 0, 1)
alice.join(b"chat")
msg = alice.receive()
if msg.reason & spread.CAUSED_BY_JOIN:
    print("joined:", msg.members)

bob = spread.connect(daemon=daemon, name=b"bob", priority=0, membership=1)
bob.join(b"chat")
msg = bob.receive()
print("joined:", msg.members)
alice.receive()  # alice sees bob join

alice.multicast(spread.SAFE_MESS, b"chat", b"hello from alice", 1)
while True:
    msg = bob.receive()
    if isinstance(msg, spread.RegularMsgType):
        print("bob got:", msg.message, "from", msg.sender, "type", msg.msg_type)
        break
alice.receive()  # her own message

bob.leave(b"chat")
while True:
    msg = alice.receive()
    if type(msg) is spread.MembershipMsgType and msg.reason == spread.CAUSED_BY_LEAVE:
        print("alice saw bob leave:", msg.extra[0])
        break
bob.disconnect()
alice.disconnect()
try:
    alice.receive()
except spread.error as e:
    code, text = e.args
    assert code == spread.ILLEGAL_SESSION
print("done")
