#!/usr/bin/env bash
# Runs Herald's standard load benchmarks and the Go microbenchmarks, and
# writes the figures into docs/benchmarks.md (between the bench.sh
# markers; text outside them is kept).
#
# Each run of each scenario gets a freshly started server (`herald serve
# --dev` on a new data directory and port). With 2+ CPUs the server and the
# load generator are pinned to separate cores with taskset (first half of
# the CPUs for the server, second half for the load generator). Each table
# gives the median of the runs and their range. Traffic stays on loopback.
#
# Usage: scripts/bench.sh [--runs N] [--only REGEX] [--quick] [--profile]
#                         [--no-micro] [--micro-count N] [--baseline FILE]
#                         [--out DIR] [--doc FILE]
#   --runs N         runs per scenario (default 5)
#   --only REGEX     run only the scenarios whose label matches (grep -E)
#   --quick          N = 1,000 instead of 10,000, fewer messages, 1 run
#   --profile        one run per scenario against `herald-bench serve --pprof`,
#                    saving server CPU (and, for idle, heap) profiles and
#                    `go tool pprof -top` summaries in OUT/prof; no doc update
#   --no-micro       skip the Go microbenchmarks
#   --micro-count N  -count for the microbenchmarks (default 5)
#   --baseline FILE  earlier microbenchmark output (OUT/micro.txt of a previous
#                    run) to compare with benchstat (installed with go install
#                    golang.org/x/perf/cmd/benchstat if missing)
#   --out DIR        where raw results go (default: a new /tmp/herald-bench.* dir)
#   --render DIR     run nothing: rewrite the doc section from the results an
#                    earlier run left in DIR
#   --doc FILE       the Markdown file to update (default docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=5 ONLY="" QUICK=0 PROFILE=0 MICRO=1 MICRO_COUNT=5 BASELINE="" OUT="" DOC=docs/benchmarks.md RENDER=0
while (($#)); do
	case "$1" in
	--runs) RUNS=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--quick) QUICK=1 RUNS=1 ;;
	--profile) PROFILE=1 RUNS=1 MICRO=0 ;;
	--no-micro) MICRO=0 ;;
	--micro-count) MICRO_COUNT=$2; shift ;;
	--baseline) BASELINE=$2; shift ;;
	--out) OUT=$2; shift ;;
	--render) OUT=$2 RENDER=1; shift ;;
	--doc) DOC=$2; shift ;;
	*) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
OUT=${OUT:-$(mktemp -d /tmp/herald-bench.XXXXXX)}
mkdir -p "$OUT"
BIN="$OUT/bin"
mkdir -p "$BIN"
echo "bench.sh: results in $OUT" >&2

((RENDER)) || go build -o "$BIN/herald" ./cmd/herald
go build -o "$BIN/herald-bench" ./cmd/herald-bench

# 10,000 connections need 10,000+ descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
	echo "bench.sh: ulimit -n is $(ulimit -n); 10,000 connections need more (raise the hard limit)" >&2
fi

NCPU=$(nproc)
SRV_PIN=() GEN_PIN=() PINNING="none (1 CPU or no taskset)"
if ((NCPU >= 2)) && command -v taskset >/dev/null; then
	half=$((NCPU / 2))
	srv_cpus="0-$((half - 1))" gen_cpus="$half-$((NCPU - 1))"
	((half == 1)) && srv_cpus=0
	((NCPU - half == 1)) && gen_cpus=$half
	SRV_PIN=(taskset -c "$srv_cpus") GEN_PIN=(taskset -c "$gen_cpus")
	PINNING="server on CPU $srv_cpus, load generator on CPU $gen_cpus (taskset -c)"
fi

N=10000 MSGS=2000 MULTI_MSGS=1000
((QUICK)) && N=1000 MSGS=200 MULTI_MSGS=100
# label|load generator arguments
SCENARIOS=(
	"idle-$N|idle --n $N --hold 20s --auth key"
	"connect-$N-key|connect --n $N --auth key"
	"connect-$N-token|connect --n $N --auth token"
	"connect-$N-jwt|connect --n $N --auth jwt"
	"connect-$N-key-msgpack|connect --n $N --auth key --format msgpack"
	"fanout-1x1000x$MSGS-flat|fanout --subscribers 1000 --messages $MSGS"
	"fanout-1x1000x$MSGS-flat-msgpack|fanout --subscribers 1000 --messages $MSGS --format msgpack"
	"fanout-1x1000x$MSGS-100ps|fanout --subscribers 1000 --messages $MSGS --rate 100"
	"fanout-10x100x$MULTI_MSGS-flat|fanout --channels 10 --subscribers 100 --messages $MULTI_MSGS"
	"revoke-$N-token|revoke --n $N --auth token"
	"revoke-$N-jwt|revoke --n $N --auth jwt"
	"rest|rest --duration 5s --concurrency 16"
)

