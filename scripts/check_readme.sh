#!/usr/bin/env bash
# Runs the demo (scripts/demo.sh) and checks that the README's table "What the demo prints"
# still matches what it prints: every row whose value is a percentage, written
#   | `program`: label | 90.41% |
# must match the demo's line "=> label: X%" within TOLERANCE points (default 0.3). The rows
# with times are not checked: they depend on the machine.
#
# Why a tolerance: float32 sums are rounded in the order the CPU's matrix kernels add them, and
# OpenBLAS picks its kernels by CPU, so the last digits of an accuracy move between machines
# (the Fashion-MNIST network: 90.41% with OpenBLAS's AVX-512 kernels, 90.64% with its AVX2
# ones). On one machine the demo prints the same figures every run.
#
# Usage: scripts/check_readme.sh [BUILD_DIR]   (default: build; CI passes its own)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
tolerance=${TOLERANCE:-0.3}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$root/scripts/demo.sh" "$build" >"$log" 2>&1 || { tail -n 40 "$log"; echo "check_readme: the demo failed" >&2; exit 1; }

rows=$(grep -E '^\| `[a-z_]+( --[a-z]+)*`: [^|]+ \| [0-9.]+% \|$' "$root/README.md" || true)
[[ -n $rows ]] || { echo "check_readme: no percentage rows in the README's demo table" >&2; exit 1; }
status=0
while IFS= read -r row; do
  label=$(sed -E 's/^\| `[^`]+`: ([^|]+) \| .*/\1/' <<<"$row")
  want=$(sed -E 's/.* \| ([0-9.]+)% \|$/\1/' <<<"$row")
  got=$(grep -F "=> $label: " "$log" | head -n 1 | sed -E 's/.*: ([0-9.]+)%.*/\1/' || true)
  if [[ -z $got ]]; then
    echo "check_readme: the demo printed no '=> $label: …%' line"
    status=1
  elif awk -v a="$got" -v b="$want" -v t="$tolerance" 'BEGIN { d = a - b; exit !(d <= t && -d <= t) }'; then
    echo "check_readme: $label: README $want%, demo $got%: ok"
  else
    echo "check_readme: $label: README $want%, demo $got%: more than $tolerance points apart; update the README"
    status=1
  fi
done <<<"$rows"
exit $status
