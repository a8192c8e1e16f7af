#!/usr/bin/env bash
# Runs the lifecycle Molecule scenarios against a local AWS sandbox started for the occasion on a free loopback
# port, and always stops it. Each scenario reseeds it with extensions/molecule/shared/vars/estate.yml in its prepare step.
#   extensions/molecule/run.sh                       # molecule test --all
#   extensions/molecule/run.sh test -s instantiate   # any molecule command line
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
export PATH="$ROOT/.venv/bin:$PATH"
SANDBOX_STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/edr-molecule.XXXXXX")
export SANDBOX_STATE_DIR
# Stop the sandbox and remove its state on any exit.
trap '"$PY" -m sandbox stop >/dev/null 2>&1 || true; rm -rf "$SANDBOX_STATE_DIR"' EXIT
"$PY" -m sandbox start >/dev/null
# shellcheck disable=SC1091
source "$SANDBOX_STATE_DIR/env.sh"
echo "sandbox: $AWS_ENDPOINT_URL (state in $SANDBOX_STATE_DIR)"
export MOLECULE_PROJECT_DIRECTORY="$ROOT"
if [ $# -eq 0 ]; then
    set -- test --all
fi
start=$(date +%s)
status=0
molecule "$@" || status=$?
echo "molecule $*: exit $status in $(( $(date +%s) - start )) s"
exit "$status"
