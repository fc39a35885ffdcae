#!/bin/sh
# Runs a guide sample that uses Unix domain sockets, or exits 77 (ctest: skipped) printing why when the
# system has none (Windows under Wine 8).
# Usage: uds_or_skip.sh PROBE SAMPLE [EMULATOR...]
probe="$1"
sample="$2"
shift 2
"$@" "$probe"
rc=$?
if [ "$rc" -eq 77 ]; then
    exit 77
elif [ "$rc" -ne 0 ]; then
    echo "uds_or_skip.sh: the probe failed (exit $rc)"
    exit 1
fi
exec "$@" "$sample"
