/**
 * Remote commands for this node (DESIGN §7: `cmd/<node>`, admin-signed under the command
 * domain, never acted on from a retained message, past expiry, or twice). Ids acted on are kept
 * in the ledger's notes, written before the relay moves: a reboot or a redelivery must not open
 * a door again, even after a power cut between the opening and the door.event.
 */
import { Buffer } from 'node:buffer';
import { COMMAND_REFUSALS, ReplayCache, controlledResources, topics, verifyCommand, type Command } from '@keymesh/protocol';
import type { Bus, BusMessage, Ledger } from '@keymesh/ledger';

const NOTE = 'cmd-replay';
/** Commands live at most 60 s; a door gets a few a day. Bounded so a flood cannot grow the note. */
const CAPACITY = 256;
const MAX_COMMAND_BYTES = 4096;

export interface CommandsOptions {
  bus: Bus;
  ledger: Ledger;
  site: string;
  node: string;
  /** Acts on a verified command; the agent's door controller unlocks. */
  act: (c: Command) => void;
  log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
}

export class CommandListener {
  private readonly seen: ReplayCache;
  private readonly topic: string;
  private readonly handler = (m: BusMessage) => this.onMessage(m);

  constructor(private readonly o: CommandsOptions) {
    this.topic = topics(o.site).cmd(o.node);
    let saved: unknown;
    try {
      const text = o.ledger.note(NOTE);
      saved = text === undefined ? undefined : JSON.parse(text);
    } catch {
      saved = undefined; // a damaged note: restore() starts empty but keeps the floor at 0; commands still expire
    }
    this.seen = saved === undefined ? new ReplayCache(CAPACITY) : ReplayCache.restore(saved, CAPACITY);
  }

  async start(): Promise<void> {
    await this.o.bus.subscribe(this.topic, this.handler);
  }

  async stop(): Promise<void> {
    await this.o.bus.unsubscribe(this.topic, this.handler).catch(() => undefined);
  }

  /** Returns the refusal code, or null when the command was acted on (for tests). */
  onMessage(m: BusMessage): string | null {
    const refuse = (code: string, reason: string, extra: Record<string, unknown> = {}) => {
      this.o.log('warn', 'command refused', { ev: 'cmd-refused', code, reason, ...extra });
      return code;
    };
    if (m.payload.byteLength > MAX_COMMAND_BYTES) return refuse('TOO_LARGE', `${m.payload.byteLength} bytes; a command is at most ${MAX_COMMAND_BYTES}`);
    let input: unknown;
    try {
      input = JSON.parse(Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength).toString('utf8'));
    } catch {
      return refuse('SCHEMA', COMMAND_REFUSALS.SCHEMA);
    }
    const l = this.o.ledger;
    const now = l.now();
    const v = verifyCommand(input, {
      site: this.o.site, node: this.o.node, resources: controlledResources(l.policy, this.o.node),
      now, retained: m.retain, admins: l.policy, seen: this.seen,
    });
    if (!v.ok) return refuse(v.code, v.reason);
    // Durable before acting (see above).
    l.note(NOTE, JSON.stringify(this.seen.snapshot(now)));
    l.flush();
    this.o.log('info', 'command accepted', { ev: 'cmd', id: v.command.id, action: v.command.action, issuer: v.command.issuer.slice(0, 16) });
    this.o.act(v.command);
    return null;
  }
}
