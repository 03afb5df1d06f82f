// The parsers of the host readings (pure), and one real read of this host.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NodeReader, osImageFrom, parseLoadavgTasks, parseMeminfo, readHostFacts } from '../../../src/agent/node/readings.js';
import { silentLogger } from '../../../src/util/log.js';

describe('host readings', () => {
  it('parseMeminfo: MemTotal and MemAvailable in bytes', () => {
    const text = 'MemTotal:       24683584 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\nBuffers:  1 kB\n';
    assert.deepEqual(parseMeminfo(text), { totalBytes: 24683584 * 1024, availableBytes: 20000000 * 1024 });
    assert.throws(() => parseMeminfo('MemTotal: 1 kB\n'), /no MemAvailable/);
  });

  it('parseLoadavgTasks: the total of running/total', () => {
    assert.equal(parseLoadavgTasks('3.14 1.87 0.89 2/135 10958\n'), 135);
    assert.throws(() => parseLoadavgTasks('garbage'), /unexpected \/proc\/loadavg/);
  });

  it('osImageFrom: PRETTY_NAME, quotes removed', () => {
    assert.equal(osImageFrom('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'), 'Debian GNU/Linux 12 (bookworm)');
    assert.equal(osImageFrom('PRETTY_NAME=Alpine\n'), 'Alpine');
    assert.equal(osImageFrom('NAME=x\n'), undefined);
  });

  it('this host: facts and readings are real numbers; one filesystem for two dirs on it', async () => {
    const facts = await readHostFacts();
    assert.ok(facts.cpus >= 1);
    assert.equal(facts.architecture, process.arch === 'x64' ? 'amd64' : facts.architecture);
    const dir = await mkdtemp(path.join(tmpdir(), 'trireme-readings-'));
    try {
      await mkdir(path.join(dir, 'pods'));
      const reader = new NodeReader({ dataDir: dir, logDir: path.join(dir, 'pods'), podsDir: path.join(dir, 'pods'), shim: { file: process.execPath, args: [] }, logger: silentLogger });
      const r = await reader.read();
      assert.ok(!('error' in r.memory) && r.memory.availableBytes > 0 && r.memory.availableBytes <= r.memory.totalBytes);
      assert.ok(!('error' in r.filesystems));
      assert.equal(r.filesystems.length, 1);
      assert.deepEqual(r.filesystems[0]?.paths, [dir, path.join(dir, 'pods')]);
      assert.ok(!('error' in r.pids) && r.pids.inUse > 0 && r.pids.inUse < r.pids.limit);
      assert.deepEqual(r.runtimeProblems, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing shim and a pods dir that cannot be written are runtime problems', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trireme-readings-'));
    try {
      // A file where the pods dir should be: no write below it succeeds, not even as root.
      const pods = path.join(dir, 'pods');
      await writeFile(pods, '');
      const reader = new NodeReader({ dataDir: dir, logDir: dir, podsDir: pods, shim: { file: path.join(dir, 'no-shim'), args: [path.join(dir, 'no-script.js')] }, logger: silentLogger });
      const r = await reader.read();
      assert.equal(r.runtimeProblems.length, 3, r.runtimeProblems.join('\n'));
      assert.match(r.runtimeProblems[0] ?? '', /container shim .*no-shim is not executable: .*ENOENT/);
      assert.match(r.runtimeProblems[1] ?? '', /container shim script .*no-script\.js is not readable/);
      assert.match(r.runtimeProblems[2] ?? '', /data dir .*pods is not writable: .*ENOTDIR/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads at the same time (a status update right after a fence, beside the periodic one) each find the pods dir writable', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trireme-readings-'));
    try {
      const pods = path.join(dir, 'pods');
      await mkdir(pods);
      const reader = new NodeReader({ dataDir: dir, logDir: pods, podsDir: pods, shim: { file: process.execPath, args: [] }, logger: silentLogger });
      const reads = await Promise.all(Array.from({ length: 20 }, () => reader.read()));
      assert.deepEqual(reads.flatMap((r) => r.runtimeProblems), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
