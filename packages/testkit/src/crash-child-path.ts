/** Where the crash test's child process lives (run with `node`, killed at random moments). */
import { fileURLToPath } from 'node:url';

export const crashChildPath = fileURLToPath(new URL('./crash-child.js', import.meta.url));
