# Sourced by bin/run and bin/test: make sure .venv exists and holds $REQUIREMENTS (requirements.txt unless
# the caller names another, as bin/test does with requirements-dev.txt).
# Needs only a Python 3.11+ on PATH (python3.13, python3.12, python3.11 or python3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "Liveward needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3.11)." >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY="$(find_python)"
  echo "· creating .venv with $PY"
  "$PY" -m venv .venv
fi
REQUIREMENTS="${REQUIREMENTS:-requirements.txt}"
stamp=".venv/.${REQUIREMENTS%.txt}.sha256"
# The stamp covers every file the list includes with -r, so a change to the runtime list reinstalls too.
want="$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(b"".join(open(f, "rb").read() for f in ("requirements.txt", "'"$REQUIREMENTS"'"))).hexdigest())')"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "· installing $REQUIREMENTS into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$want" > "$stamp"
fi
