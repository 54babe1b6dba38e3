/**
 * `keymesh-edge tap UID`: taps a badge on a running agent's sim reader, through its panel
 * (POST /api/sim/tap), and prints the decision. For demos and tests: only an agent running sim
 * hardware has that endpoint. The uid is checked and made canonical here, then sent to the
 * panel (on 127.0.0.1 by default); it is never printed, not even in an error (DESIGN §3).
 */
import { normaliseCardUid, type CardUidForm } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';
import { EdgeError } from '../../errors.js';
import { DEFAULT_PANEL_HOST, DEFAULT_PANEL_PORT } from '../../panel/server.js';
import { flag, type EdgeCommand } from '../command.js';

export const DEFAULT_PANEL_URL = `http://${DEFAULT_PANEL_HOST}:${DEFAULT_PANEL_PORT}/`;
const TIMEOUT_MS = 5_000;
const FORMS: readonly CardUidForm[] = ['hex', 'decimal', 'facility'];

/** The panel's tap endpoint from --panel (a base URL; a path under it is kept). */
export function tapEndpoint(panel: string): URL {
  let base: URL;
  try {
    base = new URL(panel);
  } catch {
    throw new UsageError('USAGE', `--panel "${panel.slice(0, 100)}" is not a URL; give the panel's address as the agent prints it at start, e.g. ${DEFAULT_PANEL_URL}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new UsageError('USAGE', `--panel must be an http:// or https:// URL (got ${base.protocol}), e.g. ${DEFAULT_PANEL_URL}`);
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return new URL('api/sim/tap', base);
}

function jsonObject(text: string): { ok?: unknown; message?: unknown; error?: unknown } | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

/** Posts the tap; the panel's answer, or an EdgeError saying why there is none. */
export async function postTap(endpoint: URL, uid: string): Promise<{ ok: boolean; message: string }> {
  const where = endpoint.origin;
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ uid }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `nothing answered within ${TIMEOUT_MS / 1000} s` : e.cause?.code === 'ECONNREFUSED' ? 'nothing listens there' : `the request failed (${e.cause?.code ?? e.message})`;
    throw new EdgeError('AGENT_UNREACHABLE', `${why} at ${where}. Start an agent with sim hardware (\`keymesh-edge run --config edge.yaml\`, drivers: sim) and give its panel's address with --panel (it prints it at start; default ${DEFAULT_PANEL_URL}).`);
  }
  const body = jsonObject(await res.text());
  const error = body && typeof body.error === 'string' ? body.error : null;
  if (res.status === 404 && error !== null && /sim hardware/.test(error)) {
    throw new EdgeError('NOT_SIM', `the agent at ${where} drives real hardware, so it takes no taps from here; tap a real badge, or run an agent with sim drivers.`);
  }
  if (res.ok && body && typeof body.ok === 'boolean' && typeof body.message === 'string') {
    return { ok: body.ok, message: body.message };
  }
  if (error !== null) throw new EdgeError('AGENT_UNREACHABLE', `the panel at ${where} refused the tap (HTTP ${res.status}): ${error}`);
  throw new EdgeError('AGENT_UNREACHABLE', `something answers at ${where} (HTTP ${res.status}) but it is not a Keymesh panel; check --panel.`);
}

export const tapCommand: EdgeCommand = {
  name: 'tap',
  usage: 'UID',
  summary: 'tap a badge on a running sim agent and print the decision',
  help: `Sends a badge read to the sim reader of a running agent, through its local panel, and
prints what the agent decided. Only an agent running sim hardware takes taps this way.
The uid is not printed anywhere (a card number opens doors); only the decision is.

  --panel URL        the agent's panel (default $KEYMESH_PANEL, else ${DEFAULT_PANEL_URL};
                     the agent prints it at start)
  --form hex|decimal how the uid is written: hex bytes (default, "04:a2:19:ff" or "04a219ff"),
                     decimal (the number printed on a fob), or facility ("123,45678")

Exit status 0 when the agent answered (allowed or denied; --json says which), 1 when no
sim agent answered.

Example: keymesh-edge tap 04a219ff --panel http://127.0.0.1:8081/`,
  flags: { panel: { type: 'string' }, form: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const formFlag = flag(r, 'form') ?? 'hex';
    if (!FORMS.includes(formFlag as CardUidForm)) throw new UsageError('USAGE', `--form "${formFlag.slice(0, 20)}" is not a uid form; use hex, decimal or facility.`);
    const form = formFlag as CardUidForm;
    let uid: string;
    try {
      uid = normaliseCardUid(r.positionals[0]!, form);
    } catch {
      // Not the protocol's message: it may quote the text, which may be a card number.
      throw new UsageError('USAGE', `UID is not a card number written in ${form} form (not repeated here); ${form === 'hex' ? 'hex is whole bytes, e.g. 04a219ff or 04:a2:19:ff' : form === 'decimal' ? 'decimal is digits only, the number printed on the fob' : 'facility is "facility,number", e.g. 123,45678'}. See --help.`);
    }
    const endpoint = tapEndpoint(flag(r, 'panel') ?? process.env['KEYMESH_PANEL'] ?? DEFAULT_PANEL_URL);
    const result = await postTap(endpoint, uid);
    if (r.json) await r.out.write(JSON.stringify({ ok: true, allowed: result.ok, message: result.message }) + '\n');
    else await r.out.write(`${result.ok ? 'ALLOWED' : 'DENIED'}: ${result.message}\n`);
    return 0;
  },
};
