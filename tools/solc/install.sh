#!/usr/bin/env bash
# Installs the solcjs-backed `solc` where py-solc-x looks for it:
# $SOLCX_BINARY_PATH/solc-v<version> (the project points it at .solcx/).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${SOLCX_BINARY_PATH:-$root/.solcx}
version=$(node -p "require('$root/node_modules/solc/package.json').version")
mkdir -p "$dest"
cat > "$dest/solc-v$version" <<SH
#!/bin/sh
NODE_PATH="$root/node_modules" exec node "$root/tools/solc/solc-shim.js" "\$@"
SH
chmod +x "$dest/solc-v$version"
echo "solc shim: $dest/solc-v$version ($("$dest/solc-v$version" --version | tail -1))"
