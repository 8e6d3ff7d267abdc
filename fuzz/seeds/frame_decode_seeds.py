#!/usr/bin/env python3
"""Writes the hand-made seeds of the frame_decode corpus: every JSON example
of docs/protocol.md (commands and server messages alike), compact and
pretty, plus valid and invalid variants of every command (each field
dropped, each field of the wrong type, ids empty / 64 / 65 characters,
unknown types, not objects, truncated text, non-UTF-8 bytes).
Files are named by their SHA-1, as libFuzzer names its own.

Usage: python3 fuzz/seeds/frame_decode_seeds.py fuzz/corpus/frame_decode
"""
import hashlib, json, os, re, sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
seeds = set()

def add(x):
    if isinstance(x, str):
        x = x.encode()
    seeds.add(x)

doc = open(os.path.join(root, "docs", "protocol.md"), encoding="utf-8").read()
examples = []
for block in re.findall(r"```json\n(.*?)```", doc, re.S):
    add(block)
    try:
        v = json.loads(block)
    except ValueError:
        continue
    examples.append(v)
    add(json.dumps(v, separators=(",", ":"), ensure_ascii=False))
for line in doc.splitlines():
    m = re.match(r"^(?:[CA]<|\w+\s+->) (\{.*\})$", line.strip())
    if m:
        add(m.group(1))
        try:
            examples.append(json.loads(m.group(1)))
        except ValueError:
            pass

samples = {"id": "c1", "text": "hello", "accept": True, "resolved": False, "rating": "dissatisfied",
           "state": "break", "reason": "lunch", "session": 17,
           "to": {"kind": "group", "id": "refunds"}, "note": "Parcel lost in transit; please open a claim.",
           "skip_consent": True}
commands = {
    "message": ["id", "text"], "typing": ["id"], "consent": ["id", "accept"],
    "confirm_resolved": ["id", "resolved"], "rate": ["id", "rating"], "leave": ["id"], "ping": ["id"],
    "set_availability": ["id", "state"], "reply": ["id", "session", "text"], "ask_resolved": ["id", "session"],
    "transfer": ["id", "session", "to", "note"], "close": ["id", "session", "reason"], "snapshot": ["id"],
}
wrong = [None, 1, -1, 1.5, "x", "", True, [], {}, 2**53, 2**64, "é" * 70]
for kind, fields in commands.items():
    base = {"type": kind, **{f: samples[f] for f in fields}}
    if kind == "close":
        base["reason"] = "resolved"
    if kind == "typing":
        add(json.dumps({**base, "session": 17}))
    if kind == "set_availability":
        for st in ["available", "offline", "break", "busy"]:
            add(json.dumps({**base, "state": st}))
    if kind == "transfer":
        add(json.dumps({**base, "to": {"kind": "agent", "id": "bob"}}))
        add(json.dumps({**base, "to": {"kind": "team", "id": "bob"}}))
        add(json.dumps({**base, "skip_consent": True}))
    if kind == "close":
        for r in ["resolved", "customer_unresponsive", "duplicate", "abusive", "other", "bored"]:
            add(json.dumps({**base, "reason": r}))
    if kind == "rate":
        add(json.dumps({**base, "rating": "satisfied"}))
    add(json.dumps(base))
    add(json.dumps(base, indent=1))
    add(json.dumps({**base, "extra": [1, {"a": None}]}))
    add(json.dumps({"id": base["id"], **{k: v for k, v in base.items() if k != "id"}}))  # id first
    for f in list(base):
        add(json.dumps({k: v for k, v in base.items() if k != f}))
        for w in wrong:
            add(json.dumps({**base, f: w}, ensure_ascii=False))
    for i in ["", "a", "x" * 64, "x" * 65, "é" * 64, "é" * 65, "\u0000", "😀" * 64, "😀" * 65]:
        add(json.dumps({**base, "id": i}, ensure_ascii=False))
    add(json.dumps({**base, "type": kind.upper()}))
    add(json.dumps(base) + " ")
    add(json.dumps(base)[:-1])
    add(json.dumps(base) + "{}")
    add(json.dumps([base]))
    add('{"type":"%s","id":"a","id":"b"%s}' % (kind, "".join(',"%s":%s' % (f, json.dumps(samples[f])) for f in fields if f != "id")))
for other in ["dance", "welcome", "ack", "error", "", "Message", "message\u0000"]:
    add(json.dumps({"type": other, "id": "x1"}))
for v in examples:
    if isinstance(v, dict):
        add(json.dumps({**v, "id": "z9"}, separators=(",", ":"), ensure_ascii=False))
for raw in ["", " ", "{", "}", "{}", "[]", "null", "true", "0", "\"ping\"", "{not json", "{\"type\":", "[1,2]",
            "{\"type\":\"ping\"}", "{\"id\":\"a\"}", "{\"type\":null,\"id\":\"a\"}", "{\"type\":1,\"id\":\"a\"}",
            "{\"type\":\"ping\",\"id\":1}", "{\"type\":\"ping\",\"id\":null}", "[" * 200 + "]" * 200,
            "{\"a\":" * 130 + "1" + "}" * 130, "{\"type\":\"ping\",\"id\":\"\\ud800\"}",
            "{\"type\":\"message\",\"id\":\"u\",\"text\":\"\\u00e9\\n\\t\\\"\"}", "\ufeff{\"type\":\"ping\",\"id\":\"b\"}"]:
    add(raw)
for raw in [b"\xff", b"\xc3\x28", b"{\"type\":\"ping\",\"id\":\"\xff\"}", b"\x00\x01\x02", b"\xed\xa0\x80"]:
    add(raw)

for s in seeds:
    with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
        f.write(s)
print(len(seeds), "seeds written to", out)
