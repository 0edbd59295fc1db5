import { Child } from '../support/child.js';

const PASSWORD = 'hunter2-not-to-be-echoed';

/** A server that refuses, and (with a PostgreSQL server to ask) a database that does not exist. */
function unreachable(): Array<[string, string, RegExp]> {
  const cases: Array<[string, string, RegExp]> = [
    [
      'nothing listens on the port',
      `postgres://postgres:${PASSWORD}@127.0.0.1:1/x`,
      /\(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/x\): connection refused/,
    ],
  ];
  if (process.env.TEST_DATABASE_URL) {
    const url = new URL(process.env.TEST_DATABASE_URL);
    url.password = PASSWORD;
    url.pathname = '/does_not_exist';
    cases.push(['the database does not exist', url.toString(), /database "does_not_exist" does not exist/]);
  }
  return cases;
}

describe.each(['serve', 'migrate'])('docsvc %s without a database', (command) => {
  it.each(unreachable())(
    'says in one line that %s, naming DATABASE_URL without the password, and exits 1',
    async (_why, url, reason) => {
      const run = await Child.runCli([command], { DATABASE_URL: url, PORT: '0' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^docsvc: cannot connect to the database at DATABASE_URL \(/);
      expect(run.stderr).toMatch(reason);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr + run.stdout).not.toContain(PASSWORD);
    },
    60_000,
  );
});
