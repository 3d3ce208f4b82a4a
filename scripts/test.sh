#!/usr/bin/env bash
# Everything CI checks, in the order that fails fastest.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-system-deps.sh
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint . --max-warnings 0; npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "not Prettier-formatted: npx prettier --write <files>" >&2; exit 1; }
echo "== unit and integration"; npx vitest run
# The data layer, the engines and the multi-process test again on PostgreSQL (a throwaway
# cluster on 127.0.0.1 from Debian's postgresql; scripts/test-postgres.sh).
if bash scripts/test-postgres.sh >/dev/null; then
  echo "== on PostgreSQL"; npx vitest run -c vitest.pg.config.mts
elif [[ -n "${CI:-}" ]]; then
  echo "PostgreSQL is not installed (scripts/ensure-system-deps.sh installs it as root with apt)" >&2; exit 1
else
  echo "== on PostgreSQL: skipped, no PostgreSQL installed" >&2
fi
echo "== build"; npx next build >/tmp/rewind-next-build.log 2>&1 || { tail -50 /tmp/rewind-next-build.log; exit 1; }
echo "== end to end"; npx playwright test
