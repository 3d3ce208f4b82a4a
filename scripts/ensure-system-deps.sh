#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing: chromium (Playwright
# drives it: no browser can be downloaded here) and libwbxml2-utils (the reference WBXML
# codec our codec is checked against), and syncevolution with what its run script needs
# (a real OMA DS client; ../shared/tools/syncevolution/sync.sh drives it), and postgresql. Needs root and apt; elsewhere it only warns, and
# the tests that need a missing tool fall back (Playwright's own browser) or skip.
set -u
need=()
command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || need+=(chromium)
command -v xml2wbxml >/dev/null 2>&1 || need+=(libwbxml2-utils)
command -v syncevolution >/dev/null 2>&1 || need+=(syncevolution syncevolution-libs libcurl4-openssl-dev gcc)
# PostgreSQL: the data-layer and multi-process tests run against a real server as well
# (scripts/test-postgres.sh starts a throwaway cluster on 127.0.0.1).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
((${#need[@]})) || exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || echo "warning: apt-get install ${need[*]} failed" >&2
else
  echo "warning: missing ${need[*]}; install them for the full test suite" >&2
fi
exit 0
