# Sourced by the check scripts. `script_options NAME "$@"` reads the common options
# [--no-build] [--scratch-path DIR] into $build and $scratch (kill-resume.sh, onnx-check.sh,
# cortex-m4-check.sh). For the checks that run what an exporter wrote outside Swift,
# `write_fixtures NAME FILTER VARIABLE` makes the folder $work (removed on exit unless KEEP is
# set), builds the tests unless --no-build, and runs the Swift test FILTER with the environment
# VARIABLE naming $work, so that it writes its fixtures and manifest.tsv there. Either stops the
# script with a message when something fails.

script_options() {
  local name=$1
  shift
  scratch=.build
  build=1
  while [ $# -gt 0 ]; do
    case $1 in
      --no-build) build=0; shift ;;
      --scratch-path) scratch=$2; shift 2 ;;
      *) echo "usage: Scripts/$name.sh [--no-build] [--scratch-path DIR]" >&2; exit 64 ;;
    esac
  done
}

write_fixtures() {
  local name=$1 filter=$2 variable=$3
  work=$(mktemp -d)
  if [ -n "${KEEP:-}" ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
  [ "$build" -eq 0 ] || swift build -c release --build-tests --scratch-path "$scratch" >/dev/null
  echo "== writing fixtures (swift test --filter $filter)"
  env "$variable=$work" swift test -c release --skip-build --scratch-path "$scratch" \
    --filter "$filter" >"$work/swift-test.log" 2>&1 || {
    cat "$work/swift-test.log" >&2
    echo "$name: FAIL: the Swift side could not write the fixtures" >&2
    exit 1
  }
  [ -f "$work/manifest.tsv" ] || { echo "$name: FAIL: no fixtures written" >&2; exit 1; }
}
