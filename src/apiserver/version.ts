// What `/version` reports: the Kubernetes level we implement (the kubectl dispatcher on these
// machines picks its binary by `minor`), with Trireme's own version in gitVersion.
import { packageInfo } from '../util/package-info.js';

export const KUBE_MAJOR = '1';
export const KUBE_MINOR = '32';
export const TRIREME_VERSION = packageInfo().version;

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
