// `keymesh-chunk FILE [options]`: prints "offset length" per chunk. Exit 0 ok, 1 runtime error
// (unreadable file, addon missing), 2 usage error.
import { createReadStream } from 'node:fs';
import { parseArgs, USAGE, UsageError } from './cli-args.js';

export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`keymesh-chunk: ${err.message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const o = parsed.options;
  let stream;
  try {
    // Imported here so a KEYMESH_CDC_IMPL error is reported like any other.
    const { chunkStream, resolveParams } = await import('./index.js');
    resolveParams(o); // bad sizes are usage errors: report them before opening the file
    const source = o.file === '-' ? process.stdin : createReadStream(o.file, { highWaterMark: 1 << 20 });
    stream = chunkStream(source, { ...o, hash: o.sha256 });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'CDC_BAD_PARAMS' || code === 'CDC_BAD_IMPL') {
      process.stderr.write(`keymesh-chunk: ${(err as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`keymesh-chunk: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    let out = '';
    for await (const c of stream) {
      out += o.sha256 ? `${c.offset} ${c.length} ${Buffer.from(c.hash!).toString('hex')}\n` : `${c.offset} ${c.length}\n`;
      if (out.length > 1 << 16) {
        if (!process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
        out = '';
      }
    }
    process.stdout.write(out);
    return 0;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const msg = e.code === 'ENOENT' ? `cannot read "${o.file}": no such file.`
      : e.code === 'EISDIR' ? `"${o.file}" is a directory; pass a file.`
      : e.message;
    process.stderr.write(`keymesh-chunk: ${msg}\n`);
    return 1;
  }
}
