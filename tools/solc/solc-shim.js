#!/usr/bin/env node
// A native-looking `solc` command over solcjs (npm `solc`), for py-solc-x,
// Brownie and Slither, which expect the C++ binary's command line.
// Only the modes those tools use are implemented: --version,
// --standard-json (stdin -> stdout) and --combined-json FIELDS FILE...
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const NATIVE_VERSION = solc.version().replace('Emscripten.clang', 'Linux.g++');

function fail(message) {
  process.stderr.write(`solc-shim: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { mode: null, searchDirs: [], files: [], remappings: [], fields: null };
  const takesDirs = new Set(['--allow-paths', '--base-path', '--include-path']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--version') opts.mode = 'version';
    else if (flag === '--standard-json') opts.mode = 'standard-json';
    else if (flag === '--combined-json') { opts.mode = 'combined-json'; opts.fields = value().split(','); }
    else if (takesDirs.has(flag)) opts.searchDirs.push(...value().split(',').filter(Boolean));
    else if (flag === '--evm-version') opts.evmVersion = value();
    else if (flag === '--optimize') opts.optimize = true;
    else if (flag === '--optimize-runs') opts.runs = Number(value());
    else if (flag === '--via-ir') opts.viaIR = true;
    else if (flag === '--no-color' || flag === '--pretty-json') continue;
    else if (flag.startsWith('--')) fail(`unsupported option ${flag}`);
    else if (/^[^=]+=.+/.test(arg) && !fs.existsSync(arg)) opts.remappings.push(arg);
    else opts.files.push(arg);
  }
  return opts;
}

// solc resolves remappings itself and asks us only for the resulting path:
// look for it in the cwd and in every directory the caller allowed.
function importCallback(searchDirs) {
  const roots = [process.cwd(), ...searchDirs.map((d) => path.resolve(d))];
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

function compile(input, searchDirs) {
  return JSON.parse(solc.compile(JSON.stringify(input), { import: importCallback(searchDirs) }));
}

function standardJson(opts) {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  process.stdout.write(JSON.stringify(compile(input, opts.searchDirs)));
}

// The subset of --combined-json that crytic-compile (Slither) reads.
const COMBINED_FIELDS = {
  abi: ['abi'], bin: ['evm.bytecode.object'], 'bin-runtime': ['evm.deployedBytecode.object'],
  srcmap: ['evm.bytecode.sourceMap'], 'srcmap-runtime': ['evm.deployedBytecode.sourceMap'],
  userdoc: ['userdoc'], devdoc: ['devdoc'], hashes: ['evm.methodIdentifiers'],
  metadata: ['metadata'], 'storage-layout': ['storageLayout'],
};

function combinedJson(opts) {
  if (opts.files.length === 0) fail('--combined-json needs at least one source file');
  const sources = {};
  for (const file of opts.files) sources[file] = { content: fs.readFileSync(file, 'utf8') };
  const selection = new Set();
  for (const field of opts.fields) for (const out of COMBINED_FIELDS[field] || []) selection.add(out);
  const settings = {
    remappings: opts.remappings,
    optimizer: { enabled: Boolean(opts.optimize), runs: opts.runs || 200 },
    outputSelection: { '*': { '*': [...selection], '': opts.fields.includes('ast') ? ['ast'] : [] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.viaIR) settings.viaIR = true;
  const output = compile({ language: 'Solidity', sources, settings }, opts.searchDirs);
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) process.stderr.write(`${e.formattedMessage || e.message}\n`);
  if (errors.length) process.exit(1);

  const get = (obj, dotted) => dotted.split('.').reduce((o, k) => (o == null ? o : o[k]), obj);
  const contracts = {};
  for (const [file, byName] of Object.entries(output.contracts || {})) {
    for (const [name, artifact] of Object.entries(byName)) {
      const entry = {};
      for (const field of opts.fields) {
        const paths = COMBINED_FIELDS[field];
        if (paths) entry[field] = get(artifact, paths[0]) ?? '';
      }
      contracts[`${file}:${name}`] = entry;
    }
  }
  const outSources = {};
  for (const [file, src] of Object.entries(output.sources || {})) {
    outSources[file] = opts.fields.includes('ast') ? { AST: src.ast, id: src.id } : { id: src.id };
  }
  process.stdout.write(JSON.stringify({ contracts, sourceList: Object.keys(outSources), sources: outSources, version: NATIVE_VERSION }));
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'version') {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${NATIVE_VERSION}\n`);
  } else if (opts.mode === 'standard-json') {
    standardJson(opts);
  } else if (opts.mode === 'combined-json') {
    combinedJson(opts);
  } else {
    fail('usage: solc --version | --standard-json | --combined-json FIELDS FILE...');
  }
}

main();
