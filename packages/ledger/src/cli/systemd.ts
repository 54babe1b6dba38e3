/**
 * systemd's notify protocol for `Type=notify` (hardware/systemd/keymesh.service and
 * keymesh-edge.service): READY=1 once the service works, WATCHDOG=1 at half the watchdog
 * interval while the event loop turns and the service's health check passes, STOPPING=1 on the
 * way out. Node has no unix datagram sockets, so the messages go
 * through `systemd-notify` (the unit sets NotifyAccess=all). Outside systemd
 * (no $NOTIFY_SOCKET) nothing happens.
 */
import { execFile } from 'node:child_process';

function send(state: string): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', [`--pid=${process.pid}`, state], () => undefined);
}

export function notifyReady(status: string): void {
  send('READY=1');
  send(`STATUS=${status}`);
}

export function notifyStopping(): void {
  send('STOPPING=1');
}

/**
 * Starts the watchdog pings when systemd asked for them; returns a function that stops them.
 * `healthy`: no ping while it says no, so systemd restarts a service that runs but does not work.
 */
export function startWatchdog(healthy: () => boolean = () => true): () => void {
  const usec = Number(process.env.WATCHDOG_USEC);
  if (!process.env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return () => undefined;
  const t = setInterval(() => {
    if (healthy()) send('WATCHDOG=1');
  }, Math.max(1000, usec / 2000));
  t.unref();
  return () => clearInterval(t);
}
