#!/usr/bin/env bash
# Turns each captures/http/CLIENT.pcap into the capture cases http-sunset replays
# (CLIENT.captured.toml); make.sh runs it after capturing. Run it alone to re-import.
exec bash "$(dirname "$0")/../import.sh" http "$(dirname "$0")"
