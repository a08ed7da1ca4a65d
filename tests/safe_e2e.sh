#!/bin/sh
# safe_e2e.sh: outputs never destroy what is not theirs. A FIFO (standing in for a device), a
# folder, an input file of the command, two outputs on one path, a missing folder or a path
# under a regular file are refused before any work; a symlink output rewrites the file it
# names and stays a link; a planted link at a temp-like name redirects nothing; impute --out
# must be new, empty or (--force) an earlier impute output, and a failed impute leaves no
# folder; a SIGTERM-ed run exits 143 and leaves no temporary file; --out - writes to stdout.
# make check sets GFUSE (the built tool) and top_srcdir.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

ex="$T/ex"
cp -R "$EXAMPLE" "$ex" || exit 1
sums() { (cd "$ex" && find . -type f | sort | xargs cksum); }
sums >"$T/ex.sum"
ex_unchanged() { sums | cmp -s - "$T/ex.sum"; }
no_temp() { [ -z "$(find "$T" -name '*.tmp*' -print)" ]; }

# ---- paths that are not regular files --------------------------------------------------------
mkfifo "$T/fifo"
run 2 "inspect --out FIFO refused" inspect --cohort "$ex" --out "$T/fifo"
check "the FIFO is still a FIFO" test -p "$T/fifo"
check "the refusal says what the path is" err_has "FIFO"
mkdir "$T/dir"
run 2 "inspect --out FOLDER refused" inspect --cohort "$ex" --out "$T/dir"
check "the folder is still a folder" test -d "$T/dir"
run 2 "graph --edges FIFO refused" graph --cohort "$ex" --edges "$T/fifo"
check "the FIFO is still a FIFO after graph" test -p "$T/fifo"
ln -s fifo "$T/fifo-link"
run 2 "a symlink to a FIFO refused" inspect --cohort "$ex" --out "$T/fifo-link"
check "the link and the FIFO stay" sh -c "test -L '$T/fifo-link' && test -p '$T/fifo'"

# ---- symlinks ------------------------------------------------------------------------------
echo old >"$T/target.txt"
chmod 640 "$T/target.txt"
ln -s target.txt "$T/link.txt"
run 0 "inspect --out SYMLINK" inspect --cohort "$ex" --out "$T/link.txt" --quiet
check "the link is still a link" test -L "$T/link.txt"
check "its target holds the report" grep -q "samples: 300" "$T/target.txt"
check "the target kept its permission bits" \
    sh -c "ls -l '$T/target.txt' | grep -q '^-rw-r-----'"
mkdir "$T/d"
echo victim >"$T/victim.txt"
ln -s ../victim.txt "$T/d/r.txt.tmp.$$"
ln -s ../victim.txt "$T/d/r.txt.tmp.XXXXXX"
run 0 "inspect --out beside planted links" inspect --cohort "$ex" --out "$T/d/r.txt" --quiet
check "the victim of the planted links is untouched" grep -qx victim "$T/victim.txt"
check "the report is where it was asked" grep -q "samples: 300" "$T/d/r.txt"
rm -f "$T/d/r.txt.tmp.$$" "$T/d/r.txt.tmp.XXXXXX"

# ---- inputs and duplicated outputs -----------------------------------------------------------
run 0 "train a small model" train --cohort "$ex" --model "$T/m.gfm" --epochs 2 --quiet
run 2 "train --model MODALITY-FILE refused" train --cohort "$ex" --model "$ex/mod1.csv" --epochs 1
run 2 "train --log LABELS refused" train --cohort "$ex" --model "$T/m2.gfm" --log "$ex/labels.csv"
run 2 "train --model X --log X refused" train --cohort "$ex" --model "$T/x" --log "$T/x" --epochs 1
check "... and nothing written" test ! -e "$T/x"
ln -s mod2.csv "$ex/alias.csv"
run 2 "an output linked to an input refused" inspect --cohort "$ex" --out "$ex/alias.csv"
rm -f "$ex/alias.csv"
run 2 "predict --out LABELS refused" predict --model "$T/m.gfm" --cohort "$ex" --out "$ex/labels.csv"
run 2 "predict --out MODEL refused" predict --model "$T/m.gfm" --cohort "$ex" --out "$T/m.gfm"
run 2 "predict --out X --attention X refused" predict --model "$T/m.gfm" --cohort "$ex" \
    --out "$T/p.csv" --attention "$T/p.csv"
