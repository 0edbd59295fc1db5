import { readFileSync } from 'node:fs';
import { Child } from '../support/child.js';

describe('docsvc --version', () => {
  it('prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const run = await Child.runCli(['--version'], {});
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  }, 60_000);
});
