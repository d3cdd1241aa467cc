// Bundle the console into layers/shared/python/dd0c_cost/console/dist (committed: no Node at run
// time, no CDN). manifest.json records the sources' digest so a test can tell a stale bundle.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "layers", "shared", "python", "dd0c_cost", "console", "dist");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, "src", "main.jsx")],
  bundle: true, minify: true, format: "iife", target: ["es2020"], jsx: "automatic", jsxImportSource: "preact",
  outfile: join(out, "app.js"), legalComments: "none", logLevel: "warning",
});
const css = readFileSync(join(here, "node_modules", "uplot", "dist", "uPlot.min.css"), "utf8") + "\n" +
  readFileSync(join(here, "src", "app.css"), "utf8");
writeFileSync(join(out, "app.css"), css);

const js = readFileSync(join(out, "app.js"));
const v = createHash("sha256").update(js).update(css).digest("hex").slice(0, 12);
const html = readFileSync(join(here, "src", "index.html"), "utf8").replaceAll("__V__", v);
writeFileSync(join(out, "index.html"), html);

export function sourceDigest() {
  const h = createHash("sha256");
  const files = ["package.json", "package-lock.json", "build.mjs", ...readdirSync(join(here, "src")).sort().map((f) => join("src", f))];
  for (const f of files) h.update(f + "\0").update(readFileSync(join(here, f))).update("\0");
  return h.digest("hex");
}
// /docs: the OpenAPI document in Swagger UI (vendored and pinned by package-lock; no CDN).
const docs = join(out, "docs");
mkdirSync(docs, { recursive: true });
const sw = join(here, "node_modules", "swagger-ui-dist");
for (const f of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) writeFileSync(join(docs, f), readFileSync(join(sw, f)));
writeFileSync(join(docs, "index.html"), readFileSync(join(here, "src", "docs.html"), "utf8"));
writeFileSync(join(docs, "init.js"), readFileSync(join(here, "src", "docs-init.js"), "utf8"));

const manifest = {
  sources_sha256: sourceDigest(),
  bundle: { "app.js": js.length, "app.css": Buffer.byteLength(css), "index.html": Buffer.byteLength(html) },
  versions: { preact: JSON.parse(readFileSync(join(here, "node_modules", "preact", "package.json"))).version,
              uplot: JSON.parse(readFileSync(join(here, "node_modules", "uplot", "package.json"))).version,
              "swagger-ui-dist": JSON.parse(readFileSync(join(sw, "package.json"))).version },
};
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`console: app.js ${js.length} B, app.css ${Buffer.byteLength(css)} B -> ${out}`);
