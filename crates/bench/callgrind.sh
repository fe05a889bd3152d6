#!/usr/bin/env bash
# Instructions per recorded command: the ledger on SQLite with 16 clients, under callgrind, a
# figure that the machine's noise cannot move (see docs/performance.md).
#
# Two runs of a fixed amount of work (each client records SHORT, then LONG commands); the
# difference of their instruction counts divided by the difference of their commands is the
# cost of one more command, without the fixed costs (start, schema, workload set-up).
# The split is each part's inclusive cost over the same difference:
#   writer  = engagements_store::writer::run (planning, hashing, its SQL calls' Rust side)
#   clients = engagements_bench::append::ledger_client (deciding, serialising, Store::append)
#   SQLite  = sqlx's worker threads, where every SQLite call runs (statements, indexes, commit)
#
#   cargo build --release -p engagements-bench
#   crates/bench/callgrind.sh                # BIN, CLIENTS, SHORT, LONG, OUT may be set
#
# valgrind hides the CPU's SHA extensions, which `sha2` uses natively: SHA-256 counts more
# instructions here than it runs on the machine.
set -euo pipefail
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/engagements-bench}
CLIENTS=${CLIENTS:-16}
SHORT=${SHORT:-40}
LONG=${LONG:-240}
OUT=${OUT:-target/callgrind}
mkdir -p "$OUT"

run() {
    valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$1.out" \
        "$BIN" --sqlite-dir "$OUT" --out "$OUT/append.$1.json" append --backends sqlite \
        --clients "$CLIENTS" --systems ledger --seconds 100000 --commands-per-client "$1" \
        >"$OUT/table.$1.md" 2>"$OUT/valgrind.$1.log"
    callgrind_annotate --inclusive=yes --threshold=100 "$OUT/callgrind.$1.out" \
        >"$OUT/inclusive.$1.txt"
}

if [ -z "${ANALYSE_ONLY:-}" ]; then
    run "$SHORT"
    run "$LONG"
fi

python3 - "$OUT" "$SHORT" "$LONG" <<'PY'
import json, re, sys
out, short, long_ = sys.argv[1], sys.argv[2], sys.argv[3]

def parse(n):
    text = open(f"{out}/inclusive.{n}.txt").read()
    total = int(re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", text, re.M).group(1).replace(",", ""))
    parts = {"writer": 0, "clients": 0, "sqlite": 0}
    patterns = {
        "writer": r"engagements_store::writer::run(_serial)?::\{\{closure\}\}",
        "clients": r"engagements_bench::append::ledger_client::\{\{closure\}\}",
        # the threads sqlx starts for each SQLite connection: every SQLite call runs there
        "sqlite": r"sqlx-sqlite-[\d.]+/src/connection/worker\.rs:std::sys::backtrace::__rust_begin_short_backtrace",
    }
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+) \([ \d.]+%\)\s+\S*?:?(.*)$", line)
        if not m:
            continue
        cost, name = int(m.group(1).replace(",", "")), m.group(2)
        for part, pattern in patterns.items():
            # the largest inclusive figure of each part (its outermost frame)
            if re.search(pattern, name) and cost > parts[part]:
                parts[part] = cost
    commands = json.load(open(f"{out}/append.{n}.json"))["figures"][0]["operations"]
    return total, parts, commands

t1, p1, c1 = parse(short)
t2, p2, c2 = parse(long_)
per = (t2 - t1) / (c2 - c1)
print(f"commands: {c1} then {c2}; instructions: {t1:,} then {t2:,}")
print(f"instructions per recorded command: {per:,.0f}")
for part in ("writer", "clients", "sqlite"):
    share = (p2[part] - p1[part]) / (c2 - c1)
    print(f"  {part:8} {share:>10,.0f}  ({share / per:.0%})")
rest = per - sum((p2[k] - p1[k]) / (c2 - c1) for k in p1)
print(f"  {'other':8} {rest:>10,.0f}  ({rest / per:.0%})  (tokio, channels, the runtime's threads)")
PY
