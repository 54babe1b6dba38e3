/** How the reducer holds one policy entry. */
import type { AnyEntry } from '../schemas/entry.js';

export interface StoredEntry {
  hash: string;
  entry: AnyEntry;
  key: string | null;
}
