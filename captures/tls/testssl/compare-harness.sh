#!/usr/bin/env bash
# compare-harness.sh [CLIENT_FILE]: harness's verdicts for testssl.sh's simulated clients against
# the openssl s_server policies of captures/tls/testssl/servers/openssl.sh, beside testssl.sh's own
# (testssl-results.tsv, from compare-testssl.sh). CLIENT_FILE is your copy of testssl.sh's
# etc/client-simulation.txt (default: Debian's /etc/testssl/client-simulation.txt); nothing of it
# is kept. Prints one line per disagreement and, per policy, how many of the clients agree on
# connect / no connect and, where both connect, on the version and cipher suite. testssl.sh
# 3.0.8 checks only the DH group's size past the ServerHello; a client harness locks out on a
# constraint testssl.sh leaves unchecked (minRsaBits, minEcdsaBits, requiresSha2) is a
# difference explained, and listed as such. Exit 1 on any other difference.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
clients=${1:-/etc/testssl/client-simulation.txt}
harness=${HARNESS:-$root/target/release/harness}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$harness" import "$clients" --from testssl --out "$work/suite" > "$work/import.log"
policies=$(cut -f2 "$here/testssl-results.tsv" | tail -n +2 | sort -u)
for policy in $policies; do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  bash "$here/servers/openssl.sh" "$policy" "$port" 2> /dev/null &
  server=$!
  for _ in $(seq 100); do (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break; sleep 0.05; done
  "$harness" run "$work/suite" --target "127.0.0.1:$port" --format json > "$work/$policy.jsonl" || true
  kill "$server"; wait "$server" 2> /dev/null || true
done
python3 - "$here/testssl-results.tsv" "$work" <<'PY'
import csv, json, sys
truth, work = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(truth), delimiter="\t"))
differences = 0
by_policy = {}
for policy in sorted({r["policy"] for r in rows}):
    results = {}
    for line in open(f"{work}/{policy}.jsonl"):
        x = json.loads(line)
        if x.get("type") == "result":
            results[x["case"]] = x
    agree = same = both = 0
    for r in (r for r in rows if r["policy"] == policy):
        h = results.get(r["client"])
        if h is None:
            continue
        connects = h["verdict"] in ("admitted", "warned")
        words = (h.get("decided_by") or "").split()
        version, cipher = (words[1], words[2]) if len(words) >= 3 and words[0] in ("ServerHello", "HelloRetryRequest") else ("", "")
        unchecked = ("the server's RSA key", "the server's ECDSA key", "the client requires SHA-2")
        if connects == (r["connects"] == "yes"):
            agree += 1
        elif not connects and any(u in h["reason"] for u in unchecked):
            print(f"explained\t{policy}\t{r['client']}\ttestssl does not check it: {h['reason']}")
        else:
            differences += 1
            print(f"{policy}\t{r['client']}\ttestssl: {r['connects']} {r['version']} {r['cipher']} {r['key_exchange']}\tharness: {h['verdict']}: {h['reason']}")
        if connects and r["connects"] == "yes":
            both += 1
            if (version, cipher) == (r["version"], r["cipher"]):
                same += 1
            else:
                differences += 1
                print(f"{policy}\t{r['client']}\tboth connect: testssl {r['version']} {r['cipher']}, harness {version} {cipher}")
    print(f"{policy}: {agree} of {len(results)} agree on connect / no connect; {same} of {both} that connect agree on version and suite")
sys.exit(1 if differences else 0)
PY
