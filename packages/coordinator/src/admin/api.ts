/** The HTTP client the admin commands, `log` and `status` use when a server runs. */
import { ApiClient } from '../http/client.js';
import type { LogApi } from './access-log.js';
import type { StatusReport } from './status.js';
import type { AdminApi } from './target.js';

export type ServerApi = AdminApi & LogApi & { status(): Promise<StatusReport> };

export function apiFor(url: string): ServerApi {
  return new ApiClient(url);
}
