import { Coordinator, DEFAULT_HTTP_PORT, DEFAULT_MQTT_PORT } from '../../coordinator.js';
import { notifyReady, notifyStopping, startWatchdog } from '@keymesh/ledger/cli';
import { port, str, type Command } from '../command.js';

export const serve: Command = {
  words: ['serve'],
  usage: '',
  summary: 'serve the site: embedded MQTT broker, HTTP API, replication, bundles',
  help: `Runs the coordinator until SIGINT or SIGTERM: the embedded MQTT broker (login tokens, per-node
topics), the HTTP API with MQTT over WebSocket on /mqtt, and the relay that stores every feed
and republishes the retained heads. Logs are JSON lines on stdout.

  --mqtt-port P   the embedded broker's TCP port (default ${DEFAULT_MQTT_PORT}; 0 picks a free one)
  --http-port P   the HTTP API's port (default ${DEFAULT_HTTP_PORT}; 0 picks a free one)
  --host ADDR     the address to listen on (default 0.0.0.0)
  --broker URL    use an existing broker (Mosquitto, EMQX) instead of the embedded one;
                  configure it with \`keymesh broker mosquitto-conf\`

Example: keymesh serve --data /var/lib/keymesh --mqtt-port 1883 --http-port 8080`,
  flags: { 'mqtt-port': { type: 'string' }, 'http-port': { type: 'string' }, host: { type: 'string' }, broker: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(r) {
    const broker = str(r, 'broker');
    const c = await Coordinator.start({
      data: r.data,
      mqttPort: port(r, 'mqtt-port', DEFAULT_MQTT_PORT),
      httpPort: port(r, 'http-port', DEFAULT_HTTP_PORT),
      host: str(r, 'host') ?? '0.0.0.0',
      ...(broker ? { broker } : {}),
    });
    const where = `http://127.0.0.1:${c.httpPort}${c.mqttPort !== null ? `, mqtt://127.0.0.1:${c.mqttPort}` : `, broker ${broker}`}`;
    process.stderr.write(`keymesh: serving site "${c.siteName}" (${c.site.slice(0, 16)}) on ${where}\n`);
    notifyReady(`serving ${where}`);
    const stopWatchdog = startWatchdog();
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    notifyStopping();
    stopWatchdog();
    await c.stop();
    return 0;
  },
};
