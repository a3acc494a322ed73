#!/usr/bin/env node
// Compiles the contracts offline with the pinned npm `solc` (solc-js, wasm inside the package)
// and writes one artifact per contract under contracts/build/. The artifacts are committed so the
// Python side needs no Node.
//   node contracts/compile.js           write the artifacts
//   node contracts/compile.js --check   recompile and exit 1 if a committed artifact is stale
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = path.resolve(__dirname, '..');
const EVM_VERSION = 'cancun'; // OpenZeppelin 5 needs Cancun (mcopy); match the target chains.
const OPTIMIZER = { enabled: true, runs: 200 };
// source unit name -> { contract name -> artifact path }
const TARGETS = {
  'contracts/SongNFT.sol': { SongNFT: 'contracts/build/SongNFT.json' },
  'contracts/test/ERC1271Wallet.sol': { ERC1271Wallet: 'contracts/build/test/ERC1271Wallet.json' },
};
// Imports resolve against the repo root, then node_modules (for @openzeppelin/contracts).
const IMPORT_ROOTS = [ROOT, path.join(ROOT, 'node_modules')];

function findImports(unitName) {
  for (const base of IMPORT_ROOTS) {
    const file = path.join(base, unitName);
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, 'utf8') };
  }
  return { error: `import not found: ${unitName} (run \`npm ci\` at the repo root)` };
}

function compile() {
  const sources = {};
  for (const unit of Object.keys(TARGETS)) sources[unit] = { content: fs.readFileSync(path.join(ROOT, unit), 'utf8') };
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: OPTIMIZER,
      evmVersion: EVM_VERSION,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const problems = output.errors || [];
  for (const p of problems) process.stderr.write(p.formattedMessage || p.message);
  if (problems.some((p) => p.severity === 'error')) throw new Error('solc reported errors (above)');

  const artifacts = {};
  for (const [unit, contracts] of Object.entries(TARGETS)) {
    for (const [name, out] of Object.entries(contracts)) {
      const c = output.contracts[unit][name];
      const artifact = {
        contractName: name,
        sourceName: unit,
        compiler: { name: 'solc-js', version: solc.version(), evmVersion: EVM_VERSION, optimizer: OPTIMIZER },
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      };
      artifacts[out] = JSON.stringify(artifact, null, 2) + '\n';
    }
  }
  return artifacts;
}

function main() {
  const check = process.argv.includes('--check');
  const artifacts = compile();
  const stale = [];
  for (const [rel, text] of Object.entries(artifacts)) {
    const file = path.join(ROOT, rel);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (current === text) continue;
    if (check) { stale.push(rel); continue; }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = file + '.tmp';
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file); // never leave a half-written artifact
    console.log(`wrote ${rel}`);
  }
  if (stale.length) {
    console.error(`stale contract artifacts: ${stale.join(', ')}; run \`npm run compile\` and commit them`);
    process.exit(1);
  }
  if (check) console.log(`artifacts up to date (solc ${solc.version()}, evmVersion ${EVM_VERSION})`);
}

main();
