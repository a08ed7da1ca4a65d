#!/bin/sh
# resume_e2e.sh: training checkpoints end to end on the example cohort (data/example): a run
# killed with SIGKILL at a random epoch and resumed (members one after the other, and side by
# side) ends with the model file and the epoch log of an uninterrupted run with the same seed;
# SIGTERM and SIGINT stop a training with exit 143 and 130, a message naming the checkpoint, and
# a checkpoint that resumes to the same model; a checkpoint of other options or other data is
# refused, and neither a checkpoint nor a model file is read as the other.
# make check sets GFUSE (the built tool) and top_srcdir.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

if [ ! -d "$EXAMPLE" ]; then
    echo "the example cohort $EXAMPLE is missing"
    exit 1
fi

A="--cohort $EXAMPLE --ensemble 2 --epochs 40 --patience 12 --seed 5 --quiet"
# log rows without the seconds column
rows() { cut -d, -f1-7 "$1"; }
same_log() { rows "$1" >"$T/l1"; rows "$2" >"$T/l2"; cmp -s "$T/l1" "$T/l2"; }

# wait_for FILE PID: until FILE exists or the process PID is gone (at most 60 s).
wait_for() {
    n=0
    while [ ! -f "$1" ] && kill -0 "$2" 2>/dev/null && [ $n -lt 1200 ]; do
        sleep 0.05
        n=$((n + 1))
    done
}

# ---- the uninterrupted run ----------------------------------------------------------------------
run 0 "reference training" train $A --threads 2 --model "$T/ref.gfm" --log "$T/ref.log"
run 0 "the same training with checkpoints every epoch" train $A --threads 2 \
    --model "$T/ck.gfm" --log "$T/ck.log" --checkpoint "$T/full.ckpt" --checkpoint-every 1
check "checkpoints do not change the model file" cmp -s "$T/ref.gfm" "$T/ck.gfm"
check "the finished checkpoint exists" test -s "$T/full.ckpt"
run 0 "resuming a finished checkpoint" train $A --model "$T/fin.gfm" --log "$T/fin.log" \
    --checkpoint "$T/full.ckpt" --resume
check "a finished checkpoint resumes to the same model" cmp -s "$T/ref.gfm" "$T/fin.gfm"
check "... and the same epoch log" same_log "$T/ref.log" "$T/fin.log"

# ---- SIGKILL at a random moment, then resume ------------------------------------------------------
# kill_and_resume NAME THREADS RESUME_THREADS
kill_and_resume() {
    ckpt="$T/$1.ckpt"
    delay=$(awk -v s="$$$1" 'BEGIN { srand(s + systime()); printf "%.2f", rand() * 0.6 }')
    "$GFUSE" train $A --threads "$2" --model "$T/$1.gfm" --log "$T/$1.log" \
        --checkpoint "$ckpt" --checkpoint-every 1 >"$T/out" 2>"$T/err" &
    pid=$!
    wait_for "$ckpt" $pid
    sleep "$delay"
    kill -KILL $pid 2>/dev/null
    wait $pid
    rc=$?
    echo "  $1: SIGKILL ${delay} s after the first checkpoint (threads $2), exit $rc"
    check "$1: a checkpoint is left after SIGKILL" test -s "$ckpt"
    check "$1: no model file after SIGKILL" sh -c "[ $rc -eq 0 ] || [ ! -f '$T/$1.gfm' ]"
    run 0 "$1: resume (threads $3)" train $A --threads "$3" --model "$T/$1.gfm" \
        --log "$T/$1.log" --checkpoint "$ckpt" --checkpoint-every 1 --resume
    check "$1: the resumed model file is the uninterrupted one, byte for byte" \
        cmp -s "$T/ref.gfm" "$T/$1.gfm"
    check "$1: the resumed epoch log is the uninterrupted one" same_log "$T/ref.log" "$T/$1.log"
}
kill_and_resume kill_side_by_side 2 2
kill_and_resume kill_serial 1 1
kill_and_resume kill_serial_then_side 1 2
kill_and_resume kill_side_then_serial 2 1

