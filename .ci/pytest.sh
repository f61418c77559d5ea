#!/usr/bin/env bash
# Runs the suite; pytest's exit code 5 ("no tests collected") is a failure with a clear message,
# because a green run that tested nothing must not pass as a pass.
set -u
python=$1; shift
"$python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests (exit 5): treating as a failure" >&2
  exit 1
fi
exit "$rc"
