// Brings the committed generated code (gen/ts, from `make generate`) into the
// package as src/gen, so tsc compiles it beside the hand-written sources and
// `npm pack` ships it. The copy is never committed and never edited by hand.
//
// protoc-gen-es writes relative imports without an extension
// ("../../google/api/annotations_pb"). Node's ESM loader and TypeScript's
// NodeNext resolution both need the ".js" spelling, so the copy appends it to
// relative specifiers that have none. With `import_extension=js` in the
// generator options this rewrite finds nothing to do.
//
//   node scripts/sync-gen.mjs            # from ../../gen/ts
//   SWITCHYARD_GEN_TS=/path node ...     # from elsewhere
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const from = resolve(process.env.SWITCHYARD_GEN_TS ?? join(pkg, "..", "..", "gen", "ts"));
const to = join(pkg, "src", "gen");

if (!existsSync(join(from, "switchyard", "v1", "chat_pb.ts"))) {
  console.error(`sync-gen: no generated TypeScript at ${from} (run \`make generate\` in the repository root)`);
  process.exit(1);
}

rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
cpSync(from, to, { recursive: true });

// Matches the module specifier of static imports/exports and dynamic imports.
const specifier = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"']*)\2/g;
const hasExtension = /\.(?:[cm]?js|json)$/;

let files = 0;
let rewritten = 0;
for (const file of walk(to)) {
  if (!file.endsWith(".ts")) continue;
  files++;
  const src = readFileSync(file, "utf8");
  const out = src.replace(specifier, (all, lead, quote, spec) => {
    if (hasExtension.test(spec)) return all;
    rewritten++;
    return `${lead}${quote}${spec}.js${quote}`;
  });
  if (out !== src) writeFileSync(file, out);
}
if (files === 0) {
  console.error(`sync-gen: ${from} holds no .ts files`);
  process.exit(1);
}
console.error(`sync-gen: ${files} files from ${relative(pkg, from) || "."} into src/gen (${rewritten} import specifiers given .js)`);

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}
