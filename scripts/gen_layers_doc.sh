#!/usr/bin/env bash
# Regenerates docs/layers.md from the importer registry: `scripts/gen_layers_doc.sh [KERASRT_BIN]`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/kerasrt}
{ cat docs/layers_header.md; "$bin" layers; } > docs/layers.md
echo "wrote docs/layers.md"
