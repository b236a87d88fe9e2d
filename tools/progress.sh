# Timed progress lines for trovestack and its install scripts (sourced).
#
#   progress MESSAGE            prints "[  12.3s] MESSAGE"
#   pip_progress LABEL LOG VENV/bin/pip ARGS...
#                               runs that pip with its output appended
#                               to LOG, printing what it does every 10 s;
#                               on failure prints the end of LOG
#
# The time counts from TROVESTACK_STARTED (seconds since the epoch), set
# here when unset and exported, so that tools/trovestack.py and the scripts
# it runs count from the same moment.

TROVESTACK_STARTED=${TROVESTACK_STARTED:-$(date +%s.%N)}
export TROVESTACK_STARTED

progress() {
    local now
    now=$(date +%s.%N)
    awk -v now="$now" -v started="$TROVESTACK_STARTED" -v message="$*" \
        'BEGIN { printf "[%6.1fs] %s\n", now - started, message }'
}

installed_count() {  # installed_count VENV: packages installed in VENV
    find "$1"/lib/python*/site-packages -maxdepth 1 -name '*.dist-info' \
        2>/dev/null | wc -l
}

pip_state() {  # pip_state LOG DONE: what the last pip run in LOG is doing
    awk -v done="$2" '/^\$ / { collected = 0; installing = 0 }
         /^Collecting / { collected++ }
         /^Installing collected packages: / { installing = split($0, names, ",") }
         END {
             if (installing) printf "installing %d packages (%d done)\n",
                 installing, (done > installing ? installing : done)
             else if (collected) printf "%d packages collected\n", collected
             else print "preparing"
         }' "$1"
}

pip_progress() {
    local label=$1 log=$2
    shift 2
    mkdir -p "$(dirname "$log")"
    echo "\$ $*" >>"$log"
    "$@" >>"$log" 2>&1 &
    local pid=$! status=0 next=$((SECONDS + 10))
    # PROGRAM is VENV/bin/pip: count what appears in VENV.
    local venv before
    venv=$(dirname "$(dirname "$1")")
    before=$(installed_count "$venv")
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        if ((SECONDS >= next)); then
            progress "$label: $(pip_state "$log" \
                $(($(installed_count "$venv") - before)))"
            next=$((SECONDS + 10))
        fi
    done
    wait "$pid" || status=$?
    if ((status)); then
        progress "$label: pip failed ($status); the end of $log:" >&2
        tail -n 25 "$log" >&2
    fi
    return "$status"
}
