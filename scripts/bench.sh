#!/usr/bin/env bash
# Native benchmark: rstscope's CLI against tshark on the same files, in the same run.
#
#   scripts/bench.sh [FILE...]        (make bench)
#
# Without FILEs: the two composite captures of the corpus (RSTSCOPE_CORPUS, or ../shared/captures)
# and two generated captures, target/bench/gen-100MB.pcap and gen-1GB.pcap (made once by
# `cargo run --release --example gen_capture`, seed 1; never committed).
#
# For each file, alternately, a few times each (BENCH_RUNS, default 5; files over 500 MB 3 times):
#   rstscope analyze F --format json > /dev/null
#   rstscope analyze F --format json --one-thread > /dev/null   (all on one thread, as the page)
#   tshark -n -r F -q -z conv,tcp > /dev/null
# under /usr/bin/time, after one untimed read of the file so both start from the page cache.
# Reported: median wall time, packets/s, MB/s, peak RSS, the ratio; and the analysis's retained
# heap per TCP packet (examples/mem_per_packet). The table goes to stdout and
# target/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

OUT=target/bench
RUNS=${BENCH_RUNS:-5}
BIG=500000000
TSHARK=${TSHARK:-tshark}
mkdir -p "$OUT"

say() { printf '[bench] %s\n' "$*" >&2; }

if [ ! -x /usr/bin/time ]; then
  say "installing GNU time (for peak RSS)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq time >/dev/null
fi
command -v "$TSHARK" >/dev/null || { say "tshark is missing (apt-get install tshark)"; exit 1; }

say "building the release CLI and the examples"
cargo build --release --quiet --bin rstscope --example gen_capture --example mem_per_packet
CLI=target/release/rstscope

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  corpus=${RSTSCOPE_CORPUS:-../shared/captures}
  if compgen -G "$corpus/composite/*.pcap" >/dev/null; then
    files+=("$corpus"/composite/*.pcap)
  else
    say "no corpus at $corpus (set RSTSCOPE_CORPUS): only generated captures"
  fi
  for size in 100MB 1GB; do
    f="$OUT/gen-$size.pcap"
    if [ ! -s "$f" ]; then
      say "generating $f (once)"
      target/release/examples/gen_capture --out "$f" --size "$size" --seed 1 >&2
    fi
    files+=("$f")
  done
fi

# Runs "$@" under /usr/bin/time (for the peak RSS); prints "wall_seconds max_rss_kb". The wall
# time is measured here, to the microsecond (time's %e has 10 ms steps).
timed() {
  local t start end
  t=$(mktemp)
  start=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$t" "$@" >/dev/null 2>"$t.err" || {
    say "failed: $*"; cat "$t.err" >&2; rm -f "$t" "$t.err"; return 1
  }
  end=$EPOCHREALTIME
  awk -v s="$start" -v e="$end" -v r="$(tail -n 1 "$t")" 'BEGIN { printf "%.6f %s\n", e - s, r }'
  rm -f "$t" "$t.err"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -g | tail -n 1; }

{
  echo "## Native: rstscope vs tshark ($(date -u +%Y-%m-%d), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1))"
  echo
  echo "rstscope $(git describe --always --dirty 2>/dev/null || echo '?'); $($TSHARK --version | head -n 1)"
  echo "Wall time: median of the runs (min-max); RSS: the largest of the runs."
  echo
  echo "| file | size | packets | tool | runs | wall s | packets/s | MB/s | peak RSS MB | tshark/rstscope |"
  echo "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"
} >"$OUT/results.md.new"

mem_lines=()
for f in "${files[@]}"; do
  [ -r "$f" ] || { say "cannot read $f"; exit 1; }
  bytes=$(stat -L -c %s "$f")
  runs=$RUNS
  [ "$bytes" -gt "$BIG" ] && [ "$runs" -gt 3 ] && runs=3
  say "$f: warming the page cache"
  cat "$f" >/dev/null
  # The analysis's own count (and its memory), without another timed tool run.
  mem=$(target/release/examples/mem_per_packet "$f")
  mem_lines+=("$mem")
  packets=$(sed -n '1s/^.*: \([0-9]*\) packets,.*$/\1/p' <<<"$mem")
  declare -a rw=() rr=() ow=() or=() tw=() tr=()
  for i in $(seq "$runs"); do
    say "$f: run $i/$runs"
    read -r w r < <(timed "$CLI" analyze "$f" --format json); rw+=("$w"); rr+=("$r")
    read -r w r < <(timed "$CLI" analyze "$f" --format json --one-thread); ow+=("$w"); or+=("$r")
    read -r w r < <(timed "$TSHARK" -n -r "$f" -q -z conv,tcp); tw+=("$w"); tr+=("$r")
  done
  name=$(basename "$f")
  row() { # tool walls rss
    local tool=$1 walls=$2 rss=$3 med lo hi
    med=$(tr ' ' '\n' <<<"$walls" | median)
    lo=$(tr ' ' '\n' <<<"$walls" | sort -g | head -n 1)
    hi=$(tr ' ' '\n' <<<"$walls" | max)
    awk -v n="$name" -v b="$bytes" -v p="$packets" -v t="$tool" -v r="$runs" -v m="$med" \
        -v lo="$lo" -v hi="$hi" -v rss="$(tr ' ' '\n' <<<"$rss" | max)" -v ratio="$4" \
      'BEGIN { printf "| %s | %.0f MB | %d | %s | %d | %.3f (%.3f-%.3f) | %.0f | %.1f | %.0f | %s |\n",
                      n, b / 1e6, p, t, r, m, lo, hi, p / m, b / 1e6 / m, rss / 1024, ratio }'
  }
  rmed=$(printf '%s\n' "${rw[@]}" | median)
  omed=$(printf '%s\n' "${ow[@]}" | median)
  tmed=$(printf '%s\n' "${tw[@]}" | median)
  ratio=$(awk -v a="$tmed" -v b="$rmed" 'BEGIN { printf "**%.1fx**", a / b }')
  oratio=$(awk -v a="$tmed" -v b="$omed" 'BEGIN { printf "%.1fx", a / b }')
  row rstscope "${rw[*]}" "${rr[*]}" "$ratio" >>"$OUT/results.md.new"
  row "rstscope --one-thread" "${ow[*]}" "${or[*]}" "$oratio" >>"$OUT/results.md.new"
  row tshark "${tw[*]}" "${tr[*]}" "" >>"$OUT/results.md.new"
done

{
  echo
  echo "Retained memory of the analysis (heap still held by the finished \`Analysis\`, counted by"
  echo "a counting allocator, capacity included; examples/mem_per_packet):"
  echo
  echo '```'
  printf '%s\n' "${mem_lines[@]}"
  echo '```'
} >>"$OUT/results.md.new"

mv "$OUT/results.md.new" "$OUT/results.md"
cat "$OUT/results.md"
