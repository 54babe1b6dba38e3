/**
 * Reading a small file an operator named (a provisioning file, a config): only a regular file,
 * and never more than `max` bytes. A path that is a FIFO would block `readFileSync` until some
 * writer closes it (and then read without bound), and a symlink to /dev/zero never ends: both
 * report size 0 to `statSync`, so a size check before reading does not hold.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export class NotSmallFile extends Error {
  constructor(readonly why: 'not_regular' | 'too_large', message: string) {
    super(message);
  }
}

/** The file's text; NotSmallFile when it is not a regular file or is over `max` bytes; fs errors as they are. */
export function readSmallFile(path: string, max: number): string {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (harmless on a regular file).
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotSmallFile('not_regular', `${path} is not a regular file (a FIFO, a device or a folder)`);
    if (st.size > max) throw new NotSmallFile('too_large', `${path} is over ${max} bytes`);
    // Read to the limit plus one, whatever the size said (the file may grow while read).
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n <= max; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > max) throw new NotSmallFile('too_large', `${path} is over ${max} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