# ---- SIGTERM and SIGINT: stop at an epoch boundary with the checkpoint saved -----------------------
# A longer training than the one above, so that no machine finishes it before the signal comes;
# no checkpoint is due during it (--checkpoint-every 100000): the one found is the handler's.
L="--cohort $EXAMPLE --ensemble 2 --epochs 400 --patience 400 --seed 5"
run 0 "the uninterrupted long training" train $L --quiet --threads 2 --model "$T/long.gfm"
# signal_and_resume NAME SIGNAL EXIT
signal_and_resume() {
    ckpt="$T/$1.ckpt"
    "$GFUSE" train $L --threads 2 --model "$T/$1.gfm" --checkpoint "$ckpt" \
        --checkpoint-every 100000 >"$T/out" 2>"$T/err" &
    pid=$!
    # the first progress line on stderr comes after the first epoch, when the handlers are in
    # place: wait for it (at most 60 s), then the signal
    n=0
    while [ ! -s "$T/err" ] && kill -0 $pid 2>/dev/null && [ $n -lt 1200 ]; do
        sleep 0.05
        n=$((n + 1))
    done
    kill -"$2" $pid
    wait $pid
    rc=$?
    if [ $rc -eq "$3" ]; then ok "$1: exit $rc"; else fail "$1: expected exit $3, got $rc"; fi
    echo "  $1: $(tail -n 1 "$T/err")"
    check "$1: the message names the signal, the checkpoint and --resume" \
        grep -q "interrupted by signal .*; checkpoint saved to $ckpt.*; resume with --resume" "$T/err"
    check "$1: the checkpoint exists" test -s "$ckpt"
    check "$1: no model file" test ! -f "$T/$1.gfm"
    run 0 "$1: resume" train $L --quiet --model "$T/$1.gfm" --checkpoint "$ckpt" --resume
    check "$1: the resumed model file is the uninterrupted one" cmp -s "$T/long.gfm" "$T/$1.gfm"
}
signal_and_resume sigterm TERM 143
signal_and_resume sigint INT 130

# ---- refusals ---------------------------------------------------------------------------------------
C="$T/sigterm.ckpt"
run 2 "resume with other --epochs" train $L --quiet --epochs 401 --model "$T/x.gfm" --checkpoint "$C" --resume
check "... names --epochs and both values" err_has "written with --epochs 400, this run has --epochs 401"
run 2 "resume with other --lr" train $L --quiet --lr 0.02 --model "$T/x.gfm" --checkpoint "$C" --resume
check "... names --lr" err_has "written with --lr 0.01, this run has --lr 0.02"
run 2 "resume with another --seed" train $L --quiet --seed 6 --model "$T/x.gfm" --checkpoint "$C" --resume
check "... names --seed" err_has "with --seed 5, this run has --seed 6"
cp -r "$EXAMPLE" "$T/other"
awk -F, 'BEGIN { OFS = "," } NR == 2 { $2 = $2 + 1 } { print }' "$EXAMPLE/mod1.csv" >"$T/other/mod1.csv"
B=$(echo "$L --quiet" | sed "s|--cohort $EXAMPLE|--cohort $T/other|")
run 2 "resume on other feature values" train $B --model "$T/x.gfm" --checkpoint "$C" --resume
check "... says the values differ" err_has "other data (the feature values"
cp "$EXAMPLE/mod1.csv" "$T/other/mod1.csv"
awk -F, 'NR == 1 { print "id,mod1" } NR == 2 { print $1 ",0" }' "$EXAMPLE/mod1.csv" >"$T/mask.csv"
run 2 "resume with a mask hiding one modality of one sample" train $L --quiet --mask "$T/mask.csv" \
    --model "$T/x.gfm" --checkpoint "$C" --resume
check "... says the mask differs" err_has "(the mask) differ"
run 0 "resume with another thread count and checkpoint interval" train $L --quiet --threads 1 \
    --checkpoint-every 3 --model "$T/x.gfm" --checkpoint "$C" --resume
check "... gives the same model" cmp -s "$T/long.gfm" "$T/x.gfm"
run 3 "a model file is no checkpoint" train $L --quiet --model "$T/x.gfm" --checkpoint "$T/ref.gfm" --resume
check "... and the message says so" err_has "is not a gfuse training checkpoint"
run 3 "a checkpoint is no model file" info --model "$C"
check "... and the message says so" err_has "is not a gfuse model file"
head -c 1000 "$C" >"$T/cut.ckpt"
run 3 "a truncated checkpoint" train $L --quiet --model "$T/x.gfm" --checkpoint "$T/cut.ckpt" --resume
check "... is named a checkpoint" err_has "checkpoint $T/cut.ckpt is truncated"
run 2 "--resume without --checkpoint" train $L --quiet --model "$T/x.gfm" --resume
run 1 "--resume of a missing checkpoint" train $L --quiet --model "$T/x.gfm" --checkpoint "$T/none" --resume

e2e_summary resume_e2e
