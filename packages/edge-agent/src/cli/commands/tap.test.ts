// `keymesh-edge tap` against a real panel on an ephemeral port (its model a small sim fake),
// against a panel without sim hardware, against nothing, and against something else.
import { describe, it, expect, afterEach } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Out } from '@keymesh/ledger/cli';
import type { CardUid } from '@keymesh/protocol';
import type { PanelModel, PanelSnapshot } from '../../panel/model.js';
import { startPanel, type PanelServer } from '../../panel/server.js';
import { tapCommand, tapEndpoint } from './tap.js';

const ADA = 'c0ffee0123';

function simModel(sim: boolean): PanelModel & { taps: string[] } {
  const snap = {
    node: { name: 'door-pi', key: '0123456789abcdef', kind: 'door', resource: { id: 'front', name: 'Front door' } },
    state: 'locked', member: null, sessionStartedAt: null, lastDecision: null, lastMessage: null,
    rulesAgeMs: null, rulesFreshAt: null, rulesStale: false, online: true, alarms: [],
    sim: sim ? { outputs: [], inputs: [], cards: [] } : null,
  } satisfies PanelSnapshot;
  const taps: string[] = [];
  return {
    taps,
    snapshot: () => snap,
    subscribe: () => () => {},
    ...(sim && {
      sim: {
        tap: (uid: CardUid) => {
          taps.push(uid);
          return uid === ADA ? { ok: true, message: 'Ada Lovelace: welcome' } : { ok: false, message: 'card is not enrolled; ask an admin to enrol it' };
        },
        setInput: () => false,
      },
    }),
  };
}

const servers: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function panel(sim: boolean): Promise<{ url: string; model: ReturnType<typeof simModel> }> {
  const model = simModel(sim);
  const p: PanelServer = await startPanel({ model, port: 0 });
  servers.push(p);
  return { url: p.url, model };
}

async function tap(argv: { uid: string; panel: string; form?: string; json?: boolean }): Promise<{ status: number; out: string }> {
  let out = '';
  const fakeOut = { write: async (s: string) => void (out += s) } as unknown as Out;
  const flags = { panel: argv.panel, ...(argv.form !== undefined && { form: argv.form }) };
  const status = await tapCommand.run({ flags, positionals: [argv.uid], json: argv.json ?? false, out: fakeOut });
  return { status, out };
}

describe('keymesh-edge tap', () => {
  it('prints the decision, never the uid', async () => {
    const p = await panel(true);
    const allowed = await tap({ uid: 'C0:FF:EE:01:23', panel: p.url });
    expect(allowed).toEqual({ status: 0, out: 'ALLOWED: Ada Lovelace: welcome\n' });
    const denied = await tap({ uid: '0badcafe', panel: p.url, json: true });
    expect(JSON.parse(denied.out)).toEqual({ ok: true, allowed: false, message: 'card is not enrolled; ask an admin to enrol it' });
    expect(denied.out).not.toContain('0badcafe');
    expect(p.model.taps).toEqual([ADA, '0badcafe']);
  });

  it('reads a decimal uid with --form decimal', async () => {
    const p = await panel(true);
    await tap({ uid: '3735928559', form: 'decimal', panel: p.url });
    expect(p.model.taps).toEqual(['deadbeef']);
  });

  it('an agent without sim hardware: NOT_SIM', async () => {
    const p = await panel(false);
    await expect(tap({ uid: ADA, panel: p.url })).rejects.toMatchObject({ code: 'NOT_SIM', message: expect.stringMatching(/drives real hardware/) });
  });

  it('nothing listening: AGENT_UNREACHABLE, naming where and how to start one', async () => {
    const p = await panel(true);
    await servers.pop()!.close();
    const err = await tap({ uid: ADA, panel: p.url }).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'AGENT_UNREACHABLE' });
    expect((err as Error).message).toMatch(/nothing listens there at http:\/\/127\.0\.0\.1:\d+\. Start an agent with sim hardware/);
    expect((err as Error).message).not.toContain(ADA);
  });

  it('something else answering: not a Keymesh panel', async () => {
    const other: Server = createServer((_req, res) => res.writeHead(404).end('<html>nope</html>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    servers.push({ close: () => new Promise((r) => other.close(r)) });
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
    await expect(tap({ uid: ADA, panel: url })).rejects.toMatchObject({ code: 'AGENT_UNREACHABLE', message: expect.stringMatching(/not a Keymesh panel/) });
  });

  it('refuses a uid that is not one, without repeating it, before sending anything', async () => {
    const p = await panel(true);
    const err = await tap({ uid: 'c0ffee012z', panel: p.url }).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/not a card number written in hex form/) });
    expect((err as Error).message).not.toContain('c0ffee012z');
    await expect(tap({ uid: '12ab', form: 'decimal', panel: p.url })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(tap({ uid: ADA, form: 'octal', panel: p.url })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/hex, decimal or facility/) });
    expect(p.model.taps).toEqual([]);
  });

  it('--panel must be an http URL; a path under it is kept', () => {
    expect(() => tapEndpoint('localhost:8080')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => tapEndpoint('not a url')).toThrow(/is not a URL/);
    expect(tapEndpoint('http://pi.local:8080/panel').href).toBe('http://pi.local:8080/panel/api/sim/tap');
    expect(tapEndpoint('http://127.0.0.1:8080').href).toBe('http://127.0.0.1:8080/api/sim/tap');
  });
});
