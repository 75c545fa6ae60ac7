#!/bin/bash
# A throwaway PostgreSQL (Debian postgresql binaries) for
#   uv run python bench/hourly_tick.py ... --postgres 127.0.0.1:55432
# Stop it with: runuser -u postgres -- $BIN/pg_ctl -D /tmp/bench-pg/data stop
set -e
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -r | head -1)
ROOT=/tmp/bench-pg; rm -rf $ROOT; mkdir -p $ROOT; chown postgres $ROOT
runuser -u postgres -- $BIN/initdb -D $ROOT/data -U warroom --auth=trust -E UTF8 --no-sync >/dev/null
runuser -u postgres -- $BIN/pg_ctl -D $ROOT/data -o "-p 55432 -k $ROOT -c listen_addresses=127.0.0.1 -c synchronous_commit=off" -l $ROOT/log -w start
