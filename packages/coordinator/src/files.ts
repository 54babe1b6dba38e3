/**
 * Writing the files an operator keeps (keys, provisioning files, the site record): atomically
 * (a temporary file, fsync, rename) so a power cut leaves the old file or the new one, never a
 * torn one; secrets with mode 0600; never over an existing file unless asked.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeKeyFile, encodeKeyFile, type KeyPair } from '@keymesh/protocol';
import { CoordinatorError } from './errors.js';

export function writeFileAtomic(path: string, text: string, opts: { mode?: number; overwrite?: boolean } = {}): void {
  if (!opts.overwrite && existsSync(path)) throw new CoordinatorError('FILE_EXISTS', `${path} exists; nothing was written. Move it away first, or choose another path.`, { path });
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', opts.mode ?? 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
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
    throw new CoordinatorError('BAD_KEY_FILE', code === 'ENOENT' ? `${path} does not exist; check the path (keymesh init printed where it wrote the admin keys).` : `${path}: ${(err as Error).message}`, { path });
  }
  try {
    return decodeKeyFile(text).keyPair;
  } catch (err) {
    throw new CoordinatorError('BAD_KEY_FILE', `${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
}
