/**
 * `keymesh-edge run`: one edge (DESIGN §6, §9-10). A thin class over files with one job each:
 * devices (drivers/open.ts), the controller (controllers/door.ts or machine.ts) and its port
 * (controller-context.ts), taps (taps.ts), the panel's model (panel-model.ts), the MQTT
 * connection (connection.ts), the ledger's PubSubSync (no sync logic here), commands
 * (commands.ts) and bundles.
 *
 * Start order is the safety story: the outputs open de-energised before anything else; the
 * controller drives its safe state (a maglock locked) as soon as the replica is open; the
 * network comes last and is never waited for.
 */
import { BlobStore, Ledger, MqttJsBus, PubSubSync, ledgerSyncStore, signSync } from '@keymesh/ledger';
import { cardRef, topics, type Decision, type KeyPair, type NodeState } from '@keymesh/protocol';
import type { EdgeConfig } from '../config/schema.js';
import { DoorController } from '../controllers/door.js';
import { MachineController } from '../controllers/machine.js';
import { edgePaths, readEdgeKey, readEnrolment, removeAgentRecord, runningAgent, writeAgentRecord, type EdgePaths, type Enrolment } from '../data-dir.js';
import { allOutputsOff, closeAllDevices, openDevices, type OpenDevices } from '../drivers/open.js';
import { EdgeError } from '../errors.js';
import type { Logger } from '../log.js';
import { EdgeBundles } from '../bundles/index.js';
import { startPanel, type PanelServer } from '../panel/server.js';
import { CommandListener } from './commands.js';
import { EdgeConnection } from './connection.js';
import { LogLimit } from './log-limit.js';
import { controllerContext } from './controller-context.js';
import { Outbox } from './outbox.js';
import { AgentView } from './panel-model.js';
import { Taps } from './taps.js';

export const EDGE_VERSION = '0.1.0';
/** How long stop() waits for a start under way to reach its next step. */
const STOP_WAITS_FOR_START_MS = 5000;

export interface AgentOptions {
  config: EdgeConfig;
  log: Logger;
  /** Called at each step of start (tests prove the order: outputs before anything else). */
  trace?: (step: string) => void;
}

export class Agent {
  readonly paths: EdgePaths;
  devices: OpenDevices | null = null;
  enrolment!: Enrolment;
  key!: KeyPair;
  ledger!: Ledger;
  controller: DoorController | MachineController | null = null;
  connection: EdgeConnection | null = null;
  sync: PubSubSync | null = null;
  panel: PanelServer | null = null;
  readonly view: AgentView;
  private blobs: BlobStore | null = null;
  private bundles: EdgeBundles | null = null;
  private commands: CommandListener | null = null;
  private taps: Taps | null = null;
  private outbox!: Outbox;
  private stopping = false;
  private resolveStopped!: () => void;
  /** Resolves when `stop()` has finished. */
  readonly stopped = new Promise<void>((r) => (this.resolveStopped = r));
  private lastState: NodeState | null = null;
  /** What peers' messages make this agent log (bad payloads, refused entries and commands) is bounded (log-limit.ts). */
  private readonly peerNoise = new LogLimit();
  /** Settles when start() has; stop() waits for it so a part start opens after a signal is still closed. */
  private starting: Promise<void> = Promise.resolve();

  /** Make it, install the exit paths (safety.ts) on it, then `start()`: a signal during start still finds the outputs. */
  constructor(readonly o: AgentOptions) {
    this.paths = edgePaths(o.config.data);
    this.view = new AgentView(this);
  }

  static async start(o: AgentOptions): Promise<Agent> {
    const a = new Agent(o);
    await a.start();
    return a;
  }