run 2 "graph --graphml X --edges X refused" graph --cohort "$ex" --graphml "$T/g" --edges "$T/g"
run 2 "impute --out COHORT refused" impute --model "$T/m.gfm" --cohort "$ex" --out "$ex"
run 2 "impute --out COHORT --force refused" impute --model "$T/m.gfm" --cohort "$ex" --out "$ex" \
    --force
check "the cohort is unchanged" ex_unchanged

# ---- folders that cannot take the output -------------------------------------------------------
run 1 "an output in a missing folder refused" inspect --cohort "$ex" --out "$T/nowhere/r.txt"
check "... before the work (no report)" sh -c "! grep -q samples '$T/out'"
echo file >"$T/plain"
run 1 "an output under a regular file refused" inspect --cohort "$ex" --out "$T/plain/r.txt"
run 1 "train --model in a missing folder refused before training" \
    train --cohort "$ex" --model "$T/nowhere/m.gfm"
check "... with no progress line" sh -c "! grep -q epoch '$T/err'"

# ---- impute --out ------------------------------------------------------------------------------
run 0 "impute into a new folder" impute --model "$T/m.gfm" --cohort "$ex" --out "$T/imp" --quiet
check "impute wrote mask.csv" test -s "$T/imp/mask.csv"
run 2 "impute into an earlier output without --force refused" \
    impute --model "$T/m.gfm" --cohort "$ex" --out "$T/imp"
cp "$T/imp/mask.csv" "$T/mask.before"
run 0 "impute --force on an earlier output" impute --model "$T/m.gfm" --cohort "$ex" \
    --out "$T/imp" --force --quiet
check "... rewrote it" cmp -s "$T/imp/mask.csv" "$T/mask.before"
mkdir "$T/notimp"
echo keep >"$T/notimp/notes.txt"
run 2 "impute --force on another folder refused" impute --model "$T/m.gfm" --cohort "$ex" \
    --out "$T/notimp" --force
check "... which is untouched" grep -qx keep "$T/notimp/notes.txt"
mkdir "$T/empty"
run 0 "impute into an empty folder" impute --model "$T/m.gfm" --cohort "$ex" --out "$T/empty" \
    --quiet
check "... which holds the output" test -s "$T/empty/mask.csv"
mkdir "$T/other"
printf 'id,zz\ns001,1\ns002,2\n' >"$T/other/zz.csv"
run 3 "a failed impute (cohort without the model's modalities)" \
    impute --model "$T/m.gfm" --cohort "$T/other" --out "$T/failed"
check "... leaves no output folder" test ! -e "$T/failed"
check "... and no temporary folder" sh -c "! ls -d '$T'/failed.* 2>/dev/null | grep -q ."

# ---- --out - ------------------------------------------------------------------------------------
run 0 "inspect --out -" inspect --cohort "$ex" --out - --quiet
check "... writes the report to stdout" out_has "samples: 300"
run 0 "predict --out -" predict --model "$T/m.gfm" --cohort "$ex" --out - --quiet
check "... writes the table to stdout" out_has "^id,p_"
run 0 "graph --edges -" graph --cohort "$ex" --edges - --quiet
check "... writes the edges to stdout" out_has "member"
check "no temporary file is left so far" no_temp

# ---- SIGTERM: exit 143, no temporary file -----------------------------------------------------
"$GFUSE" synth --out "$T/big" --samples 20000 --seed 1 --quiet >/dev/null 2>&1
"$GFUSE" graph --cohort "$T/big" --graphml "$T/big.graphml" --quiet >/dev/null 2>"$T/err" &
pid=$!
n=0
while [ $n -lt 600 ] && [ -z "$(find "$T" -maxdepth 1 -name 'big.graphml.tmp.*' -print)" ] &&
    kill -0 $pid 2>/dev/null; do
    sleep 0.1
    n=$((n + 1))
done
check "graph is writing its temporary file when killed" \
    sh -c "find '$T' -maxdepth 1 -name 'big.graphml.tmp.*' | grep -q ."
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 143 ]; then ok "SIGTERM-ed graph exits 143"; else fail "SIGTERM-ed graph exit $rc"; fi
check "... leaves no temporary file" no_temp
check "... and no output" test ! -e "$T/big.graphml"

e2e_summary safe_e2e
