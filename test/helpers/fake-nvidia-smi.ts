/**
 * A fake `nvidia-smi` for tests on machines without a GPU: an executable sh
 * script, written into a directory the test puts first on a node's PATH
 * (the master's environment, or an sshd node's SetEnv). It answers what
 * qpy asks (executor/gpu-query.ts), in the shape of the real output kept in
 * test/fixtures/gpu/: `--query-gpu=FIELDS` and `--query-compute-apps=FIELDS`
 * with `--format=csv,noheader,nounits`, and `-L`. Its state lives in files
 * beside it, read on every call, so a test changes it while daemons run:
 * `gpus` (how many H100s), `apps` (one `PID INDEX MIB [NAME]` line per
 * process on a GPU) and `mode` (`ok`, `fail`: exits 9 as with no driver,
 * `garbage`: prints lines of no known shape, `hang`: answers nothing for a
 * minute, as a driver in trouble). Every call is appended to
 * `calls`.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** The PATH sshd gives root's sessions (the test nodes log in as the user running the tests). */
export const SSHD_ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface GpuAppSpec {
  pid: number;
  gpu: number;
  usedMiB?: number;
  name?: string;
}

export interface FakeNvidiaSmi {
  /** The directory holding `nvidia-smi`: put it first on the PATH. */
  readonly dir: string;
  setGpus(n: number): void;
  setApps(apps: GpuAppSpec[]): void;
  setMode(mode: 'ok' | 'fail' | 'garbage' | 'hang'): void;
  /** The UUID it gives GPU `index`. */
  uuid(index: number): string;
  /** How many times it was run so far. */
  calls(): number;
}

const SCRIPT = (dir: string, seed: string): string => `#!/bin/sh
# A fake nvidia-smi (test/helpers/fake-nvidia-smi.ts).
D='${dir}'
echo "$*" >>"$D/calls"
n=$(cat "$D/gpus" 2>/dev/null); n=\${n:-0}
case $(cat "$D/mode" 2>/dev/null) in
fail) echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."; exit 9;;
garbage) echo "Failed to initialize NVML: Unknown Error"; echo "0; GPU-x; ?"; exit 0;;
hang) exec sleep 60;;
esac
uuid() { printf 'GPU-${seed}-079d-ad15-ff95-%012x' "$1"; }
used() { awk -v i="$1" '$2 == i {s += $3} END {print s + 0}' "$D/apps" 2>/dev/null || echo 0; }
q=; fields=; fmt=
for a in "$@"; do
  case $a in
  --query-gpu=*) q=gpu; fields=\${a#*=};;
  --query-compute-apps=*) q=apps; fields=\${a#*=};;
  --format=*) fmt=\${a#*=};;
  -L) q=list;;
  *) echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help." >&2; exit 2;;
  esac
done
if [ "$q" = list ]; then
  i=0; while [ "$i" -lt "$n" ]; do echo "GPU $i: NVIDIA H100 80GB HBM3 (UUID: $(uuid $i))"; i=$((i+1)); done; exit 0
fi
[ -n "$q" ] && [ "$fmt" = csv,noheader,nounits ] || { echo "fake nvidia-smi: unsupported arguments: $*" >&2; exit 2; }
line() { # $1: the values as NAME=VALUE words' lookup function
  out=
  for f in $(echo "$fields" | tr ',' ' '); do
    v=$($1 "$f") || { echo "Field \\"$f\\" is not a valid field to query." >&2; exit 2; }
    out="\${out:+$out, }$v"
  done
  echo "$out"
}
gpu_field() {
  case $1 in
  index) echo "$i";; uuid) uuid "$i";; name) echo 'NVIDIA H100 80GB HBM3';; memory.total) echo 81559;;
  memory.used) used "$i";; memory.free) echo $((81079 - $(used "$i")));; utilization.gpu) echo 0;;
  pci.bus_id) printf '00000000:%02X:00.0\\n' $((i + 6));; *) return 1;;
  esac
}
app_field() {
  case $1 in
  pid) echo "$pid";; gpu_uuid) uuid "$idx";; used_memory) echo "$mib";; process_name|name) echo "\${pname:-python3}";; *) return 1;;
  esac
}
if [ "$q" = gpu ]; then
  i=0; while [ "$i" -lt "$n" ]; do line gpu_field || exit 2; i=$((i+1)); done
else
  [ -f "$D/apps" ] || exit 0
  while read -r pid idx mib pname; do
    [ -n "$pid" ] && [ "$idx" -lt "$n" ] 2>/dev/null || continue
    line app_field || exit 2
  done <"$D/apps"
fi
`;

/** Write a fake `nvidia-smi` with `gpus` GPUs into `dir` (made if missing). */
export function fakeNvidiaSmi(dir: string, gpus: number): FakeNvidiaSmi {
  mkdirSync(dir, { recursive: true });
  const seed = randomBytes(4).toString('hex');
  const path = join(dir, 'nvidia-smi');
  writeFileSync(path, SCRIPT(dir, seed));
  chmodSync(path, 0o755);
  const self: FakeNvidiaSmi = {
    dir,
    setGpus: (n) => writeFileSync(join(dir, 'gpus'), `${n}\n`),
    setApps: (apps) =>
      writeFileSync(join(dir, 'apps'), apps.map((a) => `${a.pid} ${a.gpu} ${a.usedMiB ?? 4614} ${a.name ?? 'python3'}\n`).join('')),
    setMode: (mode) => writeFileSync(join(dir, 'mode'), `${mode}\n`),
    uuid: (index) => `GPU-${seed}-079d-ad15-ff95-${index.toString(16).padStart(12, '0')}`,
    calls: () => {
      try {
        return readFileSync(join(dir, 'calls'), 'utf8').split('\n').length - 1;
      } catch {
        return 0;
      }
    },
  };
  self.setGpus(gpus);
  self.setApps([]);
  self.setMode('ok');
  return self;
}
