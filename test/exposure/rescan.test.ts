/**
 * What a second scan may change: one without --fingerprints keeps the vendor and product found
 * earlier, and `diff` reports as gone only ports the second scan actually probed. Both backends,
 * real sockets on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addScope, diffScans, loadEngine, runScan, search } from '../../src/exposure/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';
import { type RunningDevice, startDevice } from './devices.js';

for (const backend of testBackends()) {
  describe(`rescans (${backend})`, () => {
    let t: TestStore;
    let ssh: RunningDevice;
    let ftp: RunningDevice;
    const host = '127.0.40.1';
    beforeAll(async () => {
      t = await freshStore(backend);
      await addScope(t.store, { cidr: '127.0.40.0/30', owner: 'test', allowCredentials: false });
      ssh = await startDevice({ kind: 'ssh', host, port: 0 });
      ftp = await startDevice({ kind: 'ftp', host, port: 0 });
    });
    afterAll(async () => {
      await ssh.close();
      await ftp.close();
      await t.cleanup();
    });
    const scan = (ports: number[], engine = loadEngine()) =>
      runScan({ targets: [host], ports, timeoutMs: 800, retries: 0 }, { store: t.store, engine });

    it('a rescan without --fingerprints keeps the vendor and product found earlier', async () => {
      await scan([ssh.port, ftp.port], loadEngine(vector('recog/xml')));
      const before = (await search(t.store, 'protocol:ssh')).matches[0];
      expect(before).toMatchObject({ product: 'OpenSSH', version: '8.4p1' });
      expect(before?.vendor).toBeTruthy();
      // Mamori's own set alone knows nothing of OpenSSH: the rescan finds no identity
      const again = await scan([ssh.port, ftp.port]);
      expect(again.open.find((o) => o.port === ssh.port)?.product).toBeNull();
      const after = (await search(t.store, 'protocol:ssh')).matches[0];
      expect(after).toMatchObject({ product: 'OpenSSH', version: '8.4p1', vendor: before?.vendor });
      expect((await search(t.store, 'protocol:ftp')).matches[0]?.product).toBe('vsFTPd');
    });

    it('the progress line carries the open count and the loss', async () => {
      const notes: string[] = [];
      let total = 0;
      await runScan(
        { targets: [host], ports: [ssh.port, 1], timeoutMs: 800, retries: 0, grab: false },
        {
          store: t.store,
          engine: loadEngine(),
          progress: {
            setTotal: (n) => {
              total = n ?? 0;
            },
            tick: (_n, note) => void (note && notes.push(note)),
            done: () => {},
          },
        },
      );
      expect(total).toBe(2);
      expect(notes).toHaveLength(2);
      // port 1 is refused: closed, neither silent nor lost
      expect(notes.at(-1)).toBe('1 open, 0 retransmitted, 0 no answer, 0 lost to local errors');
    });

    it('diff does not report as gone a port the second scan never probed', async () => {
      const first = await scan([ssh.port, ftp.port]);
      const second = await scan([ssh.port]);
      const d = await diffScans(t.store, first.scan, second.scan);
      expect(d.disappeared).toEqual([]);
      expect(d.appeared).toEqual([]);
      // and a port that was probed and is closed now is reported
      await ftp.close();
      const third = await scan([ssh.port, ftp.port]);
      const gone = await diffScans(t.store, first.scan, third.scan);
      expect(gone.disappeared.map((r) => `${r.ip}:${r.port}`)).toEqual([`${host}:${ftp.port}`]);
    });
  });
}
