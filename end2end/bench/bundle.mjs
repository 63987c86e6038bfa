// Where the editor page's bytes go. Prints what the browser transfers before the editor is
// interactive (the main module, its JS and the split loader: raw, gzip -9 and brotli 11),
// what each lazily loaded part costs when first used, and, from the main module before
// wasm-bindgen and wasm-opt (which still has its function names), the code size by crate,
// the largest functions and the app's modules. Run after `make build`:
//   node end2end/bench/bundle.mjs
import fs from "node:fs";
import zlib from "node:zlib";

const root = new URL("../../", import.meta.url).pathname;
const pkg = `${root}target/site/pkg`;
// The main module after `--split` (what the editor page loads), else the whole linked wasm.
const front = `${root}target/front/wasm32-unknown-unknown/wasm-release`;
const split = `${front}/app_split.wasm`;
const linked =
  fs.existsSync(split) && fs.statSync(split).mtimeMs >= fs.statSync(`${front}/app.wasm`).mtimeMs
    ? split
    : `${front}/app.wasm`;

const brotli = (b) =>
  zlib.brotliCompressSync(b, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length },
  }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

const sizes3 = (b) => ({ raw: b.length, gz: zlib.gzipSync(b, { level: 9 }).length, br: brotli(b) });
const row = (name, r) =>
  `  ${name.padEnd(34)} raw ${kb(r.raw).padStart(10)}  gzip ${kb(r.gz).padStart(9)}  brotli ${kb(r.br).padStart(9)}`;
const files = fs.readdirSync(pkg);
// What the editor page loads before it is interactive: the main module, its JS and the
// split loader (imported by the JS). The split chunks are fetched only when first used.
const first = ["hybridflow.wasm", "hybridflow.js", ...files.filter((f) => /^__wasm_split.*\.js$/.test(f))];
let total = { raw: 0, gz: 0, br: 0 };
console.log("transferred for the editor page (the files under target/site/pkg):");
for (const name of [...first, "hybridflow.css"]) {
  const r = sizes3(fs.readFileSync(`${pkg}/${name}`));
  if (name !== "hybridflow.css") for (const k in total) total[k] += r[k];
  console.log(row(name, r));
}
console.log(row("wasm + JS", total));

// The lazily loaded parts (`#[lazy]`, split by `make build`): a split is fetched with
// the shared chunks it needs (`__wasm_split_manifest.json`).
if (files.includes("__wasm_split_manifest.json")) {
  const manifest = JSON.parse(fs.readFileSync(`${pkg}/__wasm_split_manifest.json`, "utf8"));
  console.log("\nfetched when first used (the split and the chunks it needs):");
  let all = { raw: 0, gz: 0, br: 0 };
  for (const [name, needs] of Object.entries(manifest).sort()) {
    const r = { raw: 0, gz: 0, br: 0 };
    for (const file of needs) {
      const x = sizes3(fs.readFileSync(`${pkg}/${file}.wasm`));
      for (const k in r) r[k] += x[k];
    }
    console.log(row(name.replace(/_\d+$/, "").replace(/^_+/, ""), r));
  }
  for (const f of files.filter((f) => /^(split_|chunk_).*\.wasm$/.test(f))) {
    const x = sizes3(fs.readFileSync(`${pkg}/${f}`));
    for (const k in all) all[k] += x[k];
  }
  console.log(row("all lazily loaded files", all));
}

if (!fs.existsSync(linked)) process.exit(0);
const b = fs.readFileSync(linked);
let i = 8;
const leb = () => {
  let r = 0, s = 0, x;
  do { x = b[i++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80);
  return r;
};
let imported = 0;
const sizes = [];
const names = new Map();
while (i < b.length) {
  const id = b[i++];
  const len = leb();
  const end = i + len;
  if (id === 2) {
    for (let n = leb(); n > 0; n--) {
      i += leb(); i += leb(); // module, field
      const kind = b[i++];
      if (kind === 0) { leb(); imported++; } else if (kind === 1) { i++; const f = b[i++]; leb(); if (f & 1) leb(); }
      else if (kind === 2) { const f = b[i++]; leb(); if (f & 1) leb(); } else { i += 2; }
    }
  } else if (id === 10) {
    for (let n = leb(); n > 0; n--) { const size = leb(); sizes.push(size); i += size; }
  } else if (id === 0) {
    const nl = leb();
    const name = b.slice(i, i + nl).toString();
    i += nl;
    if (name === "name") {
      while (i < end) {
        const sub = b[i++]; const slen = leb(); const send = i + slen;
        if (sub === 1) for (let n = leb(); n > 0; n--) { const idx = leb(); const l = leb(); names.set(idx, b.slice(i, i + l).toString()); i += l; }
        i = send;
      }
    }
  }
  i = end;
}
const crateOf = (name) => {
  // Legacy mangling: _ZN<len><seg>…; generic impls start with _ZN<len>_$LT$…
  const m = name.match(/^_ZN(\d+)(.*)$/);
  if (!m) return name.split(/[:<]/)[0] || "?";
  let seg = m[2].slice(0, Number(m[1]));
  const inner = seg.match(/^_\$LT\$(.+?)\.\.|^_\$LT\$(.+?)\$/);
  if (inner) seg = (inner[1] || inner[2]).replace(/^_\$LT\$/, "");
  return seg.split("..")[0];
};
const byCrate = new Map();
const fns = sizes.map((size, k) => ({ size, name: names.get(imported + k) ?? `#${imported + k}` }));
for (const f of fns) byCrate.set(crateOf(f.name), (byCrate.get(crateOf(f.name)) ?? 0) + f.size);
const code = sizes.reduce((a, s) => a + s, 0);
console.log(`\ncode by crate (${linked.split("/").pop()}, before wasm-bindgen and wasm-opt, ${kb(code)} of code in ${sizes.length} functions):`);
for (const [crate, size] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, 25))
  console.log(`  ${kb(size).padStart(10)}  ${(100 * size / code).toFixed(1).padStart(5)}%  ${crate}`);
console.log("\nlargest functions:");
for (const f of fns.sort((a, b) => b.size - a.size).slice(0, 15)) console.log(`  ${kb(f.size).padStart(10)}  ${f.name.slice(0, 110)}`);

// The app's own code by module (its first three path segments), to see what a lazy chunk could take.
const pathOf = (name) => {
  const segs = [];
  let rest = name.replace(/^_ZN/, "");
  while (/^\d/.test(rest) && segs.length < 3) {
    const n = parseInt(rest, 10);
    rest = rest.slice(String(n).length);
    segs.push(rest.slice(0, n));
    rest = rest.slice(n);
  }
  return segs[0] === "app" ? segs.join("::") : null;
};
const byModule = new Map();
for (const f of fns) {
  const p = pathOf(f.name);
  if (p) byModule.set(p, (byModule.get(p) ?? 0) + f.size);
}
console.log("\nthe app's code by module:");
for (const [m, size] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 30))
  console.log(`  ${kb(size).padStart(10)}  ${m}`);
