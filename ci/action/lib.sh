# What run.sh and merge.sh share: the inputs as the action's env block passes them (INPUT_*),
# read relative to $GITHUB_WORKSPACE, and the step's outputs and summary.
# shellcheck shell=bash disable=SC2034 # its variables are run.sh's and merge.sh's
cd "${GITHUB_WORKSPACE:-.}" || exit 2
harness=${HARNESS_BIN:-harness}
reports=${INPUT_REPORTS:-harness-reports}
mkdir -p "$reports"
reports=$(cd "$reports" && pwd)
artifact=${INPUT_ARTIFACT:-harness-reports}
mapfile -t suites < <(tr -s ' \t' '\n' <<< "${INPUT_SUITES:-}" | sed '/^$/d')
if ((${#suites[@]} == 0)); then
  echo "harness action: no suites given (input suites)" >&2
  exit 2
fi

# A suite's name as its report folder: the folder holding suite.toml. Two suites of one name
# would write one folder.
suite_name() {
  local path=${1%/}
  [[ $path == *.toml ]] && path=$(dirname "$path")
  basename "$(cd "$path" 2> /dev/null && pwd || echo "$path")"
}
names=()
for suite in "${suites[@]}"; do
  name=$(suite_name "$suite")
  for seen in "${names[@]}"; do
    [[ $seen == "$name" ]] && { echo "harness action: two suites named $name" >&2; exit 2; }
  done
  names+=("$name")
done

output() { echo "$1" >> "${GITHUB_OUTPUT:-/dev/null}"; }

# The exit code that outranks: could not judge (3) > usage (2) > mismatch (1) > 0.
worst=0
note_exit() { (($1 > worst)) && worst=$1; return 0; }

summarize() { # summarize FILE [NOTE]: the Markdown matrix (its own heading) into the step summary
  [[ -n ${GITHUB_STEP_SUMMARY:-} && -f $1 ]] || return 0
  { cat "$1"; [[ -z ${2:-} ]] || printf '\n_%s_\n' "$2"; echo; } >> "$GITHUB_STEP_SUMMARY"
}
