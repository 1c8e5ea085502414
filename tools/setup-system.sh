#!/usr/bin/env bash
# Installs the Debian packages listed in requirements/system.txt whose command (or, for an entry
# starting with "/", whose file) is missing.
set -euo pipefail
list="$(dirname "$0")/../requirements/system.txt"
missing=()
while read -r cmd pkg; do
  [[ -z "$cmd" || "$cmd" == \#* ]] && continue
  if [[ "$cmd" == /* ]]; then
    [ -e "$cmd" ] || missing+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done < "$list"
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
