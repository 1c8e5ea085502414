// Builds the web frontend into frontend/dist/: the app's JavaScript (ECharts in a chunk of its own, loaded
// only by the pages that draw charts) and its stylesheet, each named after its content, and index.html
// pointing at them. `make setup` runs it; so do the browser tests, so the pages tested are the sources.
//
//     node frontend/build.mjs            (add --dev for readable, unminified output)

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

import { checkDictionaries } from "./src/i18n/check.js";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const dev = process.argv.includes("--dev");

const problems = checkDictionaries();
if (problems.length) {
  console.error(`frontend dictionaries disagree:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
const result = await esbuild.build({
  entryPoints: [join(here, "src", "main.js"), join(here, "src", "styles.css")],
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  minify: !dev,
  target: ["chrome100", "firefox100", "safari15"],
  legalComments: "none",
  logLevel: "error",
  metafile: true,
  define: { "process.env.NODE_ENV": dev ? '"development"' : '"production"' },
});

const outputs = Object.entries(result.metafile.outputs);
const entry = (source) => basename(outputs.find(([, o]) => o.entryPoint?.endsWith(source))[0]);
const page = (await readFile(join(here, "index.html"), "utf8"))
  .replace("{{app.js}}", `/assets/${entry("src/main.js")}`)
  .replace("{{app.css}}", `/assets/${entry("src/styles.css")}`);
await writeFile(join(dist, "index.html"), page);
for (const [path, output] of outputs) console.log(`  ${relative(here, path)}  ${(output.bytes / 1024).toFixed(0)} KiB`);