  /** Starts every part; on a failure, stops what started (outputs safe) and throws. */
  async start(): Promise<void> {
    const run = this.startParts();
    this.starting = run.then(() => undefined, () => undefined);
    try {
      await run;
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  private get log(): Logger {
    return this.o.log;
  }

  private async startParts(): Promise<void> {
    const { config } = this.o;
    const trace = this.o.trace ?? (() => undefined);
    const env = { log: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}) => this.log[level](fields, msg), now: () => Date.now() };
    // Before the devices: a second agent opening the relay would drive it off under the first (and unexport its GPIO on the way out).
    const other = runningAgent(this.paths);
    if (other && other.pid !== process.pid) throw new EdgeError('AGENT_RUNNING', `process ${other.pid} already runs an agent on ${this.paths.dir}; stop it first (two agents would drive one relay and fork one feed).`, { pid: other.pid });
    this.devices = await openDevices(config.devices, env, config.boards);
    this.stillStarting();
    trace('devices-open');
    this.enrolment = readEnrolment(this.paths);
    this.key = readEdgeKey(this.paths);
    this.ledger = Ledger.open(this.paths.ledger, { site: this.enrolment.site, pageCacheKiB: 4096 }); // 4 MiB, not 32: DESIGN §12 (150 MB)
    if (this.ledger.count() === 0) this.ledger.ingest([this.enrolment.genesis]);
    trace('ledger-open');
    this.outbox = new Outbox(() => this.sync, () => this.connection?.connected ?? false, (err) => this.log.warn({ ev: 'publish-failed', err: (err as Error).message }, 'entries not published now; sync sends them later'));
    this.controller = this.makeController();
    this.controller.start();
    trace('controller-safe');
    this.taps = new Taps({
      reader: this.devices.reader, settings: config.taps,
      toRef: (uid) => cardRef(this.enrolment.cardKey, uid),
      known: (ref) => this.ledger.policy.card(ref) !== undefined,
      tap: (ref) => this.controller!.tap(ref),
      log: this.log,
    });
    // Panel taps stand in for the reader, so only a sim reader has them: a real reader with one sim part (a display
    // not yet wired) is a real door, and the panel must not open it for whoever reaches it.
    if (this.devices.reader.constructor.name === 'SimReader') this.view.enableSim((uid) => this.taps!.read(uid, Date.now()));
    this.view.showOnDisplay(this.devices.display);
    writeAgentRecord(this.paths, { pid: process.pid, panel: null, started: Date.now() });
    if (config.panel !== false) {
      this.panel = await startPanel({ model: this.view, host: config.panel.host, port: config.panel.port, log: this.log });
      this.stillStarting();
      writeAgentRecord(this.paths, { pid: process.pid, panel: this.panel.url, started: Date.now() });
      trace('panel');
    }
    this.stillStarting();
    await this.startNetwork();
    this.stillStarting();
    trace('network');
    this.log.info({ ev: 'started', node: this.key.publicKey.slice(0, 16), resource: this.enrolment.node.resource, kind: this.enrolment.node.kind, panel: this.panel?.url ?? null, broker: this.brokerUrl }, 'edge agent running');
  }

  /** A signal's stop() arrived during start: go no further (stop() closes what is open once start has settled). */
  private stillStarting(): void {
    if (this.stopping) throw new EdgeError('STOPPED', 'the agent was stopped while it started; nothing more was started, and the outputs are safe.');
  }

  get resource(): string {
    return this.enrolment.node.resource;
  }

  private get brokerUrl(): string {
    return this.o.config.broker.url ?? this.enrolment.broker.url;
  }

  private makeController(): DoorController | MachineController {
    const d = this.devices!;
    const ctx = controllerContext({
      ledger: this.ledger, key: this.key, resource: this.resource, outbox: this.outbox,
      rulesFreshAt: () => this.sync?.rulesFreshAt ?? null,
      onDecision: (_card, dec: Decision) => this.view.decision(dec),
      onState: (state, member) => this.publishState(state, member),
      onSay: (text, tone) => this.view.say(text, tone),
      onRecordFailed: (type, err) => this.log.error({ ev: 'record-failed', type, err: (err as Error).message }, 'an event could not be recorded'),
    });
    const common = { resource: this.resource, ctx, relay: d.relay, greenLed: d.greenLed, redLed: d.redLed, buzzer: d.buzzer };
    const strip = <T extends object>(x: T): T => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as T;
    if (this.enrolment.node.kind === 'door') {
      return new DoorController(strip({ ...common, doorSensor: d.doorSensor, exitButton: d.exitButton, settings: this.o.config.door, unlockSeconds: () => this.ledger.policy.resource(this.resource)?.unlockSeconds }));
    }
    return new MachineController(strip({ ...common, estop: d.estop, activity: d.activity, settings: this.o.config.machine, idleTimeoutSeconds: () => this.ledger.policy.resource(this.resource)?.idleTimeoutSeconds }));
  }

