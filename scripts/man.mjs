// Builds the man pages (dist/man/*.1, *.8) from manual/man/*.md with marked-man, as part of
// `npm run build`. The version and date come from package.json and SOURCE_DATE_EPOCH (if set).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
mkdirSync('dist/man', { recursive: true });
for (const file of readdirSync('manual/man').filter((f) => f.endsWith('.md'))) {
  const page = file.slice(0, -3); // qpy.1, qpy-admin.8
  const roff = execFileSync(
    process.execPath,
    [
      'node_modules/marked-man/bin/marked-man.js',
      '--no-breaks',
      '--version',
      `qpy ${version}`,
      '--manual',
      'qpy manual',
      join('manual/man', file),
    ],
    { encoding: 'utf8' },
  );
  writeFileSync(join('dist/man', page), roff);
}
