#!/usr/bin/env bash
# gcnet onsager (one network, one relaxation vector per atom label, then the whole matrix)
# against one published GCNetRun training per label, on the same samples with the same
# network, batches and epochs, in one run; prints the wall times and their ratio.
#
#   bash scripts/bench_onsager.sh                 # 3 species (rates 1, 0.1, 0.01), 64-site FCC cell
#   EPOCHS=20 SAMPLES=3000 bash scripts/bench_onsager.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GCNET=${GCNET:-$ROOT/target/release/gcnet}
if [ ! -x "$GCNET" ]; then
    echo "bench_onsager: building gcnet (release)"
    (cd "$ROOT" && cargo build --release -p gcnet)
fi
SAMPLES=${SAMPLES:-3000} NT=${NT:-2000} EPOCHS=${EPOCHS:-10} NL=${NL:-2} NCH=${NCH:-8} BS=${BS:-16}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cd "$OUT"
"$GCNET" crystal --size 4 -o fcc4.h5 > /dev/null
"$GCNET" latgas --crystal fcc4.h5 -o gas.h5 -n "$SAMPLES" --rates 1,0.1,0.01 --counts 21,21,21 --seed 1 > /dev/null
common=(-DP gas.h5 -cr fcc4.h5 -nt "$NT" -nl "$NL" -nch "$NCH" -eep "$EPOCHS" -i "$EPOCHS" -bs "$BS" -lr 0.003 --seed 1)
now() { date +%s.%N; }
echo "$(nproc) CPUs, $SAMPLES samples ($NT training), -nl $NL -nch $NCH, $EPOCHS epochs, batch $BS"
t0=$(now)
"$GCNET" onsager "${common[@]}" -td 1 -vSp 3 > onsager.txt 2> onsager.log
t1=$(now)
separate=()
for sp in 0 1 2; do
    s0=$(now)
    "$GCNET" "${common[@]}" -m train -scr -sep 0 -td 1 -tn 1 -sp "$sp" -vSp 3 > /dev/null 2>> published.log
    separate+=("$(awk -v a="$s0" -v b="$(now)" 'BEGIN { print b - a }')")
done
trained=$(sed -n 's/.*trained epochs [0-9.]* in \([0-9.]*\) s.*/\1/p' onsager.log)
awk -v a="$t0" -v b="$t1" -v s="${separate[*]}" -v tr="$trained" 'BEGIN {
    n = split(s, t, " "); total = 0; for (i = 1; i <= n; i++) total += t[i]
    printf "gcnet onsager, 3 labels (training, then the 4 x 4 matrix over all jumps): %8.1f s\n", b - a
    printf "  of which training the one network (its own report):                     %8.1f s\n", tr
    printf "published line, one training per label (%s s):            %8.1f s\n", s, total
    printf "ratio (separate trainings / onsager):                                      %8.2f\n", total / (b - a)
}'
