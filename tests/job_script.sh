#!/usr/bin/env bash
# The published example job script (Examples/2_Neural_network_training/job_script_NN.sb),
# its five gcnet lines unchanged except that `python -u $ML_RUN/GCNetRun.py` is `gcnet`
# and the epochs (500, 1000, every 10), the network (-nl 6 -nch 8) can be scaled down
# through the variables below. tests/job_script.rs runs it on a small SR-2 set and checks
# every file each line writes (name, shape, dtype) and that each line finds what the one
# before it wrote.
#
#   DP=data.h5 CP=CrystData.h5 c=1 bash tests/job_script.sh     # the published sizes
set -euo pipefail
: "${DP:?set DP to the data set}" "${CP:?set CP to the crystal file}" "${c:?set c to the temperature tag}"
E1=${E1:-500} E2=${E2:-1000} I=${I:-10} NL=${NL:-6} NCH=${NCH:-8}

gcnet -DP $DP -cr $CP -a0 1.0 -m train -scr -nl $NL -nch $NCH -ncL 1 -td $c -tn $c -sep 0 -eep $E1 -i $I -sp 1 -vSp 2 -bs 128 -wm 0.02 -ws 0.02
gcnet -DP $DP -cr $CP -a0 1.0 -m train -scr -nl $NL -nch $NCH -ncL 1 -td $c -tn $c -sep $E1 -eep $E2 -i $I -sp 1 -vSp 2 -bs 128
gcnet -DP $DP -cr $CP -a0 1.0 -m eval -nl $NL -nch $NCH -ncL 1 -td $c -tn $c -sep 0 -eep $E2 -i $I -sp 1 -vSp 2 -bs 1024
gcnet -DP $DP -cr $CP -a0 1.0 -m getY -nl $NL -nch $NCH -ncL 1 -td $c -tn $c -sep $E2 -sp 1 -vSp 2 -bs 1024
gcnet -DP $DP -cr $CP -a0 1.0 -m getY -aj -nl $NL -nch $NCH -ncL 1 -td $c -tn $c -sep $E2 -sp 1 -vSp 2 -bs 1024
