// Atomic writes and key files are the ledger's (the edge agent writes the same files).
export { readKeyFile, writeFileAtomic, writeKeyFile } from '@keymesh/ledger';
