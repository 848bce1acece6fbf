# bench/lib.sh — sourced by the bench scripts: a scratch directory and the
# processes a script starts (append their pids to "pids"), both removed when
# the script ends, however it ends.
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
