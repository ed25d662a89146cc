# Sourced by each captures/*/make.sh: from the repository root, a release harness in $harness,
# a scratch folder $work removed (with any background job) on exit, and helpers the scripts
# share. Names sort in the C locale, so sessions pair with their names in glob order.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
harness=$PWD/target/release/harness
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# A suite in $work holding only the scripted msn-2003 cases, so existing captures are not
# replayed into the new ones.
scripted_msn_suite() {
  cat > "$work/suite.toml" <<SUITE
name = "msn-2003-scripted"
dialect = "msnp"
cases = "$PWD/suites/msn-2003/cases"
[variables]
email = "harness@hotmail.com"
SUITE
}

# keep_recorded OUT SUFFIX NAME...: replaces OUT's *SUFFIX.toml/.pcapng with the sessions
# `harness record` wrote to $work/recorded, the i-th named after the i-th NAME.
keep_recorded() {
  local out=$1 suffix=$2
  shift 2
  local names=("$@") i=0
  rm -f "$out"/*"$suffix".toml "$out"/*"$suffix".pcapng
  for case in "$work"/recorded/*.toml; do
    mv "$case" "$out/${names[$i]}$suffix.toml"
    mv "${case%.toml}.pcapng" "$out/${names[$i]}$suffix.pcapng"
    i=$((i + 1))
  done
  echo "$i sessions in $out"
}
