#!/usr/bin/env bash
# Starts the real servers the test suites use, on loopback and non-default ports,
# and prints the variables that point the tests at them. Sourced by .ci/run; a
# developer can run `eval "$(bash .ci/services.sh)"` to get the same set-up.
set -euo pipefail

BASE=${SERVICES_DIR:-/tmp/fitness-ci-services}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
NATS_PORT=${NATS_PORT:-54222}
MONGO_PORT=${MONGO_PORT:-57017}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$BASE"
chmod 755 "$BASE"
# What this run started (and so may stop): servers already running are reused, not owned.
STARTED="$BASE/started"
: > "$STARTED"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if ! pg_isready -h 127.0.0.1 -p "$PG_PORT" -q 2>/dev/null; then
  rm -rf "$BASE/pg"
  mkdir -p "$BASE/pg"
  chown postgres:postgres "$BASE/pg"
  su postgres -c "$PG_BIN/initdb -D $BASE/pg/data -A trust -U postgres -E UTF8 --no-locale" >"$BASE/pg-init.log" 2>&1
  su postgres -c "$PG_BIN/pg_ctl -D $BASE/pg/data -l $BASE/pg/server.log -w -o '-p $PG_PORT -c listen_addresses=127.0.0.1 -k $BASE/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300' start" >/dev/null
  echo "postgres $PG_BIN/pg_ctl -D $BASE/pg/data" >> "$STARTED"
fi

if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --logfile "$BASE/redis.log" --dir "$BASE"
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "redis $REDIS_PORT" >> "$STARTED"
fi

if ! (exec 3<>/dev/tcp/127.0.0.1/"$NATS_PORT") 2>/dev/null; then
  mkdir -p "$BASE/nats"
  nohup nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$BASE/nats" >"$BASE/nats.log" 2>&1 &
  echo "nats $!" >> "$STARTED"
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$NATS_PORT") 2>/dev/null && break; sleep 0.1; done
fi

# No mongod can be installed here (not in Debian, and the npm downloaders' host is
# unreachable): a MongoDB wire-protocol emulator stands in (packages/testing/mongo/server.py,
# on Debian's python3-mockupdb and python3-mongomock, hence Debian's python3).
MONGO_UP=true
if ! (exec 3<>/dev/tcp/127.0.0.1/"$MONGO_PORT") 2>/dev/null; then
  nohup /usr/bin/python3 "$ROOT/packages/testing/mongo/server.py" --port "$MONGO_PORT" >"$BASE/mongo.log" 2>&1 &
  echo "mongo $!" >> "$STARTED"
  MONGO_UP=false
  for _ in $(seq 50); do
    if grep -q '^listening' "$BASE/mongo.log"; then MONGO_UP=true; break; fi
    sleep 0.1
  done
  $MONGO_UP || echo "the MongoDB test server did not start; see $BASE/mongo.log" >&2
fi

echo "export TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
echo "export TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
echo "export TEST_NATS_URL=nats://127.0.0.1:$NATS_PORT"
if $MONGO_UP; then echo "export MONGODB_URL=mongodb://127.0.0.1:$MONGO_PORT/fitness"; fi
