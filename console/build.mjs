// Bundles the console (src/main.tsx, Preact, uPlot and the SDK's web entry)
// into ../server/console/dist, which the gateway embeds with go:embed. The
// output is committed, so a fresh clone's `make run` serves it without Node.
//
//   node build.mjs           write server/console/dist
//   node build.mjs --check   build into a temp dir and fail when the
//                            committed dist differs (make test runs this)
//
// esbuild's output depends only on its inputs (pinned in package-lock.json
// and the SDK built from gen/ts), so the same sources give the same bytes.
// No plugins: an async onResolve plugin made the minifier's names differ
// from run to run. src/protobuf.ts reaches the SDK's protobuf runtime by
// path instead, so the bundle holds one copy.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const committed = join(here, "..", "server", "console", "dist");
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "switchyard-console-")) : committed;

try {
  if (!check) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
  }
  const result = await build({
    entryPoints: [join(here, "src", "main.tsx")],
    outdir: out,
    entryNames: "[name]",
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    charset: "utf8",
    logLevel: "warning",
    metafile: true,
  });
  copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
  const inputs = Object.keys(result.metafile.inputs);
  const nodeOnly = inputs.filter((p) => p.includes("connect-node") || p.startsWith("node:"));
  if (nodeOnly.length > 0) throw new Error(`the console pulled in Node-only modules: ${nodeOnly.join(", ")}`);
  let raw = 0;
  let gz = 0;
  for (const f of readdirSync(out).sort()) {
    const b = readFileSync(join(out, f));
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  console.error(`console: ${readdirSync(out).length} files, ${raw} bytes, ${gz} bytes gzipped, from ${inputs.length} modules`);
  if (check) {
    const names = (d) => readdirSync(d).sort().join(",");
    const stale = [];
    if (names(out) !== names(committed)) stale.push(`files: built ${names(out)}, committed ${names(committed)}`);
    else for (const f of readdirSync(out)) if (!readFileSync(join(out, f)).equals(readFileSync(join(committed, f)))) stale.push(f);
    if (stale.length > 0) {
      console.error(`console: server/console/dist is out of date with console/src (${stale.join("; ")}): run scripts/build-console.sh and commit the result`);
      process.exitCode = 1;
    } else console.error("console: committed bundle matches a fresh build");
  }
} catch (e) {
  console.error(`console: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
} finally {
  if (check) rmSync(out, { recursive: true, force: true });
}
