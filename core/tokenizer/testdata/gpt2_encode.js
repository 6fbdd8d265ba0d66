// Encodes each string of a JSON array read from stdin with the npm package
// gpt-3-encoder (an independent JavaScript implementation of GPT-2's BPE)
// and prints a JSON array of token-id arrays. Usage:
//   node gpt2_encode.js /path/to/node_modules/gpt-3-encoder < strings.json
const enc = require(process.argv[2]);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const texts = JSON.parse(input);
  process.stdout.write(JSON.stringify(texts.map((t) => enc.encode(t))));
});
