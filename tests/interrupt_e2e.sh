#!/bin/sh
# interrupt_e2e.sh: SIGTERM and SIGINT during `gfuse predict` and `gfuse impute` end the run
# with 128 + the signal and leave neither a partial output nor a temporary file: each command
# is signalled once while it computes (before its output exists) and once while it is writing
# its temporary output. A tiny model is trained on a small synthetic cohort and applied to a
# large one of the same modalities, so that prediction and completion take long enough.
# make check sets GFUSE (the built tool) and top_srcdir.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

synth_opts="--modalities 3 --features 40 --classes 2 --quiet"
"$GFUSE" synth --out "$T/small" --samples 120 --seed 4 $synth_opts >/dev/null 2>&1 &&
    "$GFUSE" synth --out "$T/big" --samples 40000 --seed 5 $synth_opts >/dev/null 2>&1 &&
    "$GFUSE" train --cohort "$T/small" --model "$T/m.gfm" --epochs 2 --ensemble 1 --hidden 4 \
        --heads 1 --layers 1 --k 3 --graph-variants 0 --quiet >/dev/null 2>&1
check "a tiny model and a large cohort" test -s "$T/m.gfm" -a -d "$T/big"

# nothing_left NAME: no output NAME and nothing named NAME.tmp* or NAME.* (the temporary folder
# of impute) beside it.
nothing_left() {
    [ ! -e "$T/$1" ] && [ -z "$(find "$T" -maxdepth 1 -name "$1.*" -print)" ]
}

# handlers_installed PID: the tool's SIGINT and SIGTERM handlers are in place (SigCgt of
# /proc/PID/status, Linux). Before that a signal would reach the libtool wrapper script, which
# runs in the background with SIGINT ignored. Without /proc, a pause stands in.
handlers_installed() {
    if [ ! -r /proc/$1/status ]; then
        sleep 0.5
        return 0
    fi
    # the tool itself, not the libtool wrapper script before its exec
    case $(readlink "/proc/$1/exe" 2>/dev/null) in
    *gfuse*) ;;
    *) return 1 ;;
    esac
    cgt=$(sed -n 's/^SigCgt:[[:space:]]*//p' /proc/$1/status 2>/dev/null)
    low=${cgt#"${cgt%????}"} # signals 1 to 16 (SIGINT is bit 1, SIGTERM bit 14)
    [ -n "$low" ] && [ $((0x$low & 0x4002)) -eq $((0x4002)) ]
}

# start_and_signal SIGNAL WHEN NAME ARGS...: starts gfuse ARGS in the background and sends it
# SIGNAL while it computes (WHEN = compute: once its handlers are in place) or
# while its temporary output exists (WHEN = write: the folder is polled without a pause); sets
# rc to its exit status and seen to 1 when the signal went out before the output was committed.
start_and_signal() {
    sig=$1
    when=$2
    name=$3
    shift 3
    "$GFUSE" "$@" >/dev/null 2>"$T/err" &
    pid=$!
    if [ "$when" = write ]; then
        while kill -0 $pid 2>/dev/null &&
            [ -z "$(find "$T" -maxdepth 1 -name "$name.*" -print)" ]; do :; done
    else
        n=0
        while [ $n -lt 400 ] && kill -0 $pid 2>/dev/null && ! handlers_installed $pid; do
            sleep 0.01
            n=$((n + 1))
        done
        sleep 0.05
    fi
    # Stopped first, so that the signal arrives where the run was seen: a run that committed
    # its output in between counts as a miss.
    seen=0
    if kill -STOP $pid 2>/dev/null; then
        if [ ! -e "$T/$name" ]; then
            kill -"$sig" $pid
            seen=1
        fi
        kill -CONT $pid
    fi
    wait $pid
    rc=$?
}

# interrupt SIGNAL WHEN NAME ARGS...: start_and_signal, tried up to five times when the run
# ended before the signal reached it (a short write can slip between two polls); then expects
# exit 128 + the signal and neither NAME nor anything named NAME.* left.
interrupt() {
    tries=0
    while :; do
        tries=$((tries + 1))
        start_and_signal "$@"
        [ $seen -eq 1 ] || [ $tries -ge 5 ] && break
        rm -rf "$T/$3" "$T/$3".*
    done
    want=143
    [ "$1" = INT ] && want=130
    if [ $seen -eq 1 ] && [ $rc -eq $want ]; then
        ok "SIG$1 ($2) ends $4 with exit $rc"
    else
        fail "SIG$1 ($2) ends $4 with exit $rc (signal sent: $seen, $tries tries)," \
            "expected $want; stderr: $(head -c 300 "$T/err")"
    fi
    check "... and leaves no output and no temporary file" nothing_left "$3"
    nothing_left "$3" || echo "  left: $(cd "$T" && find . -maxdepth 2 -name "$3*" | head -5 | tr '\n' ' ')"
    rm -rf "$T/$3" "$T/$3".*
}

for sig in TERM INT; do
    for when in compute write; do
        interrupt $sig $when pred.csv predict --model "$T/m.gfm" --cohort "$T/big" \
            --out "$T/pred.csv" --threads 1 --quiet
        interrupt $sig $when imputed impute --model "$T/m.gfm" --cohort "$T/big" \
            --out "$T/imputed" --threads 1 --quiet
    done
done

# The same commands run to the end leave their outputs and nothing else.
run 0 "predict uninterrupted" predict --model "$T/m.gfm" --cohort "$T/big" --out "$T/pred.csv" \
    --quiet
check "... writes the predictions" test -s "$T/pred.csv"
check "... and no temporary file" test -z "$(find "$T" -maxdepth 1 -name 'pred.csv.*' -print)"

e2e_summary interrupt_e2e
