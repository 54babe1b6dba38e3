/**
 * Writing the files an operator keeps (keys, provisioning files, site and node records; the
 * coordinator's and the edge's): atomically
 * (a temporary file, fsync, rename) so a power cut leaves the old file or the new one, never a
 * torn one; secrets with mode 0600; never over an existing file unless asked.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeKeyFile, encodeKeyFile, type KeyPair } from '@keymesh/protocol';
import { LedgerError } from './errors.js';

export function writeFileAtomic(path: string, text: string, opts: { mode?: number; overwrite?: boolean } = {}): void {
  if (!opts.overwrite && existsSync(path)) throw new LedgerError('FILE_EXISTS', `${path} exists; nothing was written. Move it away first, or choose another path.`, { path });
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // A fresh name opened exclusively: a file or symlink planted at a guessable name (the output
  // may go to a shared folder such as /tmp) is never written through, nor its owner's file reused.
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.overwrite) renameSync(tmp, path);
    else {
      // link() refuses an existing name: a file made since the check above is not replaced.
      try {
        linkSync(tmp, path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new LedgerError('FILE_EXISTS', `${path} exists; nothing was written. Move it away first, or choose another path.`, { path });
        // A file system without hard links (a FAT USB stick carrying a provisioning file): check and rename.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
        if (existsSync(path)) throw new LedgerError('FILE_EXISTS', `${path} exists; nothing was written. Move it away first, or choose another path.`, { path });
        renameSync(tmp, path);
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Writes a key file (mode 0600); refuses to overwrite one. */
export function writeKeyFile(path: string, key: KeyPair, label: string, now = Date.now()): void {
  writeFileAtomic(path, encodeKeyFile(key, label, now), { mode: 0o600 });
}

/** Reads a key file; the error names the file and what to do. */
export function readKeyFile(path: string): KeyPair {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LedgerError('BAD_KEY_FILE', code === 'ENOENT' ? `${path} does not exist; check the path (keymesh init printed where it wrote the admin keys).` : `${path}: ${(err as Error).message}`, { path });
  }
  try {
    return decodeKeyFile(text).keyPair;
  } catch (err) {
    throw new LedgerError('BAD_KEY_FILE', `${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
}