  private async startNetwork(): Promise<void> {
    const { config } = this.o;
    const site = this.enrolment.site;
    this.connection = new EdgeConnection({
      broker: { ...this.enrolment.broker, url: this.brokerUrl }, site, key: this.key, now: () => this.ledger.now(),
      backoff: { minMs: config.broker.reconnectMinMs, maxMs: config.broker.reconnectMaxMs },
      onState: (up, detail) => {
        if (up !== this.view.online) this.log.info({ ev: up ? 'online' : 'offline', detail }, up ? 'connected to the broker' : 'broker unreachable; deciding on the local replica');
        this.view.setOnline(up);
        if (up) this.republishState();
      },
    });
    const noisy = (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => {
      const dropped = level === 'warn' ? this.peerNoise.take() : 0;
      if (dropped !== null) this.log[level](dropped > 0 ? { ...fields, notLogged: dropped } : fields, msg);
    };
    const bus = new MqttJsBus(this.connection.client, (err, topic) => noisy('warn', { ev: 'handler-failed', topic, err: (err as Error).message }, 'a message handler failed'));
    this.sync = new PubSubSync({
      bus, store: ledgerSyncStore(this.ledger), site, key: this.key,
      upstream: this.enrolment.coordinators, intervalMs: config.sync.intervalMs,
      versions: { 'keymesh-edge': EDGE_VERSION },
      onIngest: (r) => {
        if (r.accepted > 0) this.log.info({ ev: 'ingest', accepted: r.accepted, rejected: r.rejected.length }, 'entries received');
        for (const rej of r.rejected.slice(0, 10)) noisy('warn', { ev: 'reject', code: rej.code, reason: rej.reason, author: rej.author?.slice(0, 16), seq: rej.seq }, 'entry refused');
        // A suspension, a revoke or a lockout that arrived ends a running session at once (DESIGN §5).
        if (r.accepted > 0 && this.controller instanceof MachineController) this.controller.recheck();
        if (r.accepted > 0) this.view.changed();
        // A bundle published for this node is fetched now, not at the next poll.
        if (r.accepted > 0) void this.bundles?.check();
      },
      onInvalid: (reason, topic) => noisy('warn', { ev: 'invalid', topic, reason }, 'message dropped'),
    });
    await this.sync.start();
    this.commands = new CommandListener({
      bus, ledger: this.ledger, site, node: this.key.publicKey,
      act: (c) => {
        if (this.controller instanceof DoorController) this.controller.remoteUnlock({ command: c.id, issuer: c.issuer });
        else this.log.warn({ ev: 'cmd-refused', id: c.id, code: 'NOT_A_DOOR' }, 'an unlock command reached a machine; machines are unlocked by a lockout lift, not a command');
      },
      log: (level, msg, fields) => noisy(level, fields, msg),
    });
    await this.commands.start();
    this.blobs = BlobStore.open(this.paths.blobs);
    this.bundles = new EdgeBundles({ bus, site, key: this.key, ledger: this.ledger, blobs: this.blobs, dir: this.paths.dir, log: (level, msg, fields) => this.log[level](fields ?? {}, msg) });
    await this.bundles.start();
  }

  private publishState(state: NodeState['state'], member: string | null): void {
    this.lastState = { node: this.key.publicKey, resource: this.resource, kind: this.enrolment.node.kind, state, member, at: this.ledger.now() };
    this.view.setState(state, member);
    this.republishState();
  }

  private republishState(): void {
    const s = this.lastState;
    const c = this.connection;
    if (!s || !c?.connected) return;
    c.client.publishAsync(topics(this.enrolment.site).state(this.key.publicKey), JSON.stringify(s), { qos: 1, retain: true }).catch(() => undefined);
  }

  /** Synchronously drives every output safe (exit paths that cannot wait). Never throws. */
  safe(): void {
    try {
      if (this.controller) this.controller.safe();
      else if (this.devices) allOutputsOff(this.devices);
    } catch {
      if (this.devices) allOutputsOff(this.devices);
    }
  }

  /** Stops everything it started, outputs safe first and last; idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return this.stopped;
    this.stopping = true;
    this.safe();
    // Bounded: a part that never finishes starting must not keep a signal from stopping the rest.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.starting, new Promise<void>((r) => (timer = setTimeout(r, STOP_WAITS_FOR_START_MS)))]);
    clearTimeout(timer);
    this.safe();
    this.taps?.stop();
    if (this.controller instanceof MachineController) this.controller.shutdown();
    else this.controller?.stop();
    this.outbox?.send();
    await this.panel?.close().catch(() => undefined);
    this.view.stop();
    await this.bundles?.stop().catch(() => undefined);
    await this.commands?.stop().catch(() => undefined);
    if (this.sync && this.connection?.connected) {
      // A signed goodbye: the tile goes offline at once rather than when the status grows old.
      const { sig: _sig, ...status } = this.sync.status();
      const bye = signSync({ ...status, online: false }, this.key);
      await this.connection.client.publishAsync(topics(this.enrolment.site).status(this.key.publicKey), JSON.stringify(bye), { qos: 1, retain: true }).catch(() => undefined);
    }
    await this.sync?.stop().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    this.blobs?.close();
    try {
      this.ledger?.close();
    } catch {
      // already closed
    }
    this.safe();
    if (this.devices) await closeAllDevices(this.devices);
    if (runningAgent(this.paths)?.pid === process.pid) removeAgentRecord(this.paths);
    this.log.info({ ev: 'stopped' }, 'edge agent stopped; outputs safe');
    this.resolveStopped();
  }

  /** For the systemd watchdog: the replica answers and the controller runs. */
  healthy(): boolean {
    if (this.stopping || !this.controller) return false;
    try {
      this.ledger.now();
      return this.ledger.count() > 0;
    } catch {
      return false;
    }
  }
}
