#!/usr/bin/env node
// Content addresses and CAR files for Song Studio (provenance/content.py runs this).
//
// Each input file is imported on its own with ipfs-unixfs-importer under the IPIP-499
// "unixfs-v1-2025" profile: CIDv1, sha2-256, raw leaves, fixed 1 MiB chunks, balanced DAG with
// at most 1024 links per node, a file of one chunk is its own raw block. The same bytes give the
// same CID in any importer that follows that profile (`ipfs add --cid-profile unixfs-v1-2025`).
//
// stdin: {"files": ["/abs/a.flac", ...], "car": "/abs/out.car" | null}
// stdout: {"cids": ["bafy...", ...]}; with "car", a CARv1 whose roots are exactly those CIDs, in
// order, holding every block of every file, is written to a temporary name and then renamed.
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CarWriter } from '@ipld/car/writer';
import { importer } from 'ipfs-unixfs-importer';

const OPTIONS = { profile: 'unixfs-v1-2025', cidVersion: 1, rawLeaves: true, wrapWithDirectory: false };

class BlockList {  // the importer only needs put(); keep blocks in import order, once each
  constructor() { this.blocks = []; this.seen = new Set(); }
  async put(cid, bytes) {
    const key = cid.toString();
    if (!this.seen.has(key)) { this.seen.add(key); this.blocks.push({ cid, bytes }); }
    return cid;
  }
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function main() {
  const request = await readStdin();
  const store = new BlockList();
  const roots = [];
  for (const path of request.files) {
    const candidates = [{ content: createReadStream(path, { highWaterMark: 1 << 20 }) }];
    let last = null;
    for await (const entry of importer(candidates, store, OPTIONS)) last = entry;
    roots.push(last.cid);
  }
  if (request.car) {
    const tmp = `${request.car}.partial`;
    const { writer, out } = CarWriter.create(roots);
    const file = await open(tmp, 'w', 0o600);
    const sink = file.createWriteStream();
    const done = new Promise((resolve, reject) => { sink.on('finish', resolve); sink.on('error', reject); });
    Readable.from(out).pipe(sink);
    try {
      for (const block of store.blocks) await writer.put(block);
      await writer.close();
      await done;
      await rename(tmp, request.car);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
  process.stdout.write(JSON.stringify({ cids: roots.map((c) => c.toString()) }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
