import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../../src/app/openapi.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the problem codes in the OpenAPI document', () => {
  const document = openApiDocument() as unknown as {
    components: { schemas: { Problem: { properties: { code: { enum: string[]; description: string } } } } };
  };
  const listed = document.components.schemas.Problem.properties.code;

  it('include every code an error class of the service declares (the CLI has its own)', () => {
    const declared = sources('src')
      .filter((file) => !file.startsWith(join('src', 'cli')))
      .flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/readonly code = '([A-Z_]+)'/g)].map((m) => m[1]!),
      );
    expect(declared.length).toBeGreaterThan(20);
    expect(listed.enum).toEqual(expect.arrayContaining([...new Set(declared)]));
  });

  it('give each code its status, and name the extraction and framework codes too', () => {
    expect(listed.enum).toEqual(
      expect.arrayContaining([
        'INVALID_POSITION',
        'CORRUPT_FILE',
        'METHOD_NOT_ALLOWED',
        'UNSUPPORTED_MEDIA_TYPE',
        'INTERNAL_ERROR',
      ]),
    );
    expect(listed.description).toMatch(/INVALID_POSITION \(400\)/);
    expect(listed.description).toMatch(/UNSUPPORTED_FILE_TYPE \(415\)/);
  });
});
