// A replica in a worker thread on the main thread's in-memory broker: PortBus is the ledger's
// `Bus` (packages/ledger/src/bus/bus.ts) over a MessagePort, bridgePort() the main thread's end.
// The worker's event loop is then the replica's own, so what blocks it is measured alone, as on
// a node, not mixed with the other replica's work.
//   worker: new PortBus(port)        main: bridgePort(port, broker.client('id'))

/** The worker's end: publishes and subscriptions go to the port, deliveries come back. */
export class PortBus {
  constructor(port) {
    this.port = port;
    this.connected = true;
    this.handlers = new Map(); // filter → Set of handlers
    this.listeners = new Set();
    this.acks = new Map();
    this.nextId = 1;
    port.on('message', (m) => {
      if (m.op === 'msg') {
        const msg = { topic: m.topic, payload: m.payload, retain: m.retain };
        for (const h of this.handlers.get(m.filter) ?? []) h(msg);
      } else if (m.op === 'ack') {
        this.acks.get(m.id)?.();
        this.acks.delete(m.id);
      }
    });
  }

  /** Resolves at once, like the in-memory broker, which takes a publish synchronously. */
  publish(topic, payload, opts = {}) {
    this.port.postMessage({ op: 'pub', topic, payload, opts });
    return Promise.resolve();
  }

  subscribe(filter, handler) {
    let set = this.handlers.get(filter);
    if (!set) this.handlers.set(filter, (set = new Set()));
    set.add(handler);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.acks.set(id, resolve);
      this.port.postMessage({ op: 'sub', id, filter });
    });
  }

  unsubscribe(filter, handler) {
    this.handlers.get(filter)?.delete(handler);
    return Promise.resolve();
  }

  onConnection(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The main thread's end: forwards the worker's publishes to `bus`, and what `bus` delivers to it. */
export function bridgePort(port, bus) {
  port.on('message', (m) => {
    if (m.op === 'pub') {
      bus.publish(m.topic, m.payload, m.opts).catch(() => {});
    } else if (m.op === 'sub') {
      const forward = (msg) => port.postMessage({ op: 'msg', filter: m.filter, topic: msg.topic, payload: msg.payload, retain: msg.retain });
      bus.subscribe(m.filter, forward).then(() => port.postMessage({ op: 'ack', id: m.id }));
    }
  });
}
