// The node's platform in Kubernetes' vocabulary (pure): Node's `process.arch` / `process.platform`
// mapped to Go's GOARCH / GOOS names, which the `kubernetes.io/arch` and `kubernetes.io/os`
// labels and `nodeInfo.architecture` / `operatingSystem` carry (`x64` → `amd64`, `win32` →
// `windows`, ...). Guarantees: a name Node reports but Go has no mapping for here passes through
// unchanged, so the label still says something true. Does not: read the host (callers pass
// process.arch, process.platform and os.endianness()).

const ARCH: Record<string, string> = {
  x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', loong64: 'loong64', riscv64: 'riscv64',
  s390: 's390', s390x: 's390x', mips: 'mips', mipsel: 'mipsle', mips64el: 'mips64le', ppc: 'ppc',
};

const OS: Record<string, string> = {
  linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd', openbsd: 'openbsd',
  netbsd: 'netbsd', sunos: 'solaris', aix: 'aix', android: 'android', cygwin: 'windows',
};

/** GOARCH for Node's `process.arch`; ppc64 depends on byte order (Go: ppc64 big, ppc64le little). */
export function goArch(nodeArch: string, endianness: 'BE' | 'LE'): string {
  if (nodeArch === 'ppc64') return endianness === 'LE' ? 'ppc64le' : 'ppc64';
  return ARCH[nodeArch] ?? nodeArch;
}

/** GOOS for Node's `process.platform`. */
export function goOs(nodePlatform: string): string {
  return OS[nodePlatform] ?? nodePlatform;
}
