// What `/version` reports: the Kubernetes level we implement (the kubectl dispatcher on these
// machines picks its binary by `minor`), with Trireme's own version in gitVersion.
import { readFileSync } from 'node:fs';

/** The package.json above this module, wherever the compiled tree sits (dist/ or a private build dir). */
function findPackage(): { version: string } {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'trireme') return pkg;
    } catch {
      // not at this level: keep walking up
    }
    dir = new URL('..', dir);
  }
  return { version: '0.0.0' };
}

const pkg = findPackage();

export const KUBE_MAJOR = '1';
export const KUBE_MINOR = '32';
export const TRIREME_VERSION = pkg.version;

export const VERSION_INFO = {
  major: KUBE_MAJOR,
  minor: KUBE_MINOR,
  gitVersion: `v${KUBE_MAJOR}.${KUBE_MINOR}.0+trireme.${TRIREME_VERSION}`,
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '1970-01-01T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};
