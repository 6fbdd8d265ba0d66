#!/usr/bin/env bash
# Downloads a Hugging Face model folder that pit can start from ([model]
# init = "..."): config.json, the safetensors weights and the tokenizer
# files, from huggingface.co, into models/<name> of this checkout (ignored
# by git).
#   scripts/download-model.sh                 # GPT-2 small (openai-community/gpt2, 124M, 548 MB)
#   scripts/download-model.sh <repo> <name>   # another GPT-2-shaped model, e.g. distilbert/distilgpt2 distilgpt2
# Set HF_ENDPOINT for a mirror. Nothing else of pit needs the network.
set -euo pipefail
repo=${1:-openai-community/gpt2}
name=${2:-gpt2}
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/models/$name"
endpoint=${HF_ENDPOINT:-https://huggingface.co}
mkdir -p "$dest"
for f in config.json model.safetensors vocab.json merges.txt tokenizer.json; do
	if [[ -s "$dest/$f" ]]; then
		echo "have $dest/$f"
		continue
	fi
	echo "fetching $repo/$f"
	if ! curl -fL --retry 3 -o "$dest/$f.part" "$endpoint/$repo/resolve/main/$f"; then
		rm -f "$dest/$f.part"
		case $f in
		tokenizer.json) echo "  (no $f: vocab.json + merges.txt serve)"; continue ;;
		*) echo "download of $f failed" >&2; exit 1 ;;
		esac
	fi
	mv "$dest/$f.part" "$dest/$f"
done
echo "ready: $dest (use [model] init = \"../models/$name\" from experiments/)"
