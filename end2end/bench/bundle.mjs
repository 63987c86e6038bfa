// Where the editor page's bytes go. Prints what the browser transfers (the hydration
// bundle raw, gzip -9 and brotli 11) and, from the linked wasm before wasm-bindgen and
// wasm-opt (which still has its function names), the code size by crate and the largest
// functions. Run after `make build`:  node end2end/bench/bundle.mjs
import fs from "node:fs";
import zlib from "node:zlib";

const root = new URL("../../", import.meta.url).pathname;
const pkg = `${root}target/site/pkg`;
const linked = `${root}target/front/wasm32-unknown-unknown/wasm-release/app.wasm`;

const brotli = (b) =>
  zlib.brotliCompressSync(b, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length },
  }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

let total = { raw: 0, gz: 0, br: 0 };
console.log("transferred for the editor page (the files under target/site/pkg):");
for (const name of ["hybridflow.wasm", "hybridflow.js", "hybridflow.css"]) {
  const b = fs.readFileSync(`${pkg}/${name}`);
  const row = { raw: b.length, gz: zlib.gzipSync(b, { level: 9 }).length, br: brotli(b) };
  if (name !== "hybridflow.css") for (const k in total) total[k] += row[k];
  console.log(`  ${name.padEnd(18)} raw ${kb(row.raw).padStart(10)}  gzip ${kb(row.gz).padStart(9)}  brotli ${kb(row.br).padStart(9)}`);
}
console.log(`  wasm + JS          raw ${kb(total.raw).padStart(10)}  gzip ${kb(total.gz).padStart(9)}  brotli ${kb(total.br).padStart(9)}`);

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
console.log(`\ncode by crate (linked wasm before wasm-opt, ${kb(code)} of code in ${sizes.length} functions):`);
for (const [crate, size] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, 25))
  console.log(`  ${kb(size).padStart(10)}  ${(100 * size / code).toFixed(1).padStart(5)}%  ${crate}`);
console.log("\nlargest functions:");
for (const f of fns.sort((a, b) => b.size - a.size).slice(0, 15)) console.log(`  ${kb(f.size).padStart(10)}  ${f.name.slice(0, 110)}`);
