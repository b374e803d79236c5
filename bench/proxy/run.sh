#!/usr/bin/env bash
# Sidecar proxy benchmark: the sample function (HelloFunction) called directly, through nginx, through the least
# a YARP forwarder can be (bench/proxy/BareForwarder: the floor of any YARP-based proxy) and through obs-sidecar,
# on loopback, in one run. See docs/benchmarks.md, "Sidecar proxy".
#
#   bash bench/proxy/run.sh                 # the measurement in the docs (about 8 minutes)
#   bash bench/proxy/run.sh --variant 'warn=--Logging:LogLevel:Default=Warning' --variant 'nopgo=DOTNET_TieredPGO=0'
#   bash bench/proxy/run.sh --variant 'hung=@hung-export'    # the sidecar against a collector that never answers
#
# Per round and target: a throughput run (wrk -t2 -c32), a latency run (-t1 -c4, closed loop) and a paced
# latency run (-t1 -c4, each connection waiting 1 ms between requests: the same light load for every target).
#
# Options:
#   --rounds N        measured rounds; each runs every target, in a rotated order, kind by kind (5)
#   --duration S      seconds of each measured wrk run (6)
#   --warmup S        wrk warm-up before each throughput run (2); every target also gets 3 s once at the start
#   --starts N        timed sidecar starts, after one untimed one (5)
#   --variant L=SPEC  one more sidecar target, "sidecar/L", measured like the default one. SPEC is a list of
#                     words: NAME=VALUE is set in the sidecar's environment only (not the function's);
#                     --Key=value is passed to obs-sidecar; @jit runs the plain Release build (JIT-compiled,
#                     `dotnet obs-sidecar.dll`) instead of the published native obs-sidecar; @r2r a
#                     framework-dependent ReadyToRun publish (`dotnet obs-sidecar.dll`);
#                     @no-export leaves out --otlp-endpoint (spans are still made, not exported);
#                     @no-relay sends the function's stdout to /dev/null, so the sidecar relays no log lines;
#                     @hung-export exports to a hung collector: it accepts connections and never reads or
#                     answers (python3), so the sidecar's exporter waits out its timeouts.
#   --starts-only     only time the sidecar starts (default and variants), no load runs
#   --out FILE        where the markdown report goes, besides stdout (bench/proxy/results.md)
#   --no-build        use the existing Release builds
#
# It installs wrk, nginx, clang and zlib1g-dev from Debian if they are missing, publishes obs-sidecar natively,
# builds it and HelloFunction in Release,
# and starts everything itself on 127.0.0.1 (nginx with its own config in a temp dir, not the system
# service). Progress goes to stderr, the report to stdout and --out. It exits 0 whatever the numbers are: it
# is a measurement, not a test.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LUA=$REPO/bench/proxy/report.lua
# obs-sidecar as it ships: published for linux-x64, natively compiled (see docs/sidecar.md, "Build").
SIDECAR_BIN=$REPO/agents/Observability.Sidecar.Cli/bin/Release/net10.0/linux-x64/publish/obs-sidecar
SIDECAR_JIT_DLL=$REPO/agents/Observability.Sidecar.Cli/bin/Release/net10.0/obs-sidecar.dll
FUNCTION_DLL=$REPO/samples/HelloFunction/bin/Release/net10.0/HelloFunction.dll
# The floor: a bare YARP forwarder (bench/proxy/BareForwarder), published natively too.
FLOOR_BIN=$REPO/bench/proxy/BareForwarder/bin/Release/net10.0/linux-x64/publish/BareForwarder

ROUNDS=5 DURATION=6 WARMUP=2 FIRST_WARMUP=3 STARTS=5 BUILD=1 STARTS_ONLY=0 OUT=$REPO/bench/proxy/results.md
TP_THREADS=2 TP_CONNS=32 LAT_THREADS=1 LAT_CONNS=4 PACE_MS=1
VARIANTS=()
declare -A V_SPEC=() V_ENV=() V_ARGS=() V_BUILD=() V_EXPORT=() V_RELAY=()
COMMAND_LINE="bash bench/proxy/run.sh"
for arg in "$@"; do
    [[ $arg =~ ^[A-Za-z0-9_./:=@+-]+$ ]] && COMMAND_LINE+=" $arg" || COMMAND_LINE+=" '$arg'"
done

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

