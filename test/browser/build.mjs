// Bundles the page: src/main.ts (with the SDK's web entry and its Connect
// dependencies) into dist/main.js, and copies src/index.html beside it.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const result = await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(dist, "main.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  // Only the browser entry may be bundled; anything from Node is a bug.
  external: [],
  logLevel: "warning",
  metafile: true,
});
copyFileSync(join(here, "src", "index.html"), join(dist, "index.html"));
const inputs = Object.keys(result.metafile.inputs);
const nodeOnly = inputs.filter((p) => p.includes("connect-node") || p.startsWith("node:"));
if (nodeOnly.length > 0) {
  console.error(`build: the page pulled in Node-only modules: ${nodeOnly.join(", ")}`);
  process.exit(1);
}
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.error(`build: dist/main.js ${bytes} bytes from ${inputs.length} modules`);
