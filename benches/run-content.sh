#!/usr/bin/env bash
# Five runs of the content-rules bench (docs/performance.md, "Content rules"),
# each with the load average before it and the CPU steal during it (/proc/stat).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
for i in 1 2 3 4 5; do
  before=$(head -1 /proc/stat); load=$(cut -d' ' -f1 /proc/loadavg)
  cargo bench -q -p switchboard-benches --bench content -- --warm-up-time 1 --measurement-time 3 2>/dev/null | grep "time:" > "$out/run$i.txt"
  after=$(head -1 /proc/stat)
  python3 - "$before" "$after" "$load" "$i" <<'PY'
import sys
b=[int(x) for x in sys.argv[1].split()[1:]]; a=[int(x) for x in sys.argv[2].split()[1:]]
d=[y-x for x,y in zip(b,a)]; steal=d[7]; total=sum(d[:8])
print(f"run {sys.argv[4]}: load {sys.argv[3]}, steal {100*steal/total:.2f}%")
PY
  cat "$out/run$i.txt"
done