add_variant() {
    local spec=$1 label word
    label=${spec%%=*}
    [[ $spec == *=* && $label =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "--variant wants LABEL=SPEC with a lower-case label: $spec"
    [[ -z ${V_SPEC[$label]+x} ]] || die "--variant $label given twice"
    VARIANTS+=("$label")
    V_SPEC[$label]=${spec#*=} V_ENV[$label]= V_ARGS[$label]= V_BUILD[$label]=0 V_EXPORT[$label]=1 V_RELAY[$label]=1
    for word in ${V_SPEC[$label]}; do
        if [[ $word == @jit || $word == @r2r ]]; then
            V_BUILD[$label]=${word#@}
        elif [[ $word == @no-export ]]; then
            V_EXPORT[$label]=0
        elif [[ $word == @hung-export ]]; then
            V_EXPORT[$label]=2
        elif [[ $word == @no-relay ]]; then
            V_RELAY[$label]=0
        elif [[ $word == --* ]]; then
            V_ARGS[$label]+=" $word"
        elif [[ $word =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
            V_ENV[$label]+=" $word"
        else
            die "--variant $label: '$word' is neither NAME=VALUE, --Key=value, @jit, @r2r, @no-export, @hung-export nor @no-relay"
        fi
    done
}

parse_args() {
    while (($#)); do
        case $1 in
            --rounds) ROUNDS=$2; shift 2 ;;
            --duration) DURATION=$2; shift 2 ;;
            --warmup) WARMUP=$2; shift 2 ;;
            --starts) STARTS=$2; shift 2 ;;
            --variant) add_variant "$2"; shift 2 ;;
            --out) OUT=$2; shift 2 ;;
            --no-build) BUILD=0; shift ;;
            --starts-only) STARTS_ONLY=1; shift ;;
            -h | --help) usage; exit 0 ;;
            *) die "unknown option $1 (--help lists them)" ;;
        esac
    done
    local n
    for n in "$ROUNDS" "$DURATION" "$WARMUP" "$STARTS"; do
        [[ $n =~ ^[0-9]+$ ]] || die "not a whole number: $n"
    done
    ((ROUNDS >= 1 && DURATION >= 1)) || die "--rounds and --duration must be at least 1"
}

# ---------------------------------------------------------------- processes, cleanup

STARTED=() # every process this script started (nginx masters, functions, sidecars, samplers)
TMP=
SLEEP_FD=

