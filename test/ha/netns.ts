// Test helper: a small network of network namespaces for the VIP test, all made by the test and
// deleted by it: a hub namespace holding a bridge, and member namespaces each joined to it by a
// veth pair (`eth0` inside the member). Addresses exist only inside these namespaces.
// Guarantees: `create` runs `ip` commands and throws with the command and its stderr on the
// first failure; `destroy()` deletes every namespace it made (which removes their links) and
// never throws (it reports what it could not delete); names are unique per test process.
// Does not: touch the root namespace's links, routes or sysctls, or start any process.
import { spawnSync } from 'node:child_process';

export function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

export interface Member {
  ns: string;
  address: string;
}

export class NetnsLab {
  readonly hub: string;
  private readonly made: string[] = [];
  readonly members: Member[] = [];

  constructor(readonly prefix: string, readonly hubAddress: string, readonly prefixLength: number) {
    this.hub = `${prefix}-hub`;
  }

  private addNs(name: string): void {
    ip('netns', 'add', name);
    this.made.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
  }

  /** The hub namespace with bridge `br0` holding `hubAddress`. */
  createHub(): void {
    this.addNs(this.hub);
    ip('-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.hub, 'addr', 'add', `${this.hubAddress}/${this.prefixLength}`, 'dev', 'br0');
    ip('-n', this.hub, 'link', 'set', 'br0', 'up');
  }

  /** A member namespace `${prefix}-${name}` joined to the bridge, `eth0` holding `address`. */
  addMember(name: string, address: string): Member {
    const ns = `${this.prefix}-${name}`;
    this.addNs(ns);
    const hubSide = `v-${name}`;
    ip('-n', this.hub, 'link', 'add', hubSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', this.hub, 'link', 'set', hubSide, 'master', 'br0');
    ip('-n', this.hub, 'link', 'set', hubSide, 'up');
    ip('-n', ns, 'addr', 'add', `${address}/${this.prefixLength}`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    const m = { ns, address };
    this.members.push(m);
    return m;
  }

  /** The IPv4 addresses on a member's eth0. */
  addresses(ns: string): string[] {
    return [...ip('-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0').matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
  }

  destroy(): string[] {
    const left: string[] = [];
    for (const ns of this.made.reverse()) {
      const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8', timeout: 15_000 });
      if (r.status !== 0) left.push(`${ns}: ${r.stderr.trim()}`);
    }
    this.made.length = 0;
    return left;
  }
}
