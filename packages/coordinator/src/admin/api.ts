/** The HTTP client the admin commands use when a server runs (http/client.ts). */
import { CoordinatorError } from '../errors.js';
import type { LogApi } from './access-log.js';
import type { StatusReport } from './status.js';
import type { AdminApi } from './target.js';

export type ServerApi = AdminApi & LogApi & { status(): Promise<StatusReport> };

export function apiFor(url: string): ServerApi {
  throw new CoordinatorError('SERVER_UNREACHABLE', `the HTTP client is not built into this release yet; stop the server of this folder, or leave out --server (${url}).`);
}
