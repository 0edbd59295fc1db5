export default function globalSetup(): void {
  if (!process.env.TEST_DATABASE_URL) {
    process.stdout.write(
      '\n[docsvc tests] TEST_DATABASE_URL is not set: integration tests run on PGlite only; ' +
        'the PostgreSQL pass was NOT run (.ci/run runs both).\n',
    );
  } else {
    process.stdout.write(
      `\n[docsvc tests] integration tests run on PGlite and on ${redact(process.env.TEST_DATABASE_URL)}\n`,
    );
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
