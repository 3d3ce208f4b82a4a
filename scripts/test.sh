#!/usr/bin/env bash
# Everything CI checks, in the order that fails fastest.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-system-deps.sh
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint . --max-warnings 0
echo "== unit and integration"; npx vitest run
echo "== build"; npx next build >/tmp/rewind-next-build.log 2>&1 || { tail -50 /tmp/rewind-next-build.log; exit 1; }
echo "== end to end"; npx playwright test
