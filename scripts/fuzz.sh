#!/usr/bin/env bash
# Fuzzes rstscope's core with cargo-fuzz (libFuzzer): scripts/fuzz.sh [target] [seconds]
#
#   target   decoder | analysis | all (default: all, one after the other)
#   seconds  how long each target runs (default: 1800)
#
# Installs cargo-fuzz (pinned) when it is missing. cargo-fuzz needs nightly compiler flags
# (-Zsanitizer=address); with only a stable toolchain, RUSTC_BOOTSTRAP=1 unlocks them.
# Seeds are made from the project's own fixtures (tests/fixtures/formats and
# tests/fixtures/scenarios), each prefixed with the control bytes that choose the chunking
# (fuzz/src/lib.rs), into fuzz/corpus/<target>/, which libFuzzer then grows. One process per
# target (-jobs=1: the machine's cores are shared). Crashes land in fuzz/artifacts/<target>/;
# the script lists them, says how to reproduce them, and exits 1 if there are any.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.1
# Largest fixture used as a seed, and largest input libFuzzer makes: big enough for several
# records in every format, small enough to keep thousands of executions per second.
MAX_SEED_BYTES=16384
MAX_LEN=32768
# The control bytes in front of every seed (rstscope_fuzz::SEED_CONTROL).
SEED_CONTROL='\x07\x01\x90\x00'

target=${1:-all}
seconds=${2:-1800}
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"

case "$target" in
  all) targets=(decoder analysis) ;;
  decoder|analysis) targets=("$target") ;;
  *) echo "usage: scripts/fuzz.sh [decoder|analysis|all] [seconds]" >&2; exit 1 ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "seconds must be a whole number, not '$seconds'" >&2
  exit 1
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
export RUSTC_BOOTSTRAP=1

make_seeds() {
  local dir="$fuzz/corpus/$1" n=0
  mkdir -p "$dir"
  for f in "$root"/tests/fixtures/formats/* "$root"/tests/fixtures/scenarios/*.pcap; do
    case "$f" in *.md) continue ;; esac
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le "$MAX_SEED_BYTES" ] || continue
    { printf "$SEED_CONTROL"; cat "$f"; } >"$dir/seed-$(basename "$f")"
    n=$((n + 1))
  done
  echo "$n seeds from tests/fixtures in fuzz/corpus/$1"
}

status=0
for t in "${targets[@]}"; do
  echo "== fuzzing '$t' for $seconds s"
  make_seeds "$t"
  mkdir -p "$fuzz/artifacts/$t" "$fuzz/logs/$t"
  # Build first, on its own: a target that does not compile must fail the script, not leave
  # an old log behind to be read as this run's.
  cargo fuzz build --fuzz-dir "$fuzz" -O "$t"
  rm -f "$fuzz/logs/$t.log"
  before=$(find "$fuzz/artifacts/$t" -type f | sort)
  # -jobs=1 runs libFuzzer in one child process whose output goes to fuzz-0.log in the
  # working directory: each target runs in a folder of its own (so two targets can run at
  # once without sharing that file), and the log is kept under the target's name.
  (
    cd "$fuzz/logs/$t"
    rm -f fuzz-0.log
    cargo fuzz run --fuzz-dir "$fuzz" -O "$t" "$fuzz/corpus/$t" -- \
      -jobs=1 -max_total_time="$seconds" -max_len="$MAX_LEN" -rss_limit_mb=2048 \
      -timeout=30 -print_final_stats=1 -artifact_prefix="$fuzz/artifacts/$t/" || true
    mv -f fuzz-0.log "$fuzz/logs/$t.log" 2>/dev/null || true
  )
  log="$fuzz/logs/$t.log"
  if [ -f "$log" ]; then
    grep -E '^(stat::|Done )' "$log" | awk '!seen[$0]++' || tail -n 5 "$log"
  fi
  after=$(find "$fuzz/artifacts/$t" -type f | sort)
  new=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
  if [ -n "$new" ]; then
    status=1
    echo "!! '$t' found crashes (log: fuzz/logs/$t.log):"
    echo "$new" | sed 's/^/   /'
    echo "   reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz -O $t <file>"
  elif [ -f "$log" ] && grep -qE 'ERROR: libFuzzer|panicked at|deadly signal' "$log"; then
    status=1
    echo "!! '$t' failed without an artifact: see fuzz/logs/$t.log"
  else
    echo "== '$t': no crash (log: fuzz/logs/$t.log, corpus: fuzz/corpus/$t)"
  fi
done
exit $status
