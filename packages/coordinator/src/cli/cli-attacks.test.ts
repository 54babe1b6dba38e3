/**
 * A careless operator typing a card number into the wrong command: the number (a cloneable
 * secret, DESIGN §3) must not come back in the error, which terminals, scripts and CI logs keep.
 */
import { runCaptured } from '../admin/run-captured.js';

const UID = '04a22b1a5c80';

describe('keymesh: a card number typed into a mistyped command is not echoed', () => {
  it.each([
    [['card', 'bnd', UID, '--member', 'ada']],
    [[UID]],
    [['crad', 'bind', 'deadbeef', '--member', 'ada']],
  ])('%j: usage error (2), the words after the known ones are not repeated', async (argv) => {
    const r = await runCaptured(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--help/);
    expect(r.out + r.err).not.toMatch(new RegExp(`${UID}|deadbeef|bnd|crad`, 'i'));
  });

  it('still names the command group that was recognised', async () => {
    const r = await runCaptured(['card', 'bnd', UID]);
    expect(r.err).toContain('keymesh card --help');
  });
});