# A process that exists and is not a zombie.
alive() {
    local line
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    line=${line##*) }
    [[ ${line:0:1} != Z ]]
}

# Sleeps without a fork: read on a FIFO nobody writes to, with a timeout.
nap() { read -r -t "$1" -u "$SLEEP_FD" _ || true; }

cleanup() {
    local rc=$? pid deadline=$((SECONDS + 10))
    trap - EXIT INT TERM
    for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # A sidecar stops its function (SIGTERM, then SIGKILL after 5 s) and flushes its spans: give it time.
    for pid in "${STARTED[@]}"; do
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    [[ -n $TMP ]] && rm -rf "$TMP"
    exit "$rc"
}

# The children of a process -> REPLY (space-separated pids).
children_of() {
    local f line kids=()
    local -a fields
    for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        read -ra fields <<<"${line##*) }"
        [[ ${fields[1]} == "$1" ]] && kids+=("${f//[!0-9]/}")
    done
    REPLY=${kids[*]}
}

# utime + stime of processes, in clock ticks -> REPLY.
ticks_of() {
    local pid line total=0
    local -a f
    for pid in "$@"; do
        { read -r line <"/proc/$pid/stat"; } 2>/dev/null || continue
        read -ra f <<<"${line##*) }"
        total=$((total + f[11] + f[12]))
    done
    REPLY=$total
}

# CPU of this shell's reaped children (cutime + cstime), in clock ticks -> REPLY. Around a wrk run, that is wrk.
reaped_ticks() {
    local line
    local -a f
    read -r line <"/proc/$$/stat"
    read -ra f <<<"${line##*) }"
    REPLY=$((f[13] + f[14]))
}

# Whole machine, from /proc/stat -> BUSY and ALL, in clock ticks summed over CPUs.
machine_ticks() {
    local user nice system idle iowait irq softirq steal
    read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
    BUSY=$((user + nice + system + irq + softirq + steal))
    ALL=$((BUSY + idle + iowait))
}

# ---------------------------------------------------------------- loopback helpers (no curl: bash's /dev/tcp)

port_open() {
    local fd
    { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    exec {fd}>&-
}

# GET 127.0.0.1:PORT PATH answers 200.
http_ok() {
    local fd status=
    { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&"$fd" 2>/dev/null || true
    read -r -t 5 -u "$fd" _ status _ 2>/dev/null || true
    exec {fd}>&-
    [[ $status == 200 ]]
}

# Ports below the kernel's ephemeral range (32768+), so wrk's own connections never hold one.
NEXT_PORT=$((15000 + RANDOM % 10000))
free_port() {
    while port_open $((++NEXT_PORT)); do :; done
    REPLY=$NEXT_PORT
}

# wait_ready PORT PATH PID WHAT: polls until GET answers 200 (30 s at most).
wait_ready() {
    local deadline=$((SECONDS + 30))
    until http_ok "$1" "$2"; do
        alive "$3" || die "$4 exited during start (logs: $TMP/*.log)"
        ((SECONDS < deadline)) || die "$4 did not answer GET $2 on port $1 within 30 s"
        nap 0.02
    done
}

# ---------------------------------------------------------------- setup

need_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
    command -v clang >/dev/null || missing+=(clang)          # Native AOT's linker driver
    [[ -f /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
    command -v dotnet >/dev/null || die "dotnet is not on PATH"
    if ((${#missing[@]})); then
        ((EUID == 0)) || die "missing ${missing[*]}: apt-get install ${missing[*]} (as root)"
        log "installing ${missing[*]} from Debian"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

build() {
    log "building obs-sidecar (Release build, and published natively as it ships), the bare YARP forwarder and HelloFunction (Release)"
    dotnet build "$REPO/agents/Observability.Sidecar.Cli" -c Release -v quiet -nologo >&2
    dotnet publish "$REPO/agents/Observability.Sidecar.Cli" -c Release -r linux-x64 -v quiet -nologo >&2
    dotnet publish "$REPO/bench/proxy/BareForwarder" -c Release -r linux-x64 -v quiet -nologo >&2
    dotnet build "$REPO/samples/HelloFunction" -c Release -v quiet -nologo >&2
}

# A framework-dependent ReadyToRun publish of obs-sidecar, for the variants that ask for it (@r2r), into $TMP/r2r.
publish_r2r() {
    local label
    for label in "${VARIANTS[@]}"; do
        [[ ${V_BUILD[$label]} == r2r ]] || continue
        log "publishing obs-sidecar with ReadyToRun (linux-x64, framework-dependent)"
        dotnet publish "$REPO/agents/Observability.Sidecar.Cli" -c Release -r linux-x64 --self-contained false \
            -p:PublishAot=false -p:PublishTrimmed=false -p:PublishReadyToRun=true -o "$TMP/r2r" -v quiet -nologo >&2
        return
    done
}

# The start of an nginx config; $1 is the prefix folder, $2 the number of workers.
nginx_config_head() {
    cat <<EOF
daemon off;
worker_processes $2;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    keepalive_requests 1000000;
EOF
}

# start_nginx NAME: runs nginx with $TMP/NAME/nginx.conf, prefix $TMP/NAME -> REPLY: the master's pid.
start_nginx() {
    local dir=$TMP/$1 master
    nginx -q -t -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" >&2
    nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" </dev/null >>"$dir/out.log" 2>&1 &
    master=$!
    STARTED+=("$master")
    REPLY=$master
}

nginx_pids() { # MASTER -> REPLY: the master and its workers
    local master=$1
    children_of "$master"
    REPLY="$master $REPLY"
}

# The OTLP sink: 200 to every export, body discarded; it logs one line per export (its Content-Length) to count them.
start_sink() {
    free_port
    SINK_PORT=$REPLY
    local dir=$TMP/sink
    mkdir -p "$dir"
    {
        nginx_config_head "$dir" 1
        cat <<EOF
    log_format export '\$content_length \$status';
    server {
        listen 127.0.0.1:$SINK_PORT;
        access_log $dir/exports.log export buffer=64k flush=1s;
        location = /v1/traces { default_type application/x-protobuf; return 200 ""; }
        location = /v1/logs { default_type application/x-protobuf; return 200 ""; }
        location = /v1/metrics { default_type application/x-protobuf; return 200 ""; }
        location / { access_log off; return 404; }
    }
}
EOF
    } >"$dir/nginx.conf"
    start_nginx sink
    SINK_MASTER=$REPLY
    local deadline=$((SECONDS + 10))
    until port_open "$SINK_PORT"; do
        ((SECONDS < deadline)) || die "the sink nginx did not listen (see $dir/error.log)"
        nap 0.02
    done
}

# The hung collector (@hung-export variants): accepts every connection, never reads a byte, never answers.
start_hung() {
    free_port
    HUNG_PORT=$REPLY
    python3 -c '
import socket, sys
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(1024)
held = []
while True:
    held.append(listener.accept()[0])
' "$HUNG_PORT" </dev/null >/dev/null 2>>"$TMP/hung.log" &
    STARTED+=("$!")
    local deadline=$((SECONDS + 10))
    until port_open "$HUNG_PORT"; do
        ((SECONDS < deadline)) || die "the hung collector did not listen (see $TMP/hung.log)"
        nap 0.02
    done
}

# The fair proxy: keep-alive to the client and to the function, HTTP/1.1 upstream, nothing logged.
start_proxy_nginx() {
    free_port
    T_PORT[nginx]=$REPLY
    local dir=$TMP/nginx
    mkdir -p "$dir"
    {
        nginx_config_head "$dir" auto
        cat <<EOF
    access_log off;
    upstream hello {
        server 127.0.0.1:$FUNCTION_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:${T_PORT[nginx]};
        location / {
            proxy_pass http://hello;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    } >"$dir/nginx.conf"
    start_nginx nginx
    local master=$REPLY
    wait_ready "${T_PORT[nginx]}" /hello "$master" nginx
    nginx_pids "$master"
    T_PROXY[nginx]=$REPLY
    T_FN[nginx]=${T_FN[direct]}
}

# The bare YARP forwarder in front of the same function as nginx.
start_floor() {
    free_port
    T_PORT[yarp]=$REPLY
    "$FLOOR_BIN" "${T_PORT[yarp]}" "$FUNCTION_PORT" >/dev/null 2>>"$TMP/yarp.log" </dev/null &
    local pid=$!
    STARTED+=("$pid")
    wait_ready "${T_PORT[yarp]}" /hello "$pid" "the bare YARP forwarder"
    T_PROXY[yarp]=$pid T_FN[yarp]=${T_FN[direct]}
}

start_direct_function() {
    free_port
    FUNCTION_PORT=$REPLY
    T_PORT[direct]=$FUNCTION_PORT
    PORT=$FUNCTION_PORT dotnet "$FUNCTION_DLL" >/dev/null 2>>"$TMP/function-direct.log" </dev/null &
    local pid=$!
    STARTED+=("$pid")
    wait_ready "$FUNCTION_PORT" /hello "$pid" "the function"
    T_FN[direct]=$pid T_PROXY[direct]=
}

# launch_sidecar LABEL PORT ADMIN_PORT UPSTREAM_PORT FUNCTION_COMMAND... -> REPLY: the sidecar's pid.
# LABEL "sidecar" is the default configuration; any other is a --variant. The variant's environment is
# set for obs-sidecar only: the function's command is wrapped in `env -u NAME`.
launch_sidecar() {
    local label=$1 port=$2 admin=$3 upstream=$4 name
    shift 4
    local -a sidecar=("$SIDECAR_BIN")
    local -a environment=() args=() unset=() export=(--otlp-endpoint "http://127.0.0.1:$SINK_PORT") relay=()
    if [[ $label != sidecar ]]; then
        read -ra environment <<<"${V_ENV[$label]}"
        read -ra args <<<"${V_ARGS[$label]}"
        case ${V_BUILD[$label]} in
            jit) sidecar=(dotnet "$SIDECAR_JIT_DLL") ;;
            r2r) sidecar=(dotnet "$TMP/r2r/obs-sidecar.dll") ;;
        esac
        ((V_EXPORT[$label])) || export=()
        ((V_EXPORT[$label] != 2)) || export=(--otlp-endpoint "http://127.0.0.1:$HUNG_PORT")
        ((V_RELAY[$label])) || relay=(sh -c 'exec "$@" >/dev/null' sh)
    fi
    for name in "${environment[@]}"; do unset+=(-u "${name%%=*}"); done
    (
        for name in "${environment[@]}"; do export "${name?}"; done
        exec "${sidecar[@]}" --name bench --version 1 --port "$port" --admin-port "$admin" --upstream-port "$upstream" \
            "${export[@]}" "--Sidecar:SpoolDirectory=$TMP/spool-$label" \
            "${args[@]}" -- env "${unset[@]}" "${relay[@]}" "$@"
    ) >/dev/null 2>>"$TMP/sidecar-$label.log" </dev/null &
    REPLY=$!
    STARTED+=("$REPLY")
}

# forget PID: a process stopped and reaped, so cleanup leaves it (and its reused pid) alone.
forget() {
    local pid kept=()
    for pid in "${STARTED[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
    STARTED=("${kept[@]}")
}

# stop PID: SIGTERM and wait (10 s, then SIGKILL).
stop() {
    local deadline=$((SECONDS + 10))
    kill -TERM "$1" 2>/dev/null || true
    while alive "$1" && ((SECONDS < deadline)); do nap 0.02; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget "$1"
}

# time_start LABEL PORT PATH COMMAND...: exec COMMAND in the background and poll GET PATH every 2 ms until
# it answers 200 -> REPLY: tenths of a millisecond; PID: the process (left running).
time_start() {
    local label=$1 port=$2 path=$3 t0
    shift 3
    t0=${EPOCHREALTIME/./}
    "$@"
    until http_ok "$port" "$path"; do
        alive "$PID" || die "$label exited during start (see $TMP/*.log)"
        nap 0.002
    done
    REPLY=$(((${EPOCHREALTIME/./} - t0) / 100))
}

launch_function() { # PORT -> PID
    PORT=$1 dotnet "$FUNCTION_DLL" >/dev/null 2>>"$TMP/function-starts.log" </dev/null &
    PID=$!
    STARTED+=("$PID")
}

launch_sidecar_sleeping() { # LABEL PORT ADMIN_PORT UPSTREAM_PORT -> PID
    launch_sidecar "$1" "$2" "$3" "$4" sleep 300
    PID=$REPLY
}

# Start to ready: from the exec of obs-sidecar to its admin /healthz answering 200. The function is
# `sleep`, which starts at once, so the function's own start is not in the number. LABEL "function" times
# HelloFunction itself (exec to its /healthz answering 200), for reference: an ASP.NET Core app's start here.
measure_starts() {
    local label=$1 i port admin upstream times=()
    for ((i = 0; i <= STARTS; i++)); do
        free_port; port=$REPLY
        free_port; admin=$REPLY
        free_port; upstream=$REPLY
        if [[ $label == function ]]; then
            time_start HelloFunction "$port" /healthz launch_function "$port"
        else
            time_start "obs-sidecar ($label)" "$admin" /healthz launch_sidecar_sleeping "$label" "$port" "$admin" "$upstream"
        fi
        stop "$PID"
        # The first start is untimed: it warms the page cache and the dotnet host's lookups.
        ((i == 0)) || times+=("$REPLY")
    done
    START_MS[$label]=$(printf '%s\n' "${times[@]}" | awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 10 }')
    log "start to ready ($label): ${START_MS[$label]} ms"
}

start_sidecar_target() {
    local label=$1 target=$2 admin upstream pid
    free_port; T_PORT[$target]=$REPLY
    free_port; admin=$REPLY
    free_port; upstream=$REPLY
    launch_sidecar "$label" "${T_PORT[$target]}" "$admin" "$upstream" dotnet "$FUNCTION_DLL"
    pid=$REPLY
    wait_ready "$admin" /readyz "$pid" "obs-sidecar ($label)"
    wait_ready "${T_PORT[$target]}" /hello "$pid" "obs-sidecar ($label)"
    children_of "$pid"
    [[ $REPLY =~ ^[0-9]+$ ]] || die "obs-sidecar ($label) should have one child (the function), has: '$REPLY'"
    T_PROXY[$target]=$pid T_FN[$target]=$REPLY
    STARTED+=("$REPLY")
}

# ---------------------------------------------------------------- measuring

# The highest VmRSS of PID, with its RssAnon, RssFile, RssShmem and Pss then ("rss anon file shmem pss", kB),
# rewritten to FILE on every sample (every 100 ms) until killed.
sample_rss() {
    local pid=$1 file=$2 max=0 key value pss
    local -A now=()
    while alive "$pid"; do
        while read -r key value _; do
            case $key in VmRSS: | RssAnon: | RssFile: | RssShmem:) now[$key]=$value ;; esac
        done <"/proc/$pid/status"
        if ((${now[VmRSS:]:-0} > max)); then
            max=${now[VmRSS:]}
            read -r _ pss _ < <(grep '^Pss:' "/proc/$pid/smaps_rollup" 2>/dev/null || echo "Pss: 0 kB")
            echo "$max ${now[RssAnon:]} ${now[RssFile:]} ${now[RssShmem:]} $pss" >"$file"
        fi
        nap 0.1
    done
}

# run_wrk THREADS CONNECTIONS SECONDS PORT OUTFILE DELAY_MS -> W[requests,duration_us,p50_us,p99_us,max_us,errors]
# DELAY_MS empty: closed loop, each connection sends its next request as soon as it has the answer.
declare -A W=()
run_wrk() {
    local line word
    WRK_DELAY_MS=$6 wrk -t"$1" -c"$2" -d"$3"s --latency -s "$LUA" "http://127.0.0.1:$4/hello" >"$5" 2>&1 ||
        die "wrk failed: $(tail -3 "$5")"
    line=$(grep '^RESULT ' "$5") || die "wrk printed no RESULT line: $(tail -3 "$5")"
    for word in ${line#RESULT }; do W[${word%%=*}]=${word#*=}; done
}

# D[target|round|kind|field]: kind tp (throughput), lat (latency, closed loop) or paced (latency, paced);
# fields rps p50 p99 err, and for tp
# the CPU per request in µs: fn proxy sink wrk machine, and busy (%).
declare -A D=() T_PORT=() T_FN=() T_PROXY=() START_MS=() RSS_KB=() RSS_SPLIT=()
CLK_TCK=$(getconf CLK_TCK)

measure() {
    local target=$1 round=$2 kind=$3 threads conns file sampler= pace=
    local fn0 px0 sk0 wrk0 busy0 all0 fn1 px1 sk1 wrk1 sink_pids
    file=$TMP/wrk-${target//\//-}-$round-$kind.txt
    if [[ $kind == tp ]]; then
        threads=$TP_THREADS conns=$TP_CONNS
        ((WARMUP == 0)) || wrk -t"$threads" -c"$conns" -d"$WARMUP"s "http://127.0.0.1:${T_PORT[$target]}/hello" >/dev/null
    else
        threads=$LAT_THREADS conns=$LAT_CONNS
        [[ $kind == paced ]] && pace=$PACE_MS
    fi
    nginx_pids "$SINK_MASTER"
    sink_pids=$REPLY
    ticks_of ${T_FN[$target]}; fn0=$REPLY
    ticks_of ${T_PROXY[$target]}; px0=$REPLY
    ticks_of $sink_pids; sk0=$REPLY
    reaped_ticks; wrk0=$REPLY
    machine_ticks; busy0=$BUSY all0=$ALL
    if [[ $kind == tp && $target != nginx ]]; then
        # The sidecar's memory; for direct, the function's, for reference.
        sample_rss "$([[ $target == direct ]] && echo "${T_FN[direct]}" || echo "${T_PROXY[$target]}")" "$TMP/rss-$round-${target//\//-}" &
        sampler=$!
        STARTED+=("$sampler")
    fi

    run_wrk "$threads" "$conns" "$DURATION" "${T_PORT[$target]}" "$file" "$pace"

    ticks_of ${T_FN[$target]}; fn1=$REPLY
    ticks_of ${T_PROXY[$target]}; px1=$REPLY
    ticks_of $sink_pids; sk1=$REPLY
    reaped_ticks; wrk1=$REPLY
    machine_ticks
    if [[ -n $sampler ]]; then
        stop "$sampler"
        local rss split
        read -r rss split <"$TMP/rss-$round-${target//\//-}"
        ((rss > ${RSS_KB[$target]:-0})) && RSS_KB[$target]=$rss RSS_SPLIT[$target]=$split
    fi

    local key="$target|$round|$kind"
    D[$key|rps]=$((W[requests] * 1000000 / W[duration_us]))
    D[$key|p50]=${W[p50_us]} D[$key|p99]=${W[p99_us]} D[$key|err]=${W[errors]}
    if [[ $kind == tp ]]; then
        read -r "D[$key|fn]" "D[$key|proxy]" "D[$key|sink]" "D[$key|wrk]" "D[$key|machine]" "D[$key|busy]" < <(
            awk -v n="${W[requests]}" -v us=$((1000000 / CLK_TCK)) -v fn=$((fn1 - fn0)) -v px=$((px1 - px0)) \
                -v sk=$((sk1 - sk0)) -v wrk=$((wrk1 - wrk0)) -v busy=$((BUSY - busy0)) -v all=$((ALL - all0)) \
                'BEGIN { printf "%.1f %.1f %.1f %.1f %.1f %.0f\n", fn*us/n, px*us/n, sk*us/n, wrk*us/n, busy*us/n, 100*busy/all }')
    fi
    log "round $round, $target, -c$conns${pace:+ paced}: ${D[$key|rps]} req/s, p50 ${D[$key|p50]} µs, p99 ${D[$key|p99]} µs, errors ${D[$key|err]}"
}

run_rounds() {
    local target round kind i n=${#TARGETS[@]}
    for target in "${TARGETS[@]}"; do
        log "warm-up: $target, ${FIRST_WARMUP} s at -c$TP_CONNS"
        wrk -t"$TP_THREADS" -c"$TP_CONNS" -d"$FIRST_WARMUP"s "http://127.0.0.1:${T_PORT[$target]}/hello" >/dev/null
    done
    for ((round = 1; round <= ROUNDS; round++)); do
        # The runs compared with each other follow each other within seconds: this machine's speed drifts over
        # minutes (the same target measured 27k and 39k req/s a few minutes apart). The order rotates every
        # round, so no target always runs first or right after another.
        for kind in tp lat paced; do
            for ((i = 0; i < n; i++)); do
                target=${TARGETS[(i + round - 1) % n]}
                measure "$target" "$round" "$kind"
            done
        done
    done
}

# ---------------------------------------------------------------- report

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
thousands() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; } # 35258 -> 35,258
ms() { awk -v x="$1" 'BEGIN { printf "%.2f", x / 1000 }'; }                # µs -> ms

values() { # TARGET KIND FIELD -> the value of each round, one per line
    local r
    for ((r = 1; r <= ROUNDS; r++)); do echo "${D[$1|$r|$2|$3]}"; done
}

# A table row per metric: | target | metric | round 1 | ... | **median** |
metric_row() { # TARGET KIND FIELD TITLE FORMAT(thousands|ms) FIRST_CELL
    local v row="| $6 | $4 |"
    local -a all
    mapfile -t all < <(values "$1" "$2" "$3")
    for v in "${all[@]}"; do row+=" $($5 "$v") |"; done
    row+=" **$($5 "$(median "${all[@]}")")** |"
    echo "$row"
}

load_table() { # KIND THREADS CONNECTIONS [TITLE SUFFIX]
    local target r header="| wrk -t$2 -c$3${4:-}, ${DURATION} s | |" rule="| --- | --- |"
    for ((r = 1; r <= ROUNDS; r++)); do header+=" round $r |"; rule+=" ---: |"; done
    echo "$header **median** |"
    echo "$rule ---: |"
    for target in "${TARGETS[@]}"; do
        metric_row "$target" "$1" rps "req/s" thousands "$target"
        metric_row "$target" "$1" p50 "p50 ms" ms ""
        metric_row "$target" "$1" p99 "p99 ms" ms ""
    done
}

verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = op == ">=" ? v >= t : op == "<=" ? v <= t : v < t; print ok ? "met" : "**missed**" }'; }

targets_table() {
    local target r ratios diffs paced ratio diff pdiff start starts rss anon fileback shmem pss
    echo "| sidecar | req/s ÷ nginx req/s at -c$TP_CONNS (≥ 0.8) | p99 − direct p99 at -c$LAT_CONNS (≤ 1 ms) | the same, paced | start to ready, ms (< 200) | max VmRSS at -c$TP_CONNS (< 80 MB) |"
    echo "| --- | --- | --- | --- | --- | --- |"
    for target in "${TARGETS[@]}"; do
        [[ $target == sidecar* ]] || continue
        ratios=() diffs=() paced=()
        for ((r = 1; r <= ROUNDS; r++)); do
            paced+=("$(awk -v s="${D[$target|$r|paced|p99]}" -v d="${D[direct|$r|paced|p99]}" 'BEGIN { printf "%+.2f", (s - d) / 1000 }')")
            ratios+=("$(awk -v s="${D[$target|$r|tp|rps]}" -v n="${D[nginx|$r|tp|rps]}" 'BEGIN { printf "%.2f", s / n }')")
            diffs+=("$(awk -v s="${D[$target|$r|lat|p99]}" -v d="${D[direct|$r|lat|p99]}" 'BEGIN { printf "%+.2f", (s - d) / 1000 }')")
        done
        ratio=$(median "${ratios[@]}")
        diff=$(median "${diffs[@]}")
        pdiff=$(median "${paced[@]}")
        starts=${START_MS[${target#sidecar/}]} # "sidecar" -> sidecar, "sidecar/L" -> L
        start=$(median $starts)
        rss=$(awk -v k="${RSS_KB[$target]}" 'BEGIN { printf "%.0f", k / 1024 }')
        read -r anon fileback shmem pss <<<"${RSS_SPLIT[$target]}"
        printf '| %s | %.2f %s (%s) | %+.2f ms %s (%s) | %+.2f ms %s (%s) | %.0f %s (%s) | %s MB %s (anon %s, file %s, shmem %s; Pss %s) |\n' "$target" \
            "$ratio" "$(verdict "$ratio" ">=" 0.8)" "${ratios[*]}" \
            "$diff" "$(verdict "$diff" "<=" 1)" "${diffs[*]}" \
            "$pdiff" "$(verdict "$pdiff" "<=" 1)" "${paced[*]}" \
            "$start" "$(verdict "$start" "<" 200)" "$starts" \
            "$rss" "$(verdict "$rss" "<" 80)" $((anon / 1024)) $((fileback / 1024)) $((shmem / 1024)) $((pss / 1024))
    done
}

# How the bare YARP forwarder compares with nginx, and the sidecar with it.
floor_line() {
    local r floor=() kept=()
    for ((r = 1; r <= ROUNDS; r++)); do
        floor+=("$(awk -v y="${D[yarp|$r|tp|rps]}" -v n="${D[nginx|$r|tp|rps]}" 'BEGIN { printf "%.2f", y / n }')")
        kept+=("$(awk -v s="${D[sidecar|$r|tp|rps]}" -v y="${D[yarp|$r|tp|rps]}" 'BEGIN { printf "%.2f", s / y }')")
    done
    printf 'The floor: the bare YARP forwarder served %.2f of nginx'"'"'s requests/s at -c%s (%s); obs-sidecar, with everything it does per request, %.2f of the bare forwarder'"'"'s (%s).\n' \
        "$(median "${floor[@]}")" "$TP_CONNS" "${floor[*]}" "$(median "${kept[@]}")" "${kept[*]}"
}

cpu_table() {
    local target f r others
    local -A m=()
    echo "| CPU µs per request at -c$TP_CONNS (median of rounds) | function | proxy | OTLP sink | wrk | other (rounds) | machine | machine busy |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for target in "${TARGETS[@]}"; do
        for f in fn proxy sink wrk machine busy; do m[$f]=$(median $(values "$target" tp "$f")); done
        others=()
        for ((r = 1; r <= ROUNDS; r++)); do
            others+=("$(awk -v a="${D[$target|$r|tp|machine]}" -v b="${D[$target|$r|tp|fn]}" -v c="${D[$target|$r|tp|proxy]}" \
                -v d="${D[$target|$r|tp|sink]}" -v e="${D[$target|$r|tp|wrk]}" -v x="$([[ $target == direct ]] && echo 0 || echo 1)" \
                'BEGIN { printf "%.1f", a - b - x * c - d - e }')")
        done
        printf '| %s | %.1f | %s | %s | %.1f | %.1f (%s) | %.1f | %.0f %% |\n' "$target" "${m[fn]}" \
            "$([[ $target == direct ]] && echo — || printf '%.1f' "${m[proxy]}")" \
            "$([[ $target == sidecar* ]] && printf '%.1f' "${m[sink]}" || echo —)" "${m[wrk]}" \
            "$(median "${others[@]}")" "${others[*]}" "${m[machine]}" "${m[busy]}"
    done
}

starts_report() {
    local label
    echo "## Sidecar start to ready, $(date -u '+%Y-%m-%d %H:%M') UTC"
    echo
    echo "\`$COMMAND_LINE\`; $(nproc) CPUs, load average at start $LOAD_AT_START. Exec of obs-sidecar to its admin /healthz answering 200, with \`sleep\` as the function; $STARTS starts after one untimed one."
    echo
    echo "| sidecar | spec | median ms | all starts, ms |"
    echo "| --- | --- | ---: | --- |"
    printf '| HelloFunction, for reference | exec to its /healthz 200 | %.0f | %s |\n' "$(median ${START_MS[function]})" "${START_MS[function]}"
    printf '| sidecar | (defaults) | %.0f | %s |\n' "$(median ${START_MS[sidecar]})" "${START_MS[sidecar]}"
    for label in "${VARIANTS[@]}"; do
        printf '| sidecar/%s | `%s` | %.0f | %s |\n' "$label" "${V_SPEC[$label]}" "$(median ${START_MS[$label]})" "${START_MS[$label]}"
    done
}

report() {
    local target errors=0 k exports bytes
    for k in "${!D[@]}"; do [[ $k == *"|err" ]] && errors=$((errors + D[$k])); done
    # Exports the sink took (one log line each); its buffer is flushed on stop, so read what is there.
    kill -USR1 "$SINK_MASTER" 2>/dev/null || true # reopening the logs flushes the buffer
    nap 1.2                                        # (and flush=1s would anyway)
    read -r exports bytes < <(awk '{ n++; b += $1 } END { printf "%d %.1f\n", n, b / 1048576 }' "$TMP/sink/exports.log" 2>/dev/null || echo "0 0")

    echo "## Sidecar proxy benchmark, $(date -u '+%Y-%m-%d %H:%M') UTC"
    echo
    echo "\`$COMMAND_LINE\` (run time $((SECONDS / 60)) min $((SECONDS % 60)) s)"
    echo
    echo "- Machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr); load average at start $LOAD_AT_START."
    echo "- .NET runtime $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2 } END { print v }'), $(/usr/sbin/nginx -v 2>&1 | sed 's|nginx version: ||'), $(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }')."
    echo "- GET /hello; each round runs, load by load, every target in an order rotated per round: ${DURATION} s at wrk -t$TP_THREADS -c$TP_CONNS (after ${WARMUP} s of warm-up), then ${DURATION} s at -t$LAT_THREADS -c$LAT_CONNS (closed loop), then ${DURATION} s at -t$LAT_THREADS -c$LAT_CONNS paced (each connection waits $PACE_MS ms after each answer). Every target had ${FIRST_WARMUP} s of warm-up at the start."
    echo "- Targets: the function directly; nginx (\`proxy_pass\`, upstream keep-alive); yarp, the least a YARP forwarder can be (bench/proxy/BareForwarder: Kestrel, IHttpForwarder, HttpClient, obs-sidecar's socket settings, natively compiled), in front of the same function process as nginx; obs-sidecar in supervise mode with its own instance of the function."
    echo "- obs-sidecar (supervise mode, tracing on, every request sampled) exports OTLP/HTTP to an nginx sink that answers 200 and discards: it took $exports export requests ($bytes MiB) in this run."
    for target in "${VARIANTS[@]}"; do echo "- Variant \`sidecar/$target\`: \`${V_SPEC[$target]}\`"; done
    [[ -z ${HUNG_PORT:-} ]] || echo "- @hung-export: that variant exports to a hung collector, a listener that accepts every connection and never reads or answers."
    echo "- wrk errors (socket errors, non-2xx answers), all runs: $errors."
    echo
    load_table tp "$TP_THREADS" "$TP_CONNS"
    echo
    load_table lat "$LAT_THREADS" "$LAT_CONNS"
    echo
    load_table paced "$LAT_THREADS" "$LAT_CONNS" ", paced $PACE_MS ms"
    echo
    targets_table
    echo
    floor_line
    echo
    echo "Ratios and differences are medians of the per-round values (in brackets). Start to ready: exec of obs-sidecar to its admin /healthz answering 200, with \`sleep\` as the function; $STARTS starts after one untimed one. For reference, HelloFunction itself (an ASP.NET Core app) takes $(printf %.0f "$(median ${START_MS[function]})") ms from exec to its /healthz answering 200 here (${START_MS[function]}). HelloFunction (server GC, as the Web SDK sets it) peaked at $((RSS_KB[direct] / 1024)) MB VmRSS in its direct -c$TP_CONNS runs. VmRSS: the highest sample (every 100 ms) during the -c$TP_CONNS runs, split into RssAnon (GC heap, native allocations, stacks), RssFile (mapped files: the runtime and the assemblies, shared with other .NET processes) and RssShmem (the JIT's code, which the runtime maps twice for W^X) at that sample; Pss is the same memory with each shared page divided among the processes that map it (here the function shares the runtime's files)."
    echo
    cpu_table
    echo
    echo "CPU from /proc/PID/stat (utime + stime) of each process and /proc/stat for the machine, over the ${DURATION} s runs; \"proxy\" is nginx's master and workers, the bare YARP forwarder, or obs-sidecar; the sink is the OTLP nginx; wrk is the CPU of the reaped wrk process (this shell's cutime + cstime); \"other\" is the rest of the machine's busy time: kernel work not charged to a process (softirq) and any other process. Machine CPU is summed over the $(nproc) CPUs."
}

# ---------------------------------------------------------------- main

main() {
    parse_args "$@"
    need_tools
    TMP=$(mktemp -d /tmp/proxy-bench.XXXXXX)
    mkfifo "$TMP/sleep.fifo"
    exec {SLEEP_FD}<>"$TMP/sleep.fifo"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    read -r LOAD_AT_START _ </proc/loadavg

    ((BUILD == 0)) || build
    publish_r2r
    [[ -x $SIDECAR_BIN && -x $FLOOR_BIN && -f $SIDECAR_JIT_DLL && -f $FUNCTION_DLL ]] || die "Release builds missing (run without --no-build)"

    TARGETS=(direct nginx yarp sidecar)
    local label
    for label in "${VARIANTS[@]}"; do TARGETS+=("sidecar/$label"); done

    start_sink
    for label in "${VARIANTS[@]}"; do
        if ((V_EXPORT[$label] == 2)); then
            command -v python3 >/dev/null || die "@hung-export needs python3"
            start_hung
            log "hung collector on $HUNG_PORT"
            break
        fi
    done
    log "sink on $SINK_PORT; timing sidecar starts"
    measure_starts function
    measure_starts sidecar
    for label in "${VARIANTS[@]}"; do measure_starts "$label"; done

    if ((STARTS_ONLY)); then
        starts_report | tee "$OUT"
        return
    fi

    log "starting the function, nginx, the bare YARP forwarder and the sidecars"
    start_direct_function
    start_proxy_nginx
    start_floor
    start_sidecar_target sidecar sidecar
    for label in "${VARIANTS[@]}"; do start_sidecar_target "$label" "sidecar/$label"; done

    run_rounds

    mkdir -p "$(dirname "$OUT")"
    report | tee "$OUT"
    log "report written to $OUT"
}

main "$@"
