#!/usr/bin/env bash
# The action's install step: a harness binary at hand, its path as `bin=` in $GITHUB_OUTPUT.
#   INPUT_BINARY set     that binary; nothing is built
#   INPUT_VERSION set    `cargo install --locked --git` of that tag or commit of
#                        github.com/$HARNESS_REPOSITORY (the action's own repository)
#   neither              `cargo install --locked --path` of the action's own checkout
# No release binary is published yet, so a user's job builds from source; the action caches
# the cargo registry, the target folder and the binary under the key `--cache-key` writes
# (`key=`, over Cargo.lock and the crate's sources, or the version asked for).
set -euo pipefail
action=$(cd "$(dirname "$0")/../.." && pwd)
out=${GITHUB_OUTPUT:-/dev/stdout}
temp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
if [[ ${1:-} == --cache-key ]]; then
  if [[ -n ${INPUT_VERSION:-} ]]; then
    what=$INPUT_VERSION
  else
    what=$(cd "$action" && find Cargo.lock Cargo.toml harness/Cargo.toml harness/build.rs harness/src -type f -print0 \
      | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  fi
  echo "key=harness-$(uname -s)-$(uname -m)-$what" >> "$out"
  exit 0
fi
if [[ -n ${INPUT_BINARY:-} ]]; then
  [[ -f $INPUT_BINARY && -x $INPUT_BINARY ]] || { echo "install.sh: $INPUT_BINARY is not an executable file" >&2; exit 2; }
  bin=$(cd "$(dirname "$INPUT_BINARY")" && pwd)/$(basename "$INPUT_BINARY")
else
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$temp/harness-target}
  root=$temp/harness-bin
  if [[ -n ${INPUT_VERSION:-} ]]; then
    cargo install --locked --root "$root" \
      --git "https://github.com/${HARNESS_REPOSITORY:?owner/name of the action repository}" --rev "$INPUT_VERSION" harness
  else
    cargo install --locked --root "$root" --path "$action/harness"
  fi
  bin=$root/bin/harness
fi
"$bin" --version
echo "bin=$bin" >> "$out"
