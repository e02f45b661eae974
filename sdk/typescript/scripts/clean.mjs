// Removes the given paths (a portable `rm -rf` for npm scripts).
import { rmSync } from "node:fs";

for (const p of process.argv.slice(2)) rmSync(p, { recursive: true, force: true });
