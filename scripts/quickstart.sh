#!/usr/bin/env bash
# The README's main job: train the quickstart grid on built-in data, then
# compare the runs on the terminal and in an HTML report.
set -euo pipefail
HCX=${1:-build/apps/hcx/hcx}
cd "$(dirname "$0")/.."
"$HCX" sweep experiments/quickstart.json
"$HCX" report
"$HCX" report --format html -o results/quickstart.html
echo "HTML report: results/quickstart.html"