PORT=18100
SRV_PID=""
start_server() { # $1 = data dir, $2 = port, $3 = log
	if ((PROFILE)); then
		"${SRV_PIN[@]}" "$BIN/herald-bench" serve --data-dir "$1" --listen "127.0.0.1:$2" --pprof "127.0.0.1:$(($2 + 1000))" 2>"$3" &
	else
		"${SRV_PIN[@]}" "$BIN/herald" serve --dev --data-dir "$1" --listen "127.0.0.1:$2" --log-level warn 2>"$3" &
	fi
	SRV_PID=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench.sh: server did not start; see $3" >&2
	return 1
}
stop_server() {
	kill -TERM "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=""
}
trap 'stop_server' EXIT

COMMANDS="$OUT/commands.txt"
run_all() {
	: >"$COMMANDS"
	RUN_DATE=$(date -u +%Y-%m-%dT%H:%MZ)
	RUN_CODE=$(git describe --always --dirty 2>/dev/null || echo unknown)
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	for entry in "${SCENARIOS[@]}"; do
		label=${entry%%|*} args=${entry#*|}
		if [ -n "$ONLY" ] && ! grep -qE "$ONLY" <<<"$label"; then
			continue
		fi
		for run in $(seq "$RUNS"); do
			PORT=$((PORT + 1))
			data="$OUT/data/$label-$run"
			rm -rf "$data" && mkdir -p "$data"
			start_server "$data" "$PORT" "$OUT/$label-$run.server.log"
			extra=()
			if ((PROFILE)); then
				mkdir -p "$OUT/prof"
				extra=(--pprof-url "http://127.0.0.1:$((PORT + 1000))" --profile-prefix "$OUT/prof/$label-")
			fi
			# shellcheck disable=SC2086 # args is a word list on purpose
			cmd=("${GEN_PIN[@]}" "$BIN/herald-bench" $args --url "http://127.0.0.1:$PORT" --server-pid "$SRV_PID"
				--source-ips 4 --label "$label" --json "${extra[@]}")
			((run == 1)) && echo "$label: ${cmd[*]}" >>"$COMMANDS"
			echo "== $label run $run/$RUNS" >&2
			if ! timeout 600 "${cmd[@]}" >"$OUT/$label-$run.json" 2>"$OUT/$label-$run.log"; then
				echo "bench.sh: $label run $run failed; see $OUT/$label-$run.log" >&2
				rm -f "$OUT/$label-$run.json"
			fi
			stop_server
			rm -rf "$data"
		done
	done
	LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
	printf 'RUN_CODE="%s"\nRUN_DATE="%s"\nLOAD_START="%s"\nLOAD_END="%s"\nRUNS=%s\nPINNING="%s"\nSRV_PIN_TEXT="%s"\nNOFILE=%s\n' \
		"$RUN_CODE" "$RUN_DATE" "$LOAD_START" "$LOAD_END" "$RUNS" "$PINNING" "${SRV_PIN[*]}" "$(ulimit -n)" >"$OUT/meta.env"
}
((RENDER)) || run_all

if ((PROFILE)); then
	for p in "$OUT"/prof/*.pprof; do
		[ -e "$p" ] || continue
		go tool pprof -top -nodecount=30 "$BIN/herald-bench" "$p" >"${p%.pprof}.txt" 2>/dev/null || true
	done
	echo "bench.sh: profiles and pprof -top summaries in $OUT/prof" >&2
	exit 0
fi

if ((MICRO && !RENDER)); then
	echo "== Go microbenchmarks (-count $MICRO_COUNT)" >&2
	go test -run '^$' -bench . -benchmem -count "$MICRO_COUNT" ./protocol ./auth ./hub ./sqlitestore >"$OUT/micro.txt" 2>&1 || true
	if [ -n "$BASELINE" ]; then
		BENCHSTAT=$(command -v benchstat || true)
		if [ -z "$BENCHSTAT" ] && go install golang.org/x/perf/cmd/benchstat@latest >/dev/null 2>&1; then
			BENCHSTAT="$(go env GOPATH)/bin/benchstat"
		fi
		if [ -n "$BENCHSTAT" ]; then
			"$BENCHSTAT" "$BASELINE" "$OUT/micro.txt" >"$OUT/micro-stat.txt" 2>&1 || true
		else
			echo "(benchstat unavailable; raw output follows)" >"$OUT/micro-stat.txt"
			cat "$OUT/micro.txt" >>"$OUT/micro-stat.txt"
		fi
	fi
fi

# micro_table prints the microbenchmarks as a Markdown table: the median
# ns/op of the -count runs and their range, B/op and allocs/op.
micro_table() {
	awk '
		/^pkg:/ { pkg = $2; sub(/.*\//, "", pkg) }
		/^Benchmark/ && / ns\/op/ {
			key = pkg "|" $1
			if (!(key in seen)) { seen[key] = 1; order[++n] = key }
			for (i = 3; i < NF; i++) {
				if ($(i + 1) == "ns/op") ns[key] = ns[key] " " $i
				if ($(i + 1) == "B/op") bop[key] = $i
				if ($(i + 1) == "allocs/op") al[key] = $i
			}
		}
		END {
			print "| package | benchmark | ns/op (median) | min–max | B/op | allocs/op |"
			print "|---|---|---:|---:|---:|---:|"
			for (k = 1; k <= n; k++) {
				key = order[k]
				m = split(substr(ns[key], 2), v, " ")
				for (i = 2; i <= m; i++) { x = v[i] + 0; j = i - 1; while (j > 0 && v[j] + 0 > x) { v[j + 1] = v[j]; j-- } v[j + 1] = x }
				med = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
				split(key, p, "|"); name = p[2]; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
				printf "| %s | %s | %.4g | %.4g–%.4g | %s | %s |\n", p[1], name, med, v[1], v[m], bop[key], al[key]
			}
		}' "$1"
}

# The generated section, from what OUT holds.
# shellcheck source=/dev/null
. "$OUT/meta.env"
RESULTS=() # result files in the order the scenarios ran
while read -r line; do
	for f in "$OUT/${line%%:*}"-[0-9]*.json; do
		[ -s "$f" ] && RESULTS+=("$f")
	done
done <"$COMMANDS"
MICRO=0
[ -s "$OUT/micro.txt" ] && MICRO=1 MICRO_COUNT=$(awk '/^Benchmark/ {n[$1]++} END {for (k in n) {print n[k]; exit}}' "$OUT/micro.txt")
GEN="$OUT/generated.md"
{
	echo "<!-- bench.sh:begin (written by scripts/bench.sh; edit outside these markers) -->"
	echo
	echo "#### Machine"
	echo
	echo "- CPUs: $NCPU × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "- Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); kernel $(uname -r); $(go version | cut -d' ' -f3-)"
	echo "- Pinning: $PINNING"
	echo "- Load average (1/5/15 min) at start: $LOAD_START; at end: $LOAD_END"
	echo "- Code: \`${RUN_CODE:-unknown}\` (git describe --dirty; the binaries were built from the working tree at the start)"
	echo "- Run: $RUN_DATE; $RUNS run(s) per scenario, each on a freshly started server; tables give the median and the range"
	echo
	echo "#### Exact commands"
	echo
	echo "Both run with \`ulimit -n ${NOFILE:-?}\` (bench.sh raises the soft limit to the hard one)."
	echo
	echo "Server, started fresh for every run (\`\$PORT\` differs per run):"
	echo
	echo '```'
	echo "$SRV_PIN_TEXT herald serve --dev --data-dir \$(mktemp -d) --listen 127.0.0.1:\$PORT --log-level warn"
	echo '```'
	echo
	echo "Load generator, per scenario:"
	echo
	echo '```'
	sed -e "s|$BIN/||g" -e "s|[^ ]*/bin/herald-bench|herald-bench|" -e 's|--server-pid [0-9]*|--server-pid $SERVER_PID|' -e 's|127.0.0.1:[0-9]*|127.0.0.1:$PORT|' "$COMMANDS"
	echo '```'
	echo
	if ((${#RESULTS[@]})); then
		echo "#### Goals (median of the runs)"
		echo
		"$BIN/herald-bench" summarize --goals "${RESULTS[@]}"
		echo "#### Figures per scenario"
		echo
		# one level below the section's own headings
		"$BIN/herald-bench" summarize "${RESULTS[@]}" | sed 's/^#### /##### /'
	else
		echo "(no results)"
	fi
	if ((MICRO)); then
		echo "#### Go microbenchmarks"
		echo
		echo '```'
		echo "go test -run '^\$' -bench . -benchmem -count $MICRO_COUNT ./protocol ./auth ./hub ./sqlitestore"
		[ -n "$BASELINE" ] && echo "benchstat $BASELINE micro.txt"
		echo '```'
		echo
		micro_table "$OUT/micro.txt"
		echo
		if [ -n "$BASELINE" ]; then
			echo "Compared with \`$BASELINE\` (benchstat):"
			echo
			echo '```'
			cat "$OUT/micro-stat.txt"
			echo '```'
			echo
		fi
	fi
	echo "<!-- bench.sh:end -->"
} >"$GEN"

if [ -f "$DOC" ] && grep -q '<!-- bench.sh:begin' "$DOC"; then
	awk -v gen="$GEN" '
		/<!-- bench.sh:begin/ { while ((getline line < gen) > 0) print line; skip = 1; next }
		/<!-- bench.sh:end -->/ { skip = 0; next }
		!skip { print }
	' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
else
	{
		echo "# Benchmarks: load (herald-bench)"
		echo
		echo "Regenerate with \`scripts/bench.sh\`."
		echo
		echo "### Results of the last \`scripts/bench.sh\` run"
		echo
		cat "$GEN"
	} >"$DOC"
fi
echo "bench.sh: wrote $DOC" >&2
