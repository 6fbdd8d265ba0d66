#!/usr/bin/env bash
# Draws the README's example figures (docs/plots/*.png) and RESULTS.md's
# (docs/results/*.png) with pit plot from real runs of the shipped
# experiments, not fixtures. Runs what is not in the cache yet (about half an
# hour on two cores from nothing), so rerunning it after a change is cheap.
# Usage: scripts/figures.sh [RESULTS-ROOT]   (default: results)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results}
go build -o bin/pit ./cmd/pit
pit=bin/pit
for e in experiments.toml experiments/improver-start.toml experiments/reward-hacking.toml \
	experiments/curriculum-ablation.toml experiments/iterations.toml experiments/temperature.toml \
	experiments/rl-algorithm.toml; do
	"$pit" run --jobs 2 --out "$out" "$e" >/dev/null
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 150 dpi keeps the committed PNGs modest (a few hundred KB in all, not
# the megabyte of the 300-dpi default).
draw() { "$pit" plot "$out/$1" --out "$tmp/$1" --dpi 150 >/dev/null; }
for e in pit-default improver-start reward-hacking curriculum-ablation iterations temperature rl-algorithm; do draw "$e"; done
# README
cp "$tmp/pit-default/iterations-pit.png" docs/plots/iterations.png
cp "$tmp/reward-hacking/curve-pit_rl.png" docs/plots/curve.png
cp "$tmp/reward-hacking/ablation-pit.png" docs/plots/ablation.png
cp "$tmp/pit-default/gaps.png" docs/plots/gaps.png
cp "$tmp/pit-default/outcomes-pit.png" docs/plots/outcomes.png
cp "$tmp/temperature/sweep-temperature.png" docs/plots/sweep.png
# RESULTS.md
cp "$tmp/improver-start/ablation-pit.png" docs/results/improver-start.png
cp "$tmp/reward-hacking/ablation-pit.png" docs/results/reward-hacking.png
cp "$tmp/curriculum-ablation/ablation-pit.png" docs/results/curriculum-ablation.png
cp "$tmp/iterations/iterations-pit.png" docs/results/iterations.png
cp "$tmp/temperature/sweep-temperature.png" docs/results/temperature.png
cp "$tmp/rl-algorithm/ablation-pit.png" docs/results/rl-algorithm.png
echo "figures written to docs/plots and docs/results"
