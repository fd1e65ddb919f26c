#!/usr/bin/env bash
# One-time (and cheap to repeat) set-up of an lmboot checkout on Debian:
#   system packages (apt, only when missing) -> .venv (inside the checkout) -> pip install -e .[test]
#   -> KenLM command-line tools (lmplz, build_binary, interpolate, filter, query) into .venv/bin.
# A second run does nothing that is already done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LMBOOT_VENV:-$root/.venv}"
py="${PYTHON:-python3}"
say() { printf '[setup] %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------
apt_pkgs=(libsndfile1 build-essential cmake libboost-program-options-dev libboost-system-dev
          libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev libeigen3-dev
          espeak-ng sox)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "apt-get install ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- virtual environment + Python packages ---------------------------------
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  "$py" -m venv "$venv"
fi
stamp="$venv/.lmboot-installed"
want="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "pip install -e .[test] (first time: fairseq2 pulls torch, a few minutes)"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e "$root[test]"  # pytest: the test extra
  echo "$want" > "$stamp"
fi

# --- KenLM command-line tools ------------------------------------------------
tools=(lmplz build_binary interpolate filter query)
need_build=0
for t in "${tools[@]}"; do [ -x "$venv/bin/$t" ] || need_build=1; done
if ((need_build)); then
  say "building KenLM tools from the kenlm sdist (1-2 min)"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  "$venv/bin/python" -m pip download -q --no-deps --no-binary kenlm kenlm==0.3.0 -d "$work"
  tar -xzf "$work"/kenlm-*.tar.gz -C "$work"
  src="$(find "$work" -maxdepth 1 -type d -name 'kenlm-*' | head -1)"
  if ! { cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DKENLM_MAX_ORDER=6 &&
         cmake --build "$work/build" -j"$(nproc)" --target "${tools[@]}"; } >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log" >&2
    say "KenLM build failed (log above)"; exit 1
  fi
  for t in "${tools[@]}"; do install -m 755 "$work/build/bin/$t" "$venv/bin/$t"; done
fi
say "ready: $venv"
